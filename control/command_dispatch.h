// CommandDispatcher: the answers to the control socket's requests that are not list pushes
// (those are jobs, list_push_queue.h). Each command is one function from a typed request
// (control_protocol.h) to its answer line; a new command is a request type there and a case here.
// Runs on the control thread and never waits: every answer reads what the sensor holds now.
#pragma once

#include <functional>
#include <string>

#include "control/control_protocol.h"
#include "control/sensor_control.h"
#include "control/subscriber_fanout.h"
#include "dataplane/output/stats_tree.h"

namespace misdirect::control {

// What answering one request may read or change besides the sensor.
struct RequestContext {
  Subscription& subscription;  // the asking client's: `subscribe` changes it
  // The server's own counters, for `stats` (computed only when asked).
  std::function<dataplane::StatsNode()> control_counters;
};

class CommandDispatcher {
 public:
  explicit CommandDispatcher(SensorControl& sensor) noexcept : sensor_(sensor) {}

  // The answer line to `request`, which is not a push. May throw (allocation, the sensor's list
  // code); the caller answers an internal error then.
  std::string answer(const Request& request, RequestContext& context);

 private:
  std::string answer_stats(const JsonValue& id, RequestContext& context);
  std::string answer_check(const JsonValue& id, const CheckRequest& check);
  std::string answer_version(const JsonValue& id);
  std::string answer_uptime(const JsonValue& id);
  std::string answer_reopen(const JsonValue& id);
  std::string answer_help(const JsonValue& id);

  SensorControl& sensor_;
};

}  // namespace misdirect::control
