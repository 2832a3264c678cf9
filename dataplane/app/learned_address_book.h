// LearnedAddressBook: what DNS answers for look-alike names taught — the mail exchangers they named
// and the addresses those (or the look-alikes themselves) resolve to — so that the SMTP connection
// that follows can be tied to the look-alike even when its envelope is encrypted.
//
// Shared, and why: the DNS answer and the SMTP connection it leads to are different flows, and RSS
// may put them on different workers. So every worker must see what any worker learned. The hot
// path never locks, so the book is one single-writer table per worker that every worker reads:
//   * Worker i writes only table i (learn()); nobody else writes it.
//   * Any worker reads every table (find_address(), find_exchange()). An entry is a seqlock: the
//     writer makes its sequence odd, writes the words, makes it even; a reader that sees an odd
//     sequence, or a different one after reading, treats the entry as absent (a fact being
//     rewritten at that instant is missed, never read torn). Every word is a relaxed atomic, so
//     there is no data race in the C++ sense.
//   * Each table is a ring: a new fact overwrites the oldest (evicted oldest-first, counted), and a
//     small bucketed index (hash → ring slot) finds facts; an index cell pointing at a slot that
//     was overwritten since is caught by comparing the key.
// A fact expires at learned + min(TTL, max age); expired facts are never returned.
// Sized at start-up, never grows; no allocation after construction.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "dataplane/counter_table.h"
#include "dataplane/decode/decoded_packet.h"

namespace misdirect::dataplane {

enum class LearnedCounter : uint16_t {
  kExchangesLearned,
  kAddressesLearned,
  kRefreshed,
  kEvicted,
  kAddressLookups,
  kAddressHits,
  kExpiredSkipped,
  kCount,
};

inline constexpr CounterInfo kLearnedCounterInfo[] = {
    {"exchanges_learned", "MX targets of look-alike names learned from DNS answers"},
    {"addresses_learned", "A/AAAA addresses of look-alike names or their MX targets learned"},
    {"refreshed", "facts learned again while still held (their TTL restarts)"},
    {"evicted", "unexpired facts overwritten because this worker's table was full (oldest first)"},
    {"address_lookups", "SMTP connections whose server address was looked up"},
    {"address_hits", "of those, to an address a look-alike's DNS answer gave"},
    {"expired_skipped", "facts found but past their TTL or maximum age"},
};
static_assert(std::size(kLearnedCounterInfo) == static_cast<std::size_t>(LearnedCounter::kCount));

// One learned fact, as readers get it.
struct LearnedFact {
  static constexpr std::size_t kNameBytes = 255;
  enum class Kind : uint8_t { kExchange, kAddress };

  Kind kind = Kind::kAddress;
  uint8_t origin_length = 0;
  uint8_t host_length = 0;
  IpAddress address;   // kAddress: the address learned
  IpAddress resolver;  // who answered
  uint64_t learned_ns = 0;
  uint64_t expires_ns = 0;
  uint32_t ttl = 0;
  // The look-alike whose answer started the chain (canonical), and the name the fact is about:
  // the MX target (kExchange), or the name whose A/AAAA record gave the address (kAddress).
  std::array<char, kNameBytes> origin{};
  std::array<char, kNameBytes> host{};

  std::string_view origin_view() const noexcept { return {origin.data(), origin_length}; }
  std::string_view host_view() const noexcept { return {host.data(), host_length}; }
};

// Readers of a shared book that are not in step: replay --workers hands each worker its share of
// a file, and a worker can run ahead of another, so it could look an address up before another
// worker has learned it from an answer that came earlier in the file (or after one that came
// later). Before a worker reads the book it calls wait_for_earlier with its current packet's
// input order and quiet run (PacketView::order, quiet_before), and returns once no other worker
// can still learn anything from the packets that came before that one; facts learned after the
// reader's packet time are not returned (find_*). So the workers find what one worker reading the
// file in order would have found.
//
// What "can still learn" means: only a DNS flow's answer teaches. A packet that is not DNS (the
// quiet run before a packet counts those) teaches nothing — unless its worker holds a DNS-over-TCP
// flow, whose held bytes a timer or the flow's end may deliver at any packet. So a worker tells
// the gate how many such flows it holds (dns_streams_held), and the gate lets a reader on when each
// other worker has passed the last packet before it that can teach and holds no DNS stream, or has
// passed the reader's packet itself.
// The live sensor has no gate: packets arrive in real time, and there is nothing to wait for.
class LearnedBookGate {
 public:
  virtual void wait_for_earlier(uint32_t worker, uint32_t order, uint16_t quiet_before) noexcept = 0;
  // Worker `worker`: the number of DNS-over-TCP flows it holds changed to `held`.
  virtual void dns_streams_held(uint32_t worker, uint32_t held) noexcept = 0;

 protected:
  ~LearnedBookGate() = default;
};

struct LearnedBookConfig {
  uint32_t workers = 1;
  uint32_t facts_per_worker = 4096;          // power of two
  uint64_t max_age_ns = 3'600'000'000'000;   // a TTL above this counts as this
};

class LearnedAddressBook {
 public:
  // Allocates every worker's table. Throws std::invalid_argument naming a bad field.
  explicit LearnedAddressBook(const LearnedBookConfig& config);
  ~LearnedAddressBook();
  LearnedAddressBook(const LearnedAddressBook&) = delete;
  LearnedAddressBook& operator=(const LearnedAddressBook&) = delete;

  // Worker `worker` only. Learns (or refreshes) a fact; `fact.expires_ns` is computed here from
  // learned_ns, ttl and the maximum age. Returns false for a worker the book has no table for.
  bool learn(uint32_t worker, LearnedFact fact, CounterArray<LearnedCounter>& counters) noexcept;

  // Any worker, any time. The newest unexpired fact of that kind and key at `now_ns` that was
  // learned by then (a worker that ran ahead may hold facts learned later).
  bool find_address(const IpAddress& address, uint64_t now_ns, LearnedFact& out,
                    CounterArray<LearnedCounter>& counters) const noexcept;
  bool find_exchange(std::string_view host, uint64_t now_ns, LearnedFact& out,
                     CounterArray<LearnedCounter>& counters) const noexcept;

  uint32_t workers() const noexcept { return config_.workers; }
  uint64_t max_age_ns() const noexcept { return config_.max_age_ns; }

 private:
  struct Table;
  bool find(LearnedFact::Kind kind, uint64_t key, const IpAddress* address, std::string_view host,
            uint64_t now_ns, LearnedFact& out, CounterArray<LearnedCounter>& counters) const noexcept;

  LearnedBookConfig config_;
  std::vector<std::unique_ptr<Table>> tables_;
};

}  // namespace misdirect::dataplane
