// Clock: the system's clocks read through clock_gettime (see clock.h).
#include "dataplane/clock.h"

#include <time.h>

namespace misdirect::dataplane {
namespace {

uint64_t read_ns(clockid_t clock) noexcept {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace

uint64_t wall_clock_ns() noexcept { return read_ns(CLOCK_REALTIME); }

uint64_t monotonic_clock_ns() noexcept { return read_ns(CLOCK_MONOTONIC); }

const Clock& system_clock() noexcept {
  static const SystemClock clock;
  return clock;
}

}  // namespace misdirect::dataplane
