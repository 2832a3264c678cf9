// Tests for ReplayOrderGate: which positions let a lane read the shared book, across the wrap of
// positions at 2^32, and a lane that waits returning only once the last lane it waits for has
// published (ordering, not timing: the test waits for states, never for a time).
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

#include "control/replay_order_gate.h"

using misdirect::control::ReplayOrderGate;

BOOST_AUTO_TEST_SUITE(replay_order_gate)

BOOST_AUTO_TEST_CASE(a_lane_may_read_once_every_other_lane_has_passed_its_position) {
  ReplayOrderGate gate(3);
  gate.publish(0, 12);
  gate.publish(1, 10);
  gate.publish(2, 5);
  BOOST_TEST(gate.others_passed(0, 5));
  BOOST_TEST(!gate.others_passed(0, 6));  // lane 2 has not processed its packets at 5
  BOOST_TEST(gate.others_passed(2, 10));  // a lane's own position is not waited for
  BOOST_TEST(!gate.others_passed(2, 11));
  gate.publish(2, 11);
  BOOST_TEST(gate.others_passed(0, 10));
}

BOOST_AUTO_TEST_CASE(positions_compare_across_the_wrap_at_two_to_the_32) {
  ReplayOrderGate gate(2);
  gate.publish(1, 0xffff'fff0u);
  BOOST_TEST(gate.others_passed(0, 0xffff'ffe0u));
  BOOST_TEST(!gate.others_passed(0, 3));
  gate.publish(1, 4);  // wrapped: 4 is after 0xfffffff0
  BOOST_TEST(gate.others_passed(0, 0xffff'fff0u));
  BOOST_TEST(gate.others_passed(0, 3));
  BOOST_TEST(!gate.others_passed(0, 5));
}

BOOST_AUTO_TEST_CASE(a_waiting_lane_returns_only_after_the_last_lane_it_waits_for_publishes) {
  ReplayOrderGate gate(3);
  std::atomic<bool> returned{false};
  std::atomic<bool> lane_two_published{false};
  bool saw_lane_two = false;
  gate.publish(1, 100);
  gate.publish(2, 50);
  std::thread lane_zero([&] {
    gate.wait_for_earlier(0, 100);
    saw_lane_two = lane_two_published.load();
    returned = true;
  });
  // Lane 0 publishes its own position as it starts to wait; lane 2 can then read at 100 (lanes 0
  // and 1 are there) while lane 0 cannot (lane 2 is at 50).
  while (!gate.others_passed(2, 100)) {
    std::this_thread::yield();
  }
  BOOST_TEST(!returned.load());
  BOOST_TEST(!gate.others_passed(0, 100));
  lane_two_published = true;
  gate.publish(2, 100);
  lane_zero.join();
  BOOST_TEST(saw_lane_two);
}

BOOST_AUTO_TEST_SUITE_END()
