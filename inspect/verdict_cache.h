// VerdictCache: one worker's memory of the verdicts it gave the recipient domains it saw last.
//
// Mail goes to the same few domains over and over (the big providers, partners), and judging one
// from scratch costs a few hundred nanoseconds, most of it the edit-distance tier's probes. The
// cache lives in a MatcherScratch, so it belongs to one worker and one Matcher: a new Matcher
// comes with new scratches, and nothing judged under old lists survives a swap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "inspect/lookalike_kind.h"

namespace misdirect::inspect {

// What a verdict needs to be given again. `variant` points into the Matcher (exact and homoglyph
// verdicts) or is null, when the variant is the domain's own suffix from `suffix_start` (edit
// distance).
struct CachedVerdict {
  bool lookalike = false;
  LookalikeKind kind = LookalikeKind::kTldSwap;
  uint8_t variant_length = 0;
  uint8_t suffix_start = 0;
  uint32_t protected_index = 0;
  const char* variant = nullptr;
};

struct VerdictCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t bypassed = 0;  // domains longer than kMaxCachedDomainBytes
};

// Direct-mapped: a domain has one place, and a newer domain there replaces the older one. The key
// is the whole domain (up to kMaxCachedDomainBytes), compared byte for byte, so a hit is exact.
class VerdictCache {
 public:
  static constexpr std::size_t kEntries = 4096;
  static constexpr std::size_t kMaxCachedDomainBytes = 39;  // an entry is one cache line

  VerdictCache();  // cold: allocates kEntries entries

  // The cached verdict for `domain`, or null; sets `hash` for store(). Hot path.
  const CachedVerdict* find(std::string_view domain, uint64_t& hash) noexcept;
  // Remembers `verdict` for `domain`, whose hash find() gave (ignored past
  // kMaxCachedDomainBytes). Hot path.
  void store(std::string_view domain, uint64_t hash, const CachedVerdict& verdict) noexcept;

  const VerdictCacheStats& stats() const noexcept { return stats_; }

 private:
  struct alignas(64) Entry {
    uint64_t hash = 0;  // 0: empty
    CachedVerdict verdict;
    uint8_t length = 0;
    char domain[kMaxCachedDomainBytes];
  };
  static_assert(sizeof(Entry) == 64);

  static uint64_t hash_of(std::string_view domain) noexcept;

  std::unique_ptr<Entry[]> entries_;
  VerdictCacheStats stats_;
};

}  // namespace misdirect::inspect
