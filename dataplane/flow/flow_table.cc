// FlowTable: the flow pool, its hash index and its timer wheel.
#include "dataplane/flow/flow_table.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <new>
#include <random>
#include <stdexcept>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace misdirect::dataplane {

namespace {

// The index is sized so that at most this fraction of its entries is used (percent).
constexpr uint64_t kMaxLoadPercent = 60;
// Eviction looks past at most this many flows whose real deadline is later than their slot
// before it takes the nearest one regardless: bounds the cost of one creation.
constexpr uint32_t kMaxEvictionRequeues = 64;
// IP protocol numbers of the flows the table keeps (created flows are counted by protocol).
constexpr uint8_t kIpProtocolTcp = 6;
constexpr uint8_t kIpProtocolUdp = 17;

uint64_t random_salt() {
  std::random_device device;
  return (uint64_t{device()} << 32) | device();
}

}  // namespace

FlowTable::FlowTable(const FlowTableConfig& config)
    : config_(config), flow_ids_(config.worker_id, config.flow_id_salt != 0 ? config.flow_id_salt : random_salt()) {
  if (config.worker_id >= FlowIds::kMaxWorkers) {
    throw std::invalid_argument("flow table: worker_id must be below " + std::to_string(FlowIds::kMaxWorkers));
  }
  if (config.max_flows == 0 || config.max_flows >= kNone / 2) {
    throw std::invalid_argument("flow table: max_flows must be between 1 and 2^31 - 1, got " +
                                std::to_string(config.max_flows));
  }
  if (config.idle_timeout_ns == 0) {
    throw std::invalid_argument("flow table: idle_timeout_ns must be > 0");
  }
  if (config.closed_timeout_ns == 0) {
    throw std::invalid_argument("flow table: closed_timeout_ns must be > 0");
  }
  if (config.tick_ns == 0) {
    throw std::invalid_argument("flow table: tick_ns must be > 0");
  }
  if (config.wheel_slots < 2 || !std::has_single_bit(config.wheel_slots)) {
    throw std::invalid_argument("flow table: wheel_slots must be a power of two >= 2, got " +
                                std::to_string(config.wheel_slots));
  }

  // Raw storage: records are constructed when first used, so pages of a large pool that never
  // holds a flow are never touched.
  pool_ = static_cast<Flow*>(::operator new(sizeof(Flow) * std::size_t{config.max_flows},
                                            std::align_val_t{alignof(Flow)}));

  const uint64_t entries_needed = (uint64_t{config.max_flows} * 100 + kMaxLoadPercent - 1) / kMaxLoadPercent;
  const uint64_t buckets = std::bit_ceil((entries_needed + kBucketEntries - 1) / kBucketEntries);
  buckets_ = std::make_unique<Bucket[]>(buckets);
  for (uint64_t b = 0; b < buckets; ++b) {
    std::fill(std::begin(buckets_[b].flows), std::end(buckets_[b].flows), kNone);
  }
  bucket_mask_ = static_cast<uint32_t>(buckets - 1);
  hash_seed_ = config.hash_seed;
  if (hash_seed_ == 0) {
    std::random_device device;
    hash_seed_ = (uint64_t{device()} << 32) | device() | 1;
  }

  slot_heads_ = std::make_unique<uint32_t[]>(config.wheel_slots);
  slot_tails_ = std::make_unique<uint32_t[]>(config.wheel_slots);
  std::fill_n(slot_heads_.get(), config.wheel_slots, kNone);
  std::fill_n(slot_tails_.get(), config.wheel_slots, kNone);
  slot_mask_ = config.wheel_slots - 1;
}

FlowTable::~FlowTable() {
  ::operator delete(pool_, std::align_val_t{alignof(Flow)});
}

std::size_t FlowTable::memory_bytes() const noexcept {
  return sizeof(Flow) * std::size_t{config_.max_flows} +
         sizeof(Bucket) * (std::size_t{bucket_mask_} + 1) +
         2 * sizeof(uint32_t) * (std::size_t{slot_mask_} + 1);
}

uint64_t FlowTable::observe(uint64_t now_ns) noexcept {
  if (!time_started_) {
    time_started_ = true;
    now_ns_ = now_ns;
    processed_tick_ = now_ns / config_.tick_ns;
  } else if (now_ns < now_ns_) {
    counters_.add(FlowCounter::kTimeBackwards);
  } else {
    now_ns_ = now_ns;
  }
  return now_ns_;
}

// --- index -------------------------------------------------------------------------------------

inline uint32_t FlowTable::tag_matches(const Bucket& bucket, uint32_t tag) noexcept {
#if defined(__SSE2__)
  // Two 4-lane compares over the 7 tags; the eighth lane is flows[0] and is masked off.
  const auto* bytes = reinterpret_cast<const char*>(&bucket);
  const __m128i needle = _mm_set1_epi32(static_cast<int>(tag));
  const __m128i low = _mm_load_si128(reinterpret_cast<const __m128i*>(bytes));
  const __m128i high = _mm_load_si128(reinterpret_cast<const __m128i*>(bytes + 16));
  const int low_mask = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(low, needle)));
  const int high_mask = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(high, needle)));
  return static_cast<uint32_t>(low_mask | (high_mask << 4)) & ((1u << kBucketEntries) - 1);
#else
  uint32_t mask = 0;
  for (uint32_t i = 0; i < kBucketEntries; ++i) {
    mask |= static_cast<uint32_t>(bucket.tags[i] == tag) << i;
  }
  return mask;
#endif
}

uint32_t FlowTable::lookup(const FlowKey& key, uint32_t tag, uint32_t home) const noexcept {
  uint32_t b = home;
  // Bounded by the bucket count as a guard; the probed_past counts end it far sooner.
  for (uint32_t step = 0; step <= bucket_mask_; ++step) {
    const Bucket& bucket = buckets_[b];
    // Removed entries keep their tag: a tag match still needs a live entry and an equal key.
    for (uint32_t mask = tag_matches(bucket, tag); mask != 0; mask &= mask - 1) {
      const uint32_t flow = bucket.flows[std::countr_zero(mask)];
      if (flow != kNone && pool_[flow].key.same_flow(key)) {
        return flow;
      }
    }
    if (bucket.probed_past == 0) {
      return kNone;
    }
    b = (b + 1) & bucket_mask_;
  }
  return kNone;
}

void FlowTable::index_insert(uint32_t flow_index, uint32_t tag, uint32_t home) noexcept {
  uint32_t b = home;
  // The index always has free entries (it holds at most max_flows at ≤ 60% load), so this ends.
  for (;;) {
    Bucket& bucket = buckets_[b];
    for (uint32_t i = 0; i < kBucketEntries; ++i) {
      if (bucket.flows[i] == kNone) {
        bucket.flows[i] = flow_index;
        bucket.tags[i] = tag;
        return;
      }
    }
    ++bucket.probed_past;
    b = (b + 1) & bucket_mask_;
  }
}

void FlowTable::index_remove(uint32_t flow_index, uint32_t home) noexcept {
  uint32_t b = home;
  for (uint32_t step = 0; step <= bucket_mask_; ++step) {
    Bucket& bucket = buckets_[b];
    for (uint32_t i = 0; i < kBucketEntries; ++i) {
      if (bucket.flows[i] == flow_index) {
        bucket.flows[i] = kNone;
        return;
      }
    }
    assert(bucket.probed_past > 0);
    --bucket.probed_past;
    b = (b + 1) & bucket_mask_;
  }
  assert(false && "flow missing from the index");
}

// --- pool --------------------------------------------------------------------------------------

uint32_t FlowTable::allocate_flow() noexcept {
  if (pool_free_ != kNone) {
    const uint32_t index = pool_free_;
    pool_free_ = pool_[index].wheel_next;
    // The next creation reads the new head's link and writes the whole record: fetch it now.
    if (pool_free_ != kNone) {
      prefetch_record(pool_free_);
    }
    return index;
  }
  if (pool_fresh_ < config_.max_flows) {
    return pool_fresh_++;
  }
  return kNone;
}

FlowLookup FlowTable::find_or_create(const FlowKey& key, uint64_t hash, uint64_t now_ns,
                                     FlowEvictionSink& sink) noexcept {
  const uint64_t now = observe(now_ns);
  const auto tag = static_cast<uint32_t>(hash);
  const uint32_t home = home_bucket(hash);
  uint32_t index = lookup(key, tag, home);
  if (index != kNone) {
    Flow& flow = pool_[index];
    flow.last_seen_ns = std::max(flow.last_seen_ns, now);
    return {&flow, key.sender, false};
  }
  return create(key, tag, home, now, sink);
}

FlowLookup FlowTable::restart(Flow& flow, const FlowKey& key, uint64_t hash, uint64_t now_ns,
                              FlowEvictionSink& sink) noexcept {
  const uint64_t now = observe(now_ns);
  const uint32_t index = index_of_flow(flow);
  wheel_remove(index);
  end_flow(index, FlowEndReason::kPortReuse, sink);
  return create(key, static_cast<uint32_t>(hash), home_bucket(hash), now, sink);
}

FlowLookup FlowTable::create(const FlowKey& key, uint32_t tag, uint32_t home, uint64_t now,
                             FlowEvictionSink& sink) noexcept {
  uint32_t index = allocate_flow();
  if (index == kNone) {
    evict_one(sink);
    index = allocate_flow();
    assert(index != kNone);
  }
  Flow* flow = new (&pool_[index]) Flow{};
  flow->key = key;
  flow->flow_id = flow_ids_.next();
  flow->first_seen_ns = now;
  flow->last_seen_ns = now;
  flow->index_home = home;
  index_insert(index, tag, home);
  wheel_insert(index, deadline_ns(*flow));
  ++active_;
  counters_.add(FlowCounter::kCreated);
  if (key.protocol == kIpProtocolTcp) {
    counters_.add(FlowCounter::kCreatedTcp);
  } else if (key.protocol == kIpProtocolUdp) {
    counters_.add(FlowCounter::kCreatedUdp);
  }
  return {flow, key.sender, true};
}

Flow* FlowTable::find(const FlowKey& key) noexcept {
  const uint64_t hash = key.hash();
  const uint32_t index = lookup(key, static_cast<uint32_t>(hash), home_bucket(hash));
  return index == kNone ? nullptr : &pool_[index];
}

void FlowTable::prefetch_flow(uint64_t hash) const noexcept {
  const Bucket& bucket = buckets_[home_bucket(hash)];
  for (uint32_t mask = tag_matches(bucket, static_cast<uint32_t>(hash)); mask != 0; mask &= mask - 1) {
    const uint32_t flow = bucket.flows[std::countr_zero(mask)];
    if (flow != kNone) {
      prefetch_record(flow);
    }
  }
}

void FlowTable::account(Flow& flow, FlowEnd sender, const DecodedPacket& packet) noexcept {
  const std::size_t i = index_of(sender);
  if (flow.packets[0] == 0 && flow.packets[1] == 0) {
    // The flow's first packet names the client: its sender, unless it is a SYN/ACK (the
    // server's answer to a SYN the capture missed). Taken up midstream, the first sender is a
    // guess that the worker's port rules and app detection correct.
    const bool syn_ack = packet.ip_protocol == 6 &&
                         (packet.tcp_flags & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck);
    flow.client = syn_ack ? opposite(sender) : sender;
  }
  ++flow.packets[i];
  flow.payload_bytes[i] += packet.payload_length;
  flow.ip_bytes[i] += packet.ip_bytes;
  if (packet.ip_protocol != 6) {
    return;
  }
  const uint8_t flags = packet.tcp_flags;
  if ((flags & kTcpFin) != 0) {
    flow.state |= sender == FlowEnd::kA ? Flow::kFinFromA : Flow::kFinFromB;
  }
  if ((flags & kTcpRst) != 0 && (flow.state & Flow::kReset) == 0) {
    flow.state |= Flow::kReset;
    counters_.add(FlowCounter::kResets);
  }
  const bool both_fins = (flow.state & (Flow::kFinFromA | Flow::kFinFromB)) == (Flow::kFinFromA | Flow::kFinFromB);
  if (!flow.closed() && (both_fins || (flow.state & Flow::kReset) != 0)) {
    flow.state |= Flow::kClosed;
    counters_.add(FlowCounter::kClosed);
    // The deadline got earlier: the lazy wheel would find the flow too late, so move it now.
    const uint32_t index = index_of_flow(flow);
    wheel_remove(index);
    wheel_insert(index, deadline_ns(flow));
  }
}

// --- timer wheel -------------------------------------------------------------------------------

uint64_t FlowTable::deadline_ns(const Flow& flow) const noexcept {
  return flow.last_seen_ns + (flow.closed() ? config_.closed_timeout_ns : config_.idle_timeout_ns);
}

void FlowTable::wheel_insert(uint32_t flow_index, uint64_t deadline) noexcept {
  // Never into a slot already expired, never more than one revolution ahead (the slot then
  // comes round early and the flow is moved on).
  const uint64_t tick = std::clamp(deadline / config_.tick_ns, processed_tick_ + 1,
                                   processed_tick_ + slot_mask_ + 1);
  const auto slot = static_cast<uint32_t>(tick & slot_mask_);
  empty_before_tick_ = std::min(empty_before_tick_, tick);
  Flow& flow = pool_[flow_index];
  flow.wheel_slot = slot;
  flow.wheel_next = kNone;
  flow.wheel_prev = slot_tails_[slot];
  if (slot_tails_[slot] != kNone) {
    pool_[slot_tails_[slot]].wheel_next = flow_index;
  } else {
    slot_heads_[slot] = flow_index;
  }
  slot_tails_[slot] = flow_index;
}

void FlowTable::wheel_remove(uint32_t flow_index) noexcept {
  Flow& flow = pool_[flow_index];
  if (flow.wheel_prev != kNone) {
    pool_[flow.wheel_prev].wheel_next = flow.wheel_next;
  } else {
    slot_heads_[flow.wheel_slot] = flow.wheel_next;
  }
  if (flow.wheel_next != kNone) {
    pool_[flow.wheel_next].wheel_prev = flow.wheel_prev;
  } else {
    slot_tails_[flow.wheel_slot] = flow.wheel_prev;
  }
  flow.wheel_prev = kNone;
  flow.wheel_next = kNone;
}

void FlowTable::advance(uint64_t now_ns, FlowEvictionSink& sink) noexcept {
  const uint64_t now = observe(now_ns);
  const uint64_t target = now / config_.tick_ns;
  if (target <= processed_tick_) {
    return;
  }
  // After a jump longer than a revolution, one pass over every slot is enough.
  const uint64_t revolution = uint64_t{slot_mask_} + 1;
  const uint64_t first = target - processed_tick_ > revolution ? target - revolution + 1 : processed_tick_ + 1;
  for (uint64_t tick = first; tick <= target; ++tick) {
    processed_tick_ = tick;
    expire_slot(tick, sink);
  }
}

void FlowTable::expire_slot(uint64_t tick, FlowEvictionSink& sink) noexcept {
  const auto slot = static_cast<uint32_t>(tick & slot_mask_);
  uint32_t index = slot_heads_[slot];
  slot_heads_[slot] = kNone;
  slot_tails_[slot] = kNone;
  while (index != kNone) {
    Flow& flow = pool_[index];
    const uint32_t next = flow.wheel_next;
    if (next != kNone) {
      prefetch_record(next);  // the walk goes from one cold record to the next
    }
    const uint64_t deadline = deadline_ns(flow);
    if (deadline <= now_ns_) {
      end_flow(index, flow.closed() ? FlowEndReason::kClosed : FlowEndReason::kIdleTimeout, sink);
    } else {
      wheel_insert(index, deadline);
    }
    index = next;
  }
}

uint32_t FlowTable::evict_one(FlowEvictionSink& sink) noexcept {
  uint32_t requeues = 0;
  const uint64_t last = processed_tick_ + slot_mask_ + 1;
  // Slots found empty by an earlier eviction stay skipped until something is inserted there.
  for (uint64_t tick = std::max(processed_tick_ + 1, empty_before_tick_); tick <= last; ++tick) {
    const auto slot = static_cast<uint32_t>(tick & slot_mask_);
    if (slot_heads_[slot] == kNone) {
      empty_before_tick_ = tick + 1;
      continue;
    }
    while (slot_heads_[slot] != kNone) {
      const uint32_t index = slot_heads_[slot];
      const uint64_t deadline = deadline_ns(pool_[index]);
      const uint64_t due_tick = std::max(deadline / config_.tick_ns, processed_tick_ + 1);
      if (due_tick > tick && requeues < kMaxEvictionRequeues) {
        // Active since it was queued here: move it to where it belongs and look further.
        ++requeues;
        wheel_remove(index);
        wheel_insert(index, deadline);
        continue;
      }
      if (!pool_[index].closed()) {
        counters_.add(FlowCounter::kEvictedOpen);
      }
      wheel_remove(index);
      end_flow(index, FlowEndReason::kEvicted, sink);
      return index;
    }
  }
  return kNone;
}

void FlowTable::end_flow(uint32_t flow_index, FlowEndReason reason, FlowEvictionSink& sink) noexcept {
  Flow& flow = pool_[flow_index];
  sink.on_flow_end(flow, reason);
  switch (reason) {
    case FlowEndReason::kEvicted:
      counters_.add(FlowCounter::kEvicted);
      break;
    case FlowEndReason::kIdleTimeout:
      counters_.add(FlowCounter::kIdleTimeouts);
      break;
    case FlowEndReason::kClosed:
      counters_.add(FlowCounter::kClosedTimeouts);
      break;
    case FlowEndReason::kShutdown:
      counters_.add(FlowCounter::kShutdown);
      break;
    case FlowEndReason::kPortReuse:
      counters_.add(FlowCounter::kPortReuse);
      break;
  }
  // The owner must have released the flow's reassembly state: the pool holds pointers to it.
  assert(flow.streams[0].backlog == TcpStream::kNone);
  assert(flow.streams[1].backlog == TcpStream::kNone);
  index_remove(flow_index, flow.index_home);
  flow.wheel_next = pool_free_;
  pool_free_ = flow_index;
  --active_;
}

void FlowTable::drain(FlowEvictionSink& sink) noexcept {
  // Each slot's list is taken whole (as expire_slot does): nothing is inserted while draining.
  for (uint32_t slot = 0; slot <= slot_mask_; ++slot) {
    uint32_t index = slot_heads_[slot];
    slot_heads_[slot] = kNone;
    slot_tails_[slot] = kNone;
    while (index != kNone) {
      const uint32_t next = pool_[index].wheel_next;
      if (next != kNone) {
        prefetch_record(next);
      }
      end_flow(index, FlowEndReason::kShutdown, sink);
      index = next;
    }
  }
}

}  // namespace misdirect::dataplane
