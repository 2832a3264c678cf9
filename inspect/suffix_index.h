// SuffixIndex: the exact tier — every protected, allowed and look-alike domain in one flat hash
// index, probed with each label-aligned suffix of a recipient domain.
//
// Built off the fast path from the generator's output as it streams (no intermediate list: 10,000
// protected domains are 3.2 million look-alikes); read on the fast path without allocating. A
// slot holds all a verdict needs, so a probe touches one cache line; the domain's text is read
// only to confirm a look-alike before it is reported. The slots are also the id table of the
// Hyperscan engine (a literal's id is its slot number), so both engines name the same variants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "inspect/lookalike_kind.h"

namespace misdirect::inspect {

enum class SuffixRole : uint8_t { kProtected, kAllowed, kVariant };

// One slot. A 64-bit hash identifies the domain (0 marks an empty slot): two domains in one index
// sharing a hash would take one slot (the first added wins) — a one-in-10^12 event at 3.2 million
// entries. Reported look-alikes are confirmed against the text, so a collision can at worst hide
// an entry, never invent an alert.
struct SuffixEntry {
  uint64_t hash = 0;
  uint32_t text_offset = 0;  // into the index's text: the domain, then a NUL
  uint32_t packed = 0;       // protected index (22 bits), kind (5), role (2)

  uint32_t protected_index() const noexcept { return packed >> 10; }
  LookalikeKind kind() const noexcept { return static_cast<LookalikeKind>((packed >> 2) & 0x1F); }
  SuffixRole role() const noexcept { return static_cast<SuffixRole>(packed & 0x3); }
};
static_assert(sizeof(SuffixEntry) == 16);

// What the suffixes of one domain found: the longest entry among them, of any role, and whether
// any was protected or allowed (then the domain is safe: they and their subdomains never alert).
// When not safe, `longest` is the variant that names the domain.
struct SuffixMatch {
  const SuffixEntry* longest = nullptr;
  std::size_t longest_length = 0;
  bool safe = false;
};

class SuffixIndex {
 public:
  class Builder;
  static constexpr uint32_t kMaxProtectedDomains = 1u << 22;

  SuffixIndex() = default;
  SuffixIndex(SuffixIndex&&) noexcept = default;
  SuffixIndex& operator=(SuffixIndex&&) noexcept = default;

  SuffixMatch match(std::string_view canonical_domain) const noexcept;

  // Hyperscan ids: 0 .. slot_count()-1, occupied where entry(id).hash != 0.
  std::size_t slot_count() const noexcept { return slot_count_; }
  const SuffixEntry& entry(std::size_t slot) const noexcept { return slots_[slot]; }
  std::string_view text(const SuffixEntry& entry) const noexcept {
    return std::string_view(text_.data() + entry.text_offset);
  }
  std::size_t size() const noexcept { return size_; }
  std::size_t memory_bytes() const noexcept;

 private:
  struct Unmap {
    std::size_t bytes;
    void operator()(SuffixEntry* slots) const noexcept;
  };
  using Slots = std::unique_ptr<SuffixEntry[], Unmap>;
  static Slots allocate_slots(std::size_t count);

  const SuffixEntry* find(uint64_t hash) const noexcept;
  // The stored text of `entry` is `text`. Safe for any `text` up to kMaxDomainBytes: the text
  // buffer is NUL-terminated and the comparison stops at the first difference.
  bool text_equals(const SuffixEntry& entry, std::string_view text) const noexcept;

  // Linear probing from the hash's top bits; at most half full.
  Slots slots_{nullptr, Unmap{0}};
  std::size_t slot_count_ = 0;
  unsigned shift_ = 64;
  std::size_t size_ = 0;
  std::string text_;
  std::size_t shortest_ = SIZE_MAX;
  std::size_t longest_ = 0;
};

class SuffixIndex::Builder {
 public:
  // `expected_entries` sizes the table; it grows past it if needed.
  explicit Builder(std::size_t expected_entries);

  // A domain already present keeps its role: protected and allowed domains are added first, so a
  // variant equal to one of them is dropped. A repeated variant takes the new kind (and protected
  // domain) only if the kind ranks higher (kind_priority). Throws std::length_error past
  // kMaxProtectedDomains.
  void add(std::string_view text, SuffixRole role, LookalikeKind kind, uint32_t protected_index);

  SuffixIndex finish();

 private:
  // Additions wait in a small batch whose slots are prefetched together: the table is far larger
  // than the caches, so inserting one at a time would wait on memory for every look-alike.
  struct Pending {
    uint64_t hash;
    uint32_t packed;
    uint8_t length;
    char text[256];
  };
  static constexpr std::size_t kBatch = 32;

  void flush();
  void insert(const Pending& pending);
  void grow();

  SuffixIndex index_;
  Pending pending_[kBatch];
  std::size_t pending_count_ = 0;
};

}  // namespace misdirect::inspect
