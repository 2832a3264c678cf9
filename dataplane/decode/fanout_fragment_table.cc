// FanoutFragmentTable (fanout_fragment_table.h): where the fragments of a datagram go.
#include "dataplane/decode/fanout_fragment_table.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace misdirect::dataplane {

FanoutFragmentTable::FanoutFragmentTable(const FanoutFragmentConfig& config) : config_(config) {
  if (config_.datagrams < kWays || (config_.datagrams & (config_.datagrams - 1)) != 0) {
    throw std::invalid_argument("fan-out fragment table: datagrams must be a power of two >= 4, got " +
                                std::to_string(config_.datagrams));
  }
  if (config_.held_frames == 0 || config_.held_frames >= kNoSlot) {
    throw std::invalid_argument("fan-out fragment table: held_frames must be 1..65534, got " +
                                std::to_string(config_.held_frames));
  }
  set_mask_ = config_.datagrams / kWays - 1;
  entries_.resize(config_.datagrams);
  slots_.resize(config_.held_frames);
  for (uint32_t i = 0; i < config_.held_frames; ++i) {
    slots_[i].next = i + 1 < config_.held_frames ? static_cast<uint16_t>(i + 1) : kNoSlot;
  }
  free_slot_ = 0;
  // Each waiting datagram holds a frame, and later() enters one more before it learns the hold
  // is full: held_frames + 1 places, so push_back never allocates on the packet path.
  waiting_.reserve(config_.held_frames + 1);
  released_.resize(config_.held_frames);
}

uint32_t FanoutFragmentTable::find(const FanoutFragment& fragment, uint64_t now_ns) const noexcept {
  const uint32_t base = static_cast<uint32_t>(fragment.key_hash & set_mask_) * kWays;
  for (uint32_t way = 0; way < kWays; ++way) {
    const Entry& entry = entries_[base + way];
    if (!aged_out(entry, now_ns) && entry.key == fragment.key) {
      return base + way;
    }
  }
  return kNoEntry;
}

uint32_t FanoutFragmentTable::claim(const FanoutFragment& fragment, uint64_t now_ns) noexcept {
  const uint32_t base = static_cast<uint32_t>(fragment.key_hash & set_mask_) * kWays;
  for (uint32_t way = 0; way < kWays; ++way) {
    Entry& entry = entries_[base + way];
    if (aged_out(entry, now_ns)) {
      entry = Entry{};
      entry.key = fragment.key;
      entry.outer_hash = fragment.outer_hash;
      entry.last_ns = now_ns;
      return base + way;
    }
  }
  return kNoEntry;
}

void FanoutFragmentTable::forget_waiting(uint32_t index) noexcept {
  const auto at = std::find(waiting_.begin(), waiting_.end(), index);
  if (at != waiting_.end()) {
    waiting_.erase(at);  // at most held_frames entries, no allocation
  }
}

void FanoutFragmentTable::place_waiting(uint32_t index, uint64_t hash, FanoutFragmentCounter reason) noexcept {
  Entry& entry = entries_[index];
  for (uint16_t slot = entry.first_held; slot != kNoSlot;) {
    Slot& held = slots_[slot];
    const uint16_t next = held.next;
    released_[released_count_++] = Release{slot, hash};
    held_bytes_ -= held.bytes;
    --held_count_;
    held.bytes = 0;
    held.next = free_slot_;
    free_slot_ = slot;
    if (reason != FanoutFragmentCounter::kCount) {
      counters_.add(reason);
    }
    slot = next;
  }
  entry.first_held = kNoSlot;
  entry.last_held = kNoSlot;
  entry.state = State::kPlaced;
  entry.hash = hash;
  forget_waiting(index);
}

void FanoutFragmentTable::account(uint32_t index, const FanoutFragment& fragment, uint64_t now_ns) noexcept {
  Entry& entry = entries_[index];
  entry.last_ns = std::max(entry.last_ns, now_ns);
  entry.bytes_seen += fragment.length;
  if (!fragment.more_fragments) {
    entry.total_bytes = fragment.offset_bytes + fragment.length;
  }
}

FanoutFragmentTable::Decision FanoutFragmentTable::first(const FanoutFragment& fragment, uint64_t first_hash,
                                                         bool short_first, uint64_t now_ns) noexcept {
  released_count_ = 0;
  if (short_first) {
    counters_.add(FanoutFragmentCounter::kFirstFragmentShort);
  }
  const bool by_inner = first_hash != fragment.outer_hash;
  uint32_t index = find(fragment, now_ns);
  if (index == kNoEntry) {
    index = claim(fragment, now_ns);
    if (index == kNoEntry) {
      // Not remembered, so the others will go by the outer header: this one too.
      counters_.add(FanoutFragmentCounter::kTableFull);
      return Decision{Decision::Kind::kSend, fragment.outer_hash, 0};
    }
    entries_[index].state = State::kPlaced;
    entries_[index].hash = first_hash;
  } else if (entries_[index].state == State::kWaiting) {
    place_waiting(index, first_hash,
                  by_inner ? FanoutFragmentCounter::kByInnerFlow : FanoutFragmentCounter::kCount);
  }
  // kPlaced before: a copy of the first, or its datagram already went by the outer header.
  const uint64_t hash = entries_[index].hash;
  if (hash != fragment.outer_hash) {
    counters_.add(FanoutFragmentCounter::kByInnerFlow);
  }
  account(index, fragment, now_ns);
  return Decision{Decision::Kind::kSend, hash, 0};
}

FanoutFragmentTable::Decision FanoutFragmentTable::later(const FanoutFragment& fragment, uint64_t now_ns) noexcept {
  released_count_ = 0;
  uint32_t index = find(fragment, now_ns);
  if (index == kNoEntry) {
    index = claim(fragment, now_ns);
    if (index == kNoEntry) {
      counters_.add(FanoutFragmentCounter::kTableFull);
      return Decision{Decision::Kind::kSend, fragment.outer_hash, 0};
    }
    entries_[index].state = State::kWaiting;
    entries_[index].waiting_since_ns = now_ns;
    waiting_.push_back(index);
  }
  Entry& entry = entries_[index];
  if (entry.state == State::kPlaced) {
    if (entry.hash != fragment.outer_hash) {
      counters_.add(FanoutFragmentCounter::kByInnerFlow);
    }
    account(index, fragment, now_ns);
    return Decision{Decision::Kind::kSend, entry.hash, 0};
  }
  // Waiting for the first fragment: hold this one too, if there is room.
  const bool room = free_slot_ != kNoSlot && fragment.frame_bytes <= config_.held_frame_bytes &&
                    held_bytes_ + fragment.frame_bytes <= config_.held_bytes;
  if (!room) {
    // The datagram goes by its outer header, all of it: the waiting frames first.
    place_waiting(index, fragment.outer_hash, FanoutFragmentCounter::kHoldFull);
    counters_.add(FanoutFragmentCounter::kHoldFull);
    account(index, fragment, now_ns);
    return Decision{Decision::Kind::kSend, fragment.outer_hash, 0};
  }
  const uint16_t slot = free_slot_;
  free_slot_ = slots_[slot].next;
  slots_[slot].next = kNoSlot;
  slots_[slot].bytes = fragment.frame_bytes;
  if (entry.last_held == kNoSlot) {
    entry.first_held = slot;
  } else {
    slots_[entry.last_held].next = slot;
  }
  entry.last_held = slot;
  ++held_count_;
  held_bytes_ += fragment.frame_bytes;
  counters_.add(FanoutFragmentCounter::kHeld);
  account(index, fragment, now_ns);
  return Decision{Decision::Kind::kHold, 0, slot};
}

void FanoutFragmentTable::expire(uint64_t now_ns) noexcept {
  released_count_ = 0;
  while (!waiting_.empty()) {
    const uint32_t index = waiting_.front();
    const Entry& entry = entries_[index];
    if (now_ns <= entry.waiting_since_ns || now_ns - entry.waiting_since_ns < config_.hold_timeout_ns) {
      break;  // the oldest is not overdue, nor is anyone after it
    }
    place_waiting(index, entry.outer_hash, FanoutFragmentCounter::kHoldTimeouts);
  }
}

void FanoutFragmentTable::flush() noexcept {
  released_count_ = 0;
  while (!waiting_.empty()) {
    const uint32_t index = waiting_.front();
    place_waiting(index, entries_[index].outer_hash, FanoutFragmentCounter::kHoldFlushed);
  }
  for (Entry& entry : entries_) {
    entry.state = State::kFree;
  }
}

}  // namespace misdirect::dataplane
