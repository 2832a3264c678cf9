// Subscriber fan-out: record delivery into bounded client buffers, drops and overflow events.
#include "control/subscriber_fanout.h"

#include <utility>

#include "control/control_client.h"
#include "control/control_protocol.h"

namespace misdirect::control {

bool Subscription::wants(dataplane::RecordType type) const noexcept {
  uint8_t bit = 0;
  switch (type) {
    case dataplane::RecordType::kAlert:
      bit = static_cast<uint8_t>(EventKind::kAlert);
      break;
    case dataplane::RecordType::kSmtp:
    case dataplane::RecordType::kDns:  // protocol records: subscribers of "smtp" get dns too
      bit = static_cast<uint8_t>(EventKind::kSmtp);
      break;
    case dataplane::RecordType::kStats:
      bit = static_cast<uint8_t>(EventKind::kStats);
      break;
  }
  return (events & bit) != 0;
}

Delivery deliver_record(ControlClient& client, std::string_view json_line, const FanoutLimits& limits) {
  Subscription& subscription = client.subscription;
  if (client.pending() + json_line.size() + 1 > limits.buffer_bytes) {
    ++subscription.dropped_unreported;
    ++subscription.dropped_since_progress;
    return subscription.dropped_since_progress >= limits.drop_limit ? Delivery::kDisconnected
                                                                    : Delivery::kDropped;
  }
  if (subscription.dropped_unreported > 0) {
    client.queue_line(make_overflow_event(subscription.dropped_unreported));
    subscription.dropped_unreported = 0;
  }
  client.queue_line(json_line);
  return Delivery::kQueued;
}

void report_overflow(ControlClient& client, const FanoutLimits& limits) {
  Subscription& subscription = client.subscription;
  if (!client.closed() && subscription.dropped_unreported > 0 &&
      client.pending() < limits.buffer_bytes / 2) {
    client.queue_line(make_overflow_event(subscription.dropped_unreported));
    subscription.dropped_unreported = 0;
  }
}

std::vector<std::string_view> event_names(uint8_t events) {
  std::vector<std::string_view> names;
  for (const auto& [bit, name] : {std::pair{EventKind::kAlert, "alert"},
                                  std::pair{EventKind::kSmtp, "smtp"},
                                  std::pair{EventKind::kStats, "stats"}}) {
    if (events & static_cast<uint8_t>(bit)) {
      names.emplace_back(name);
    }
  }
  return names;
}

}  // namespace misdirect::control
