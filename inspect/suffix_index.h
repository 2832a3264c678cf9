// SuffixIndex: the exact tier — every protected, allowed and look-alike domain in one flat hash
// index, probed with each label-aligned suffix of a recipient domain.
//
// Built off the fast path from the generator's output as it streams (no intermediate list: 10,000
// protected domains are 3.2 million look-alikes); read on the fast path without allocating. Its
// entries are also the id table of the Hyperscan engine, so both engines name the same variants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/lookalike_kind.h"

namespace misdirect::inspect {

enum class SuffixRole : uint8_t { kProtected, kAllowed, kVariant };

struct SuffixEntry {
  uint32_t text_offset = 0;      // into the index's text arena
  uint32_t protected_index = 0;  // into DomainLists::protected_domains (kProtected, kVariant)
  uint8_t text_length = 0;
  SuffixRole role = SuffixRole::kVariant;
  LookalikeKind kind = LookalikeKind::kTldSwap;  // kVariant only
};

// What the suffixes of one domain found: the longest entry among them, of any role, and whether
// any was protected or allowed (then the domain is safe: they and their subdomains never alert).
// When not safe, `longest` is the variant that names the domain.
struct SuffixMatch {
  const SuffixEntry* longest = nullptr;
  bool safe = false;
};

class SuffixIndex {
 public:
  class Builder;

  SuffixIndex() = default;

  SuffixMatch match(std::string_view canonical_domain) const noexcept;

  std::string_view text(const SuffixEntry& entry) const noexcept {
    return std::string_view(text_.data() + entry.text_offset, entry.text_length);
  }
  const std::vector<SuffixEntry>& entries() const noexcept { return entries_; }
  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t memory_bytes() const noexcept;

 private:
  // Returns the entry whose text is `text`, or null. `hash` is hash_text(text).
  const SuffixEntry* find(std::string_view text, uint64_t hash) const noexcept;

  // One slot: the hash's low 32 bits (a tag that rejects most strangers without touching the
  // entry) above the entry's index + 1 (0: empty). Linear probing from the hash's top bits.
  std::vector<uint64_t> slots_;
  unsigned shift_ = 64;
  std::vector<SuffixEntry> entries_;
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
  // domain) only if the kind ranks higher (kind_priority).
  void add(std::string_view text, SuffixRole role, LookalikeKind kind, uint32_t protected_index);

  SuffixIndex finish();

 private:
  // Additions wait in a small batch whose slots are prefetched together: the table is far larger
  // than the caches, so inserting one at a time would wait on memory for every look-alike.
  struct Pending {
    uint64_t hash;
    uint32_t protected_index;
    uint8_t length;
    SuffixRole role;
    LookalikeKind kind;
    char text[256];
  };
  static constexpr std::size_t kBatch = 32;

  void flush();
  void insert(const Pending& pending);
  void grow();

  SuffixIndex index_;
  std::vector<Pending> pending_;
};

}  // namespace misdirect::inspect
