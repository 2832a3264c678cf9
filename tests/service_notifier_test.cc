// Tests for ServiceNotifier: what systemd is told and when — READY=1 with a STATUS= line, STATUS=
// at its interval, WATCHDOG=1 every half watchdog while workers pass their heartbeats, no more
// WATCHDOG=1 once a worker stalls (and again once it moves), STOPPING=1, and nothing at all
// without systemd.
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

#include "control/service_notifier.h"

using misdirect::control::ServiceNotifier;
using misdirect::control::ServiceNotifierConfig;
using misdirect::control::ServiceStatus;
using misdirect::control::WorkerHeartbeat;

namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSecond = 1'000 * kMs;

// Workers as the RCU token sees them: each has passed up to some token; `frozen` stops one.
class FakeHeartbeat final : public WorkerHeartbeat {
 public:
  explicit FakeHeartbeat(std::size_t workers) : seen_(workers, 0) {}
  uint64_t start() noexcept override { return ++token_; }
  bool passed(uint64_t token) noexcept override { return !lagging(token).has_value(); }
  std::optional<uint32_t> lagging(uint64_t token) noexcept override {
    for (std::size_t i = 0; i < seen_.size(); ++i) {
      if (seen_[i] < token) {
        return static_cast<uint32_t>(i);
      }
    }
    return std::nullopt;
  }
  // Every worker that is not frozen loops and reports.
  void loop() {
    for (std::size_t i = 0; i < seen_.size(); ++i) {
      if (static_cast<int>(i) != frozen) {
        seen_[i] = token_;
      }
    }
  }
  int frozen = -1;

 private:
  uint64_t token_ = 0;
  std::vector<uint64_t> seen_;
};

struct Harness {
  explicit Harness(uint64_t watchdog_ns, bool enabled = true) {
    ServiceNotifierConfig config;
    config.watchdog_ns = watchdog_ns;
    notifier.emplace(config, enabled, [this](const std::string& message) { sent.push_back(message); });
  }
  std::size_t count(const std::string& prefix) const {
    std::size_t n = 0;
    for (const std::string& message : sent) {
      n += message.rfind(prefix, 0) == 0 ? 1 : 0;
    }
    return n;
  }
  // Runs the control loop from `from` to `to` in 2 ms turns, the workers looping in between.
  void run(uint64_t from, uint64_t to, FakeHeartbeat& workers) {
    for (uint64_t now = from; now < to; now += 2 * kMs) {
      workers.loop();
      notifier->tick(status, now, &workers);
    }
  }
  std::optional<ServiceNotifier> notifier;
  std::vector<std::string> sent;
  ServiceStatus status{2, 81234, 3, 1};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(service_notifier)

BOOST_AUTO_TEST_CASE(status_line) {
  BOOST_TEST(ServiceNotifier::status_line("running", ServiceStatus{2, 81234, 3, 1}) ==
             "running: 2 workers, 81234 packets, 3 alerts, lists generation 1");
  BOOST_TEST(ServiceNotifier::status_line("stopping", ServiceStatus{1, 1, 1, 2}) ==
             "stopping: 1 worker, 1 packet, 1 alert, lists generation 2");
}

BOOST_AUTO_TEST_CASE(ready_then_status_and_watchdog_at_their_intervals) {
  Harness h(2 * kSecond);
  FakeHeartbeat workers(2);
  h.notifier->ready(h.status, 0);
  BOOST_REQUIRE(!h.sent.empty());
  BOOST_TEST(h.sent[0] == "READY=1\nSTATUS=running: 2 workers, 81234 packets, 3 alerts, lists generation 1");
  h.run(0, 10 * kSecond, workers);
  // A pet every half watchdog (1 s) over 10 s: at ready and then ten more at most.
  BOOST_TEST(h.count("WATCHDOG=1") >= 10u);
  BOOST_TEST(h.count("WATCHDOG=1") <= 11u);
  BOOST_TEST(h.count("STATUS=running") == 1u);  // READY carried the first; the next at 5 s
  BOOST_TEST(h.notifier->stall().empty());
}

BOOST_AUTO_TEST_CASE(a_stalled_worker_stops_the_watchdog_and_is_named) {
  Harness h(2 * kSecond);
  FakeHeartbeat workers(3);
  h.notifier->ready(h.status, 0);
  h.run(0, 3 * kSecond, workers);
  const std::size_t pets_before = h.count("WATCHDOG=1");
  workers.frozen = 1;
  h.run(3 * kSecond, 10 * kSecond, workers);
  BOOST_TEST(h.notifier->stall().find("worker 1 ") == 0, h.notifier->stall());
  // Petting stops within the stall time (half the watchdog): at most one more pet.
  BOOST_TEST(h.count("WATCHDOG=1") <= pets_before + 1);
  BOOST_TEST(h.count("STATUS=stalled: worker 1 has not passed a heartbeat") == 1u);
  // The worker moves again: petting resumes.
  workers.frozen = -1;
  const std::size_t pets_stalled = h.count("WATCHDOG=1");
  h.run(10 * kSecond, 14 * kSecond, workers);
  BOOST_TEST(h.notifier->stall().empty());
  BOOST_TEST(h.count("WATCHDOG=1") >= pets_stalled + 3);
}

BOOST_AUTO_TEST_CASE(a_stalled_control_loop_stops_the_watchdog) {
  // The loop that stops calling tick() sends nothing: systemd's timer runs out.
  Harness h(2 * kSecond);
  FakeHeartbeat workers(1);
  h.notifier->ready(h.status, 0);
  h.run(0, 2 * kSecond, workers);
  const std::size_t pets = h.count("WATCHDOG=1");
  h.notifier->tick(h.status, 2 * kSecond + 1, &workers);  // one late turn, then nothing
  BOOST_TEST(h.count("WATCHDOG=1") <= pets + 1);
}

BOOST_AUTO_TEST_CASE(no_watchdog_configured_means_no_pets) {
  Harness h(0);
  FakeHeartbeat workers(1);
  h.notifier->ready(h.status, 0);
  h.run(0, 6 * kSecond, workers);
  BOOST_TEST(h.count("WATCHDOG=1") == 0u);
  BOOST_TEST(h.count("READY=1") == 1u);
}

BOOST_AUTO_TEST_CASE(stopping) {
  Harness h(2 * kSecond);
  h.notifier->stopping(h.status);
  BOOST_REQUIRE(h.sent.size() == 1u);
  BOOST_TEST(h.sent[0] == "STOPPING=1\nSTATUS=stopping: 2 workers, 81234 packets, 3 alerts, lists generation 1");
}

BOOST_AUTO_TEST_CASE(without_systemd_nothing_is_sent) {
  Harness h(2 * kSecond, false);
  FakeHeartbeat workers(1);
  h.notifier->ready(h.status, 0);
  h.run(0, 5 * kSecond, workers);
  h.notifier->stopping(h.status);
  BOOST_TEST(h.sent.empty());
}

BOOST_AUTO_TEST_SUITE_END()
