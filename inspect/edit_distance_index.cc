// EditDistanceIndex: polynomial hashes make each one-character deletion of a string cost O(1):
// with H(x) = sum of x[k]·B^(|x|-1-k), deleting x[j] from x[s..n) hashes to
// H(x[s..j))·B^(n-1-j) + H(x[j+1..n)), from running prefix and suffix hashes.
#include "inspect/edit_distance_index.h"

#include <algorithm>
#include <array>
#include <bit>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "inspect/hash_mix.h"

namespace misdirect::inspect {

namespace {

constexpr std::size_t kMinimumBuckets = 2;

constexpr auto kPowers = [] {
  std::array<uint64_t, kMaxDomainBytes + 2> powers{};
  powers[0] = 1;
  for (std::size_t i = 1; i < powers.size(); ++i) {
    powers[i] = powers[i - 1] * kPolynomialBase;
  }
  return powers;
}();

// The hashes of x[start..n) (first) and of each of its one-character deletions, skipping a
// deletion that repeats the previous one (deleting either of two equal neighbours gives the same
// string). `suffix_hashes[j]` is H(x[j..n)). Returns how many were written to `out`.
std::size_t neighbourhood(std::string_view x, std::size_t start, const uint64_t* suffix_hashes,
                          uint64_t* out) noexcept {
  const std::size_t n = x.size();
  std::size_t count = 0;
  out[count++] = suffix_hashes[start];
  uint64_t prefix = 0;
  for (std::size_t j = start; j < n; ++j) {
    if (j == start || x[j] != x[j - 1]) {
      out[count++] = prefix * kPowers[n - 1 - j] + suffix_hashes[j + 1];
    }
    prefix = prefix * kPolynomialBase + static_cast<unsigned char>(x[j]);
  }
  return count;
}

void fill_suffix_hashes(std::string_view x, uint64_t* suffix_hashes) noexcept {
  const std::size_t n = x.size();
  suffix_hashes[n] = 0;
  for (std::size_t j = n; j-- > 0;) {
    suffix_hashes[j] = static_cast<unsigned char>(x[j]) * kPowers[n - 1 - j] + suffix_hashes[j + 1];
  }
}

// Never 0: 0 marks an empty slot.
uint32_t tag_of(uint64_t hash) noexcept {
  const auto tag = static_cast<uint32_t>(hash);
  return tag == 0 ? 1 : tag;
}

// Bit i set iff tags[i] == tag, for the sixteen tags of a bucket (kBucketSlots).
unsigned matching_slots(const uint32_t* tags, uint32_t tag) noexcept {
#if defined(__SSE2__)
  const __m128i wanted = _mm_set1_epi32(static_cast<int>(tag));
  unsigned bits = 0;
  for (int quarter = 0; quarter < 4; ++quarter) {
    const __m128i four = _mm_load_si128(reinterpret_cast<const __m128i*>(tags) + quarter);
    const int equal = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(four, wanted)));
    bits |= static_cast<unsigned>(equal) << (quarter * 4);
  }
  return bits;
#else
  unsigned bits = 0;
  for (unsigned i = 0; i < 16; ++i) {
    bits |= static_cast<unsigned>(tags[i] == tag) << i;
  }
  return bits;
#endif
}

}  // namespace

bool within_one_edit(std::string_view a, std::string_view b) noexcept {
  if (a.size() > b.size()) {
    std::swap(a, b);
  }
  if (b.size() - a.size() > 1) {
    return false;
  }
  std::size_t prefix = 0;
  while (prefix < a.size() && a[prefix] == b[prefix]) {
    ++prefix;
  }
  if (a.size() == b.size()) {
    return prefix == a.size() || a.substr(prefix + 1) == b.substr(prefix + 1);
  }
  return a.substr(prefix) == b.substr(prefix + 1);
}

EditDistanceIndex::EditDistanceIndex(const std::vector<std::string>& protected_domains)
    : protected_domains_(protected_domains) {
  std::size_t characters = 0;
  for (const std::string& domain : protected_domains_) {
    characters += domain.size() + 1;
  }
  const std::size_t buckets =
      std::bit_ceil(std::max(kMinimumBuckets, characters * 2 / kBucketSlots + 1));
  buckets_.assign(buckets, Bucket{});
  owners_.assign(buckets * kBucketSlots, 0);
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(buckets));
  uint64_t suffix_hashes[kMaxDomainBytes + 1];
  uint64_t hashes[kMaxDomainBytes + 1];
  for (std::size_t p = 0; p < protected_domains_.size(); ++p) {
    const std::string_view domain = protected_domains_[p];
    if (domain.empty() || domain.size() > kMaxDomainBytes) {
      continue;  // lists are canonical; nothing longer reaches here
    }
    fill_suffix_hashes(domain, suffix_hashes);
    const std::size_t count = neighbourhood(domain, 0, suffix_hashes, hashes);
    for (std::size_t h = 0; h < count; ++h) {
      insert(mix_hash(hashes[h]), static_cast<uint32_t>(p));
    }
    lengths_.set(domain.size() - 1);
    lengths_.set(domain.size());
    lengths_.set(domain.size() + 1);
  }
}

void EditDistanceIndex::insert(uint64_t hash, uint32_t protected_index) {
  const uint32_t tag = tag_of(hash);
  const std::size_t mask = buckets_.size() - 1;
  for (std::size_t b = hash >> shift_;; b = (b + 1) & mask) {
    for (std::size_t i = 0; i < kBucketSlots; ++i) {
      if (buckets_[b].tags[i] == 0) {
        buckets_[b].tags[i] = tag;
        owners_[b * kBucketSlots + i] = protected_index;
        return;
      }
    }
  }
}

void EditDistanceIndex::confirm(uint64_t hash, std::string_view suffix, std::size_t start,
                                NearMiss& best) const noexcept {
  const uint32_t tag = tag_of(hash);
  const std::size_t mask = buckets_.size() - 1;
  for (std::size_t b = hash >> shift_;; b = (b + 1) & mask) {
    const Bucket& bucket = buckets_[b];
    for (unsigned matches = matching_slots(bucket.tags, tag); matches != 0; matches &= matches - 1) {
      const uint32_t p = owners_[b * kBucketSlots + static_cast<std::size_t>(std::countr_zero(matches))];
      if (best.found && p >= best.protected_index) {
        continue;
      }
      const std::string_view target = protected_domains_[p];
      if (suffix != target && within_one_edit(suffix, target)) {
        best = NearMiss{true, p, start};
      }
    }
    if (bucket.tags[kBucketSlots - 1] == 0) {
      return;  // a bucket fills in order: not full, so the search ends here
    }
  }
}

NearMiss EditDistanceIndex::find(std::string_view domain) const noexcept {
  NearMiss best;
  if (buckets_.empty() || domain.empty() || domain.size() > kMaxDomainBytes) {
    return best;
  }
  uint64_t suffix_hashes[kMaxDomainBytes + 1];
  fill_suffix_hashes(domain, suffix_hashes);
  uint64_t hashes[kMaxDomainBytes + 1];
  // Label-aligned suffixes, longest first: the first that has a near miss is the answer.
  for (std::size_t start = 0; start < domain.size();) {
    const std::size_t length = domain.size() - start;
    if (lengths_.test(length)) {
      const std::size_t count = neighbourhood(domain, start, suffix_hashes, hashes);
      for (std::size_t h = 0; h < count; ++h) {
        hashes[h] = mix_hash(hashes[h]);
        __builtin_prefetch(&buckets_[hashes[h] >> shift_]);
      }
      const std::string_view suffix = domain.substr(start);
      for (std::size_t h = 0; h < count; ++h) {
        confirm(hashes[h], suffix, start, best);
      }
      if (best.found) {
        return best;
      }
    }
    const std::size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return best;
}

}  // namespace misdirect::inspect
