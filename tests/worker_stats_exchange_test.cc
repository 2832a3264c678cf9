// WorkerStatsExchange: the control thread takes a worker's stats tree without waiting for it.
// Ordering, not timing: the worker answers only after the control thread has asked and taken its
// tree, so an exchange that waited for the answer would never get there (and one that gave up
// after a while would hand over no tree or a stale one, which the checks refuse).
#include "dataplane/live/worker_stats_exchange.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

namespace misdirect::dataplane {
namespace {

uint64_t packets_in(const StatsNode& tree) {
  const StatsNode* node = tree.find_path("worker.packets");
  return node != nullptr ? node->count() : UINT64_MAX;
}

// A worker whose counter the test sets; it answers with it.
struct ToyWorker {
  uint64_t packets = 0;
  void collect(StatsNode& tree) const { tree.child("worker").add("packets", packets); }
};

constexpr uint64_t kPatienceNs = 250;

BOOST_AUTO_TEST_SUITE(worker_stats_exchange)

BOOST_AUTO_TEST_CASE(a_request_returns_at_once_and_the_newest_answer_is_taken_before_the_worker_answers) {
  WorkerStatsExchange exchange;
  ToyWorker worker;
  worker.packets = 7;
  exchange.prime([&](StatsNode& tree) { worker.collect(tree); });
  BOOST_TEST(exchange.answered());  // nothing asked yet
  BOOST_TEST(packets_in(exchange.latest()) == 7u);

  worker.packets = 9;
  std::atomic<bool> control_done{false};
  std::atomic<bool> worker_answered{false};
  std::thread lcore([&] {
    // The worker answers only once the control thread has asked and taken its tree.
    while (!control_done.load(std::memory_order_acquire)) {
      std::this_thread::yield();
    }
    worker_answered.store(exchange.answer([&](StatsNode& tree) { worker.collect(tree); }));
  });

  exchange.request(1000);
  BOOST_TEST(!exchange.answered());
  BOOST_TEST(!exchange.overdue(1000, kPatienceNs));
  const StatsNode& taken = exchange.latest();  // the previous answer, without waiting
  BOOST_TEST(packets_in(taken) == 7u);
  control_done.store(true, std::memory_order_release);
  lcore.join();

  BOOST_TEST(worker_answered.load());
  BOOST_TEST(exchange.answered());
  BOOST_TEST(packets_in(exchange.latest()) == 9u);
  // The worker wrote the spare tree: the one the control thread held was never touched.
  BOOST_TEST(&taken != &exchange.latest());
  BOOST_TEST(packets_in(taken) == 7u);
}

BOOST_AUTO_TEST_CASE(the_worker_answers_each_request_once_and_alternates_trees) {
  WorkerStatsExchange exchange;
  ToyWorker worker;
  exchange.prime([&](StatsNode& tree) { worker.collect(tree); });
  const auto answer = [&] { return exchange.answer([&](StatsNode& tree) { worker.collect(tree); }); };
  BOOST_TEST(!answer());  // nothing asked
  const StatsNode* previous = &exchange.latest();
  for (uint64_t round = 1; round <= 4; ++round) {
    worker.packets = round;
    exchange.request(round);
    BOOST_TEST(answer());
    BOOST_TEST(!answer());  // answered already
    BOOST_TEST(packets_in(exchange.latest()) == round);  // zeroed, not summed, on each refill
    BOOST_TEST(&exchange.latest() != previous);
    previous = &exchange.latest();
  }
}

BOOST_AUTO_TEST_CASE(a_request_is_overdue_after_its_patience_counted_from_the_first_unanswered_one) {
  WorkerStatsExchange exchange;
  ToyWorker worker;
  exchange.prime([&](StatsNode& tree) { worker.collect(tree); });
  exchange.request(1000);
  BOOST_TEST(!exchange.overdue(1000 + kPatienceNs - 1, kPatienceNs));
  exchange.request(1100);  // asked again before an answer: the patience still counts from 1000
  BOOST_TEST(exchange.overdue(1000 + kPatienceNs, kPatienceNs));
  exchange.answer([&](StatsNode& tree) { worker.collect(tree); });
  BOOST_TEST(!exchange.overdue(1000 + 10 * kPatienceNs, kPatienceNs));
  exchange.request(5000);
  BOOST_TEST(!exchange.overdue(5000 + kPatienceNs - 1, kPatienceNs));
  BOOST_TEST(exchange.overdue(5000 + kPatienceNs, kPatienceNs));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace misdirect::dataplane
