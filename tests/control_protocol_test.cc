// Tests for the control protocol: request checks and response lines.
#include <boost/test/unit_test.hpp>

#include <string>

#include "control/control_protocol.h"

namespace misdirect::control {
namespace {

RequestParseResult request(std::string_view line) { return parse_request(line, JsonParseLimits{}); }

}  // namespace

BOOST_AUTO_TEST_SUITE(control_protocol)

BOOST_AUTO_TEST_CASE(ping_with_any_id) {
  const RequestParseResult result = request(R"({"id": {"x": [1]}, "cmd": "ping"})");
  BOOST_REQUIRE(result.ok());
  BOOST_TEST(std::holds_alternative<PingRequest>(result.request.body));
  BOOST_TEST(result.request.id.to_json() == R"({"x":[1]})");
  BOOST_TEST(request(R"({"cmd":"ping"})").request.id.is_null());
}

BOOST_AUTO_TEST_CASE(operator_commands_take_no_arguments_and_check_takes_inputs) {
  BOOST_TEST(std::holds_alternative<VersionRequest>(request(R"({"cmd":"version"})").request.body));
  BOOST_TEST(std::holds_alternative<UptimeRequest>(request(R"({"cmd":"uptime"})").request.body));
  BOOST_TEST(std::holds_alternative<ReopenRequest>(request(R"({"cmd":"reopen"})").request.body));
  BOOST_TEST(std::holds_alternative<HelpRequest>(request(R"({"cmd":"help"})").request.body));
  const RequestParseResult check = request(R"({"cmd":"check","inputs":["bob@army.ml","navy.mil"]})");
  BOOST_REQUIRE(check.ok());
  BOOST_TEST(std::get<CheckRequest>(check.request.body).inputs ==
             (std::vector<std::string>{"bob@army.ml", "navy.mil"}));
  std::string many = R"({"cmd":"check","inputs":[)";
  for (int i = 0; i < 1001; ++i) {
    many += i == 0 ? R"("a.ml")" : R"(,"a.ml")";
  }
  many += "]}";
  BOOST_TEST(request(many).message == R"(check: "inputs" must hold 1 to 1000 addresses or domains, not 1001)");
}

BOOST_AUTO_TEST_CASE(lists_set_arguments) {
  const RequestParseResult result =
      request(R"({"id":1,"cmd":"lists.set","protected":["army.mil","navy.mil"],"allow":["x.ml"]})");
  BOOST_REQUIRE(result.ok());
  const auto& set = std::get<ListsSetRequest>(result.request.body);
  BOOST_TEST(set.protected_domains == (std::vector<std::string>{"army.mil", "navy.mil"}));
  BOOST_TEST(set.allow == (std::vector<std::string>{"x.ml"}));
  const auto no_allow = request(R"({"cmd":"lists.set","protected":[]})");
  BOOST_REQUIRE(no_allow.ok());
  BOOST_TEST(std::get<ListsSetRequest>(no_allow.request.body).allow.empty());
}

BOOST_AUTO_TEST_CASE(lists_change_arguments) {
  const RequestParseResult add = request(R"({"cmd":"lists.add","allow":["a.ml"]})");
  BOOST_REQUIRE(add.ok());
  const auto& change = std::get<ListsChangeRequest>(add.request.body);
  BOOST_TEST(change.add);
  BOOST_TEST(!change.protected_domains.has_value());
  BOOST_TEST(change.allow.value() == (std::vector<std::string>{"a.ml"}));
  const RequestParseResult remove = request(R"({"cmd":"lists.remove","protected":["b.mil"]})");
  BOOST_REQUIRE(remove.ok());
  BOOST_TEST(!std::get<ListsChangeRequest>(remove.request.body).add);
  const RequestParseResult neither = request(R"({"id":4,"cmd":"lists.add"})");
  BOOST_TEST(error_code_name(*neither.error) == "invalid_request");
  BOOST_TEST(neither.message == R"(lists.add needs "protected" or "allow")");
  BOOST_TEST(neither.request.id.to_json() == "4");
}

BOOST_AUTO_TEST_CASE(subscribe_events) {
  const auto all = request(R"({"cmd":"subscribe","events":["alert","smtp","stats","alert"]})");
  BOOST_REQUIRE(all.ok());
  BOOST_TEST(std::get<SubscribeRequest>(all.request.body).events == kAllEvents);
  const auto plain = request(R"({"cmd":"subscribe"})");
  BOOST_TEST(std::get<SubscribeRequest>(plain.request.body).events ==
             static_cast<uint8_t>(EventKind::kAlert));
  const auto none = request(R"({"cmd":"subscribe","events":[]})");
  BOOST_TEST(std::get<SubscribeRequest>(none.request.body).events == 0);
  const auto bad = request(R"({"cmd":"subscribe","events":["alert","flows"]})");
  BOOST_TEST(bad.message == R"(events[1]: unknown event "flows" (alert, smtp, stats))");
}

BOOST_AUTO_TEST_CASE(refusals_name_the_bad_element) {
  struct Case {
    const char* line;
    ErrorCode code;
    const char* message;
  };
  const Case cases[] = {
      {R"([1])", ErrorCode::kInvalidRequest, "a request must be a JSON object, not an array"},
      {R"({"id":1})", ErrorCode::kInvalidRequest, R"(missing field "cmd")"},
      {R"({"cmd":7})", ErrorCode::kInvalidRequest, R"("cmd" must be a string, not a number)"},
      {R"({"cmd":"reboot"})", ErrorCode::kUnknownCommand, R"(unknown command "reboot")"},
      {R"({"cmd":"ping","cmd":"stats"})", ErrorCode::kInvalidRequest, R"(duplicate field "cmd")"},
      {R"({"cmd":"lists.set","protectd":["a.mil"]})", ErrorCode::kInvalidRequest,
       R"(lists.set has no field "protectd")"},
      {R"({"cmd":"lists.set","allow":[]})", ErrorCode::kInvalidRequest,
       R"(lists.set needs "protected" (the whole list))"},
      {R"({"cmd":"lists.set","protected":"a.mil"})", ErrorCode::kInvalidRequest,
       R"("protected" must be an array, not a string)"},
      {R"({"cmd":"lists.set","protected":["a.mil","b.mil",3]})", ErrorCode::kInvalidRequest,
       "protected[2]: expected a string, not a number"},
      {R"({"cmd":"lists.set","protected":[],"protected":[]})", ErrorCode::kInvalidRequest,
       R"(duplicate field "protected")"},
      {R"({"cmd":"ping","extra":1})", ErrorCode::kInvalidRequest, R"(ping has no field "extra")"},
      {R"({"cmd":"check"})", ErrorCode::kInvalidRequest, R"(check needs "inputs" (addresses or domains))"},
      {R"({"cmd":"check","inputs":[]})", ErrorCode::kInvalidRequest,
       R"(check: "inputs" must hold 1 to 1000 addresses or domains, not 0)"},
      {R"({"cmd":"check","inputs":["a.ml",1]})", ErrorCode::kInvalidRequest,
       "inputs[1]: expected a string, not a number"},
      {R"({"cmd":"version","verbose":true})", ErrorCode::kInvalidRequest, R"(version has no field "verbose")"},
      {R"({"cmd":"ping")", ErrorCode::kParseError,
       "invalid JSON at byte 13: syntax error while parsing object - unexpected end of input; expected '}'"},
  };
  for (const Case& test : cases) {
    const RequestParseResult result = request(test.line);
    BOOST_TEST_INFO("line: " << test.line);
    BOOST_REQUIRE(!result.ok());
    BOOST_TEST(error_code_name(*result.error) == error_code_name(test.code));
    BOOST_TEST(result.message == test.message);
  }
}

BOOST_AUTO_TEST_CASE(long_untrusted_names_are_cut_in_messages) {
  const std::string line = R"({"cmd":")" + std::string(1000, 'x') + R"("})";
  const RequestParseResult result = request(line);
  BOOST_TEST(result.message == "unknown command \"" + std::string(64, 'x') + "...\"");
}

BOOST_AUTO_TEST_CASE(responses) {
  JsonValue fields = JsonValue::object();
  fields.set("generation", JsonValue::number(uint64_t{3}));
  BOOST_TEST(make_ok_response(JsonValue::string("a"), std::move(fields)) ==
             R"({"id":"a","ok":true,"generation":3})");
  BOOST_TEST(make_error_response(JsonValue::null(), ErrorCode::kInvalidDomain,
                                 R"(protected[3]: "ar my.mil" is not a valid domain)") ==
             R"({"id":null,"ok":false,"error":{"code":"invalid_domain",)"
             R"("message":"protected[3]: \"ar my.mil\" is not a valid domain"}})");
  BOOST_TEST(make_overflow_event(12) == R"({"event_type":"overflow","dropped":12})");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::control
