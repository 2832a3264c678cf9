// VerdictCache: a domain's slot is the low bits of a mixed polynomial hash of its bytes.
#include "inspect/verdict_cache.h"

#include <cstring>

#include "inspect/hash_mix.h"

namespace misdirect::inspect {

VerdictCache::VerdictCache() : entries_(std::make_unique<Entry[]>(kEntries)) {}

uint64_t VerdictCache::hash_of(std::string_view domain) noexcept {
  uint64_t h = domain.size();
  for (char c : domain) {
    h = h * kPolynomialBase + static_cast<unsigned char>(c);
  }
  const uint64_t hash = mix_hash(h);
  return hash == 0 ? 1 : hash;
}

const CachedVerdict* VerdictCache::find(std::string_view domain, uint64_t& hash) noexcept {
  if (domain.size() > kMaxCachedDomainBytes) {
    ++stats_.bypassed;
    return nullptr;
  }
  hash = hash_of(domain);
  const Entry& entry = entries_[hash & (kEntries - 1)];
  if (entry.hash == hash && entry.length == domain.size() &&
      std::memcmp(entry.domain, domain.data(), domain.size()) == 0) {
    ++stats_.hits;
    return &entry.verdict;
  }
  ++stats_.misses;
  return nullptr;
}

void VerdictCache::store(std::string_view domain, uint64_t hash,
                         const CachedVerdict& verdict) noexcept {
  if (domain.size() > kMaxCachedDomainBytes) {
    return;
  }
  Entry& entry = entries_[hash & (kEntries - 1)];
  entry.hash = hash;
  entry.verdict = verdict;
  entry.length = static_cast<uint8_t>(domain.size());
  std::memcpy(entry.domain, domain.data(), domain.size());
}

}  // namespace misdirect::inspect
