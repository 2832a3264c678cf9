// LiveSensor's end-of-input detection (`--exit-on-eof`): every polling lcore has seen enough
// empty polls in a row and no frame for eof_idle_ns; and the span of time the input flowed.
#include <algorithm>

#include "dataplane/live/live_lcore_context.h"

namespace misdirect::dataplane {

uint64_t LiveSensor::input_span_ns() const noexcept {
  uint64_t first = UINT64_MAX;
  uint64_t last = 0;
  const auto widen = [&](const std::atomic<uint64_t>& first_ns, const std::atomic<uint64_t>& last_ns) {
    const uint64_t started = first_ns.load(std::memory_order_relaxed);
    if (started != 0) {
      first = std::min(first, started);
      last = std::max(last, last_ns.load(std::memory_order_relaxed));
    }
  };
  for (const auto& worker : workers_) {
    widen(worker->first_packet_ns, worker->last_packet_ns);
  }
  for (const auto& rx : rx_lcores_) {
    widen(rx->first_packet_ns, rx->last_packet_ns);
  }
  return last > first ? last - first : 0;
}

bool LiveSensor::input_ended() const noexcept {
  const uint64_t now_ns = wall_clock_ns();
  const auto idle = [&](const std::atomic<uint64_t>& empty_polls,
                        const std::atomic<uint64_t>& last_packet_ns) {
    const uint64_t last = last_packet_ns.load(std::memory_order_relaxed);
    return empty_polls.load(std::memory_order_relaxed) >= kEofMinEmptyPolls && now_ns > last &&
           now_ns - last >= config_.eof_idle_ns;
  };
  for (const auto& worker : workers_) {
    if (!worker->queues.empty() && !idle(worker->empty_polls, worker->last_packet_ns)) {
      return false;
    }
  }
  for (const auto& rx : rx_lcores_) {
    if (!idle(rx->empty_polls, rx->last_packet_ns)) {
      return false;
    }
  }
  return true;
}

}  // namespace misdirect::dataplane
