// EditDistanceIndex: the approximate tier of the hash engine — finds a protected domain within one
// edit (insertion, deletion or substitution) of a label-aligned suffix of a recipient domain.
//
// The deletion neighbourhood idea (as in SymSpell): two strings within one edit share a string
// obtained by deleting at most one character from each. The index holds every protected domain
// and each of its one-character deletions; a suffix is looked up as itself and as each of its own
// deletions, and every candidate is confirmed with within_one_edit. Memory is linear in the list
// (one slot per character of it), and a lookup costs about one probe per character of the suffix
// whatever the list's size — unlike the Hyperscan edit-distance database, whose scan time grows
// with the number of patterns.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/domain_name.h"

namespace misdirect::inspect {

// True iff `a` and `b` differ by at most one insertion, deletion or substitution.
bool within_one_edit(std::string_view a, std::string_view b) noexcept;

struct NearMiss {
  bool found = false;
  uint32_t protected_index = 0;
  std::size_t suffix_start = 0;  // the matching suffix is domain.substr(suffix_start)
};

class EditDistanceIndex {
 public:
  EditDistanceIndex() = default;
  explicit EditDistanceIndex(const std::vector<std::string>& protected_domains);

  // The longest label-aligned suffix of `canonical_domain` that is within one edit of a protected
  // domain without being equal to it; among protected domains at the same distance, the first in
  // list order. Hot path: no allocation.
  NearMiss find(std::string_view canonical_domain) const noexcept;

  std::size_t memory_bytes() const noexcept {
    return buckets_.capacity() * sizeof(Bucket) + owners_.capacity() * sizeof(uint32_t);
  }

 private:
  void insert(uint64_t hash, uint32_t protected_index);
  // Confirms every protected domain filed under `hash` against `suffix`; keeps the first in list order.
  void confirm(uint64_t hash, std::string_view suffix, std::size_t start,
               NearMiss& best) const noexcept;

  std::vector<std::string> protected_domains_;
  // Buckets of sixteen 32-bit tags (one cache line; 0: empty) with their protected indexes beside
  // them. A hash names a bucket whose tags are compared all at once; only a full bucket sends the
  // search on to the next one, and the table is at most half full, so a probe is one cache line
  // and one well-predicted branch.
  static constexpr std::size_t kBucketSlots = 16;
  struct alignas(64) Bucket {
    uint32_t tags[kBucketSlots];
  };
  std::vector<Bucket> buckets_;
  std::vector<uint32_t> owners_;  // [bucket * kBucketSlots + slot]: the protected index
  unsigned shift_ = 64;
  // Which suffix lengths can be within one edit of some protected domain.
  std::bitset<kMaxDomainBytes + 2> lengths_;
};

}  // namespace misdirect::inspect
