// ControlCounter: the control socket's counter table (STYLE.md 8), shared by the server, its push
// queue and the `stats` answer's `control` object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "dataplane/counter_table.h"

namespace misdirect::control {

enum class ControlCounter : uint16_t {
  kAccepted,
  kRefused,
  kTooManyClients,
  kRequests,
  kErrors,
  kOversized,
  kIncompleteLines,
  kListSwaps,
  kPersistFailures,
  kEventsSent,
  kSubscriberDrops,
  kSubscriberDisconnects,
  kWriteErrors,
  kIdleTimeouts,
  kPushesQueued,
  kParsedOffLoop,
  kCount
};

inline constexpr dataplane::CounterInfo kControlCounterInfo[] = {
    {"accepted", "connections accepted"},
    {"refused", "connections refused by the SO_PEERCRED policy"},
    {"too_many_clients", "connections closed because max_clients were connected"},
    {"requests", "request lines answered"},
    {"errors", "requests answered with an error"},
    {"oversized", "connections closed for a line longer than max_message_bytes"},
    {"incomplete_lines", "connections that ended in the middle of a line"},
    {"list_swaps", "lists accepted and published"},
    {"persist_failures", "accepted lists that could not be written to the state directory"},
    {"events_sent", "records queued to subscribers"},
    {"subscriber_drops", "records a subscriber's full buffer could not take"},
    {"subscriber_disconnects", "subscribers disconnected for not reading"},
    {"write_errors", "connections closed because a write failed"},
    {"idle_timeouts", "connections closed after idle_timeout_ms without a request (not subscribers)"},
    {"pushes_queued", "list pushes that waited for another push's compile to end"},
    {"parsed_off_loop", "request lines long enough to be parsed on a helper thread"},
};
static_assert(std::size(kControlCounterInfo) == static_cast<std::size_t>(ControlCounter::kCount));

using ControlCounters = dataplane::CounterArray<ControlCounter>;

}  // namespace misdirect::control
