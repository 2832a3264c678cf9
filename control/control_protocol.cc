// ControlProtocol: request validation and response lines.
#include "control/control_protocol.h"

#include <array>
#include <utility>

namespace misdirect::control {

std::string_view error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kParseError:
      return "parse_error";
    case ErrorCode::kInvalidRequest:
      return "invalid_request";
    case ErrorCode::kUnknownCommand:
      return "unknown_command";
    case ErrorCode::kInvalidDomain:
      return "invalid_domain";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kEmptyProtected:
      return "empty_protected";
    case ErrorCode::kListsRejected:
      return "lists_rejected";
    case ErrorCode::kMessageTooLarge:
      return "message_too_large";
    case ErrorCode::kIncompleteLine:
      return "incomplete_line";
    case ErrorCode::kReopenFailed:
      return "reopen_failed";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

namespace {

// Untrusted names are quoted into messages, cut short so an error answer stays small.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxQuoted = 64;
  std::string out = "\"";
  if (text.size() > kMaxQuoted) {
    out.append(text.substr(0, kMaxQuoted));
    out.append("...");
  } else {
    out.append(text);
  }
  out.push_back('"');
  return out;
}

struct CommandSpec {
  std::string_view name;
  // Argument names besides "id" and "cmd"; anything else is refused, so a typo such as
  // "protectd" cannot silently replace the protected list with nothing.
  std::array<std::string_view, 2> arguments;
  std::string_view summary;  // one line for `help`
};

constexpr std::array<CommandSpec, 12> kCommands = {{
    {"ping", {}, "answers pong and the generation of the lists judging now"},
    {"lists.set", {"protected", "allow"}, "replaces both lists (protected required, allow optional)"},
    {"lists.add", {"protected", "allow"}, "adds domains to the protected and/or allow list"},
    {"lists.remove", {"protected", "allow"}, "removes domains from the protected and/or allow list"},
    {"lists.get", {}, "the lists judging now"},
    {"stats", {}, "the sensor's stats record and the control socket's counters"},
    {"subscribe", {"events"}, "streams records: events alert, smtp, stats ([] stops)"},
    {"check", {"inputs"}, "judges addresses or domains with the lists judging now, as misdirect check does"},
    {"version", {}, "version, git revision, build type, DPDK and Hyperscan versions"},
    {"uptime", {}, "when the sensor started and how long it has run"},
    {"reopen", {}, "reopens the EVE file, as SIGHUP does (log rotation)"},
    {"help", {}, "this list"},
}};

class RequestChecker {
 public:
  explicit RequestChecker(RequestParseResult& result) : result_(result) {}

  bool fail(ErrorCode code, std::string message) {
    result_.error = code;
    result_.message = std::move(message);
    return false;
  }

  // Finds id, cmd and the command's arguments, refusing duplicates and unknown names.
  bool check(const JsonValue& document) {
    if (!document.is_object()) {
      return fail(ErrorCode::kInvalidRequest, "a request must be a JSON object, not " +
                                                  std::string(JsonValue::describe(document.kind())));
    }
    const JsonValue* id = nullptr;
    const JsonValue* cmd = nullptr;
    for (const JsonValue::Member& member : document.as_object()) {
      if (member.first == "id") {
        if (id != nullptr) {
          return fail(ErrorCode::kInvalidRequest, "duplicate field \"id\"");
        }
        id = &member.second;
        result_.request.id = member.second;
      } else if (member.first == "cmd") {
        if (cmd != nullptr) {
          return fail(ErrorCode::kInvalidRequest, "duplicate field \"cmd\"");
        }
        cmd = &member.second;
      }
    }
    if (cmd == nullptr) {
      return fail(ErrorCode::kInvalidRequest, "missing field \"cmd\"");
    }
    if (!cmd->is_string()) {
      return fail(ErrorCode::kInvalidRequest, "\"cmd\" must be a string, not " +
                                                  std::string(JsonValue::describe(cmd->kind())));
    }
    const CommandSpec* spec = nullptr;
    for (const CommandSpec& candidate : kCommands) {
      if (candidate.name == cmd->as_string()) {
        spec = &candidate;
      }
    }
    if (spec == nullptr) {
      return fail(ErrorCode::kUnknownCommand, "unknown command " + quoted(cmd->as_string()));
    }
    std::array<const JsonValue*, 2> arguments{};
    for (const JsonValue::Member& member : document.as_object()) {
      if (member.first == "id" || member.first == "cmd") {
        continue;
      }
      bool known = false;
      for (std::size_t i = 0; i < spec->arguments.size(); ++i) {
        if (!spec->arguments[i].empty() && spec->arguments[i] == member.first) {
          if (arguments[i] != nullptr) {
            return fail(ErrorCode::kInvalidRequest, "duplicate field " + quoted(member.first));
          }
          arguments[i] = &member.second;
          known = true;
        }
      }
      if (!known) {
        return fail(ErrorCode::kInvalidRequest,
                    std::string(spec->name) + " has no field " + quoted(member.first));
      }
    }
    return build(*spec, arguments[0], arguments[1]);
  }

 private:
  bool string_list(const JsonValue& value, std::string_view name, std::vector<std::string>& out) {
    if (!value.is_array()) {
      // Built by appending: GCC 12 at -O3 reports a false -Wrestrict for `"literal" + string&&`.
      std::string message = "\"";
      message.append(name).append("\" must be an array, not ").append(JsonValue::describe(value.kind()));
      return fail(ErrorCode::kInvalidRequest, message);
    }
    const JsonValue::Array& elements = value.as_array();
    out.reserve(elements.size());
    for (std::size_t i = 0; i < elements.size(); ++i) {
      if (!elements[i].is_string()) {
        return fail(ErrorCode::kInvalidRequest,
                    std::string(name) + "[" + std::to_string(i) + "]: expected a string, not " +
                        std::string(JsonValue::describe(elements[i].kind())));
      }
      out.push_back(elements[i].as_string());
    }
    return true;
  }

  bool build(const CommandSpec& spec, const JsonValue* first, const JsonValue* second) {
    const std::string_view name = spec.name;
    if (name == "ping") {
      result_.request.body = PingRequest{};
    } else if (name == "version") {
      result_.request.body = VersionRequest{};
    } else if (name == "uptime") {
      result_.request.body = UptimeRequest{};
    } else if (name == "reopen") {
      result_.request.body = ReopenRequest{};
    } else if (name == "help") {
      result_.request.body = HelpRequest{};
    } else if (name == "check") {
      CheckRequest check;
      if (first == nullptr) {
        return fail(ErrorCode::kInvalidRequest, "check needs \"inputs\" (addresses or domains)");
      }
      if (!string_list(*first, "inputs", check.inputs)) {
        return false;
      }
      if (check.inputs.empty() || check.inputs.size() > kMaxCheckInputs) {
        return fail(ErrorCode::kInvalidRequest, "check: \"inputs\" must hold 1 to " +
                                                    std::to_string(kMaxCheckInputs) + " addresses or domains, not " +
                                                    std::to_string(check.inputs.size()));
      }
      result_.request.body = std::move(check);
    } else if (name == "lists.get") {
      result_.request.body = ListsGetRequest{};
    } else if (name == "stats") {
      result_.request.body = StatsRequest{};
    } else if (name == "lists.set") {
      ListsSetRequest set;
      if (first == nullptr) {
        return fail(ErrorCode::kInvalidRequest, "lists.set needs \"protected\" (the whole list)");
      }
      if (!string_list(*first, "protected", set.protected_domains)) {
        return false;
      }
      if (second != nullptr && !string_list(*second, "allow", set.allow)) {
        return false;
      }
      result_.request.body = std::move(set);
    } else if (name == "lists.add" || name == "lists.remove") {
      ListsChangeRequest change;
      change.add = name == "lists.add";
      if (first == nullptr && second == nullptr) {
        return fail(ErrorCode::kInvalidRequest,
                    std::string(name) + " needs \"protected\" or \"allow\"");
      }
      if (first != nullptr && !string_list(*first, "protected", change.protected_domains.emplace())) {
        return false;
      }
      if (second != nullptr && !string_list(*second, "allow", change.allow.emplace())) {
        return false;
      }
      result_.request.body = std::move(change);
    } else if (name == "subscribe") {
      SubscribeRequest subscribe;
      if (first == nullptr) {
        subscribe.events = static_cast<uint8_t>(EventKind::kAlert);
      } else if (!events(*first, subscribe.events)) {
        return false;
      }
      result_.request.body = subscribe;
    }
    return true;
  }

  bool events(const JsonValue& value, uint8_t& mask) {
    std::vector<std::string> names;
    if (!string_list(value, "events", names)) {
      return false;
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "alert") {
        mask |= static_cast<uint8_t>(EventKind::kAlert);
      } else if (names[i] == "smtp") {
        mask |= static_cast<uint8_t>(EventKind::kSmtp);
      } else if (names[i] == "stats") {
        mask |= static_cast<uint8_t>(EventKind::kStats);
      } else {
        return fail(ErrorCode::kInvalidRequest, "events[" + std::to_string(i) + "]: unknown event " +
                                                    quoted(names[i]) + " (alert, smtp, stats)");
      }
    }
    return true;
  }

  RequestParseResult& result_;
};

}  // namespace

std::vector<CommandHelp> command_help() {
  std::vector<CommandHelp> commands;
  commands.reserve(kCommands.size());
  for (const CommandSpec& spec : kCommands) {
    commands.push_back(CommandHelp{spec.name, spec.summary});
  }
  return commands;
}

RequestParseResult parse_request(std::string_view line, const JsonParseLimits& limits) noexcept {
  RequestParseResult result;
  try {
    JsonParseResult document = parse_json(line, limits);
    if (!document.ok()) {
      result.error = ErrorCode::kParseError;
      result.message = "invalid JSON at byte " + std::to_string(document.offset) + ": " +
                       document.error;
      return result;
    }
    RequestChecker(result).check(document.value);
  } catch (...) {
    // Allocation failure while copying arguments: refuse the request, keep the connection. The
    // message fits the small-string buffer, so setting it cannot throw again.
    result.error = ErrorCode::kInternal;
    result.message = "out of memory";
  }
  return result;
}

std::string make_ok_response(const JsonValue& id, JsonValue fields) {
  JsonValue response = JsonValue::object();
  response.set("id", id);
  response.set("ok", JsonValue::boolean(true));
  if (fields.is_object()) {
    for (JsonValue::Member& member : fields.as_object()) {
      response.set(std::move(member.first), std::move(member.second));
    }
  }
  return response.to_json();
}

std::string make_error_response(const JsonValue& id, ErrorCode code, std::string_view message) {
  JsonValue error = JsonValue::object();
  error.set("code", JsonValue::string(std::string(error_code_name(code))));
  error.set("message", JsonValue::string(std::string(message)));
  JsonValue response = JsonValue::object();
  response.set("id", id);
  response.set("ok", JsonValue::boolean(false));
  response.set("error", std::move(error));
  return response.to_json();
}

std::string make_overflow_event(uint64_t dropped_records) {
  JsonValue event = JsonValue::object();
  event.set("event_type", JsonValue::string("overflow"));
  event.set("dropped", JsonValue::number(dropped_records));
  return event.to_json();
}

}  // namespace misdirect::control
