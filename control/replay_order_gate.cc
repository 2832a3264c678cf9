// ReplayOrderGate: replay's lanes read the shared learned book in input order (replay_order_gate.h).
#include "control/replay_order_gate.h"

namespace misdirect::control {

ReplayOrderGate::ReplayOrderGate(uint32_t lanes)
    : lanes_count_(lanes), positions_(std::make_unique<Position[]>(lanes)) {}

void ReplayOrderGate::publish(uint32_t lane, uint32_t order) noexcept {
  Position& own = positions_[lane];
  own.order.store(order, std::memory_order_release);
  own.order.notify_all();  // a system call only when some lane sleeps on this word
}

bool ReplayOrderGate::passed(const Position& other, uint32_t order) const noexcept {
  // Positions wrap at 2^32; lanes are never 2^31 apart (a few batches at most).
  return static_cast<int32_t>(other.order.load(std::memory_order_acquire) - order) >= 0;
}

bool ReplayOrderGate::others_passed(uint32_t lane, uint32_t order) const noexcept {
  for (uint32_t other = 0; other < lanes_count_; ++other) {
    if (other != lane && !passed(positions_[other], order)) {
      return false;
    }
  }
  return true;
}

void ReplayOrderGate::wait_for_earlier(uint32_t lane, uint32_t order) noexcept {
  publish(lane, order);
  for (uint32_t other = 0; other < lanes_count_; ++other) {
    if (other == lane) {
      continue;
    }
    const Position& position = positions_[other];
    for (uint32_t seen = position.order.load(std::memory_order_acquire);
         static_cast<int32_t>(seen - order) < 0; seen = position.order.load(std::memory_order_acquire)) {
      // Sleeps until the word is no longer `seen` (spinning a little first); woken by publish.
      position.order.wait(seen, std::memory_order_acquire);
    }
  }
}

}  // namespace misdirect::control
