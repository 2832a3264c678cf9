// SuffixIndex: a domain's suffixes are hashed in one right-to-left pass (a Horner polynomial over
// the reversed text), so every label-aligned suffix costs one multiply-add per byte in total and
// one probe each; their slots are prefetched together before the first probe waits on memory.
#include "inspect/suffix_index.h"

#include <bit>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "inspect/domain_name.h"
#include "inspect/hash_mix.h"
#include "inspect/lookalike_generator.h"

namespace misdirect::inspect {

namespace {

constexpr std::size_t kMinimumSlots = 16;
constexpr std::size_t kExpectedTextBytes = 16;  // a typical look-alike's length

uint64_t hash_text(std::string_view text) noexcept {
  uint64_t h = 0;
  for (std::size_t i = text.size(); i-- > 0;) {
    h = h * kPolynomialBase + static_cast<unsigned char>(text[i]);
  }
  return mix_hash(h);
}

uint64_t make_slot(uint64_t hash, std::size_t entry_index) noexcept {
  return (hash << 32) | static_cast<uint64_t>(entry_index + 1);
}

}  // namespace

SuffixMatch SuffixIndex::match(std::string_view domain) const noexcept {
  SuffixMatch result;
  if (entries_.empty() || domain.size() < shortest_ || domain.size() > kMaxDomainBytes) {
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
      const uint64_t hash = mix_hash(h);
      __builtin_prefetch(&slots_[hash >> shift_]);
      candidates[count++] = Candidate{i, hash};
    }
  }
  // Collected shortest first: walk them longest first.
  for (std::size_t c = count; c-- > 0;) {
    const SuffixEntry* entry = find(domain.substr(candidates[c].start), candidates[c].hash);
    if (entry == nullptr) {
      continue;
    }
    result.safe = result.safe || entry->role != SuffixRole::kVariant;
    if (result.longest == nullptr) {
      result.longest = entry;
    }
  }
  return result;
}

const SuffixEntry* SuffixIndex::find(std::string_view text, uint64_t hash) const noexcept {
  const uint64_t tag = hash & 0xFFFFFFFFULL;
  const std::size_t mask = slots_.size() - 1;
  // The table is at most half full, so an empty slot ends every probe sequence.
  for (std::size_t i = hash >> shift_;; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == 0) {
      return nullptr;
    }
    if ((slot >> 32) == tag) {
      const SuffixEntry& entry = entries_[(slot & 0xFFFFFFFFULL) - 1];
      if (this->text(entry) == text) {
        return &entry;
      }
    }
  }
}

std::size_t SuffixIndex::memory_bytes() const noexcept {
  return slots_.capacity() * sizeof(uint64_t) + entries_.capacity() * sizeof(SuffixEntry) +
         text_.capacity();
}

SuffixIndex::Builder::Builder(std::size_t expected_entries) {
  const std::size_t slots = std::bit_ceil(std::max(kMinimumSlots, expected_entries * 2));
  index_.slots_.assign(slots, 0);
  index_.shift_ = 64 - static_cast<unsigned>(std::countr_zero(slots));
  index_.entries_.reserve(expected_entries);
  index_.text_.reserve(expected_entries * kExpectedTextBytes);
  pending_.reserve(kBatch);
}

void SuffixIndex::Builder::add(std::string_view text, SuffixRole role, LookalikeKind kind,
                               uint32_t protected_index) {
  if (text.empty() || text.size() > kMaxDomainBytes) {
    throw std::invalid_argument("suffix index: \"" + std::string(text) + "\" is not a domain");
  }
  Pending& pending = pending_.emplace_back();
  pending.hash = hash_text(text);
  pending.protected_index = protected_index;
  pending.length = static_cast<uint8_t>(text.size());
  pending.role = role;
  pending.kind = kind;
  std::memcpy(pending.text, text.data(), text.size());
  __builtin_prefetch(&index_.slots_[pending.hash >> index_.shift_]);
  if (pending_.size() == kBatch) {
    flush();
  }
}

void SuffixIndex::Builder::flush() {
  // In arrival order: which of two equal-ranked kinds wins depends on it.
  for (const Pending& pending : pending_) {
    insert(pending);
  }
  pending_.clear();
}

void SuffixIndex::Builder::insert(const Pending& pending) {
  if (index_.text_.size() + pending.length > std::numeric_limits<uint32_t>::max() ||
      index_.entries_.size() >= std::numeric_limits<uint32_t>::max() - 1) {
    throw std::length_error("suffix index: more look-alikes than one index holds");
  }
  const std::string_view text(pending.text, pending.length);
  const uint64_t tag = pending.hash & 0xFFFFFFFFULL;
  const std::size_t mask = index_.slots_.size() - 1;
  std::size_t i = pending.hash >> index_.shift_;
  for (;; i = (i + 1) & mask) {
    const uint64_t slot = index_.slots_[i];
    if (slot == 0) {
      break;
    }
    if ((slot >> 32) != tag) {
      continue;
    }
    SuffixEntry& entry = index_.entries_[(slot & 0xFFFFFFFFULL) - 1];
    if (index_.text(entry) != text) {
      continue;
    }
    if (entry.role == SuffixRole::kVariant && pending.role == SuffixRole::kVariant &&
        kind_priority(pending.kind) < kind_priority(entry.kind)) {
      entry.kind = pending.kind;
      entry.protected_index = pending.protected_index;
    }
    return;
  }
  index_.slots_[i] = make_slot(pending.hash, index_.entries_.size());
  index_.entries_.push_back(SuffixEntry{static_cast<uint32_t>(index_.text_.size()),
                                        pending.protected_index, pending.length, pending.role,
                                        pending.kind});
  index_.text_.append(text);
  index_.shortest_ = std::min<std::size_t>(index_.shortest_, text.size());
  index_.longest_ = std::max<std::size_t>(index_.longest_, text.size());
  if (index_.entries_.size() * 2 > index_.slots_.size()) {
    grow();
  }
}

void SuffixIndex::Builder::grow() {
  const std::size_t slots = index_.slots_.size() * 2;
  index_.slots_.assign(slots, 0);
  index_.shift_ = 64 - static_cast<unsigned>(std::countr_zero(slots));
  const std::size_t mask = slots - 1;
  for (std::size_t e = 0; e < index_.entries_.size(); ++e) {
    const uint64_t hash = hash_text(index_.text(index_.entries_[e]));
    std::size_t i = hash >> index_.shift_;
    while (index_.slots_[i] != 0) {
      i = (i + 1) & mask;
    }
    index_.slots_[i] = make_slot(hash, e);
  }
}

SuffixIndex SuffixIndex::Builder::finish() {
  flush();
  index_.entries_.shrink_to_fit();
  index_.text_.shrink_to_fit();
  return std::move(index_);
}

}  // namespace misdirect::inspect
