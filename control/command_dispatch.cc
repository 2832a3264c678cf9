// CommandDispatcher: one answer function per command that is not a list push.
#include "control/command_dispatch.h"

#include <string_view>
#include <utility>
#include <vector>

#include "inspect/domain_lists.h"

namespace misdirect::control {

namespace {

JsonValue string_array(const std::vector<std::string>& values) {
  JsonValue array = JsonValue::array();
  for (const std::string& value : values) {
    array.push_back(JsonValue::string(value));
  }
  return array;
}

}  // namespace

std::string CommandDispatcher::answer(const Request& request, RequestContext& context) {
  const JsonValue& id = request.id;
  if (std::holds_alternative<PingRequest>(request.body)) {
    JsonValue fields = JsonValue::object();
    fields.set("pong", JsonValue::boolean(true));
    fields.set("generation", JsonValue::number(sensor_.generation()));
    return make_ok_response(id, std::move(fields));
  }
  if (std::holds_alternative<ListsGetRequest>(request.body)) {
    const inspect::DomainLists lists = sensor_.current_lists();
    JsonValue fields = JsonValue::object();
    fields.set("generation", JsonValue::number(sensor_.generation()));
    fields.set("protected", string_array(lists.protected_domains));
    fields.set("allow", string_array(lists.allow));
    return make_ok_response(id, std::move(fields));
  }
  if (std::holds_alternative<StatsRequest>(request.body)) {
    return answer_stats(id, context);
  }
  const auto& subscribe = std::get<SubscribeRequest>(request.body);
  context.subscription.events = subscribe.events;
  JsonValue events = JsonValue::array();
  for (const std::string_view name : event_names(subscribe.events)) {
    events.push_back(JsonValue::string(std::string(name)));
  }
  JsonValue fields = JsonValue::object();
  fields.set("events", std::move(events));
  return make_ok_response(id, std::move(fields));
}

std::string CommandDispatcher::answer_stats(const JsonValue& id, RequestContext& context) {
  // The sensor's record and the server's counters are trees written by the stats writer, placed
  // into the answer as they are: never parsed again.
  JsonValue fields = JsonValue::object();
  fields.set("generation", JsonValue::number(sensor_.generation()));
  std::string answer = make_ok_response(id, std::move(fields));
  answer.pop_back();  // the closing brace: the two trees follow
  dataplane::StatsNode record;
  sensor_.collect_stats(record);
  answer += ",\"sensor\":";
  dataplane::write_stats_json(record, answer);
  answer += ",\"control\":";
  dataplane::write_stats_json(context.control_counters(), answer);
  answer += '}';
  return answer;
}

}  // namespace misdirect::control
