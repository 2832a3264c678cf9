// Tests for FanoutFragmentTable: every fragment of a datagram goes where its first fragment goes;
// fragments that overtake their first wait for it and leave in arrival order before it; and when
// the table cannot keep that promise (no entry, no room to hold, first fragment overdue or too
// short, end of input) the datagram goes by its outer header — all of it — and the case is
// counted. Time is injected.
#include "dataplane/decode/fanout_fragment_table.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <vector>

using misdirect::dataplane::FanoutFragment;
using misdirect::dataplane::FanoutFragmentConfig;
using misdirect::dataplane::FanoutFragmentCounter;
using misdirect::dataplane::FanoutFragmentTable;

namespace {

using Kind = FanoutFragmentTable::Decision::Kind;

constexpr uint64_t kOuter = 0x1111;  // the outer header's placement
constexpr uint64_t kInner = 0x2222;  // the inner flow's
constexpr uint64_t kMs = 1'000'000;

// Fragment `index` of datagram `id` (each 1480 data bytes; `count` fragments in all).
FanoutFragment piece(uint32_t id, uint32_t index, uint32_t count, uint64_t key_hash = 0) {
  FanoutFragment fragment;
  fragment.key.fragment.src.version = 4;
  fragment.key.fragment.src.bytes[0] = 192;
  fragment.key.fragment.dst.version = 4;
  fragment.key.fragment.dst.bytes[0] = 198;
  fragment.key.fragment.id = id;
  fragment.key.fragment.protocol = 47;
  fragment.key_hash = key_hash != 0 ? key_hash : id * 0x9e3779b97f4a7c15ull;
  fragment.outer_hash = kOuter;
  fragment.offset_bytes = index * 1480;
  fragment.length = 1480;
  fragment.more_fragments = index + 1 < count;
  fragment.frame_bytes = 1514;
  return fragment;
}

std::vector<uint16_t> released_slots(const FanoutFragmentTable& table, uint64_t hash) {
  std::vector<uint16_t> slots;
  for (const auto& release : table.released()) {
    BOOST_TEST(release.hash == hash);
    slots.push_back(release.slot);
  }
  return slots;
}

uint64_t count(const FanoutFragmentTable& table, FanoutFragmentCounter counter) {
  return table.counters().get(counter);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fanout_fragment_table)

BOOST_AUTO_TEST_CASE(later_fragments_follow_the_first_to_the_inner_flow) {
  FanoutFragmentTable table(FanoutFragmentConfig{});
  const auto first = table.first(piece(7, 0, 3), kInner, false, 0);
  BOOST_TEST((first.kind == Kind::kSend));
  BOOST_TEST(first.hash == kInner);
  BOOST_TEST(table.released().empty());
  for (uint32_t index = 1; index < 3; ++index) {
    const auto later = table.later(piece(7, index, 3), kMs);
    BOOST_TEST((later.kind == Kind::kSend));
    BOOST_TEST(later.hash == kInner);
  }
  BOOST_TEST(count(table, FanoutFragmentCounter::kByInnerFlow) == 3u);
  BOOST_TEST(!table.holding());
  // Another datagram of the same pair is another entry.
  BOOST_TEST((table.later(piece(8, 1, 2), kMs).kind == Kind::kHold));
}

BOOST_AUTO_TEST_CASE(the_first_fragment_last_releases_the_others_in_arrival_order_before_it) {
  FanoutFragmentTable table(FanoutFragmentConfig{});
  // Fragments 2, 1 and 3 of four come before fragment 0.
  std::vector<uint16_t> held;
  for (const uint32_t index : {2u, 1u, 3u}) {
    const auto decision = table.later(piece(7, index, 4), index * kMs);
    BOOST_TEST((decision.kind == Kind::kHold));
    BOOST_TEST(table.released().empty());
    held.push_back(decision.slot);
  }
  BOOST_TEST(table.held_frames() == 3u);
  BOOST_TEST(table.held_bytes() == 3u * 1514u);
  // Another datagram waits alongside, untouched by this one's first fragment.
  const auto other = table.later(piece(9, 1, 2), 4 * kMs);
  BOOST_TEST((other.kind == Kind::kHold));

  const auto first = table.first(piece(7, 0, 4), kInner, false, 5 * kMs);
  BOOST_TEST((first.kind == Kind::kSend));
  BOOST_TEST(first.hash == kInner);
  BOOST_TEST(released_slots(table, kInner) == held, boost::test_tools::per_element());
  BOOST_TEST(table.held_frames() == 1u);
  BOOST_TEST(count(table, FanoutFragmentCounter::kHeld) == 4u);
  BOOST_TEST(count(table, FanoutFragmentCounter::kByInnerFlow) == 4u);  // three released, the first
  // A copy of a fragment that comes later still follows them.
  BOOST_TEST(table.later(piece(7, 2, 4), 6 * kMs).hash == kInner);
  // The other datagram's first, placed by its own inner flow.
  table.first(piece(9, 0, 2), kOuter + 5, false, 7 * kMs);
  BOOST_TEST(released_slots(table, kOuter + 5) == std::vector<uint16_t>{other.slot},
             boost::test_tools::per_element());
  BOOST_TEST(!table.holding());
}

BOOST_AUTO_TEST_CASE(a_first_fragment_that_does_not_come_in_time_sends_the_datagram_by_its_outer_header) {
  FanoutFragmentConfig config;
  config.hold_timeout_ns = 100 * kMs;
  FanoutFragmentTable table(config);
  const auto a = table.later(piece(7, 1, 3), 0);
  const auto b = table.later(piece(7, 2, 3), 10 * kMs);
  const auto c = table.later(piece(8, 1, 2), 50 * kMs);
  table.expire(99 * kMs);
  BOOST_TEST(table.released().empty());
  // Datagram 7 waited 100 ms: both its frames go, in order; datagram 8 waits on.
  table.expire(100 * kMs);
  BOOST_TEST(released_slots(table, kOuter) == (std::vector<uint16_t>{a.slot, b.slot}),
             boost::test_tools::per_element());
  BOOST_TEST(count(table, FanoutFragmentCounter::kHoldTimeouts) == 2u);
  BOOST_TEST(table.held_frames() == 1u);
  // Its late first fragment follows them (by the outer header), not its inner flow.
  const auto late = table.first(piece(7, 0, 3), kInner, false, 120 * kMs);
  BOOST_TEST(late.hash == kOuter);
  BOOST_TEST(table.released().empty());
  table.expire(150 * kMs);
  BOOST_TEST(released_slots(table, kOuter) == std::vector<uint16_t>{c.slot}, boost::test_tools::per_element());
  BOOST_TEST(!table.holding());
}

BOOST_AUTO_TEST_CASE(a_short_first_fragment_places_the_datagram_by_its_outer_header) {
  // The caller found no inner headers in it (a tiny first fragment): it passes the outer hash.
  FanoutFragmentTable table(FanoutFragmentConfig{});
  const auto held = table.later(piece(7, 1, 2), 0);
  const auto first = table.first(piece(7, 0, 2), kOuter, true, kMs);
  BOOST_TEST(first.hash == kOuter);
  BOOST_TEST(released_slots(table, kOuter) == std::vector<uint16_t>{held.slot}, boost::test_tools::per_element());
  BOOST_TEST(count(table, FanoutFragmentCounter::kFirstFragmentShort) == 1u);
  BOOST_TEST(count(table, FanoutFragmentCounter::kByInnerFlow) == 0u);
}

BOOST_AUTO_TEST_CASE(a_full_hold_sends_the_datagram_by_its_outer_header_all_of_it) {
  FanoutFragmentConfig config;
  config.held_frames = 2;
  FanoutFragmentTable table(config);
  const auto a = table.later(piece(7, 1, 4), 0);
  const auto b = table.later(piece(7, 2, 4), 0);
  // No slot left: the third goes by the outer header, after the two waiting ones.
  const auto c = table.later(piece(7, 3, 4), 0);
  BOOST_TEST((c.kind == Kind::kSend));
  BOOST_TEST(c.hash == kOuter);
  BOOST_TEST(released_slots(table, kOuter) == (std::vector<uint16_t>{a.slot, b.slot}),
             boost::test_tools::per_element());
  BOOST_TEST(count(table, FanoutFragmentCounter::kHoldFull) == 3u);
  // And so does its first fragment, whatever its inner flow.
  BOOST_TEST(table.first(piece(7, 0, 4), kInner, false, 0).hash == kOuter);

  // The byte bound and the frame-size bound too.
  FanoutFragmentConfig small;
  small.held_bytes = 2000;
  small.held_frame_bytes = 1600;
  FanoutFragmentTable bytes(small);
  BOOST_TEST((bytes.later(piece(1, 1, 3), 0).kind == Kind::kHold));
  BOOST_TEST((bytes.later(piece(2, 1, 3), 0).kind == Kind::kSend));  // 2 x 1514 > 2000
  FanoutFragment jumbo = piece(3, 1, 2);
  jumbo.frame_bytes = 9014;
  BOOST_TEST((bytes.later(jumbo, 0).kind == Kind::kSend));
  BOOST_TEST(count(bytes, FanoutFragmentCounter::kHoldFull) == 2u);
}

BOOST_AUTO_TEST_CASE(a_full_set_places_by_the_outer_header_and_remembers_nothing) {
  // Five datagrams in one 4-way set (same key hash), none complete.
  FanoutFragmentTable table(FanoutFragmentConfig{});
  for (uint32_t id = 1; id <= 4; ++id) {
    BOOST_TEST(table.first(piece(id, 0, 2, 42), kInner, false, 0).hash == kInner);
  }
  BOOST_TEST(table.first(piece(5, 0, 2, 42), kInner, false, 0).hash == kOuter);
  BOOST_TEST((table.later(piece(6, 1, 2, 42), 0).kind == Kind::kSend));
  BOOST_TEST(count(table, FanoutFragmentCounter::kTableFull) == 2u);
  // The four remembered ones still place their fragments.
  BOOST_TEST(table.later(piece(3, 1, 2, 42), 0).hash == kInner);
  // A complete datagram's entry is free again once the hold time has passed since its last
  // fragment; an incomplete one only after the datagram timeout.
  FanoutFragmentConfig config;
  config.hold_timeout_ns = 100 * kMs;
  config.datagram_timeout_ns = 1000 * kMs;
  FanoutFragmentTable aging(config);
  for (uint32_t id = 1; id <= 4; ++id) {
    aging.first(piece(id, 0, 2, 42), kInner, false, 0);
  }
  aging.later(piece(1, 1, 2, 42), 0);  // datagram 1 complete
  BOOST_TEST(aging.first(piece(5, 0, 2, 42), kInner, false, 100 * kMs).hash == kOuter);
  BOOST_TEST(aging.first(piece(5, 0, 2, 42), kInner, false, 101 * kMs).hash == kInner);
  BOOST_TEST(aging.first(piece(6, 0, 2, 42), kInner, false, 500 * kMs).hash == kOuter);
  BOOST_TEST(aging.first(piece(6, 0, 2, 42), kInner, false, 1001 * kMs).hash == kInner);
}

BOOST_AUTO_TEST_CASE(flush_releases_everything_by_the_outer_header_and_forgets) {
  FanoutFragmentTable table(FanoutFragmentConfig{});
  table.first(piece(7, 0, 3), kInner, false, 0);
  const auto a = table.later(piece(8, 2, 3), 0);
  const auto b = table.later(piece(9, 1, 3), 0);
  const auto c = table.later(piece(8, 1, 3), 0);
  table.flush();
  BOOST_TEST(released_slots(table, kOuter) == (std::vector<uint16_t>{a.slot, c.slot, b.slot}),
             boost::test_tools::per_element());
  BOOST_TEST(count(table, FanoutFragmentCounter::kHoldFlushed) == 3u);
  BOOST_TEST(!table.holding());
  // Datagram 7 is forgotten: its next fragment waits again.
  BOOST_TEST((table.later(piece(7, 1, 3), 0).kind == Kind::kHold));
}

BOOST_AUTO_TEST_CASE(under_pressure_every_datagram_stays_together_and_every_held_frame_leaves_once) {
  // Many datagrams through a small table and hold, their fragments shuffled nearby, some first
  // fragments lost, time moving and expiry called now and then. Whatever the table decides,
  // (a) every held slot is released exactly once, flush leaving nothing held, and (b) all the
  // fragments of a datagram go one way — unless that datagram met a full table, the one case
  // that may split it (counted).
  FanoutFragmentConfig config;
  config.datagrams = 16;
  config.held_frames = 8;
  config.hold_timeout_ns = 20 * kMs;
  config.datagram_timeout_ns = 200 * kMs;
  FanoutFragmentTable table(config);
  std::mt19937 random(7);
  std::vector<FanoutFragment> input;
  std::vector<uint32_t> owner;  // datagram of each input fragment
  for (uint32_t id = 1; id <= 400; ++id) {
    const uint32_t count = 2 + random() % 3;
    const bool first_lost = random() % 10 == 0;
    std::vector<FanoutFragment> pieces;
    for (uint32_t index = first_lost ? 1 : 0; index < count; ++index) {
      pieces.push_back(piece(id, index, count, id % 8 + 1));  // 400 datagrams over the 4 sets
    }
    std::shuffle(pieces.begin(), pieces.end(), random);
    for (const FanoutFragment& fragment : pieces) {
      input.push_back(fragment);
      owner.push_back(id);
    }
  }
  // Interleave neighbours: swap each with one up to 3 places on.
  for (std::size_t i = 0; i + 3 < input.size(); ++i) {
    const std::size_t j = i + random() % 4;
    std::swap(input[i], input[j]);
    std::swap(owner[i], owner[j]);
  }
  std::map<uint16_t, uint32_t> held;  // slot -> datagram
  std::map<uint32_t, std::set<uint64_t>> ways;
  std::set<uint32_t> met_full_table;
  const auto take_released = [&] {
    for (const auto& release : table.released()) {
      const auto at = held.find(release.slot);
      BOOST_REQUIRE(at != held.end());
      ways[at->second].insert(release.hash);
      held.erase(at);
    }
  };
  uint64_t now_ns = 0;
  for (std::size_t i = 0; i < input.size(); ++i) {
    now_ns += random() % (3 * kMs);
    if (random() % 4 == 0) {
      table.expire(now_ns);
      take_released();
    }
    const uint32_t id = owner[i];
    const uint64_t full_before = count(table, FanoutFragmentCounter::kTableFull);
    const auto decision = input[i].offset_bytes == 0 ? table.first(input[i], 1000 + id, false, now_ns)
                                                     : table.later(input[i], now_ns);
    if (count(table, FanoutFragmentCounter::kTableFull) != full_before) {
      met_full_table.insert(id);
    }
    take_released();
    if (decision.kind == Kind::kHold) {
      BOOST_REQUIRE(held.count(decision.slot) == 0u);
      held[decision.slot] = id;
    } else {
      ways[id].insert(decision.hash);
    }
    BOOST_REQUIRE(table.held_frames() == held.size());
  }
  table.flush();
  take_released();
  BOOST_TEST(held.empty());
  BOOST_TEST(!table.holding());
  std::size_t together = 0;
  for (const auto& [id, hashes] : ways) {
    if (met_full_table.count(id) == 0) {
      BOOST_TEST_CONTEXT("datagram " << id) { BOOST_TEST(hashes.size() == 1u); }
      ++together;
    }
  }
  // The pressure was real: every fallback happened, and most datagrams still went by their
  // inner flow.
  for (const auto counter : {FanoutFragmentCounter::kHoldTimeouts, FanoutFragmentCounter::kHoldFull,
                             FanoutFragmentCounter::kTableFull, FanoutFragmentCounter::kHeld}) {
    BOOST_TEST(count(table, counter) > 0u);
  }
  BOOST_TEST(together > 300u);
}

BOOST_AUTO_TEST_CASE(bounds_it_cannot_keep_are_refused) {
  FanoutFragmentConfig config;
  config.datagrams = 6;
  BOOST_CHECK_THROW(FanoutFragmentTable{config}, std::invalid_argument);
  config.datagrams = 8;
  config.held_frames = 0;
  BOOST_CHECK_THROW(FanoutFragmentTable{config}, std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
