// Clock: the injected clock tests use, and packet time from capture timestamps (before and past
// January 2038, where libpcap's seconds arrive sign-extended). No test here reads the real clock.
#include "dataplane/clock.h"

#include <boost/test/unit_test.hpp>

namespace misdirect::dataplane {
namespace {

// Reads the time only through the interface, as the code under test would.
uint64_t elapsed_ns(const Clock& clock, uint64_t since_ns) { return clock.monotonic_ns() - since_ns; }

BOOST_AUTO_TEST_SUITE(clock)

BOOST_AUTO_TEST_CASE(a_manual_clock_moves_only_when_told) {
  ManualClock clock(1'700'000'000'000'000'000ull, 5'000);
  const Clock& seen = clock;
  BOOST_TEST(seen.wall_ns() == 1'700'000'000'000'000'000ull);
  BOOST_TEST(elapsed_ns(seen, 5'000) == 0u);
  clock.advance(250'000'000);
  BOOST_TEST(elapsed_ns(seen, 5'000) == 250'000'000u);
  BOOST_TEST(seen.wall_ns() == 1'700'000'000'250'000'000ull);
}

BOOST_AUTO_TEST_CASE(capture_seconds_before_2038_are_taken_as_they_are) {
  BOOST_TEST(capture_time_ns(0, 0) == 0u);
  BOOST_TEST(capture_time_ns(1'700'000'000, 123'456'789) == 1'700'000'000'123'456'789ull);
  BOOST_TEST(capture_time_ns(INT32_MAX, 999) == uint64_t{INT32_MAX} * 1'000'000'000ull + 999);
}

BOOST_AUTO_TEST_CASE(capture_seconds_past_2038_arrive_negative_and_are_put_back) {
  // 2^31 s (January 2038) as libpcap hands it on: sign-extended from 32 bits.
  const int64_t wrapped = static_cast<int64_t>(static_cast<int32_t>(UINT32_C(0x80000000)));
  BOOST_TEST(wrapped < 0);
  BOOST_TEST(capture_time_ns(wrapped, 7) == (uint64_t{1} << 31) * 1'000'000'000ull + 7);
  // The last second a pcap file can hold (February 2106).
  BOOST_TEST(capture_time_ns(-1, 0) == uint64_t{UINT32_MAX} * 1'000'000'000ull);
  // pcapng: 64-bit seconds past 2106 stay as they are.
  BOOST_TEST(capture_time_ns(int64_t{1} << 33, 0) == (uint64_t{1} << 33) * 1'000'000'000ull);
}

BOOST_AUTO_TEST_CASE(net_pcap_microseconds_past_2038_are_put_back_too) {
  BOOST_TEST(capture_micros_to_ns(1'700'000'000'000'001ull) == 1'700'000'000'000'001'000ull);
  // DPDK computes tv_sec * 1e6 + tv_usec from the sign-extended seconds: 2^31 s arrives as
  // -2^31 s in microseconds.
  const int64_t seconds = static_cast<int32_t>(UINT32_C(0x80000000));
  const uint64_t micros = static_cast<uint64_t>(seconds * 1'000'000 + 42);
  BOOST_TEST(capture_micros_to_ns(micros) == ((uint64_t{1} << 31) * 1'000'000 + 42) * 1000);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace misdirect::dataplane
