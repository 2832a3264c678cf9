// MatcherSlot: RCU publication of the look-alike matcher (see live_matcher_slot.h).
#include "dataplane/live/live_matcher_slot.h"

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <stdexcept>
#include <string>

namespace misdirect::dataplane {

MatcherSlot::MatcherSlot(uint32_t workers) : workers_(workers) {
  const std::size_t bytes = rte_rcu_qsbr_get_memsize(workers);
  qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("misdirect_rcu", bytes, RTE_CACHE_LINE_SIZE));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, workers) != 0) {
    rte_free(qsbr_);
    throw std::runtime_error("cannot allocate the RCU variable for " + std::to_string(workers) +
                             " workers (" + std::to_string(bytes) + " bytes of EAL memory)");
  }
  for (uint32_t id = 0; id < workers; ++id) {
    rte_rcu_qsbr_thread_register(qsbr_, id);
  }
}

MatcherSlot::~MatcherSlot() {
  delete current_.load(std::memory_order_relaxed);
  rte_free(qsbr_);
}

uint64_t MatcherSlot::publish(std::unique_ptr<const inspect::Matcher> matcher, uint64_t compile_ns) {
  if (reclaim() >= kMaxRetired) {
    throw std::runtime_error(std::to_string(retired_.size()) +
                             " earlier matchers are still waiting for every worker to pass a "
                             "quiescent point; is a worker stuck?");
  }
  retired_.reserve(kMaxRetired);  // so that retiring below cannot throw after the exchange
  auto next = std::make_unique<MatcherGeneration>();
  next->scratches.reserve(workers_);
  for (uint32_t id = 0; id < workers_; ++id) {
    next->scratches.push_back(matcher->make_scratch());
  }
  next->matcher = std::move(matcher);
  next->generation = next_generation_++;
  next->compile_ns = compile_ns;
  const uint64_t generation = next->generation;
  MatcherGeneration* old = current_.exchange(next.release(), std::memory_order_acq_rel);
  if (old != nullptr) {
    // The token orders after the exchange: a worker whose counter reaches it has reloaded the
    // slot since. Offline workers (not started yet, or finished) are not waited for by
    // rte_rcu_qsbr_check: they hold no binding they will use again without reloading the slot.
    retired_.push_back(Retired{std::unique_ptr<MatcherGeneration>(old), rte_rcu_qsbr_start(qsbr_)});
  }
  return generation;
}

uint64_t MatcherSlot::start_heartbeat() noexcept { return rte_rcu_qsbr_start(qsbr_); }

bool MatcherSlot::heartbeat_passed(uint64_t token) const noexcept {
  return rte_rcu_qsbr_check(qsbr_, token, false) == 1;
}

std::optional<uint32_t> MatcherSlot::heartbeat_lagging(uint64_t token) const noexcept {
  for (uint32_t id = 0; id < workers_; ++id) {
    // The counter a worker last reported; 0 while it is offline (not started, or finished).
    const uint64_t seen = __atomic_load_n(&qsbr_->qsbr_cnt[id].cnt, __ATOMIC_ACQUIRE);
    if (seen != 0 && seen < token) {
      return id;
    }
  }
  return std::nullopt;
}

std::size_t MatcherSlot::reclaim() noexcept {
  // Tokens grow with retirement order, so once one has not passed, the later ones have not either.
  std::size_t passed = 0;
  while (passed < retired_.size() && rte_rcu_qsbr_check(qsbr_, retired_[passed].token, false) == 1) {
    ++passed;
  }
  retired_.erase(retired_.begin(), retired_.begin() + static_cast<std::ptrdiff_t>(passed));
  return retired_.size();
}

void MatcherSlot::online(uint32_t worker_id) noexcept { rte_rcu_qsbr_thread_online(qsbr_, worker_id); }

void MatcherSlot::offline(uint32_t worker_id) noexcept {
  rte_rcu_qsbr_thread_offline(qsbr_, worker_id);
}

void MatcherSlot::quiescent(uint32_t worker_id) noexcept { rte_rcu_qsbr_quiescent(qsbr_, worker_id); }

}  // namespace misdirect::dataplane
