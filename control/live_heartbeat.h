// SensorHeartbeat: the live workers' heartbeat for the service watchdog (ServiceNotifier), read
// from the matcher slot's RCU token: a worker that passes no quiescent point is stalled.
#pragma once

#include <cstdint>
#include <optional>

#include "control/service_notifier.h"
#include "dataplane/live/live_matcher_slot.h"

namespace misdirect::control {

// The workers' heartbeat for the service watchdog: the matcher slot's RCU token.
class SensorHeartbeat final : public WorkerHeartbeat {
 public:
  explicit SensorHeartbeat(dataplane::MatcherSlot& slot) : slot_(slot) {}
  uint64_t start() noexcept override { return slot_.start_heartbeat(); }
  bool passed(uint64_t token) noexcept override { return slot_.heartbeat_passed(token); }
  std::optional<uint32_t> lagging(uint64_t token) noexcept override { return slot_.heartbeat_lagging(token); }

 private:
  dataplane::MatcherSlot& slot_;
};

}  // namespace misdirect::control
