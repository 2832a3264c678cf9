// MatcherSlot: how a new look-alike matcher reaches running workers — published with one atomic
// pointer store, picked up by each worker between bursts, and the old one freed only once
// rte_rcu_qsbr says every worker has passed a quiescent point since the store. The control thread
// never waits for that: publish() retires the old generation with an RCU token (rte_rcu_qsbr_start)
// and reclaim(), polled from the control loop, frees each retired one whose token
// rte_rcu_qsbr_check reports as passed.
//
// Worker loop order (this is what makes the free safe): load the slot and rebind → process a
// burst with that binding → report quiescent. A worker that reports quiescent after the store has
// read the new token with acquire ordering, so its next load sees the new generation; the burst
// it was in the middle of finished before the report.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "dataplane/app/matcher_binding.h"
#include "inspect/matcher.h"

struct rte_rcu_qsbr;

namespace misdirect::dataplane {

// One published matcher with a scratch for each worker, allocated on the control thread before
// publication so that no worker ever allocates.
struct MatcherGeneration {
  std::unique_ptr<const inspect::Matcher> matcher;
  std::vector<inspect::MatcherScratch> scratches;  // index: worker id
  uint64_t generation = 0;
  uint64_t compile_ns = 0;  // how long the matcher's build took, as its builder measured it
};

class MatcherSlot {
 public:
  // Throws std::runtime_error when the RCU variable cannot be allocated.
  explicit MatcherSlot(uint32_t workers);
  ~MatcherSlot();
  MatcherSlot(const MatcherSlot&) = delete;
  MatcherSlot& operator=(const MatcherSlot&) = delete;

  // Retired generations waiting for their grace period. Workers pass a quiescent point after every
  // burst, so one is freed within a burst's time; a publish finding this many still waiting is
  // refused (a worker has stopped reporting, and memory would grow with every push).
  static constexpr std::size_t kMaxRetired = 8;

  // Control thread. Makes the scratches (may throw std::bad_alloc or, past kMaxRetired,
  // std::runtime_error: nothing changes then), publishes, and retires the previous generation
  // without waiting. Returns the new generation number. `compile_ns`: how long the build took
  // (inspect/ reads no clock, so the builder times it), shown in the stats.
  uint64_t publish(std::unique_ptr<const inspect::Matcher> matcher, uint64_t compile_ns);
  // Control thread, polled: frees every retired generation that no worker can still be using.
  // Never blocks. Returns how many are still waiting.
  std::size_t reclaim() noexcept;
  std::size_t retired() const noexcept { return retired_.size(); }
  // Control thread: the generation judging now (null before the first publish).
  const MatcherGeneration* current() const noexcept {
    return current_.load(std::memory_order_relaxed);
  }

  // Control thread: the workers' heartbeat for the service watchdog (control/service_notifier.h).
  // The QSBR token the matcher's grace periods use: every online worker passes a new token at the
  // quiescent point it reports after each poll, busy or idle, so a worker that does not pass one
  // is not looping. heartbeat_passed checks without waiting (rte_rcu_qsbr_check, no wait).
  uint64_t start_heartbeat() noexcept;
  bool heartbeat_passed(uint64_t token) const noexcept;
  // An online worker that has not passed `token` yet, if any.
  std::optional<uint32_t> heartbeat_lagging(uint64_t token) const noexcept;

  // Worker threads (thread id = worker id).
  void online(uint32_t worker_id) noexcept;
  void offline(uint32_t worker_id) noexcept;
  void quiescent(uint32_t worker_id) noexcept;
  // True when a newer generation was published since `bound` (which then remembers it): the
  // worker's new binding is in `binding`.
  bool refresh(uint32_t worker_id, const MatcherGeneration*& bound, MatcherBinding& binding) noexcept {
    MatcherGeneration* now = current_.load(std::memory_order_acquire);
    if (now == bound) {
      return false;
    }
    bound = now;
    binding = MatcherBinding{now->matcher.get(), &now->scratches[worker_id], now->generation};
    return true;
  }

 private:
  uint32_t workers_;
  rte_rcu_qsbr* qsbr_ = nullptr;
  std::atomic<MatcherGeneration*> current_{nullptr};
  uint64_t next_generation_ = 1;
  struct Retired {
    std::unique_ptr<MatcherGeneration> generation;
    uint64_t token = 0;  // rte_rcu_qsbr_start at retirement
  };
  std::vector<Retired> retired_;  // oldest first; at most kMaxRetired
};

}  // namespace misdirect::dataplane
