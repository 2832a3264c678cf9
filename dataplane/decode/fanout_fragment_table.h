// FanoutFragmentTable: the fan-out's memory of IP datagrams that arrive in fragments, so that
// every fragment of one datagram goes to the worker its first fragment chose — the worker of the
// inner flow the datagram carries (FanoutClassifier) — and fragments that come before their
// first fragment wait for it.
//
// Why: a mirror that cuts some of its packets (an ERSPAN or VXLAN packet over the MTU between
// switch and sensor) sends fragments whose outer header is all the fan-out can read after the
// first; only the first fragment carries the tunnel and the inner headers. Placed by the outer
// pair, those packets would reach another worker than the rest of their inner flow and split it.
// The first fragment is placed by its inner flow; the table remembers the choice for the others.
//
// Why not reassemble here: the reading thread would copy every fragmented datagram and keep a
// reassembler's memory; the workers reassemble anyway. Remembering a placement costs one small
// entry per datagram, and holding is needed only for fragments that overtake their first.
//
// The cases (each a counter, FanoutFragmentCounter):
//   - first fragment, no entry: placed by the hash the caller gives (its inner flow's, or its
//     outer header's when the fragment does not hold the inner headers); remembered;
//   - first fragment, fragments waiting (they came first): they are released in arrival order,
//     to the same place, before the first fragment itself;
//   - later fragment, datagram placed: goes the same way;
//   - later fragment, unknown datagram: held until its first fragment comes;
//   - the first fragment does not come within hold_timeout_ns, or the end of the input comes
//     (flush): the waiting fragments go by their outer header, and so does the rest of that
//     datagram (the entry remembers the outer placement, so a late first fragment follows them);
//   - no room to hold (frames or bytes) or a frame too large to hold: the datagram goes by its
//     outer header, together (waiting fragments are released with it);
//   - no free entry in the datagram's set: placed by its outer header, not remembered.
// In every case but the last, all fragments of a datagram reach one worker, which reassembles
// them. An entry may be reused hold_timeout_ns after the last fragment once every byte of its
// datagram has been seen (copies that come meanwhile still follow it), else datagram_timeout_ns
// (the workers' reassembly timeout) after its last fragment.
//
// Bounded, allocation-free after construction, never blocks, never throws: entries are 4-way
// sets (no probing chains, no tombstones), held frames are slots in a fixed array, linked per
// datagram in arrival order. The table knows nothing of frames: the caller keeps each held frame
// in the slot it is told (an mbuf on a live RX lcore, a copy on replay's reader) and sends what
// released() lists. Time is the caller's (packet time in replay, wall time live), injected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <vector>

#include "dataplane/counter_table.h"
#include "dataplane/decode/ip_reassembler.h"

namespace misdirect::dataplane {

enum class FanoutFragmentCounter : uint16_t {
  kByInnerFlow,
  kHeld,
  kHoldTimeouts,
  kHoldFlushed,
  kHoldFull,
  kTableFull,
  kFirstFragmentShort,
  kCount,
};

inline constexpr CounterInfo kFanoutFragmentCounterInfo[] = {
    {"fragments_by_inner_flow",
     "outer IP fragments placed by the inner flow their datagram carries (read in its first fragment)"},
    {"fragments_held", "fragments held until the first fragment of their datagram came"},
    {"fragment_hold_timeouts",
     "held fragments whose first fragment did not come in time: their datagram placed by its outer header"},
    {"fragment_hold_flushed",
     "held fragments released by their outer header at the end of the input (file end, shutdown)"},
    {"fragment_hold_full",
     "fragments not held (hold full, or frame too large): their datagram placed by its outer header"},
    {"fragment_table_full",
     "fragments of a datagram the table had no entry for: placed by their outer header, not remembered"},
    {"first_fragment_short",
     "first fragments without the inner headers (tiny, or not decodable): datagram placed by its outer header"},
};
static_assert(std::size(kFanoutFragmentCounterInfo) ==
              static_cast<std::size_t>(FanoutFragmentCounter::kCount));

struct FanoutFragmentConfig {
  uint32_t datagrams = 4096;            // entries (a power of two, at least 4)
  uint32_t held_frames = 64;            // frames held at once (at most 65534)
  uint64_t held_bytes = 256 << 10;      // bytes of held frames at once
  uint32_t held_frame_bytes = 16 << 10; // larger frames are not held
  uint64_t hold_timeout_ns = 100'000'000;        // how long a fragment waits for its first
  uint64_t datagram_timeout_ns = 30'000'000'000;  // an entry's life after its last fragment
};

// A datagram's identity for the fan-out: the reassembler's key plus the VLAN tags around its IP
// header (two datagrams on two VLANs are two).
struct FanoutDatagramKey {
  FragmentKey fragment;
  uint32_t vlans = 0;  // outer tag << 16 | inner tag, as the flow key takes them

  friend bool operator==(const FanoutDatagramKey&, const FanoutDatagramKey&) = default;
};

// One fragment as the table needs it.
struct FanoutFragment {
  FanoutDatagramKey key;
  uint64_t key_hash = 0;    // a hash of `key` (chooses the set)
  uint64_t outer_hash = 0;  // placement by the fragment's own IP header (never 0)
  uint32_t offset_bytes = 0;
  uint32_t length = 0;      // data bytes (from the IP header)
  bool more_fragments = false;
  uint32_t frame_bytes = 0; // the frame's size, for the hold's byte bound
};

class FanoutFragmentTable {
 public:
  static constexpr uint32_t kWays = 4;

  struct Decision {
    enum class Kind : uint8_t { kSend, kHold };
    Kind kind = Kind::kSend;
    uint64_t hash = 0;   // kSend: where the fragment goes
    uint16_t slot = 0;   // kHold: where the caller keeps the frame until released
  };
  struct Release {
    uint16_t slot = 0;
    uint64_t hash = 0;
  };

  // Throws std::invalid_argument (cold, at set-up) for bounds it cannot keep.
  explicit FanoutFragmentTable(const FanoutFragmentConfig& config);

  // A first fragment (offset 0), to be placed by `first_hash` (its inner flow's; its outer
  // header's when it does not hold the inner headers — `short_first` — which the caller counts
  // here). Returns kSend; released() lists frames to send, in order, before it.
  Decision first(const FanoutFragment& fragment, uint64_t first_hash, bool short_first,
                 uint64_t now_ns) noexcept;
  // A later fragment: kSend, or kHold (the caller keeps the frame in `slot`). released() lists
  // frames to send before it.
  Decision later(const FanoutFragment& fragment, uint64_t now_ns) noexcept;
  // Releases (by their outer header) the datagrams whose first fragment is overdue at `now_ns`.
  void expire(uint64_t now_ns) noexcept;
  // The end of the input: every held frame is released by its outer header, and the table
  // forgets every datagram.
  void flush() noexcept;

  // The frames released by the last call, in the order they must be sent.
  std::span<const Release> released() const noexcept { return {released_.data(), released_count_}; }
  // For a frame that is no fragment: nothing to release with it.
  void clear_released() noexcept { released_count_ = 0; }
  bool holding() const noexcept { return held_count_ != 0; }
  uint32_t held_frames() const noexcept { return held_count_; }
  uint64_t held_bytes() const noexcept { return held_bytes_; }
  const CounterArray<FanoutFragmentCounter>& counters() const noexcept { return counters_; }

 private:
  static constexpr uint16_t kNoSlot = UINT16_MAX;
  static constexpr uint32_t kNoEntry = UINT32_MAX;

  enum class State : uint8_t { kFree, kWaiting, kPlaced };
  struct Entry {
    FanoutDatagramKey key;
    State state = State::kFree;
    uint64_t hash = 0;         // kPlaced: where its fragments go
    uint64_t outer_hash = 0;
    uint64_t last_ns = 0;      // its last fragment (the entry's age)
    uint64_t waiting_since_ns = 0;
    uint32_t bytes_seen = 0;
    uint32_t total_bytes = 0;  // from the last fragment; 0 until then
    uint16_t first_held = kNoSlot;
    uint16_t last_held = kNoSlot;
  };
  struct Slot {
    uint16_t next = kNoSlot;  // the datagram's next held frame, or the next free slot
    uint32_t bytes = 0;
  };

  // The entry of `fragment`'s datagram, or kNoEntry.
  uint32_t find(const FanoutFragment& fragment, uint64_t now_ns) const noexcept;
  // A fresh entry in the datagram's set (free, or aged out), or kNoEntry.
  uint32_t claim(const FanoutFragment& fragment, uint64_t now_ns) noexcept;
  // Free, or placed and quiet for long enough: datagram_timeout_ns, or once every byte of the
  // datagram has been seen, hold_timeout_ns (copies of its fragments still follow it meanwhile).
  bool aged_out(const Entry& entry, uint64_t now_ns) const noexcept {
    if (entry.state != State::kPlaced) {
      return entry.state == State::kFree;
    }
    const bool complete = entry.total_bytes != 0 && entry.bytes_seen >= entry.total_bytes;
    return now_ns > entry.last_ns &&
           now_ns - entry.last_ns > (complete ? config_.hold_timeout_ns : config_.datagram_timeout_ns);
  }
  // The entry's waiting frames go to `hash` (appended to released_), each counted under `reason`
  // (kCount: not counted); it becomes placed there.
  void place_waiting(uint32_t index, uint64_t hash, FanoutFragmentCounter reason) noexcept;
  // Bytes accounting (an entry ages faster once every byte of its datagram has been seen).
  void account(uint32_t index, const FanoutFragment& fragment, uint64_t now_ns) noexcept;
  void forget_waiting(uint32_t index) noexcept;

  FanoutFragmentConfig config_;
  uint32_t set_mask_ = 0;
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;
  uint16_t free_slot_ = kNoSlot;
  uint32_t held_count_ = 0;
  uint64_t held_bytes_ = 0;
  // Entries with waiting frames, oldest first (each holds a frame, so at most held_frames).
  std::vector<uint32_t> waiting_;
  std::vector<Release> released_;
  std::size_t released_count_ = 0;
  CounterArray<FanoutFragmentCounter> counters_;
};

}  // namespace misdirect::dataplane
