// LiveCounters: the live sensor's own counters (what the Worker does not see: RX, fan-out rings,
// multi-segment frames) — one table per polling role, each counter written by one lcore and read
// by the control thread for stats.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>

#include "dataplane/counter_table.h"

namespace misdirect::dataplane {

// Counted by a worker lcore.
enum class LiveWorkerCounter : uint16_t {
  kPackets,           // frames handed to Worker::process_burst
  kBytes,
  kFromQueue,         // of kPackets: read from a port queue by this worker (direct / RSS mode)
  kFromRing,          // of kPackets: taken from an RX lcore's fan-out ring
  kBursts,
  kChainedCopied,     // multi-segment frames copied into one buffer before inspection
  kChainedTruncated,  // multi-segment frames longer than that buffer: inspected cut short
  kCount
};

inline constexpr CounterInfo kLiveWorkerCounterInfo[] = {
    {"packets", "frames inspected (handed to the packet path)"},
    {"bytes", "bytes of those frames"},
    {"from_queue", "frames this worker read from a port queue itself"},
    {"from_ring", "frames taken from an RX lcore's fan-out ring"},
    {"bursts", "non-empty bursts inspected"},
    {"chained_copied", "multi-segment frames made contiguous before inspection"},
    {"chained_truncated", "multi-segment frames longer than the copy buffer, inspected cut short"},
};
static_assert(std::size(kLiveWorkerCounterInfo) ==
              static_cast<std::size_t>(LiveWorkerCounter::kCount));

// Counted by an RX (fan-out) lcore.
enum class LiveRxCounter : uint16_t {
  kPackets,   // frames read from its ports
  kBytes,
  kRingFull,  // frames dropped because the chosen worker's ring was full
  kNotIp,     // frames the fan-out hash could not place (sent to worker 0)
  kTunnelled,  // frames placed by the inner flow of an encapsulation
  kFragments,  // IP fragments placed by the header they are a fragment of
  kCount
};

inline constexpr CounterInfo kLiveRxCounterInfo[] = {
    {"packets", "frames read from the ports of this RX lcore"},
    {"bytes", "bytes of those frames"},
    {"ring_full", "frames dropped because the worker's fan-out ring was full"},
    {"unplaced", "frames without IP addresses to hash (not IP, malformed, nested too deep), sent to worker 0"},
    {"tunnelled", "frames placed by the inner flow of a tunnel or other encapsulation"},
    {"fragments", "IP fragments placed by the addresses of the header they are a fragment of"},
};
static_assert(std::size(kLiveRxCounterInfo) == static_cast<std::size_t>(LiveRxCounter::kCount));

// Counters with one writer (the owning lcore) and any number of readers. The writer adds with a
// plain load and store — no locked instruction on the fast path — and readers see whole values.
template <typename Enum>
class SharedCounters {
 public:
  static constexpr std::size_t kSize = static_cast<std::size_t>(Enum::kCount);

  void add(Enum counter, uint64_t amount = 1) noexcept {
    std::atomic<uint64_t>& value = values_[static_cast<std::size_t>(counter)];
    value.store(value.load(std::memory_order_relaxed) + amount, std::memory_order_release);
  }
  uint64_t get(Enum counter) const noexcept {
    return values_[static_cast<std::size_t>(counter)].load(std::memory_order_acquire);
  }
  // Every counter, read one by one (for stats).
  std::array<uint64_t, kSize> snapshot() const noexcept {
    std::array<uint64_t, kSize> out{};
    for (std::size_t i = 0; i < kSize; ++i) {
      out[i] = values_[i].load(std::memory_order_acquire);
    }
    return out;
  }

 private:
  std::array<std::atomic<uint64_t>, kSize> values_{};
};

}  // namespace misdirect::dataplane
