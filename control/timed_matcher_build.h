// TimedMatcherBuild: Matcher::build with the time it took, measured by the caller. inspect/ reads
// no clock, so the compile's duration — the push answer's `compile_ms` and the stats'
// `misdirect.matcher.compile_microseconds` — is taken here, around the whole build (list
// expansion, the Public Suffix List, the index or the Hyperscan databases), on the monotonic
// clock of dataplane/clock.h. The clock is a parameter so that tests can inject one.
#pragma once

#include <cstdint>

#include "dataplane/clock.h"
#include "inspect/domain_lists.h"
#include "inspect/matcher.h"

namespace misdirect::control {

struct TimedMatcherBuild {
  inspect::MatcherBuildResult built;
  uint64_t compile_ns = 0;  // monotonic time the build took (also when it failed)
};

inline TimedMatcherBuild build_matcher_timed(const inspect::DomainLists& lists,
                                             const inspect::MatcherOptions& options,
                                             const dataplane::Clock& clock = dataplane::system_clock()) {
  const uint64_t started_ns = clock.monotonic_ns();
  TimedMatcherBuild result{inspect::Matcher::build(lists, options), 0};
  result.compile_ns = clock.monotonic_ns() - started_ns;
  return result;
}

}  // namespace misdirect::control
