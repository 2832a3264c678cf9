// CommandDispatcher: one answer function per command that is not a list push.
#include "control/command_dispatch.h"

#include <array>
#include <string_view>
#include <utility>
#include <vector>

#include "control/build_info.h"
#include "dataplane/output/eve_writer.h"
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
  if (const auto* check = std::get_if<CheckRequest>(&request.body)) {
    return answer_check(id, *check);
  }
  if (std::holds_alternative<VersionRequest>(request.body)) {
    return answer_version(id);
  }
  if (std::holds_alternative<UptimeRequest>(request.body)) {
    return answer_uptime(id);
  }
  if (std::holds_alternative<ReopenRequest>(request.body)) {
    return answer_reopen(id);
  }
  if (std::holds_alternative<HelpRequest>(request.body)) {
    return answer_help(id);
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

// Each result is the object `misdirect check --json` prints for the input (answer_json), so the
// socket and the command line cannot drift apart.
std::string CommandDispatcher::answer_check(const JsonValue& id, const CheckRequest& check) {
  const std::vector<CheckAnswer> answers = sensor_.check(check.inputs);
  JsonValue fields = JsonValue::object();
  fields.set("generation", JsonValue::number(sensor_.generation()));
  std::string answer = make_ok_response(id, std::move(fields));
  answer.pop_back();  // the closing brace: the results follow
  answer += ",\"results\":[";
  for (std::size_t i = 0; i < answers.size(); ++i) {
    answer += i == 0 ? "" : ",";
    answer += answer_json(answers[i]);
  }
  answer += "]}";
  return answer;
}

std::string CommandDispatcher::answer_version(const JsonValue& id) {
  const BuildInfo info = build_info();
  JsonValue fields = JsonValue::object();
  fields.set("version", JsonValue::string(std::string(info.version)));
  fields.set("git_revision", JsonValue::string(std::string(info.git_revision)));
  fields.set("build_type", JsonValue::string(std::string(info.build_type)));
  fields.set("assertions", JsonValue::boolean(info.assertions));
  fields.set("dpdk", JsonValue::string(info.dpdk));
  fields.set("hyperscan", JsonValue::string(info.hyperscan));
  return make_ok_response(id, std::move(fields));
}

std::string CommandDispatcher::answer_uptime(const JsonValue& id) {
  const SensorUptime uptime = sensor_.uptime();
  std::array<char, dataplane::kTimestampBytes> started{};
  JsonValue fields = JsonValue::object();
  fields.set("started", JsonValue::string(std::string(dataplane::format_timestamp(uptime.started_unix_ns, started))));
  fields.set("uptime_s", JsonValue::number(static_cast<double>(uptime.uptime_ns) / 1e9));
  return make_ok_response(id, std::move(fields));
}

// Answered ok only when the file is open again; otherwise the error names the path and why, as
// SIGHUP's log line does.
std::string CommandDispatcher::answer_reopen(const JsonValue& id) {
  const ReopenResult reopened = sensor_.reopen_output();
  if (!reopened.ok) {
    return make_error_response(id, ErrorCode::kReopenFailed, reopened.error);
  }
  JsonValue fields = JsonValue::object();
  fields.set("reopened", JsonValue::boolean(reopened.reopened));
  fields.set("eve", JsonValue::string(reopened.path));
  return make_ok_response(id, std::move(fields));
}

std::string CommandDispatcher::answer_help(const JsonValue& id) {
  JsonValue commands = JsonValue::array();
  for (const CommandHelp& command : command_help()) {
    JsonValue entry = JsonValue::object();
    entry.set("cmd", JsonValue::string(std::string(command.name)));
    entry.set("help", JsonValue::string(std::string(command.summary)));
    commands.push_back(std::move(entry));
  }
  JsonValue fields = JsonValue::object();
  fields.set("commands", std::move(commands));
  return make_ok_response(id, std::move(fields));
}

}  // namespace misdirect::control
