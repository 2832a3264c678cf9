// LearnedAddressBook: per-worker single-writer rings of seqlocked facts, read by every worker.
#include "dataplane/app/learned_address_book.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <type_traits>

namespace misdirect::dataplane {
namespace {

static_assert(std::is_trivially_copyable_v<LearnedFact>);
constexpr std::size_t kFactWords = (sizeof(LearnedFact) + 7) / 8;
constexpr std::size_t kCellsPerBucket = 8;
constexpr uint32_t kMaxFacts = 1u << 16;  // a ring slot is 16 bits of an index cell
constexpr int kReadAttempts = 3;

uint64_t mix(uint64_t hash) noexcept {
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdull;
  hash ^= hash >> 33;
  return hash;
}

uint64_t key_of_address(const IpAddress& address) noexcept {
  uint64_t hash = 0xcbf29ce484222325ull ^ address.version;
  for (const uint8_t byte : address.bytes) {
    hash = (hash ^ byte) * 0x100000001b3ull;
  }
  return mix(hash);
}

uint64_t key_of_host(std::string_view host) noexcept {
  uint64_t hash = 0x84222325cbf29ce4ull;
  for (const char c : host) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  }
  return mix(hash);
}

}  // namespace

struct alignas(64) LearnedEntry {
  std::atomic<uint32_t> sequence{0};  // odd while the writer is rewriting the entry
  std::atomic<uint64_t> key{0};
  std::array<std::atomic<uint64_t>, kFactWords> words{};
};

struct LearnedAddressBook::Table {
  explicit Table(uint32_t facts)
      : entries(new LearnedEntry[facts]),
        slot_mask(facts - 1),
        cells(new std::atomic<uint64_t>[std::size_t{facts} / 2 * kCellsPerBucket]),
        bucket_mask(facts / 2 - 1),
        written_expiry(facts, 0) {
    for (std::size_t i = 0; i < std::size_t{facts} / 2 * kCellsPerBucket; ++i) {
      cells[i].store(0, std::memory_order_relaxed);
    }
  }

  std::atomic<uint64_t>* bucket(uint64_t key) const noexcept {
    return &cells[(key & bucket_mask) * kCellsPerBucket];
  }

  // Reader side: the fact in `slot` if it is whole and has `key`.
  bool read(uint32_t slot, uint64_t key, LearnedFact& out) const noexcept {
    const LearnedEntry& entry = entries[slot];
    for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
      const uint32_t before = entry.sequence.load(std::memory_order_acquire);
      if ((before & 1u) != 0) {
        continue;
      }
      if (entry.key.load(std::memory_order_relaxed) != key) {
        return false;
      }
      uint64_t words[kFactWords];
      for (std::size_t i = 0; i < kFactWords; ++i) {
        words[i] = entry.words[i].load(std::memory_order_relaxed);
      }
      std::atomic_thread_fence(std::memory_order_acquire);
      if (entry.sequence.load(std::memory_order_relaxed) == before) {
        std::memcpy(&out, words, sizeof(LearnedFact));
        return true;
      }
    }
    return false;
  }

  // Writer side only.
  void write(uint32_t slot, uint64_t key, const LearnedFact& fact) noexcept {
    LearnedEntry& entry = entries[slot];
    uint64_t words[kFactWords] = {};
    std::memcpy(words, &fact, sizeof(LearnedFact));
    const uint32_t sequence = entry.sequence.load(std::memory_order_relaxed);
    entry.sequence.store(sequence + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    entry.key.store(key, std::memory_order_relaxed);
    for (std::size_t i = 0; i < kFactWords; ++i) {
      entry.words[i].store(words[i], std::memory_order_relaxed);
    }
    entry.sequence.store(sequence + 2, std::memory_order_release);
    written_expiry[slot] = fact.expires_ns;
  }

  std::unique_ptr<LearnedEntry[]> entries;
  uint32_t slot_mask;
  std::unique_ptr<std::atomic<uint64_t>[]> cells;  // (stamp << 16) | slot; 0 empty
  uint64_t bucket_mask;
  // Writer-only state.
  uint64_t next_slot = 0;
  uint64_t stamp = 0;
  std::vector<uint64_t> written_expiry;
};

LearnedAddressBook::LearnedAddressBook(const LearnedBookConfig& config) : config_(config) {
  if (config.workers == 0) {
    throw std::invalid_argument("learned addresses: workers must be at least 1");
  }
  const uint32_t facts = config.facts_per_worker;
  if (facts < 2 || facts > kMaxFacts || (facts & (facts - 1)) != 0) {
    throw std::invalid_argument("learned addresses: facts_per_worker must be a power of two in [2, 65536]");
  }
  if (config.max_age_ns == 0) {
    throw std::invalid_argument("learned addresses: max_age_ns must be positive");
  }
  for (uint32_t i = 0; i < config.workers; ++i) {
    tables_.push_back(std::make_unique<Table>(facts));
  }
}

LearnedAddressBook::~LearnedAddressBook() = default;

bool LearnedAddressBook::learn(uint32_t worker, LearnedFact fact,
                               CounterArray<LearnedCounter>& counters) noexcept {
  if (worker >= tables_.size()) {
    return false;
  }
  Table& table = *tables_[worker];
  fact.expires_ns = fact.learned_ns + std::min<uint64_t>(uint64_t{fact.ttl} * 1'000'000'000ull, config_.max_age_ns);
  const uint64_t key = fact.kind == LearnedFact::Kind::kAddress ? key_of_address(fact.address)
                                                                 : key_of_host(fact.host_view());
  counters.add(fact.kind == LearnedFact::Kind::kAddress ? LearnedCounter::kAddressesLearned
                                                        : LearnedCounter::kExchangesLearned);
  std::atomic<uint64_t>* cells = table.bucket(key);
  // The same fact already held (same kind, key and origin): rewrite it in place.
  for (std::size_t i = 0; i < kCellsPerBucket; ++i) {
    const uint64_t cell = cells[i].load(std::memory_order_relaxed);
    if (cell == 0) {
      continue;
    }
    const auto slot = static_cast<uint32_t>(cell & 0xffff);
    LearnedFact held;
    if (table.read(slot, key, held) && held.kind == fact.kind && held.address == fact.address &&
        held.host_view() == fact.host_view() && held.origin_view() == fact.origin_view()) {
      table.write(slot, key, fact);
      counters.add(LearnedCounter::kRefreshed);
      return true;
    }
  }
  const auto slot = static_cast<uint32_t>(table.next_slot++ & table.slot_mask);
  if (table.written_expiry[slot] > fact.learned_ns) {
    counters.add(LearnedCounter::kEvicted);
  }
  table.write(slot, key, fact);
  // The index cell to reuse: an empty one, else the one written longest ago.
  std::size_t oldest = 0;
  for (std::size_t i = 1; i < kCellsPerBucket && cells[oldest].load(std::memory_order_relaxed) != 0; ++i) {
    if ((cells[i].load(std::memory_order_relaxed) >> 16) < (cells[oldest].load(std::memory_order_relaxed) >> 16)) {
      oldest = i;
    }
  }
  cells[oldest].store((++table.stamp << 16) | slot, std::memory_order_release);
  return true;
}

bool LearnedAddressBook::find(LearnedFact::Kind kind, uint64_t key, const IpAddress* address,
                              std::string_view host, uint64_t now_ns, LearnedFact& out,
                              CounterArray<LearnedCounter>& counters) const noexcept {
  bool found = false;
  LearnedFact candidate;
  for (const auto& table : tables_) {
    const std::atomic<uint64_t>* cells = table->bucket(key);
    for (std::size_t i = 0; i < kCellsPerBucket; ++i) {
      const uint64_t cell = cells[i].load(std::memory_order_acquire);
      if (cell == 0 || !table->read(static_cast<uint32_t>(cell & 0xffff), key, candidate)) {
        continue;
      }
      const bool same = candidate.kind == kind &&
                        (address != nullptr ? candidate.address == *address : candidate.host_view() == host);
      if (!same) {
        continue;
      }
      if (candidate.expires_ns <= now_ns) {
        counters.add(LearnedCounter::kExpiredSkipped);
        continue;
      }
      if (candidate.learned_ns > now_ns) {
        continue;  // learned after the reader's moment, by a worker further on in the input
      }
      if (!found || candidate.learned_ns > out.learned_ns) {
        out = candidate;
        found = true;
      }
    }
  }
  return found;
}

bool LearnedAddressBook::find_address(const IpAddress& address, uint64_t now_ns, LearnedFact& out,
                                      CounterArray<LearnedCounter>& counters) const noexcept {
  counters.add(LearnedCounter::kAddressLookups);
  const bool found = find(LearnedFact::Kind::kAddress, key_of_address(address), &address, {}, now_ns, out, counters);
  if (found) {
    counters.add(LearnedCounter::kAddressHits);
  }
  return found;
}

bool LearnedAddressBook::find_exchange(std::string_view host, uint64_t now_ns, LearnedFact& out,
                                       CounterArray<LearnedCounter>& counters) const noexcept {
  return find(LearnedFact::Kind::kExchange, key_of_host(host), nullptr, host, now_ns, out, counters);
}

}  // namespace misdirect::dataplane
