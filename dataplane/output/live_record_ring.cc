// RecordRing: the worker → control thread record hand-over (see live_record_ring.h).
#include "dataplane/output/live_record_ring.h"

#include <bit>
#include <cstring>
#include <thread>

#include "dataplane/clock.h"

namespace misdirect::dataplane {
namespace {

// How long a draining producer waits for room before it gives the record up (the control thread
// drains continuously during shutdown, so this is only reached when it is stuck).
constexpr uint64_t kDrainWaitNs = 5'000'000'000;

}  // namespace

RecordRing::RecordRing(std::size_t capacity_bytes)
    : capacity_(std::bit_ceil(std::max<std::size_t>(capacity_bytes, 64 * 1024))),
      mask_(capacity_ - 1),
      buffer_(new char[capacity_]) {}

RecordRing::Header RecordRing::read_header(std::size_t offset) const noexcept {
  Header header;
  std::memcpy(&header.length, buffer_.get() + offset, sizeof(header.length));
  header.type = static_cast<uint8_t>(buffer_[offset + 4]);
  return header;
}

void RecordRing::write_header(std::size_t offset, uint32_t length, uint8_t type) noexcept {
  std::memcpy(buffer_.get() + offset, &length, sizeof(length));
  buffer_[offset + 4] = static_cast<char>(type);
}

bool RecordRing::try_put(RecordType type, std::string_view json_line) noexcept {
  const std::size_t needed = record_bytes(json_line.size());
  const uint64_t head = head_.load(std::memory_order_relaxed);
  const uint64_t tail = tail_.load(std::memory_order_acquire);
  const std::size_t offset = static_cast<std::size_t>(head & mask_);
  const std::size_t to_end = capacity_ - offset;
  // A record that would cross the end costs the rest of the buffer as well.
  const std::size_t total = needed <= to_end ? needed : to_end + needed;
  if (head + total - tail > capacity_) {
    return false;
  }
  std::size_t at = offset;
  if (needed > to_end) {
    write_header(offset, kWrapMarker, 0);
    at = 0;
  }
  write_header(at, static_cast<uint32_t>(json_line.size()), static_cast<uint8_t>(type));
  std::memcpy(buffer_.get() + at + kHeaderBytes, json_line.data(), json_line.size());
  head_.store(head + total, std::memory_order_release);
  return true;
}

bool RecordRing::on_record(RecordType type, std::string_view json_line) noexcept {
  // A record larger than half the ring could never be placed after a wrap; refuse it outright.
  if (record_bytes(json_line.size()) > capacity_ / 2) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (try_put(type, json_line)) {
    return true;
  }
  if (draining_.load(std::memory_order_relaxed)) {
    // Shutdown only, never on the fast path: yielding lets the control thread run on a shared CPU.
    const uint64_t deadline_ns = monotonic_clock_ns() + kDrainWaitNs;
    while (monotonic_clock_ns() < deadline_ns) {
      std::this_thread::yield();
      if (try_put(type, json_line)) {
        return true;
      }
    }
  }
  refused_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace misdirect::dataplane
