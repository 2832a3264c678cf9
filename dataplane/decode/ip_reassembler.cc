// IpReassembler: puts IPv4 and IPv6 fragments back together into one contiguous datagram.
#include "dataplane/decode/ip_reassembler.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace misdirect::dataplane {

IpReassembler::IpReassembler(const IpReassemblerConfig& config) : config_(config) {
  if (config_.max_datagrams == 0 || config_.max_datagrams > (1u << 24)) {
    throw std::invalid_argument("ip reassembler: max_datagrams must be 1..16777216, got " +
                                std::to_string(config_.max_datagrams));
  }
  if (config_.max_datagram_bytes == 0 || config_.max_datagram_bytes > 65535) {
    throw std::invalid_argument("ip reassembler: max_datagram_bytes must be 1..65535, got " +
                                std::to_string(config_.max_datagram_bytes));
  }
  if (config_.max_fragments_per_datagram == 0 || config_.max_fragments_per_datagram > 8192) {
    throw std::invalid_argument("ip reassembler: max_fragments_per_datagram must be 1..8192, got " +
                                std::to_string(config_.max_fragments_per_datagram));
  }
  if (config_.timeout_ns == 0) {
    throw std::invalid_argument("ip reassembler: timeout_ns must be positive");
  }
  blocks_per_datagram_ = (config_.max_datagram_bytes + kBlockBytes - 1) / kBlockBytes;
  const uint64_t block_count = config_.memcap_bytes / kBlockBytes;
  if (block_count < blocks_per_datagram_ || block_count > (1ull << 30)) {
    throw std::invalid_argument(
        "ip reassembler: memcap_bytes must hold at least one datagram of max_datagram_bytes (" +
        std::to_string(uint64_t{blocks_per_datagram_} * kBlockBytes) + ") and at most 1 TiB, got " +
        std::to_string(config_.memcap_bytes));
  }

  uint32_t bucket_count = 1;
  while (bucket_count < 2 * config_.max_datagrams) {
    bucket_count <<= 1;
  }
  bucket_mask_ = bucket_count - 1;
  buckets_.assign(bucket_count, kNone);
  slots_.resize(config_.max_datagrams);
  free_slots_.reserve(config_.max_datagrams);
  for (uint32_t i = config_.max_datagrams; i > 0; --i) {
    free_slots_.push_back(i - 1);
  }
  intervals_.resize(static_cast<std::size_t>(config_.max_datagrams) *
                    config_.max_fragments_per_datagram);
  block_tables_.assign(static_cast<std::size_t>(config_.max_datagrams) * blocks_per_datagram_, kNone);
  block_memory_.resize(block_count * kBlockBytes);
  free_blocks_.reserve(block_count);
  for (uint64_t i = block_count; i > 0; --i) {
    free_blocks_.push_back(static_cast<uint32_t>(i - 1));
  }
  output_.resize(config_.max_datagram_bytes);
}

uint64_t IpReassembler::bytes_held() const noexcept {
  return (block_memory_.size() / kBlockBytes - free_blocks_.size()) * kBlockBytes;
}

uint32_t IpReassembler::bucket_of(const FragmentKey& key) const noexcept {
  // Seeded FNV-1a over the key's fields; fragments are rare, so a simple hash is enough.
  uint64_t hash = 1469598103934665603ull ^ config_.hash_seed;
  auto mix = [&hash](uint8_t byte) {
    hash ^= byte;
    hash *= 1099511628211ull;
  };
  for (uint8_t byte : key.src.bytes) {
    mix(byte);
  }
  for (uint8_t byte : key.dst.bytes) {
    mix(byte);
  }
  for (int shift = 0; shift < 32; shift += 8) {
    mix(static_cast<uint8_t>(key.id >> shift));
  }
  mix(key.protocol);
  mix(key.src.version);
  if (key.scope != 0) {
    for (int shift = 0; shift < 64; shift += 8) {
      mix(static_cast<uint8_t>(key.scope >> shift));
    }
  }
  return static_cast<uint32_t>(hash ^ (hash >> 32)) & bucket_mask_;
}

uint32_t IpReassembler::find(const FragmentKey& key) const noexcept {
  for (uint32_t i = buckets_[bucket_of(key)]; i != kNone; i = slots_[i].hash_next) {
    if (slots_[i].key == key) {
      return i;
    }
  }
  return kNone;
}

uint32_t IpReassembler::acquire(const FragmentKey& key, uint64_t now_ns) noexcept {
  if (free_slots_.empty()) {
    // Every slot holds an incomplete datagram: the oldest is the least likely to complete.
    counters_.add(IpReassemblerCounter::kEvictedSlots);
    release(oldest_);
  }
  const uint32_t index = free_slots_.back();
  free_slots_.pop_back();
  Slot& slot = slots_[index];
  slot = Slot{};
  slot.key = key;
  slot.first_seen_ns = now_ns;
  slot.in_use = true;
  const uint32_t bucket = bucket_of(key);
  slot.hash_next = buckets_[bucket];
  buckets_[bucket] = index;
  slot.older = newest_;
  if (newest_ != kNone) {
    slots_[newest_].newer = index;
  } else {
    oldest_ = index;
  }
  newest_ = index;
  ++in_use_;
  return index;
}

void IpReassembler::release(uint32_t index) noexcept {
  Slot& slot = slots_[index];
  uint32_t* link = &buckets_[bucket_of(slot.key)];
  while (*link != index) {
    link = &slots_[*link].hash_next;
  }
  *link = slot.hash_next;
  if (slot.older != kNone) {
    slots_[slot.older].newer = slot.newer;
  } else {
    oldest_ = slot.newer;
  }
  if (slot.newer != kNone) {
    slots_[slot.newer].older = slot.older;
  } else {
    newest_ = slot.older;
  }
  uint32_t* table = block_table(index);
  for (uint32_t i = 0; i < blocks_per_datagram_; ++i) {
    if (table[i] != kNone) {
      free_blocks_.push_back(table[i]);
      table[i] = kNone;
    }
  }
  slot.in_use = false;
  free_slots_.push_back(index);
  --in_use_;
}

void IpReassembler::expire(uint64_t now_ns) noexcept {
  // The age list is in order of first fragment, so expired datagrams are all at its old end.
  while (oldest_ != kNone && now_ns >= slots_[oldest_].first_seen_ns &&
         now_ns - slots_[oldest_].first_seen_ns >= config_.timeout_ns) {
    counters_.add(IpReassemblerCounter::kTimeouts);
    release(oldest_);
  }
}

bool IpReassembler::reserve_blocks(uint32_t index, uint32_t begin, uint32_t end) noexcept {
  uint32_t* table = block_table(index);
  const uint32_t first = begin / kBlockBytes;
  const uint32_t last = (end - 1) / kBlockBytes;
  uint32_t needed = 0;
  for (uint32_t i = first; i <= last; ++i) {
    needed += table[i] == kNone ? 1 : 0;
  }
  while (free_blocks_.size() < needed) {
    // Drop the oldest other datagram; the one being filled is never its own victim.
    uint32_t victim = oldest_;
    if (victim == index) {
      victim = slots_[victim].newer;
    }
    if (victim == kNone) {
      return false;
    }
    counters_.add(IpReassemblerCounter::kEvictedMemcap);
    release(victim);
  }
  for (uint32_t i = first; i <= last; ++i) {
    if (table[i] == kNone) {
      table[i] = free_blocks_.back();
      free_blocks_.pop_back();
    }
  }
  return true;
}

void IpReassembler::write(uint32_t index, uint32_t begin, const uint8_t* data,
                          uint32_t length) noexcept {
  const uint32_t* table = block_table(index);
  while (length > 0) {
    const uint32_t block = begin / kBlockBytes;
    const uint32_t within = begin % kBlockBytes;
    const uint32_t count = std::min(length, kBlockBytes - within);
    std::memcpy(&block_memory_[static_cast<std::size_t>(table[block]) * kBlockBytes + within], data,
                count);
    begin += count;
    data += count;
    length -= count;
  }
}

// Adds [begin, end) to the slot's sorted, disjoint, non-adjacent received intervals, merging every
// interval it touches. Returns the new interval count (at most one more than before).
uint32_t IpReassembler::insert_interval(uint32_t index, uint32_t begin, uint32_t end) noexcept {
  Slot& slot = slots_[index];
  Interval* list = intervals(index);
  uint32_t first = 0;
  while (first < slot.interval_count && list[first].end < begin) {
    ++first;
  }
  uint32_t past = first;
  while (past < slot.interval_count && list[past].begin <= end) {
    ++past;
  }
  if (first == past) {
    for (uint32_t i = slot.interval_count; i > first; --i) {
      list[i] = list[i - 1];
    }
    list[first] = Interval{begin, end};
    ++slot.interval_count;
  } else {
    list[first] = Interval{std::min(begin, list[first].begin), std::max(end, list[past - 1].end)};
    const uint32_t removed = past - first - 1;
    for (uint32_t i = first + 1; i + removed < slot.interval_count; ++i) {
      list[i] = list[i + removed];
    }
    slot.interval_count -= removed;
  }
  return slot.interval_count;
}

FragmentResult IpReassembler::add(const Fragment& fragment, uint64_t now_ns,
                                  ReassembledDatagram& out) noexcept {
  counters_.add(IpReassemblerCounter::kFragments);
  expire(now_ns);

  const uint64_t end64 = uint64_t{fragment.offset_bytes} + fragment.length;
  if (end64 > config_.max_datagram_bytes) {
    // It can never complete within bounds (and is the classic oversize attack): drop it all.
    counters_.add(IpReassemblerCounter::kTooBig);
    if (const uint32_t existing = find(fragment.key); existing != kNone) {
      release(existing);
    }
    return FragmentResult::kDropped;
  }
  if (fragment.more_fragments && (fragment.length == 0 || fragment.length % 8 != 0)) {
    counters_.add(IpReassemblerCounter::kBadFragment);
    return FragmentResult::kDropped;
  }
  const uint32_t begin = fragment.offset_bytes;
  const uint32_t end = static_cast<uint32_t>(end64);

  uint32_t index = find(fragment.key);
  if (index == kNone) {
    index = acquire(fragment.key, now_ns);
  }
  Slot& slot = slots_[index];
  if (++slot.fragment_count > config_.max_fragments_per_datagram) {
    counters_.add(IpReassemblerCounter::kTooManyFragments);
    release(index);
    return FragmentResult::kDropped;
  }

  // The last fragment fixes the length; fragments that disagree with it are ignored.
  const uint32_t held_end = slot.interval_count > 0 ? intervals(index)[slot.interval_count - 1].end : 0;
  if (!fragment.more_fragments) {
    if ((slot.has_total && slot.total_length != end) || held_end > end) {
      counters_.add(IpReassemblerCounter::kBadFragment);
      return FragmentResult::kDropped;
    }
    slot.has_total = true;
    slot.total_length = end;
  } else if (slot.has_total && end > slot.total_length) {
    counters_.add(IpReassemblerCounter::kBadFragment);
    return FragmentResult::kDropped;
  }

  if (fragment.length > 0) {
    if (!reserve_blocks(index, begin, end)) {
      counters_.add(IpReassemblerCounter::kEvictedMemcap);
      release(index);
      return FragmentResult::kDropped;
    }
    // First data wins: copy only the parts of [begin, end) that no held interval covers.
    const Interval* list = intervals(index);
    uint32_t cursor = begin;
    uint32_t copied = 0;
    for (uint32_t i = 0; i < slot.interval_count && cursor < end; ++i) {
      if (list[i].end <= cursor) {
        continue;
      }
      if (list[i].begin >= end) {
        break;
      }
      if (list[i].begin > cursor) {
        write(index, cursor, fragment.data + (cursor - begin), list[i].begin - cursor);
        copied += list[i].begin - cursor;
      }
      cursor = std::max(cursor, list[i].end);
    }
    if (cursor < end) {
      write(index, cursor, fragment.data + (cursor - begin), end - cursor);
      copied += end - cursor;
    }
    if (copied == 0) {
      counters_.add(IpReassemblerCounter::kDuplicates);
    } else if (copied < fragment.length) {
      counters_.add(IpReassemblerCounter::kOverlaps);
    }
    insert_interval(index, begin, end);
  }
  if (begin == 0 && !slot.has_first) {
    slot.has_first = true;
    slot.protocol = fragment.next_header;
  }

  const Interval* list = intervals(index);
  if (!slot.has_total || slot.interval_count != 1 || list[0].begin != 0 ||
      list[0].end != slot.total_length) {
    return FragmentResult::kHeld;
  }
  const uint32_t* table = block_table(index);
  for (uint32_t done = 0; done < slot.total_length; done += kBlockBytes) {
    const uint32_t count = std::min(kBlockBytes, slot.total_length - done);
    std::memcpy(&output_[done], &block_memory_[static_cast<std::size_t>(table[done / kBlockBytes]) * kBlockBytes],
                count);
  }
  out.data = output_.data();
  out.length = slot.total_length;
  out.protocol = slot.protocol;
  counters_.add(IpReassemblerCounter::kReassembled);
  release(index);
  return FragmentResult::kComplete;
}

}  // namespace misdirect::dataplane
