// WorkerStatsExchange: how a worker lcore hands its own stats tree to the control thread with
// neither of them ever waiting for the other (docs/live.md, "Stats").
//
// A worker's counters are plain memory that only the worker writes, so only the worker reads
// them. The control thread asks; the worker answers between bursts; the control thread takes the
// newest answer whenever it needs one and goes on, answered or not.
//   control thread  request(now) raises a request; latest() is the newest answered tree;
//                   answered() says whether the newest request has been answered, overdue(now,
//                   patience) whether it has been waiting at least `patience_ns`.
//   worker lcore    answer(fill), once a loop: when a request waits, zeroes the spare tree, fills
//                   it, publishes it as the latest (release) and marks the request answered.
// Two trees, so that the worker never writes the one the control thread may be reading: it
// writes the tree that is not the latest, and it writes again only for a newer request, which the
// control thread (the only one that asks) cannot raise while it is still reading.
//
// Both trees are primed at set-up (prime, on the control thread), so that refilling them on the
// lcore allocates nothing (StatsNode::zero keeps every node).
#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/output/stats_tree.h"

namespace misdirect::dataplane {

class WorkerStatsExchange {
 public:
  // Control thread, before the worker runs: fills both trees, so that both have every node.
  template <typename Fill>
  void prime(Fill&& fill) {
    for (StatsNode& tree : trees_) {
      tree.zero();
      fill(tree);
    }
  }

  // Control thread: asks for a fresh tree and returns at once. `now_ns` (monotonic) starts the
  // patience of overdue() unless an earlier request is still waiting.
  void request(uint64_t now_ns) noexcept {
    if (answered()) {
      requested_at_ns_ = now_ns;
    }
    requested_.store(requested_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Control thread: the newest request has been answered (true before the first request).
  bool answered() const noexcept {
    return answered_.load(std::memory_order_acquire) == requested_.load(std::memory_order_relaxed);
  }

  // Control thread: a request has been waiting for at least `patience_ns`.
  bool overdue(uint64_t now_ns, uint64_t patience_ns) const noexcept {
    return !answered() && now_ns >= requested_at_ns_ && now_ns - requested_at_ns_ >= patience_ns;
  }

  // Control thread: the newest answered tree (a primed one before any answer). Valid until the
  // control thread raises its next request.
  const StatsNode& latest() const noexcept {
    return trees_[latest_.load(std::memory_order_acquire)];
  }

  // Worker lcore, between bursts: answers a waiting request. Returns whether it did.
  template <typename Fill>
  bool answer(Fill&& fill) {
    const uint64_t request = requested_.load(std::memory_order_acquire);
    if (request == answered_.load(std::memory_order_relaxed)) {
      return false;
    }
    const uint32_t spare = 1 - latest_.load(std::memory_order_relaxed);
    trees_[spare].zero();
    fill(trees_[spare]);
    latest_.store(spare, std::memory_order_release);
    answered_.store(request, std::memory_order_release);
    return true;
  }

 private:
  // Written by the control thread.
  alignas(64) std::atomic<uint64_t> requested_{0};
  uint64_t requested_at_ns_ = 0;
  // Written by the worker.
  alignas(64) std::atomic<uint64_t> answered_{0};
  std::atomic<uint32_t> latest_{0};
  StatsNode trees_[2];
};

}  // namespace misdirect::dataplane
