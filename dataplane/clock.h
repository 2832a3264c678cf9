// Clock: the one place misdirect reads the time. Three kinds of time, never mixed up:
//   wall time       nanoseconds since the epoch (CLOCK_REALTIME): record timestamps, uptime, and
//                   the live sensor's packet time when frames carry no capture timestamp.
//   monotonic time  nanoseconds from an arbitrary start (CLOCK_MONOTONIC), never jumping: loop
//                   intervals, deadlines, back-off, progress, durations.
//   packet time     the time a packet carries (its capture timestamp in replay and on net_pcap,
//                   else the wall time it was read): the Worker's only clock, passed in with each
//                   PacketView; capture_micros_to_ns turns a capture's microseconds into it.
// Code that needs the time takes it as an argument (`now_ns`) or takes a `const Clock&`, so that
// tests inject it (ManualClock); only the command and lcore loops read the system's clocks.
#pragma once

#include <cstdint>

namespace misdirect::dataplane {

// The system's clocks (vDSO reads: no system call, fit for an lcore loop).
uint64_t wall_clock_ns() noexcept;
uint64_t monotonic_clock_ns() noexcept;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t wall_ns() const noexcept = 0;
  virtual uint64_t monotonic_ns() const noexcept = 0;
};

// wall_clock_ns and monotonic_clock_ns behind the interface.
class SystemClock final : public Clock {
 public:
  uint64_t wall_ns() const noexcept override { return wall_clock_ns(); }
  uint64_t monotonic_ns() const noexcept override { return monotonic_clock_ns(); }
};
const Clock& system_clock() noexcept;

// A clock a test sets and moves: time passes only when the test says so.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t wall_ns = 0, uint64_t monotonic_ns = 0) noexcept
      : wall_ns_(wall_ns), monotonic_ns_(monotonic_ns) {}
  uint64_t wall_ns() const noexcept override { return wall_ns_; }
  uint64_t monotonic_ns() const noexcept override { return monotonic_ns_; }
  // Moves both clocks on by `ns`.
  void advance(uint64_t ns) noexcept {
    wall_ns_ += ns;
    monotonic_ns_ += ns;
  }

 private:
  uint64_t wall_ns_;
  uint64_t monotonic_ns_;
};

// Packet time from a capture's timestamp. A classic pcap file stores unsigned 32-bit seconds
// (valid to 2106), but libpcap hands them on sign-extended, so a time past January 2038 arrives
// negative: it is put back 2^32 s on. pcapng's 64-bit times are never negative for real captures.
constexpr uint64_t capture_time_ns(int64_t seconds, uint64_t subsecond_ns) noexcept {
  const uint64_t unsigned_seconds = seconds < 0 ? static_cast<uint64_t>(static_cast<uint32_t>(seconds))
                                                : static_cast<uint64_t>(seconds);
  return unsigned_seconds * 1'000'000'000ull + subsecond_ns;
}

// The same from net_pcap's mbuf timestamp: microseconds since the epoch, computed by DPDK from
// libpcap's sign-extended seconds (so negative, as a signed number, past January 2038).
constexpr uint64_t capture_micros_to_ns(uint64_t micros) noexcept {
  constexpr uint64_t kSecondsWrapMicros = (uint64_t{1} << 32) * 1'000'000;
  if (static_cast<int64_t>(micros) < 0) {
    micros += kSecondsWrapMicros;
  }
  return micros * 1000;
}

}  // namespace misdirect::dataplane
