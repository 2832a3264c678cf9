// Tests for RecordRing (the worker → control thread record hand-over) and FanoutHash (which
// worker a frame from a single-queue port goes to).
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/live/live_fanout.h"
#include "dataplane/output/live_record_ring.h"

using misdirect::dataplane::fanout_hash;
using misdirect::dataplane::RecordRing;
using misdirect::dataplane::RecordType;

namespace {

std::vector<std::pair<RecordType, std::string>> drain_all(RecordRing& ring) {
  std::vector<std::pair<RecordType, std::string>> out;
  ring.drain([&](RecordType type, std::string_view line) { out.emplace_back(type, std::string(line)); });
  return out;
}

// An Ethernet frame with optional VLAN tags and an IPv4 (4-byte) or IPv6 (16-byte) header whose
// addresses are `src` and `dst`; the rest of the header is zero.
std::vector<uint8_t> ip_frame(const std::vector<uint8_t>& src, const std::vector<uint8_t>& dst,
                              const std::vector<uint16_t>& vlans = {}) {
  std::vector<uint8_t> frame(12, 0xaa);
  for (const uint16_t vlan : vlans) {
    frame.insert(frame.end(), {0x81, 0x00, static_cast<uint8_t>(vlan >> 8),
                               static_cast<uint8_t>(vlan & 0xff)});
  }
  const bool v4 = src.size() == 4;
  frame.insert(frame.end(), {static_cast<uint8_t>(v4 ? 0x08 : 0x86), static_cast<uint8_t>(v4 ? 0x00 : 0xdd)});
  std::vector<uint8_t> header(v4 ? 12 : 8, 0);
  header[0] = v4 ? 0x45 : 0x60;
  frame.insert(frame.end(), header.begin(), header.end());
  frame.insert(frame.end(), src.begin(), src.end());
  frame.insert(frame.end(), dst.begin(), dst.end());
  frame.resize(frame.size() + 20, 0);  // a TCP header's worth of bytes
  return frame;
}

uint64_t hash_of(const std::vector<uint8_t>& frame) {
  return fanout_hash(frame.data(), static_cast<uint32_t>(frame.size()));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(live_record_ring)

BOOST_AUTO_TEST_CASE(records_come_out_in_order_with_their_types) {
  RecordRing ring(64 * 1024);
  BOOST_TEST(ring.on_record(RecordType::kAlert, "{\"a\":1}"));
  BOOST_TEST(ring.on_record(RecordType::kSmtp, "{\"b\":22}"));
  BOOST_TEST(ring.on_record(RecordType::kStats, ""));
  const auto out = drain_all(ring);
  BOOST_TEST_REQUIRE(out.size() == 3u);
  BOOST_TEST((out[0].first == RecordType::kAlert));
  BOOST_TEST(out[0].second == "{\"a\":1}");
  BOOST_TEST((out[1].first == RecordType::kSmtp));
  BOOST_TEST(out[1].second == "{\"b\":22}");
  BOOST_TEST((out[2].first == RecordType::kStats));
  BOOST_TEST(out[2].second.empty());
  BOOST_TEST(ring.empty());
}

BOOST_AUTO_TEST_CASE(a_full_ring_refuses_and_counts_then_takes_again_after_a_drain) {
  RecordRing ring(64 * 1024);
  const std::string line(1000, 'x');  // 1008 bytes of record with its header
  int taken = 0;
  while (ring.on_record(RecordType::kAlert, line)) {
    ++taken;
  }
  BOOST_TEST(taken == 65);  // 65 * 1008 = 65520 <= 65536 < 66 * 1008
  BOOST_TEST(ring.refused() == 1u);
  BOOST_TEST(drain_all(ring).size() == 65u);
  BOOST_TEST(ring.on_record(RecordType::kAlert, line));
}

BOOST_AUTO_TEST_CASE(records_that_would_cross_the_end_wrap_whole) {
  RecordRing ring(64 * 1024);
  // Fill and drain with odd sizes for several laps: every record comes back byte for byte.
  uint64_t next = 0;
  uint64_t expected = 0;
  for (int lap = 0; lap < 200; ++lap) {
    for (int i = 0; i < 7; ++i) {
      const std::string line = std::to_string(next) + std::string(next % 3001, 'y');
      BOOST_TEST_REQUIRE(ring.on_record(RecordType::kSmtp, line));
      ++next;
    }
    for (const auto& [type, line] : drain_all(ring)) {
      BOOST_TEST_REQUIRE(line == std::to_string(expected) + std::string(expected % 3001, 'y'));
      ++expected;
    }
  }
  BOOST_TEST(expected == next);
  BOOST_TEST(ring.refused() == 0u);
}

BOOST_AUTO_TEST_CASE(a_record_larger_than_half_the_ring_is_refused) {
  RecordRing ring(64 * 1024);
  BOOST_TEST(!ring.on_record(RecordType::kAlert, std::string(40 * 1024, 'z')));
  BOOST_TEST(ring.refused() == 1u);
  BOOST_TEST(ring.empty());
}

BOOST_AUTO_TEST_CASE(drain_stops_at_the_limit_and_resumes) {
  RecordRing ring(64 * 1024);
  for (int i = 0; i < 10; ++i) {
    BOOST_TEST(ring.on_record(RecordType::kAlert, std::to_string(i)));
  }
  std::vector<std::string> seen;
  BOOST_TEST(ring.drain([&](RecordType, std::string_view l) { seen.emplace_back(l); }, 4) == 4u);
  BOOST_TEST(ring.drain([&](RecordType, std::string_view l) { seen.emplace_back(l); }) == 6u);
  BOOST_TEST(seen == (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(live_fanout)

BOOST_AUTO_TEST_CASE(both_directions_of_ipv4_hash_alike) {
  const auto forward = ip_frame({192, 0, 2, 10}, {198, 51, 100, 25});
  const auto reverse = ip_frame({198, 51, 100, 25}, {192, 0, 2, 10});
  BOOST_TEST(hash_of(forward) != 0u);
  BOOST_TEST(hash_of(forward) == hash_of(reverse));
  BOOST_TEST(hash_of(forward) != hash_of(ip_frame({192, 0, 2, 11}, {198, 51, 100, 25})));
}

BOOST_AUTO_TEST_CASE(both_directions_of_ipv6_under_vlans_hash_alike) {
  std::vector<uint8_t> a(16, 0);
  std::vector<uint8_t> b(16, 0);
  a[0] = 0x20;
  a[15] = 1;
  b[0] = 0x20;
  b[15] = 2;
  const auto forward = ip_frame(a, b, {100, 200});
  const auto reverse = ip_frame(b, a, {100, 200});
  BOOST_TEST(hash_of(forward) != 0u);
  BOOST_TEST(hash_of(forward) == hash_of(reverse));
  // The VLAN ids are part of the identity, as in the flow key.
  BOOST_TEST(hash_of(forward) != hash_of(ip_frame(a, b, {100, 201})));
}

BOOST_AUTO_TEST_CASE(a_seed_changes_the_placement_and_keeps_it_symmetric) {
  const auto forward = ip_frame({192, 0, 2, 10}, {198, 51, 100, 25});
  const auto reverse = ip_frame({198, 51, 100, 25}, {192, 0, 2, 10});
  const auto size = static_cast<uint32_t>(forward.size());
  for (const uint64_t seed : {1ull, 42ull, 0x9e3779b97f4a7c15ull}) {
    BOOST_TEST(fanout_hash(forward.data(), size, seed) == fanout_hash(reverse.data(), size, seed));
    BOOST_TEST(fanout_hash(forward.data(), size, seed) != fanout_hash(forward.data(), size, seed + 1));
  }
}

BOOST_AUTO_TEST_CASE(non_ip_and_short_frames_go_to_worker_zero_without_reading_past_the_end) {
  std::vector<uint8_t> arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  BOOST_TEST(hash_of(arp) == 0u);
  const auto full = ip_frame({10, 0, 0, 1}, {10, 0, 0, 2}, {7});
  // Every prefix that cuts the addresses short is unplaceable; none is read past its length.
  for (std::size_t length = 0; length < 4 + 14 + 20; ++length) {
    BOOST_TEST(fanout_hash(full.data(), static_cast<uint32_t>(length)) == 0u);
  }
  BOOST_TEST(fanout_hash(full.data(), 4 + 14 + 20) != 0u);
}

BOOST_AUTO_TEST_SUITE_END()
