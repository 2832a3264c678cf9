// Subscriber fan-out: which records a `subscribe`d client gets, and what happens when it does not
// read them. The server broadcasts every record line once; each subscriber's bounded output
// buffer takes it or drops it (counted, reported to the subscriber by an overflow event once it
// has room again), and a subscriber that takes nothing while many records drop is cut off.
// Never blocks and never grows a buffer past its bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "dataplane/output/record_sink.h"

namespace misdirect::control {

class ControlClient;

// One client's side of the fan-out. `events` is an EventKind mask (control_protocol.h); 0: not
// a subscriber.
struct Subscription {
  uint8_t events = 0;
  uint64_t dropped_unreported = 0;      // drops the subscriber has not been told of yet
  uint64_t dropped_since_progress = 0;  // drops since the socket last took a byte

  bool active() const noexcept { return events != 0; }
  bool wants(dataplane::RecordType type) const noexcept;
  void note_progress() noexcept { dropped_since_progress = 0; }
};

struct FanoutLimits {
  std::size_t buffer_bytes = 0;  // queued output per client
  uint64_t drop_limit = 0;       // drops without progress before a disconnect
};

enum class Delivery : uint8_t {
  kQueued,
  kDropped,       // the buffer is full: counted in the subscription
  kDisconnected,  // dropped, and past the drop limit: the caller closes the client
};

// Queues `json_line` to `client` if its buffer has room, after an overflow event for what it
// missed before.
Delivery deliver_record(ControlClient& client, std::string_view json_line, const FanoutLimits& limits);

// After a flush: tells a subscriber that had drops how many, once its buffer is half empty.
void report_overflow(ControlClient& client, const FanoutLimits& limits);

// The names of the streams in an EventKind mask, in protocol order ("alert", "smtp", "stats").
std::vector<std::string_view> event_names(uint8_t events);

}  // namespace misdirect::control
