// ReplayOrderGate: how far each of replay's worker lanes has got through the input, and the wait of
// a lane that is about to read the shared learned-address book until the others have caught up
// (the LearnedBookGate of `replay --workers N`, see dataplane/app/learned_address_book.h).
//
// Why a gate at all: a file is read as fast as each lane goes, so one lane can be ahead of
// another by a few batches; a lane looking up an SMTP server's address must first see every fact
// the other lanes learn from earlier packets, as one worker reading the file in order would.
//
// Whom it waits for: only a DNS answer teaches the book. Each packet carries how many packets
// just before it are not DNS (PacketView::quiet_before, stamped by the reader: see
// replay_book_teachers.h), so a lane about to read at position P lets another lane go as soon as
// that lane has passed the last packet before P that can teach (P - quiet_before) and holds no
// DNS-over-TCP flow (whose held bytes a timer or the flow's end may deliver at any packet);
// otherwise, as before, once that lane has passed P itself. On SMTP traffic without DNS a lane
// then never waits.
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

  // Whether no lane but `lane` can still learn from the packets before input position `order`,
  // the last `quiet_before` of which cannot teach (what wait_for_earlier waits for).
  bool others_passed(uint32_t lane, uint32_t order, uint16_t quiet_before = 0) const noexcept;

  // A lane, before it reads the shared book: publishes `order` as its own position (everything
  // of its own before it is done, and others may be waiting on it), then waits until
  // others_passed(lane, order, quiet_before).
  void wait_for_earlier(uint32_t lane, uint32_t order, uint16_t quiet_before) noexcept override;
  // Lane `lane`'s thread: it now holds `held` DNS-over-TCP flows.
  void dns_streams_held(uint32_t lane, uint32_t held) noexcept override;

 private:
  // One lane's position and DNS streams, on their own cache line: written by that lane only,
  // read by the others.
  struct alignas(64) Position {
    std::atomic<uint32_t> order{0};
    std::atomic<uint32_t> dns_streams{0};
  };
  // Whether `other`, last seen at `seen`, can no longer learn from the packets before `order`.
  static bool lets_read(const Position& other, uint32_t seen, uint32_t order, uint16_t quiet_before) noexcept;

  uint32_t lanes_count_;
  std::unique_ptr<Position[]> positions_;
};

}  // namespace misdirect::control
