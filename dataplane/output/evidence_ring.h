// EvidenceRing: captured frames of alerting flows on their way from a worker to the thread that
// writes evidence pcaps — a bounded single-producer/single-consumer byte ring, so the worker hands
// a frame over with two copies and one release store and never waits, locks or touches a file.
//
// Each entry is an EvidenceEntry header (32 bytes) followed by the frame's captured bytes, padded
// to 8 bytes. An entry that would cross the end of the buffer is written from offset 0 instead,
// after a wrap marker (or, when fewer than 32 bytes are left, after nothing: the consumer skips a
// tail too short for a header), so every entry is contiguous and is handed out without a copy.
// The entry format is also the per-flow buffer's (EvidenceRecorder), so a buffer is flushed entry
// by entry.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace misdirect::dataplane {

enum class EvidenceEntryKind : uint8_t {
  kPacket = 1,   // one frame of the flow
  kFlowEnd = 2,  // the flow ended: its file can be closed
  kWrap = 3,     // ring only: the rest of the buffer is unused, continue at offset 0
};

struct EvidenceEntry {
  uint64_t flow_id = 0;
  uint64_t timestamp_ns = 0;
  uint32_t captured_length = 0;  // bytes following the header
  uint32_t wire_length = 0;
  EvidenceEntryKind kind = EvidenceEntryKind::kPacket;
  uint8_t link_type = 0;  // LinkType
  uint16_t reserved = 0;
  uint32_t entry_bytes = 0;  // header + bytes, padded to 8
};
static_assert(sizeof(EvidenceEntry) == 32);

inline constexpr std::size_t evidence_entry_bytes(std::size_t captured_length) noexcept {
  return (sizeof(EvidenceEntry) + captured_length + 7) & ~std::size_t{7};
}

class EvidenceRing {
 public:
  // `capacity_bytes` is rounded up to a power of two (at least 64 KiB). Allocated here, once.
  explicit EvidenceRing(std::size_t capacity_bytes);
  EvidenceRing(const EvidenceRing&) = delete;
  EvidenceRing& operator=(const EvidenceRing&) = delete;

  // Producer (the worker). False when the entry does not fit now (or could never: larger than a
  // quarter of the ring); the caller counts it. `entry.entry_bytes` is set here.
  bool push(EvidenceEntry entry, std::span<const uint8_t> bytes) noexcept;

  // Consumer. Calls `handle(const EvidenceEntry&, std::span<const uint8_t>)` for each waiting
  // entry; returns how many. The bytes live only during the call.
  template <typename Handler>
  std::size_t drain(Handler&& handle) {
    std::size_t handled = 0;
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    const uint64_t head = head_.load(std::memory_order_acquire);
    while (tail != head) {
      const std::size_t offset = static_cast<std::size_t>(tail & mask_);
      if (capacity_ - offset < sizeof(EvidenceEntry)) {
        tail += capacity_ - offset;
        continue;
      }
      EvidenceEntry entry;
      std::memcpy(&entry, buffer_.get() + offset, sizeof(entry));
      if (entry.kind == EvidenceEntryKind::kWrap) {
        tail += capacity_ - offset;
        continue;
      }
      handle(static_cast<const EvidenceEntry&>(entry),
             std::span<const uint8_t>(buffer_.get() + offset + sizeof(EvidenceEntry), entry.captured_length));
      tail += entry.entry_bytes;
      ++handled;
    }
    tail_.store(tail, std::memory_order_release);
    return handled;
  }

  bool empty() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::size_t capacity_;
  uint64_t mask_;
  std::unique_ptr<uint8_t[]> buffer_;
  alignas(64) std::atomic<uint64_t> head_{0};  // written by the producer
  uint64_t cached_tail_ = 0;                    // the producer's last look at tail_
  alignas(64) std::atomic<uint64_t> tail_{0};  // written by the consumer
};

}  // namespace misdirect::dataplane
