// FlowTable: one worker's flows — a bounded pool of Flow records, a hash index keyed by FlowKey
// (both directions find the same flow), and a timer wheel that ends idle and closed flows.
//
// Bounded, no allocation after construction, no locks (one worker owns it). When every flow is in
// use, creating one first ends the flow nearest to expiry — closed flows before open ones, then
// the least recently active at wheel-tick resolution — through FlowEvictionSink, counted.
//
// Timer wheel: one level of `wheel_slots` slots of `tick_ns`. A flow sits in the slot of its
// deadline (last packet + idle_timeout_ns, or + closed_timeout_ns once closed), clamped to one
// revolution ahead. Packets only move last_seen_ns forward; the flow is not moved in the wheel:
// when its slot comes round, a flow whose real deadline is later is moved to that slot instead of
// ended (lazy rescheduling — the per-packet cost is one store). Closing moves the flow at once,
// since its deadline gets earlier. A flow therefore ends at most one tick after its deadline.
//
// Hash index: buckets of 7 (tag, flow) entries in one cache line, linear probing from bucket to
// bucket; each bucket counts the entries that probed past it, so a lookup stops at the first
// bucket whose count is zero, and removal needs no tombstones. Sized at ≤ 60% load for max_flows
// (16 bytes a flow at 1M flows).
//
// Time only moves forward: a time earlier than the latest seen counts as the latest (counted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>

#include "dataplane/counter_table.h"
#include "dataplane/flow/flow.h"
#include "dataplane/flow/flow_ids.h"
#include "dataplane/flow/flow_key.h"

namespace misdirect::dataplane {

// The owner's hook: called before a flow ends and its record is reused, so the owner can flush
// its pending output and release what it attached (including TcpReassembler::finish/release).
class FlowEvictionSink {
 public:
  virtual void on_flow_end(Flow& flow, FlowEndReason reason) noexcept = 0;

 protected:
  ~FlowEvictionSink() = default;
};

enum class FlowCounter : uint16_t {
  kCreated,
  kCreatedTcp,
  kCreatedUdp,
  kEvicted,
  kEvictedOpen,
  kIdleTimeouts,
  kClosedTimeouts,
  kShutdown,
  kClosed,
  kResets,
  kTimeBackwards,
  kPortReuse,
  kCount,
};

inline constexpr CounterInfo kFlowCounterInfo[] = {
    {"flows_created", "flows created, of every protocol"},
    // By protocol, for Suricata's flow.tcp and flow.udp: DNS over UDP keeps flows too.
    {"flows_created_tcp", "TCP flows created"},
    {"flows_created_udp", "UDP flows created (DNS over UDP)"},
    {"flows_evicted", "flows ended early because the table was full (nearest to expiry first)"},
    {"flows_evicted_open", "evicted flows that were not closed yet"},
    {"flows_idle_timeout", "flows ended after idle_timeout_ns without a packet"},
    {"flows_closed_timeout", "closed flows ended closed_timeout_ns after their last packet"},
    {"flows_shutdown", "flows ended by shutdown or end of input"},
    {"flows_closed", "flows closed by FIN both ways or RST"},
    {"flows_reset", "flows that saw a RST"},
    {"flow_time_backwards", "packets or ticks earlier than the latest time seen (treated as the latest)"},
    {"flows_port_reuse", "closed or closing flows ended by a SYN that opens a new connection on the same ports"},
};
static_assert(std::size(kFlowCounterInfo) == static_cast<std::size_t>(FlowCounter::kCount));

struct FlowTableConfig {
  uint32_t max_flows = 1u << 20;
  uint64_t idle_timeout_ns = 300'000'000'000;
  uint64_t closed_timeout_ns = 10'000'000'000;
  uint64_t tick_ns = 100'000'000;   // wheel resolution: flows end at most one tick late
  uint32_t wheel_slots = 4096;      // power of two; slots × tick is one revolution
  // flow_id: FlowIds of (worker_id, flow_id_salt); the salt is the run's, shared by its workers
  // (0 picks one at random at construction, for a table used alone).
  uint32_t worker_id = 0;
  uint64_t flow_id_salt = 0;
  // Secret mixed into bucket choice so that senders cannot aim many flows at one bucket; 0 picks
  // one at random at construction.
  uint64_t hash_seed = 0;
};

struct FlowLookup {
  Flow* flow = nullptr;  // never null
  FlowEnd sender = FlowEnd::kA;  // the end that sent the packet looked up
  bool created = false;

  // The packet's direction, as the flow's client says now (after FlowTable::account on a new
  // flow, and after any correction of the client).
  inspect::Direction direction() const noexcept { return flow->direction_from(sender); }
};

class FlowTable {
 public:
  // Allocates the pool, the index and the wheel. Throws std::invalid_argument naming the bad
  // field, std::bad_alloc when memory is short.
  explicit FlowTable(const FlowTableConfig& config);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // The flow of `key` (built with FlowKey::from_packet), created when new; `sender` is the
  // packet's. Moves the flow's last_seen_ns to `now_ns`. When the pool is full, first ends the
  // flow nearest to expiry through `sink` (kEvicted).
  FlowLookup find_or_create(const FlowKey& key, uint64_t now_ns, FlowEvictionSink& sink) noexcept {
    return find_or_create(key, key.hash(), now_ns, sink);
  }
  // The same with `hash` == key.hash() computed once for the prefetches below.
  FlowLookup find_or_create(const FlowKey& key, uint64_t hash, uint64_t now_ns, FlowEvictionSink& sink) noexcept;
  // The flow of `key` if it exists; nothing changes.
  Flow* find(const FlowKey& key) noexcept;
  // Port reuse: ends `flow` (found for `key`, closed or closing) through `sink` (kPortReuse) and
  // creates a new flow for `key` in its place, as a TCP stack accepts a new SYN in TIME_WAIT.
  FlowLookup restart(Flow& flow, const FlowKey& key, uint64_t hash, uint64_t now_ns,
                     FlowEvictionSink& sink) noexcept;
  // Whether a segment opens a new connection on `flow`'s ports: a SYN without ACK from either
  // side after a FIN or RST was seen (the old connection is closed or closing).
  static bool opens_new_connection(const Flow& flow, const DecodedPacket& packet) noexcept {
    return (packet.tcp_flags & (kTcpSyn | kTcpAck | kTcpRst)) == kTcpSyn &&
           (flow.state & (Flow::kFinFromA | Flow::kFinFromB | Flow::kReset)) != 0;
  }

  // Bulk lookup without a burst API (whose creations could evict flows found earlier in the same
  // burst): for a burst, call prefetch_bucket for every packet's key hash, then prefetch_flow for
  // every one, then find_or_create one by one. Each stage hides the cache miss of the next.
  void prefetch_bucket(uint64_t hash) const noexcept { __builtin_prefetch(&buckets_[home_bucket(hash)]); }
  // Prefetches the flow records (all three lines) whose tag matches in the (by now cached) home
  // bucket.
  void prefetch_flow(uint64_t hash) const noexcept;

  // Per packet, after the lookup: per-end packets and bytes, the client (from the flow's first
  // packet: see Flow::client), and closing (FIN both ways or RST → closed_timeout_ns applies).
  void account(Flow& flow, FlowEnd sender, const DecodedPacket& packet) noexcept;

  // Ends, through `sink`, every flow whose deadline has passed at `now_ns`.
  void advance(uint64_t now_ns, FlowEvictionSink& sink) noexcept;
  // Ends every flow (kShutdown).
  void drain(FlowEvictionSink& sink) noexcept;

  // Where `flow` sits in the pool (0 .. capacity() - 1): owners keep side tables by it.
  uint32_t pool_index(const Flow& flow) const noexcept { return index_of_flow(flow); }
  uint32_t active() const noexcept { return active_; }
  uint32_t capacity() const noexcept { return config_.max_flows; }
  uint64_t now_ns() const noexcept { return now_ns_; }
  // Memory this table reserved (pool + index + wheel), for bytes-per-flow reports.
  std::size_t memory_bytes() const noexcept;
  const CounterArray<FlowCounter>& counters() const noexcept { return counters_; }
  // The flow's place in the pool, [0, capacity()): per-flow state of the table's users is
  // indexed by it (a flow ends before its record is reused).
  uint32_t slot_of(const Flow& flow) const noexcept { return index_of_flow(flow); }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint32_t kBucketEntries = 7;

  struct alignas(64) Bucket {
    uint32_t tags[kBucketEntries];
    uint32_t flows[kBucketEntries];  // kNone: empty
    uint32_t probed_past;            // entries whose home is here or before, stored after
  };
  static_assert(sizeof(Bucket) == 64);

  uint64_t observe(uint64_t now_ns) noexcept;
  // All three cache lines of a flow record.
  void prefetch_record(uint32_t flow_index) const noexcept {
    const auto* record = reinterpret_cast<const char*>(&pool_[flow_index]);
    __builtin_prefetch(record);
    __builtin_prefetch(record + 64);
    __builtin_prefetch(record + 128);
  }
  uint32_t index_of_flow(const Flow& flow) const noexcept {
    return static_cast<uint32_t>(&flow - pool_);
  }
  uint32_t home_bucket(uint64_t hash) const noexcept {
    const unsigned __int128 product = static_cast<unsigned __int128>(hash ^ hash_seed_) * 0x9e3779b97f4a7c15ull;
    return static_cast<uint32_t>(static_cast<uint64_t>(product >> 64) ^ static_cast<uint64_t>(product)) &
           bucket_mask_;
  }
  // Bit i set when entry i's tag is `tag`.
  static uint32_t tag_matches(const Bucket& bucket, uint32_t tag) noexcept;
  uint32_t lookup(const FlowKey& key, uint32_t tag, uint32_t home) const noexcept;
  void index_insert(uint32_t flow_index, uint32_t tag, uint32_t home) noexcept;
  void index_remove(uint32_t flow_index, uint32_t home) noexcept;

  uint64_t deadline_ns(const Flow& flow) const noexcept;
  void wheel_insert(uint32_t flow_index, uint64_t deadline_ns) noexcept;
  void wheel_remove(uint32_t flow_index) noexcept;
  void expire_slot(uint64_t tick, FlowEvictionSink& sink) noexcept;
  uint32_t evict_one(FlowEvictionSink& sink) noexcept;
  void end_flow(uint32_t flow_index, FlowEndReason reason, FlowEvictionSink& sink) noexcept;
  uint32_t allocate_flow() noexcept;
  FlowLookup create(const FlowKey& key, uint32_t tag, uint32_t home, uint64_t now, FlowEvictionSink& sink) noexcept;

  FlowTableConfig config_;
  Flow* pool_ = nullptr;          // max_flows records, constructed when first used
  uint32_t pool_fresh_ = 0;       // records never used: [pool_fresh_, max_flows)
  uint32_t pool_free_ = kNone;    // freed records, linked through wheel_next
  uint32_t active_ = 0;
  FlowIds flow_ids_;

  std::unique_ptr<Bucket[]> buckets_;
  uint32_t bucket_mask_ = 0;
  uint64_t hash_seed_ = 0;

  std::unique_ptr<uint32_t[]> slot_heads_;
  std::unique_ptr<uint32_t[]> slot_tails_;
  uint32_t slot_mask_ = 0;
  uint64_t processed_tick_ = 0;   // every slot up to this tick has been expired
  uint64_t empty_before_tick_ = 0;  // slots of ticks in (processed_tick_, this) are empty
  bool time_started_ = false;
  uint64_t now_ns_ = 0;

  CounterArray<FlowCounter> counters_;
};

}  // namespace misdirect::dataplane
