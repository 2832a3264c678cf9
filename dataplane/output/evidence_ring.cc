// EvidenceRing: the producer's side (the consumer's is the template in the header).
#include "dataplane/output/evidence_ring.h"

#include <bit>

namespace misdirect::dataplane {

EvidenceRing::EvidenceRing(std::size_t capacity_bytes)
    : capacity_(std::bit_ceil(capacity_bytes < (std::size_t{64} << 10) ? (std::size_t{64} << 10) : capacity_bytes)),
      mask_(capacity_ - 1),
      buffer_(new uint8_t[capacity_]) {}

bool EvidenceRing::push(EvidenceEntry entry, std::span<const uint8_t> bytes) noexcept {
  const std::size_t need = evidence_entry_bytes(bytes.size());
  if (need > capacity_ / 4) {
    return false;
  }
  const uint64_t head = head_.load(std::memory_order_relaxed);
  const std::size_t offset = static_cast<std::size_t>(head & mask_);
  const std::size_t until_end = capacity_ - offset;
  // An entry that would cross the end starts at offset 0; the bytes skipped count as used.
  const std::size_t skip = until_end < need ? until_end : 0;
  if (head + skip + need - cached_tail_ > capacity_) {
    cached_tail_ = tail_.load(std::memory_order_acquire);
    if (head + skip + need - cached_tail_ > capacity_) {
      return false;
    }
  }
  if (skip >= sizeof(EvidenceEntry)) {
    EvidenceEntry wrap;
    wrap.kind = EvidenceEntryKind::kWrap;
    wrap.entry_bytes = static_cast<uint32_t>(skip);
    std::memcpy(buffer_.get() + offset, &wrap, sizeof(wrap));
  }
  uint8_t* at = buffer_.get() + (skip != 0 ? 0 : offset);
  entry.captured_length = static_cast<uint32_t>(bytes.size());
  entry.entry_bytes = static_cast<uint32_t>(need);
  std::memcpy(at, &entry, sizeof(entry));
  if (!bytes.empty()) {
    std::memcpy(at + sizeof(entry), bytes.data(), bytes.size());
  }
  head_.store(head + skip + need, std::memory_order_release);
  return true;
}

}  // namespace misdirect::dataplane
