// Tests for CommandDispatcher: every command that is not a push, answered from a sensor double
// whose `check` judges with a real Matcher, as the live sensor does.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "control/build_info.h"
#include "control/command_dispatch.h"
#include "control/json_parser.h"
#include "control/lookalike_check.h"
#include "inspect/matcher.h"

namespace misdirect::control {
namespace {

class DispatchSensor final : public SensorControl {
 public:
  DispatchSensor() {
    lists.protected_domains = {"army.mil", "examplebank.com"};
    lists.allow = {"army.ml"};
    inspect::MatcherBuildResult built = inspect::Matcher::build(lists, inspect::MatcherOptions{});
    BOOST_REQUIRE(built.matcher);
    matcher = std::move(built.matcher);
  }
  void start_list_swap(inspect::DomainLists) override {}
  std::optional<ListSwapResult> finish_list_swap() override { return std::nullopt; }
  inspect::DomainLists current_lists() const override { return lists; }
  uint64_t generation() const override { return 7; }
  void collect_stats(dataplane::StatsNode& record) const override { record.set_text("event_type", "stats"); }
  std::vector<CheckAnswer> check(const std::vector<std::string>& inputs) override {
    inspect::MatcherScratch scratch = matcher->make_scratch();
    std::vector<CheckAnswer> answers;
    for (const std::string& input : inputs) {
      answers.push_back(check_lookalike(*matcher, scratch, input));
    }
    return answers;
  }
  ReopenResult reopen_output() override {
    ++reopens;
    return reopen;
  }
  SensorUptime uptime() const override { return SensorUptime{1'764'672'000'000'000'000ULL, 90'500'000'000ULL}; }

  inspect::DomainLists lists;
  std::unique_ptr<const inspect::Matcher> matcher;
  ReopenResult reopen{true, true, "/var/log/misdirect/eve.json", ""};
  int reopens = 0;
};

struct Fixture {
  DispatchSensor sensor;
  CommandDispatcher dispatcher{sensor};
  Subscription subscription;

  // The answer to `line` (which must be a valid request that is not a push), parsed back.
  JsonValue ask(std::string_view line) {
    const RequestParseResult parsed = parse_request(line, JsonParseLimits{});
    BOOST_REQUIRE_MESSAGE(parsed.ok(), parsed.message);
    RequestContext context{subscription, [] {
                             dataplane::StatsNode counters;
                             counters.add("requests", uint64_t{3});
                             return counters;
                           }};
    const std::string answer = dispatcher.answer(parsed.request, context);
    JsonParseResult back = parse_json(answer);
    BOOST_REQUIRE_MESSAGE(back.ok(), answer);
    return std::move(back.value);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(command_dispatch)

BOOST_FIXTURE_TEST_CASE(ping_and_lists_get, Fixture) {
  BOOST_TEST(ask(R"({"id":1,"cmd":"ping"})").to_json() == R"({"id":1,"ok":true,"pong":true,"generation":7})");
  BOOST_TEST(ask(R"({"id":2,"cmd":"lists.get"})").to_json() ==
             R"({"id":2,"ok":true,"generation":7,"protected":["army.mil","examplebank.com"],"allow":["army.ml"]})");
}

BOOST_FIXTURE_TEST_CASE(check_answers_what_misdirect_check_prints, Fixture) {
  const JsonValue answer = ask(R"({"id":3,"cmd":"check","inputs":["bob@examp1ebank.com","army.mil","army.ml","x@[10.0.0.1]","a..b"]})");
  BOOST_TEST(answer.find("ok")->as_bool());
  BOOST_TEST(answer.find("generation")->number_text() == "7");
  const JsonValue::Array& results = answer.find("results")->as_array();
  BOOST_REQUIRE(results.size() == 5U);
  // Each result is, byte for byte, the line `misdirect check --json` prints for that input.
  inspect::MatcherScratch scratch = sensor.matcher->make_scratch();
  const std::vector<std::string> inputs = {"bob@examp1ebank.com", "army.mil", "army.ml", "x@[10.0.0.1]", "a..b"};
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    BOOST_TEST(results[i].to_json() == answer_json(check_lookalike(*sensor.matcher, scratch, inputs[i])));
  }
  BOOST_TEST(results[0].find("lookalike")->as_bool());
  BOOST_TEST(results[0].find("protected")->as_string() == "examplebank.com");
  BOOST_TEST(results[1].find("reason")->as_string() == "army.mil is protected");
  BOOST_TEST(results[2].find("reason")->as_string() == "allowed by the allow list (army.ml)");
  BOOST_TEST(results[3].find("reason")->as_string() == "an address literal, not a domain");
  BOOST_TEST(!results[4].find("lookalike")->as_bool());
}

BOOST_FIXTURE_TEST_CASE(version_is_the_build_info, Fixture) {
  const BuildInfo info = build_info();
  const JsonValue answer = ask(R"({"id":4,"cmd":"version"})");
  BOOST_TEST(answer.find("version")->as_string() == std::string(info.version));
  BOOST_TEST(answer.find("git_revision")->as_string() == std::string(info.git_revision));
  BOOST_TEST(answer.find("build_type")->as_string() == std::string(info.build_type));
  BOOST_TEST(answer.find("dpdk")->as_string() == info.dpdk);
  BOOST_TEST(answer.find("hyperscan")->as_string() == info.hyperscan);
  BOOST_TEST(!info.version.empty());
  BOOST_TEST(!info.dpdk.empty());
}

BOOST_FIXTURE_TEST_CASE(uptime_gives_the_start_and_the_seconds_since, Fixture) {
  BOOST_TEST(ask(R"({"id":5,"cmd":"uptime"})").to_json() ==
             R"({"id":5,"ok":true,"started":"2025-12-02T10:40:00.000000+0000","uptime_s":90.5})");
}

BOOST_FIXTURE_TEST_CASE(reopen_says_whether_the_file_is_open_again, Fixture) {
  BOOST_TEST(ask(R"({"id":6,"cmd":"reopen"})").to_json() ==
             R"({"id":6,"ok":true,"reopened":true,"eve":"/var/log/misdirect/eve.json"})");
  sensor.reopen = ReopenResult{false, false, "/var/log/misdirect/eve.json",
                               "--eve /var/log/misdirect/eve.json: Permission denied"};
  BOOST_TEST(ask(R"({"id":7,"cmd":"reopen"})").to_json() ==
             R"({"id":7,"ok":false,"error":{"code":"reopen_failed","message":"--eve /var/log/misdirect/eve.json: Permission denied"}})");
  sensor.reopen = ReopenResult{true, false, "-", ""};
  BOOST_TEST(ask(R"({"cmd":"reopen"})").to_json() == R"({"id":null,"ok":true,"reopened":false,"eve":"-"})");
  BOOST_TEST(sensor.reopens == 3);
}

BOOST_FIXTURE_TEST_CASE(help_lists_every_command_once_with_a_line, Fixture) {
  const JsonValue answer = ask(R"({"cmd":"help"})");
  const JsonValue::Array& commands = answer.find("commands")->as_array();
  std::vector<std::string> names;
  for (const JsonValue& command : commands) {
    names.push_back(command.find("cmd")->as_string());
    BOOST_TEST(!command.find("help")->as_string().empty());
    // Every command help lists is one the protocol accepts.
    const std::string line = R"({"cmd":")" + names.back() + R"("})";
    const RequestParseResult parsed = parse_request(line, JsonParseLimits{});
    BOOST_TEST((parsed.ok() || parsed.error != ErrorCode::kUnknownCommand), names.back());
  }
  BOOST_TEST(names == (std::vector<std::string>{"ping", "lists.set", "lists.add", "lists.remove", "lists.get",
                                                "stats", "subscribe", "check", "version", "uptime", "reopen",
                                                "help"}));
}

BOOST_FIXTURE_TEST_CASE(subscribe_sets_the_clients_mask, Fixture) {
  BOOST_TEST(ask(R"({"cmd":"subscribe","events":["stats","alert"]})").to_json() ==
             R"({"id":null,"ok":true,"events":["alert","stats"]})");
  BOOST_TEST(subscription.events == 5U);
  BOOST_TEST(ask(R"({"cmd":"stats"})").find("control")->to_json() == R"({"requests":3})");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::control
