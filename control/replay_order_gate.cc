// ReplayOrderGate: replay's lanes read the shared learned book in input order (replay_order_gate.h).
#include "control/replay_order_gate.h"

namespace misdirect::control {
namespace {

// Positions wrap at 2^32; lanes are never 2^31 apart (a few batches at most).
bool at_or_after(uint32_t position, uint32_t order) noexcept {
  return static_cast<int32_t>(position - order) >= 0;
}

}  // namespace

ReplayOrderGate::ReplayOrderGate(uint32_t lanes)
    : lanes_count_(lanes), positions_(std::make_unique<Position[]>(lanes)) {}

void ReplayOrderGate::publish(uint32_t lane, uint32_t order) noexcept {
  Position& own = positions_[lane];
  own.order.store(order, std::memory_order_release);
  own.order.notify_all();  // a system call only when some lane sleeps on this word
}

void ReplayOrderGate::dns_streams_held(uint32_t lane, uint32_t held) noexcept {
  // Release: what the lane learned from a stream before it ended is seen by whoever reads 0.
  positions_[lane].dns_streams.store(held, std::memory_order_release);
}

bool ReplayOrderGate::lets_read(const Position& other, uint32_t seen, uint32_t order,
                                uint16_t quiet_before) noexcept {
  if (at_or_after(seen, order)) {
    return true;
  }
  // Between the last packet that can teach and `order` the other lane meets only packets that
  // cannot; it could still learn there only from a DNS stream it holds. `seen` was read first:
  // a stream it held at `seen` and has ended since taught what it did before the count fell.
  return quiet_before > 0 && at_or_after(seen, order - quiet_before) &&
         other.dns_streams.load(std::memory_order_acquire) == 0;
}

bool ReplayOrderGate::others_passed(uint32_t lane, uint32_t order, uint16_t quiet_before) const noexcept {
  for (uint32_t other = 0; other < lanes_count_; ++other) {
    const Position& position = positions_[other];
    if (other != lane && !lets_read(position, position.order.load(std::memory_order_acquire), order, quiet_before)) {
      return false;
    }
  }
  return true;
}

void ReplayOrderGate::wait_for_earlier(uint32_t lane, uint32_t order, uint16_t quiet_before) noexcept {
  publish(lane, order);
  for (uint32_t other = 0; other < lanes_count_; ++other) {
    if (other == lane) {
      continue;
    }
    const Position& position = positions_[other];
    for (uint32_t seen = position.order.load(std::memory_order_acquire);
         !lets_read(position, seen, order, quiet_before); seen = position.order.load(std::memory_order_acquire)) {
      // Sleeps until the position is no longer `seen` (spinning a little first); woken by publish.
      // A lane whose DNS streams end moves on too, so its position wakes this one in time.
      position.order.wait(seen, std::memory_order_acquire);
    }
  }
}

}  // namespace misdirect::control
