// ReplayOrderGate: how far each of replay's worker lanes has got through the input, and the wait of
// a lane that is about to read the shared learned-address book until the others have caught up
// (the LearnedBookGate of `replay --workers N`, see dataplane/app/learned_address_book.h).
//
// Why a gate at all: a file is read as fast as each lane goes, so one lane can be ahead of
// another by a few batches; a lane looking up an SMTP server's address must first see every fact
// the other lanes learn from earlier packets, as one worker reading the file in order would.
//
// How it waits: a lane publishes its position (every packet of its own before it is processed)
// after each segment of a batch, not per packet. A waiting lane spins briefly and then sleeps on
// the position word it waits for (std::atomic::wait: a futex on Linux), so a lane that waits
// gives its core to the lane it waits for instead of burning it: on a machine with fewer cores
// than threads (replay's reader and N lanes) that is where the time goes. Publishing wakes
// sleepers only when some thread sleeps on that word (libstdc++ keeps a waiter count).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "dataplane/app/learned_address_book.h"

namespace misdirect::control {

class ReplayOrderGate final : public dataplane::LearnedBookGate {
 public:
  explicit ReplayOrderGate(uint32_t lanes);

  uint32_t lanes() const noexcept { return lanes_count_; }

  // Lane `lane`'s thread: every packet of its own before input position `order` is processed
  // (positions count modulo 2^32 and only move forward).
  void publish(uint32_t lane, uint32_t order) noexcept;

  // Whether every lane but `lane` has processed its packets before `order` (what
  // wait_for_earlier waits for).
  bool others_passed(uint32_t lane, uint32_t order) const noexcept;

  // A lane, before it reads the shared book: publishes `order` as its own position (everything
  // of its own before it is done, and others may be waiting on it), then waits until
  // others_passed(lane, order).
  void wait_for_earlier(uint32_t lane, uint32_t order) noexcept override;

 private:
  // One lane's position, on its own cache line: written by that lane only, read by the others.
  struct alignas(64) Position {
    std::atomic<uint32_t> order{0};
  };
  bool passed(const Position& other, uint32_t order) const noexcept;

  uint32_t lanes_count_;
  std::unique_ptr<Position[]> positions_;
};

}  // namespace misdirect::control
