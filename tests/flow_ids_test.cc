// FlowIds tests: 51-bit ids, distinct within a run across workers, unrelated across runs.
#include "dataplane/flow/flow_ids.h"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <unordered_set>

namespace misdirect::dataplane {

BOOST_AUTO_TEST_SUITE(flow_ids)

BOOST_AUTO_TEST_CASE(ids_fit_51_bits_and_never_repeat_within_a_run) {
  // Four workers of one run (one salt), 50,000 flows each: 200,000 distinct ids.
  std::unordered_set<uint64_t> seen;
  for (uint32_t worker = 0; worker < 4; ++worker) {
    FlowIds ids(worker, 0x0123456789abcdefull);
    for (int n = 0; n < 50'000; ++n) {
      const uint64_t id = ids.next();
      BOOST_REQUIRE(id <= FlowIds::kIdMask);
      BOOST_REQUIRE(seen.insert(id).second);
    }
  }
  // The highest worker number and the ends of the sequence stay in range and distinct.
  const FlowIds last(FlowIds::kMaxWorkers - 1, 7);
  BOOST_TEST(last.permute(FlowIds::kIdMask) <= FlowIds::kIdMask);
  BOOST_TEST(last.permute(FlowIds::kIdMask) != last.permute(FlowIds::kIdMask - 1));
}

BOOST_AUTO_TEST_CASE(the_same_flow_number_differs_between_runs) {
  FlowIds run_a(0, 1);
  FlowIds run_b(0, 2);
  int equal = 0;
  std::unordered_set<uint64_t> from_a;
  for (int n = 0; n < 10'000; ++n) {
    const uint64_t a = run_a.next();
    const uint64_t b = run_b.next();
    equal += a == b ? 1 : 0;
    from_a.insert(a);
  }
  BOOST_TEST(equal == 0);
  // Not a shifted copy either: run b's ids are (nearly) all absent from run a's.
  FlowIds again(0, 2);
  int shared = 0;
  for (int n = 0; n < 10'000; ++n) {
    shared += from_a.count(again.next()) != 0 ? 1 : 0;
  }
  BOOST_TEST(shared == 0);
}

BOOST_AUTO_TEST_CASE(ids_do_not_count_up) {
  // Consecutive flows do not get consecutive (or nearby) ids: the order of ids reveals nothing.
  FlowIds ids(0, 99);
  const uint64_t first = ids.next();
  const uint64_t second = ids.next();
  const uint64_t distance = first > second ? first - second : second - first;
  BOOST_TEST(distance > 1'000'000u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::dataplane
