// SuffixIndex: a domain's suffixes are hashed in one right-to-left pass (a Horner polynomial over
// the reversed text), so every label-aligned suffix costs one multiply-add per byte in total and
// one probe each; their slots are prefetched together before the first probe waits on memory.
// The slots live in their own mapping with transparent huge pages requested: at 10,000 protected
// domains the table is 128 MiB, and with 4 KiB pages nearly every probe would also miss the TLB.
#include "inspect/suffix_index.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

#include "inspect/domain_name.h"
#include "inspect/hash_mix.h"
#include "inspect/lookalike_generator.h"

namespace misdirect::inspect {

namespace {

constexpr std::size_t kMinimumSlots = 16;
constexpr std::size_t kExpectedTextBytes = 17;  // a typical look-alike and its NUL
constexpr std::size_t kHugePageBytes = 2u << 20;

// Never 0: 0 marks an empty slot.
uint64_t finish_hash(uint64_t polynomial) noexcept {
  const uint64_t hash = mix_hash(polynomial);
  return hash == 0 ? 1 : hash;
}

uint64_t hash_text(std::string_view text) noexcept {
  uint64_t h = 0;
  for (std::size_t i = text.size(); i-- > 0;) {
    h = h * kPolynomialBase + static_cast<unsigned char>(text[i]);
  }
  return finish_hash(h);
}

uint32_t pack(uint32_t protected_index, LookalikeKind kind, SuffixRole role) noexcept {
  return protected_index << 10 | static_cast<uint32_t>(kind) << 2 | static_cast<uint32_t>(role);
}

}  // namespace

void SuffixIndex::Unmap::operator()(SuffixEntry* slots) const noexcept {
  munmap(slots, bytes);
}

SuffixIndex::Slots SuffixIndex::allocate_slots(std::size_t count) {
  const std::size_t bytes =
      (count * sizeof(SuffixEntry) + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    throw std::bad_alloc();
  }
  madvise(memory, bytes, MADV_HUGEPAGE);  // advice only: without it the index still works
  return Slots(static_cast<SuffixEntry*>(memory), Unmap{bytes});  // mmap zeroes: all empty
}

SuffixMatch SuffixIndex::match(std::string_view domain) const noexcept {
  SuffixMatch result;
  if (size_ == 0 || domain.size() < shortest_ || domain.size() > kMaxDomainBytes) {
    return result;
  }
  struct Candidate {
    std::size_t start;
    uint64_t hash;
  };
  // A canonical domain has at most 127 labels (253 bytes, one-byte labels).
  Candidate candidates[kMaxDomainBytes / 2 + 1];
  std::size_t count = 0;
  uint64_t h = 0;
  for (std::size_t i = domain.size(); i-- > 0;) {
    h = h * kPolynomialBase + static_cast<unsigned char>(domain[i]);
    if (i != 0 && domain[i - 1] != '.') {
      continue;
    }
    const std::size_t length = domain.size() - i;
    if (length >= shortest_ && length <= longest_) {
      const uint64_t hash = finish_hash(h);
      __builtin_prefetch(&slots_[hash >> shift_]);
      candidates[count++] = Candidate{i, hash};
    }
  }
  // Collected shortest first: walk them longest first.
  for (std::size_t c = count; c-- > 0;) {
    const SuffixEntry* entry = find(candidates[c].hash);
    if (entry == nullptr) {
      continue;
    }
    const std::string_view suffix = domain.substr(candidates[c].start);
    if (entry->role() != SuffixRole::kVariant) {
      result.safe = true;
    } else if (!text_equals(*entry, suffix)) {
      continue;  // a hash collision: this suffix is no variant
    }
    if (result.longest == nullptr) {
      result.longest = entry;
      result.longest_length = suffix.size();
    }
  }
  return result;
}

bool SuffixIndex::text_equals(const SuffixEntry& entry, std::string_view text) const noexcept {
  const char* stored = text_.data() + entry.text_offset;
  return std::memcmp(stored, text.data(), text.size()) == 0 && stored[text.size()] == '\0';
}

const SuffixEntry* SuffixIndex::find(uint64_t hash) const noexcept {
  const std::size_t mask = slot_count_ - 1;
  // At most half full: an empty slot ends every probe sequence.
  for (std::size_t i = hash >> shift_;; i = (i + 1) & mask) {
    const SuffixEntry& slot = slots_[i];
    if (slot.hash == hash) {
      return &slot;
    }
    if (slot.hash == 0) {
      return nullptr;
    }
  }
}

std::size_t SuffixIndex::memory_bytes() const noexcept {
  return slot_count_ * sizeof(SuffixEntry) + text_.capacity();
}

SuffixIndex::Builder::Builder(std::size_t expected_entries) {
  const std::size_t slots = std::bit_ceil(std::max(kMinimumSlots, expected_entries * 2));
  index_.slots_ = allocate_slots(slots);
  index_.slot_count_ = slots;
  index_.shift_ = 64 - static_cast<unsigned>(std::countr_zero(slots));
  index_.text_.reserve(expected_entries * kExpectedTextBytes);
}

void SuffixIndex::Builder::add(std::string_view text, SuffixRole role, LookalikeKind kind,
                               uint32_t protected_index) {
  if (text.empty() || text.size() > kMaxDomainBytes) {
    throw std::invalid_argument("suffix index: \"" + std::string(text) + "\" is not a domain");
  }
  if (protected_index >= kMaxProtectedDomains) {
    throw std::length_error("suffix index: more than 4,194,304 protected domains");
  }
  Pending& pending = pending_[pending_count_++];
  pending.hash = hash_text(text);
  pending.packed = pack(protected_index, kind, role);
  pending.length = static_cast<uint8_t>(text.size());
  std::memcpy(pending.text, text.data(), text.size());
  __builtin_prefetch(&index_.slots_[pending.hash >> index_.shift_]);
  if (pending_count_ == kBatch) {
    flush();
  }
}

void SuffixIndex::Builder::flush() {
  // In arrival order: which of two equal-ranked kinds wins depends on it.
  for (std::size_t i = 0; i < pending_count_; ++i) {
    insert(pending_[i]);
  }
  pending_count_ = 0;
}

void SuffixIndex::Builder::insert(const Pending& pending) {
  const std::size_t mask = index_.slot_count_ - 1;
  std::size_t i = pending.hash >> index_.shift_;
  for (;; i = (i + 1) & mask) {
    SuffixEntry& slot = index_.slots_[i];
    if (slot.hash == 0) {
      break;
    }
    if (slot.hash != pending.hash) {
      continue;
    }
    const auto role = static_cast<SuffixRole>(pending.packed & 0x3);
    const auto kind = static_cast<LookalikeKind>((pending.packed >> 2) & 0x1F);
    if (slot.role() == SuffixRole::kVariant && role == SuffixRole::kVariant &&
        kind_priority(kind) < kind_priority(slot.kind())) {
      slot.packed = pending.packed;
    }
    return;
  }
  if (index_.text_.size() + pending.length + 1 > std::numeric_limits<uint32_t>::max()) {
    throw std::length_error("suffix index: more look-alike text than one index holds");
  }
  index_.slots_[i] = SuffixEntry{pending.hash, static_cast<uint32_t>(index_.text_.size()),
                                 pending.packed};
  index_.text_.append(pending.text, pending.length);
  index_.text_.push_back('\0');
  ++index_.size_;
  index_.shortest_ = std::min<std::size_t>(index_.shortest_, pending.length);
  index_.longest_ = std::max<std::size_t>(index_.longest_, pending.length);
  if (index_.size_ * 2 > index_.slot_count_) {
    grow();
  }
}

void SuffixIndex::Builder::grow() {
  const std::size_t slots = index_.slot_count_ * 2;
  Slots grown = allocate_slots(slots);
  const unsigned shift = 64 - static_cast<unsigned>(std::countr_zero(slots));
  for (std::size_t s = 0; s < index_.slot_count_; ++s) {
    const SuffixEntry& entry = index_.slots_[s];
    if (entry.hash == 0) {
      continue;
    }
    std::size_t i = entry.hash >> shift;
    while (grown[i].hash != 0) {
      i = (i + 1) & (slots - 1);
    }
    grown[i] = entry;
  }
  index_.slots_ = std::move(grown);
  index_.slot_count_ = slots;
  index_.shift_ = shift;
}

SuffixIndex SuffixIndex::Builder::finish() {
  flush();
  index_.text_.shrink_to_fit();
  return std::move(index_);
}

}  // namespace misdirect::inspect
