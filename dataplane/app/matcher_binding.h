// MatcherBinding: the look-alike judgement a worker's protocol flows use now.
#pragma once

#include <cstdint>

namespace misdirect::inspect {
class Matcher;
class MatcherScratch;
}  // namespace misdirect::inspect

namespace misdirect::dataplane {

// Owned by whoever published it (the replay driver, or the control plane under RCU); the worker
// only borrows it between quiescent points.
struct MatcherBinding {
  const inspect::Matcher* matcher = nullptr;
  inspect::MatcherScratch* scratch = nullptr;  // this worker's scratch for `matcher`
  uint64_t generation = 0;
};

}  // namespace misdirect::dataplane
