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
    gate.wait_for_earlier(0, 100, 0);
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

BOOST_AUTO_TEST_CASE(a_lane_that_can_no_longer_teach_before_the_reader_need_not_reach_it) {
  ReplayOrderGate gate(2);
  gate.publish(1, 5);  // lane 1 has processed its packets before 5
  // Lane 0 reads at 10; the 5 packets before it (5..9) cannot teach: lane 1 has learned all it will.
  BOOST_TEST(gate.others_passed(0, 10, 5));
  BOOST_TEST(!gate.others_passed(0, 10, 4));  // packet 5 can teach and lane 1 may not have seen it
  BOOST_TEST(!gate.others_passed(0, 10, 0));
  // A DNS-over-TCP flow held by lane 1 may teach at any packet (a timer delivers held bytes).
  gate.dns_streams_held(1, 1);
  BOOST_TEST(!gate.others_passed(0, 10, 5));
  gate.publish(1, 10);
  BOOST_TEST(gate.others_passed(0, 10, 5));
  gate.dns_streams_held(1, 0);
  gate.publish(1, 6);
  BOOST_TEST(gate.others_passed(0, 10, 5));
  // The quiet run counts back across the wrap at 2^32 too.
  gate.publish(1, 0xffff'fffeu);
  BOOST_TEST(gate.others_passed(0, 1, 3));
  BOOST_TEST(!gate.others_passed(0, 1, 2));
}

BOOST_AUTO_TEST_CASE(a_lane_holding_a_dns_stream_is_waited_for_up_to_the_reader) {
  ReplayOrderGate gate(2);
  gate.publish(1, 5);
  gate.dns_streams_held(1, 1);
  std::atomic<bool> returned{false};
  std::atomic<bool> lane_one_at_ten{false};
  bool saw_lane_one_at_ten = false;
  std::thread lane_zero([&] {
    gate.wait_for_earlier(0, 10, 5);
    saw_lane_one_at_ten = lane_one_at_ten.load();
    returned = true;
  });
  while (!gate.others_passed(1, 10)) {  // lane 0 has published its own position: it is waiting
    std::this_thread::yield();
  }
  gate.publish(1, 9);  // not yet: the stream may still teach at packet 9
  BOOST_TEST(!returned.load());
  lane_one_at_ten = true;
  gate.publish(1, 10);
  lane_zero.join();
  BOOST_TEST(saw_lane_one_at_ten);
}

BOOST_AUTO_TEST_SUITE_END()
