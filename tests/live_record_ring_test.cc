// Tests for RecordRing (the worker → control thread record hand-over). Which worker a frame goes
// to is FanoutClassifier's (tests/fanout_classifier_test.cc).
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/output/live_record_ring.h"

using misdirect::dataplane::RecordRing;
using misdirect::dataplane::RecordType;

namespace {

std::vector<std::pair<RecordType, std::string>> drain_all(RecordRing& ring) {
  std::vector<std::pair<RecordType, std::string>> out;
  ring.drain([&](RecordType type, std::string_view line) { out.emplace_back(type, std::string(line)); });
  return out;
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
