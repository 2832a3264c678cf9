// RecordRing: one worker's finished EVE records on their way to the control thread — a bounded
// single-producer/single-consumer byte ring, so a worker hands over a record with two copies and
// one release store, and never waits for the control thread.
//
// Layout: each record is an 8-byte header {uint32 length, uint8 type, 3 bytes padding} followed by
// the line, padded to 8 bytes. A record that would cross the end of the buffer is preceded by a
// wrap marker (length kWrapMarker) and written from offset 0 instead, so every record is
// contiguous and the consumer hands out views without copying.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "dataplane/output/record_sink.h"

namespace misdirect::dataplane {

class RecordRing final : public RecordSink {
 public:
  // `capacity_bytes` is rounded up to a power of two (at least 64 KiB).
  explicit RecordRing(std::size_t capacity_bytes);
  RecordRing(const RecordRing&) = delete;
  RecordRing& operator=(const RecordRing&) = delete;

  // Producer (the worker's lcore). Returns false when the record does not fit now; the worker
  // counts that. In draining mode (shutdown) it waits for the consumer instead, up to a bound,
  // because the records flushed by Worker::finish are the last word on every open flow.
  bool on_record(RecordType type, std::string_view json_line) noexcept override;
  void set_draining(bool draining) noexcept { draining_.store(draining, std::memory_order_relaxed); }

  // Consumer (the control thread). Calls `handle(type, line)` for each waiting record, at most
  // `max_records`; returns how many were handled. The view lives only during the call.
  template <typename Handler>
  std::size_t drain(Handler&& handle, std::size_t max_records = SIZE_MAX) {
    std::size_t handled = 0;
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    const uint64_t head = head_.load(std::memory_order_acquire);
    while (tail != head && handled < max_records) {
      const std::size_t offset = static_cast<std::size_t>(tail & mask_);
      const Header header = read_header(offset);
      if (header.length == kWrapMarker) {
        tail += capacity_ - offset;
        continue;
      }
      handle(static_cast<RecordType>(header.type),
             std::string_view(buffer_.get() + offset + kHeaderBytes, header.length));
      tail += record_bytes(header.length);
      ++handled;
      tail_.store(tail, std::memory_order_release);
    }
    tail_.store(tail, std::memory_order_release);
    return handled;
  }

  bool empty() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }
  // Records refused because the ring was full (also counted by the worker as records_dropped).
  uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  struct Header {
    uint32_t length;
    uint8_t type;
  };
  static constexpr std::size_t kHeaderBytes = 8;
  static constexpr uint32_t kWrapMarker = UINT32_MAX;

  static std::size_t record_bytes(std::size_t length) noexcept {
    return kHeaderBytes + ((length + 7) & ~std::size_t{7});
  }
  Header read_header(std::size_t offset) const noexcept;
  void write_header(std::size_t offset, uint32_t length, uint8_t type) noexcept;
  bool try_put(RecordType type, std::string_view json_line) noexcept;

  std::size_t capacity_;
  uint64_t mask_;
  std::unique_ptr<char[]> buffer_;
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> refused_{0};
  // Producer and consumer positions (monotonic byte counts) on separate cache lines.
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
};

}  // namespace misdirect::dataplane
