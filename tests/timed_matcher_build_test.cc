// TimedMatcherBuild: the caller times Matcher::build (inspect/ reads no clock) on the clock it is
// given; a failed build is timed too. The clock is injected: it moves only when read.
#include "control/timed_matcher_build.h"

#include <boost/test/unit_test.hpp>

namespace misdirect::control {
namespace {

// Each monotonic read moves the clock on by `step_ns`: the build sits between exactly two reads.
class SteppingClock final : public dataplane::Clock {
 public:
  explicit SteppingClock(uint64_t step_ns) : step_ns_(step_ns) {}
  uint64_t wall_ns() const noexcept override { return 0; }
  uint64_t monotonic_ns() const noexcept override {
    now_ns_ += step_ns_;
    return now_ns_;
  }

 private:
  uint64_t step_ns_;
  mutable uint64_t now_ns_ = 1'000'000;
};

BOOST_AUTO_TEST_SUITE(timed_matcher_build)

BOOST_AUTO_TEST_CASE(the_build_is_timed_by_the_clock_given) {
  inspect::DomainLists lists;
  lists.protected_domains = {"army.mil", "example.com"};
  SteppingClock clock(2'500'000);
  const TimedMatcherBuild timed = build_matcher_timed(lists, inspect::MatcherOptions{}, clock);
  BOOST_TEST_REQUIRE(timed.built.matcher != nullptr);
  BOOST_TEST(timed.compile_ns == 2'500'000u);
  BOOST_TEST(timed.built.matcher->pattern_count() > 0u);
}

BOOST_AUTO_TEST_CASE(a_failed_build_is_timed_too) {
  inspect::DomainLists lists;
  lists.protected_domains = {"army.mil"};
  inspect::MatcherOptions options;
  options.public_suffix_list = "/nonexistent/misdirect-test/public_suffix_list.dat";
  SteppingClock clock(7);
  const TimedMatcherBuild timed = build_matcher_timed(lists, options, clock);
  BOOST_TEST(timed.built.matcher == nullptr);
  BOOST_TEST(!timed.built.error.empty());
  BOOST_TEST(timed.compile_ns == 7u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace misdirect::control
