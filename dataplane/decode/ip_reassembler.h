// IpReassembler: puts IPv4 and IPv6 fragments back together into one contiguous datagram.
//
// Bounded and allocation-free after construction: a fixed number of datagram slots, a pool of
// fixed-size memory blocks (the global byte cap) from which each datagram takes the blocks its
// fragments touch, and one output buffer of `max_datagram_bytes` that receives a completed
// datagram. When slots or blocks run out the oldest incomplete datagram is dropped and counted;
// a datagram not complete `timeout_ns` after its first fragment is dropped and counted.
//
// Overlap policy: first data wins (the bytes already held are kept; the new fragment only fills
// holes), as most stacks do. A fragment that overlaps held bytes is counted as an overlap, one
// that brings nothing new as a duplicate.
//
// Keys follow the RFCs: IPv4 (src, dst, id, protocol) with a 16-bit id; IPv6 (src, dst, id) with
// the 32-bit id of the fragment header, the upper-layer protocol taken from the first fragment;
// inside a tunnel, the tunnel identity too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

#include "dataplane/counter_table.h"
#include "dataplane/decode/decoded_packet.h"

namespace misdirect::dataplane {

enum class IpReassemblerCounter : uint16_t {
  kFragments,
  kReassembled,
  kTimeouts,
  kOverlaps,
  kDuplicates,
  kEvictedSlots,
  kEvictedMemcap,
  kTooBig,
  kTooManyFragments,
  kBadFragment,
  kCount,
};

inline constexpr CounterInfo kIpReassemblerCounterInfo[] = {
    {"fragments", "IP fragments given to the reassembler"},
    {"fragment_datagrams_reassembled", "IP datagrams completed from their fragments"},
    {"fragment_timeouts", "incomplete IP datagrams dropped when their reassembly timeout passed"},
    {"fragment_overlaps", "fragments overlapping bytes already held (first data wins)"},
    {"fragment_duplicates", "fragments bringing no byte that was not held already"},
    {"fragment_evicted_slots", "incomplete IP datagrams dropped because every slot was in use"},
    {"fragment_evicted_memcap", "incomplete IP datagrams dropped because the byte cap was reached"},
    {"fragment_too_big", "IP datagrams dropped for reaching past max_datagram_bytes"},
    {"fragment_too_many", "IP datagrams dropped for having more than max_fragments_per_datagram"},
    {"fragment_bad", "fragments ignored: non-last not a multiple of 8 bytes, empty, or past the end"},
};
static_assert(std::size(kIpReassemblerCounterInfo) ==
              static_cast<std::size_t>(IpReassemblerCounter::kCount));

struct IpReassemblerConfig {
  uint32_t max_datagrams = 1024;            // incomplete datagrams held at once
  uint32_t max_datagram_bytes = 65535;      // fragmentable part of one datagram
  uint64_t memcap_bytes = 8ull << 20;       // fragment bytes held by all datagrams together
  uint32_t max_fragments_per_datagram = 64;
  uint64_t timeout_ns = 30'000'000'000;     // from the first fragment, in packet time
  // Mixed into the key hash so that chosen fragment ids cannot pile into one bucket; a live
  // sensor sets it randomly at start-up, tests leave it fixed.
  uint64_t hash_seed = 0;
};

struct FragmentKey {
  IpAddress src;  // version 4 or 6 tells the families apart
  IpAddress dst;
  uint32_t id = 0;
  uint8_t protocol = 0;  // IPv4 only; 0 for IPv6
  // The tunnel identity the fragment was found in (TunnelInfo::identity(); 0 outside tunnels):
  // two tenants' fragments with the same addresses and id are two datagrams.
  uint64_t scope = 0;

  friend bool operator==(const FragmentKey&, const FragmentKey&) = default;
};

struct Fragment {
  FragmentKey key;
  uint32_t offset_bytes = 0;  // where `data` goes in the fragmentable part
  bool more_fragments = false;
  // IPv4: the protocol; IPv6: the fragment header's next header (meaningful at offset 0).
  uint8_t next_header = 0;
  const uint8_t* data = nullptr;
  uint32_t length = 0;
};

struct ReassembledDatagram {
  // Valid until the next add() or expire(): it lives in the reassembler's output buffer.
  const uint8_t* data = nullptr;
  uint32_t length = 0;
  uint8_t protocol = 0;  // next header of the first fragment
};

enum class FragmentResult : uint8_t {
  kHeld,      // kept; the datagram is not complete yet
  kComplete,  // this fragment completed the datagram, now in `out`
  kDropped,   // this fragment (and maybe its datagram) was dropped; counters say why
};

class IpReassembler {
 public:
  // Throws std::invalid_argument naming the bad field when the configuration cannot work.
  explicit IpReassembler(const IpReassemblerConfig& config);

  FragmentResult add(const Fragment& fragment, uint64_t now_ns, ReassembledDatagram& out) noexcept;
  // Drops datagrams whose timeout has passed at `now_ns` (packet time, never going backwards).
  void expire(uint64_t now_ns) noexcept;

  uint32_t datagrams_in_progress() const noexcept { return in_use_; }
  uint64_t bytes_held() const noexcept;
  const CounterArray<IpReassemblerCounter>& counters() const noexcept { return counters_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint32_t kBlockBytes = 1024;

  struct Interval {
    uint32_t begin = 0;
    uint32_t end = 0;
  };

  struct Slot {
    FragmentKey key;
    uint64_t first_seen_ns = 0;
    uint32_t total_length = 0;  // meaningful when has_total
    uint32_t interval_count = 0;
    uint32_t fragment_count = 0;
    uint32_t hash_next = kNone;
    uint32_t older = kNone;  // age list: towards the oldest
    uint32_t newer = kNone;
    uint8_t protocol = 0;
    bool has_total = false;
    bool has_first = false;  // the fragment at offset 0 was seen (it names the protocol)
    bool in_use = false;
  };

  uint32_t bucket_of(const FragmentKey& key) const noexcept;
  uint32_t find(const FragmentKey& key) const noexcept;
  uint32_t acquire(const FragmentKey& key, uint64_t now_ns) noexcept;
  void release(uint32_t slot) noexcept;
  bool reserve_blocks(uint32_t slot, uint32_t begin, uint32_t end) noexcept;
  void write(uint32_t slot, uint32_t begin, const uint8_t* data, uint32_t length) noexcept;
  uint32_t insert_interval(uint32_t slot, uint32_t begin, uint32_t end) noexcept;
  Interval* intervals(uint32_t slot) noexcept {
    return &intervals_[static_cast<std::size_t>(slot) * config_.max_fragments_per_datagram];
  }
  uint32_t* block_table(uint32_t slot) noexcept {
    return &block_tables_[static_cast<std::size_t>(slot) * blocks_per_datagram_];
  }

  IpReassemblerConfig config_;
  uint32_t blocks_per_datagram_ = 0;
  uint32_t bucket_mask_ = 0;
  uint32_t in_use_ = 0;
  uint32_t oldest_ = kNone;
  uint32_t newest_ = kNone;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> buckets_;
  std::vector<Interval> intervals_;
  std::vector<uint32_t> block_tables_;  // per slot: block index for each kBlockBytes of datagram
  std::vector<uint8_t> block_memory_;
  std::vector<uint32_t> free_blocks_;
  std::vector<uint8_t> output_;
  CounterArray<IpReassemblerCounter> counters_;
};

}  // namespace misdirect::dataplane
