// ControlProtocol: the control socket's request lines parsed and checked into typed requests, and
// the response lines built from results. Pure (no sockets, no sensor), so it is fuzzed whole.
//
// Request:  {"id": <any JSON>, "cmd": "<command>", ...arguments}
// Response: {"id": <echoed>, "ok": true, ...} or {"id": ..., "ok": false,
//            "error": {"code": "<code>", "message": "<names the bad element>"}}
// docs/control.md documents every command.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "control/json_parser.h"
#include "control/json_value.h"

namespace misdirect::control {

// Error codes, stable for scripts; the message says what exactly was wrong.
enum class ErrorCode : uint8_t {
  kParseError,       // not JSON
  kInvalidRequest,   // JSON, but not a valid request (missing cmd, wrong type, unknown field)
  kUnknownCommand,
  kInvalidDomain,    // a list element is not a domain
  kNotFound,         // lists.remove of a domain not on the list
  kEmptyProtected,   // the result would protect nothing
  kListsRejected,    // the sensor refused the lists (compile failure)
  kMessageTooLarge,  // the connection is closed after this answer
  kIncompleteLine,   // the peer ended its side mid-line; the connection is closed
  kReopenFailed,     // the EVE file could not be opened again
  kInternal,
};
std::string_view error_code_name(ErrorCode code) noexcept;

// Event streams a subscriber can ask for; the values are bits of a mask.
enum class EventKind : uint8_t { kAlert = 1, kSmtp = 2, kStats = 4 };
inline constexpr uint8_t kAllEvents = 7;

struct PingRequest {};
// Whole replacement. `allow` may be omitted (empty).
struct ListsSetRequest {
  std::vector<std::string> protected_domains;
  std::vector<std::string> allow;
};
// lists.add / lists.remove: at least one of the two lists is present.
struct ListsChangeRequest {
  bool add = true;
  std::optional<std::vector<std::string>> protected_domains;
  std::optional<std::vector<std::string>> allow;
};
struct ListsGetRequest {};
struct StatsRequest {};
// An empty mask stops the stream.
struct SubscribeRequest {
  uint8_t events = 0;
};
struct VersionRequest {};
struct UptimeRequest {};
// What SIGHUP does: the EVE file is closed and opened again (log rotation).
struct ReopenRequest {};
struct HelpRequest {};
// Addresses or domains judged with the lists judging now, as `misdirect check` judges them.
struct CheckRequest {
  std::vector<std::string> inputs;  // 1 to kMaxCheckInputs
};
inline constexpr std::size_t kMaxCheckInputs = 1000;

using RequestBody = std::variant<PingRequest, ListsSetRequest, ListsChangeRequest, ListsGetRequest,
                                 StatsRequest, SubscribeRequest, VersionRequest, UptimeRequest,
                                 ReopenRequest, HelpRequest, CheckRequest>;

// One command of the protocol and its one-line description (the `help` answer).
struct CommandHelp {
  std::string_view name;
  std::string_view summary;
};
// Every command, in the order docs/control.md lists them.
std::vector<CommandHelp> command_help();

struct Request {
  JsonValue id;  // null when the request had none
  RequestBody body;
};

// A parsed request, or the error answer's parts. `id` is filled whenever the line was a JSON
// object with an id, so even a refused request is answered under its own id.
struct RequestParseResult {
  Request request;
  std::optional<ErrorCode> error;
  std::string message;
  bool ok() const noexcept { return !error.has_value(); }
};

// Parses one request line (without its newline). Never throws.
RequestParseResult parse_request(std::string_view line, const JsonParseLimits& limits) noexcept;

// {"id":id,"ok":true} followed by `fields`' members (an object). One line, no newline.
std::string make_ok_response(const JsonValue& id, JsonValue fields);
std::string make_error_response(const JsonValue& id, ErrorCode code, std::string_view message);

// The event a subscriber gets when its buffer had to drop records: how many since the last one.
std::string make_overflow_event(uint64_t dropped_records);

}  // namespace misdirect::control
