// Tests for ControlServer over a real Unix socket in a temporary directory, with a small
// SensorControl double standing in for the live sensor.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/output/stats_tree.h"
#include "control/control_server.h"
#include "control/json_value.h"
#include "control/list_store.h"

namespace misdirect::control {
namespace {

// Records what the server asked; refuses any list containing "uncompilable.mil" the way a
// Hyperscan compile failure would. A compile finishes at the first poll after it started, unless
// `hold` keeps it running (a long compile) until the test lets go.
class FakeSensor final : public SensorControl {
 public:
  void start_list_swap(inspect::DomainLists lists) override {
    BOOST_REQUIRE(!compiling_.has_value());  // the server runs one swap at a time
    ++replace_calls;
    compiling_ = std::move(lists);
  }
  std::optional<ListSwapResult> finish_list_swap() override {
    ++finish_polls;
    if (!compiling_.has_value() || hold) {
      return std::nullopt;
    }
    inspect::DomainLists lists = std::move(*compiling_);
    compiling_.reset();
    ListSwapResult result;
    for (const std::string& domain : lists.protected_domains) {
      if (domain == "uncompilable.mil") {
        result.error = "pattern 3 (uncompilable.mil): compile failed";
        result.generation = generation_;
        return result;
      }
    }
    lists_ = std::move(lists);
    ++generation_;
    result.ok = true;
    result.generation = generation_;
    result.pattern_count = lists_.protected_domains.size() * 10;
    result.compile_milliseconds = 1.5;
    return result;
  }
  inspect::DomainLists current_lists() const override { return lists_; }
  uint64_t generation() const override { return generation_; }
  void collect_stats(dataplane::StatsNode& record) const override {
    record.set_text("event_type", "stats");
    record.child("stats").add("packets", packets);
    record.child("misdirect").set_text("note", note);
  }
  // The dispatch of these has its own suite (command_dispatch); here they only need to exist.
  std::vector<CheckAnswer> check(const std::vector<std::string>& inputs) override {
    std::vector<CheckAnswer> answers(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      answers[i].input = inputs[i];
      answers[i].reason = "fake";
    }
    return answers;
  }
  ReopenResult reopen_output() override { return ReopenResult{true, true, "/tmp/eve.json", ""}; }
  SensorUptime uptime() const override { return SensorUptime{1'000'000'000, 5'000'000'000}; }

  bool compiling() const { return compiling_.has_value(); }

  int replace_calls = 0;
  int finish_polls = 0;
  bool hold = false;
  uint64_t packets = 42;
  std::string note = "plain";

 private:
  inspect::DomainLists lists_{{"army.mil"}, {}};
  std::optional<inspect::DomainLists> compiling_;
  uint64_t generation_ = 1;
};

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/misdirect-control-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int connect_to(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  BOOST_REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
  return fd;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    BOOST_REQUIRE(sent > 0);
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
}

// What a client has read so far; `eof` once the server closed the connection.
struct Received {
  std::string text;
  bool eof = false;
};

void read_available(int fd, Received& received) {
  char buffer[65536];
  while (!received.eof) {
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (got > 0) {
      received.text.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
      received.eof = true;  // EOF or ECONNRESET: either way the server let go
    } else {
      return;
    }
  }
}

// Serves until the client holds one complete line (or the server closed); returns the line.
// Bounded by iterations, not time: a server that never answers fails the test.
std::string next_line(ControlServer& server, int fd, Received& received) {
  for (int i = 0; i < 500; ++i) {
    const std::size_t newline = received.text.find('\n');
    if (newline != std::string::npos) {
      std::string line = received.text.substr(0, newline);
      received.text.erase(0, newline + 1);
      return line;
    }
    if (received.eof) {
      return {};
    }
    server.poll_once(10);
    read_available(fd, received);
  }
  BOOST_FAIL("no answer from the control server");
  return {};
}

JsonValue next_json(ControlServer& server, int fd, Received& received) {
  const std::string line = next_line(server, fd, received);
  JsonParseResult parsed = parse_json(line);
  BOOST_TEST_INFO("line: " << line);
  BOOST_REQUIRE(parsed.ok());
  return std::move(parsed.value);
}

JsonValue ask(ControlServer& server, int fd, std::string_view request) {
  send_all(fd, std::string(request) + "\n");
  Received received;
  return next_json(server, fd, received);
}

// Serves until the server has closed this client.
bool wait_for_close(ControlServer& server, int fd, Received& received) {
  for (int i = 0; i < 500 && !received.eof; ++i) {
    server.poll_once(10);
    read_available(fd, received);
  }
  return received.eof;
}

std::string error_code(const JsonValue& response) {
  const JsonValue* error = response.find("error");
  if (error == nullptr || error->find("code") == nullptr) {
    return {};
  }
  return error->find("code")->as_string();
}

std::string error_message(const JsonValue& response) {
  return response.find("error")->find("message")->as_string();
}

struct Fixture {
  Fixture() { config.socket_path = dir.path() + "/run/control.sock"; }
  TempDir dir;
  FakeSensor sensor;
  ControlServerConfig config;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(control_server)

BOOST_FIXTURE_TEST_CASE(creates_the_directory_and_socket_with_their_modes, Fixture) {
  ControlServer server(config, sensor);
  struct stat status {};
  BOOST_REQUIRE(::stat((dir.path() + "/run").c_str(), &status) == 0);
  BOOST_TEST((status.st_mode & 07777) == 0750U);
  BOOST_REQUIRE(::stat(config.socket_path.c_str(), &status) == 0);
  BOOST_TEST(S_ISSOCK(status.st_mode));
  BOOST_TEST((status.st_mode & 07777) == 0660U);
}

BOOST_FIXTURE_TEST_CASE(ping_echoes_the_id, Fixture) {
  ControlServer server(config, sensor);
  const int fd = connect_to(config.socket_path);
  BOOST_TEST(ask(server, fd, R"({"id":"a-1","cmd":"ping"})").to_json() ==
             R"({"id":"a-1","ok":true,"pong":true,"generation":1})");
  BOOST_TEST(ask(server, fd, R"({"id":12345678901234567890,"cmd":"ping"})").find("id")->to_json() ==
             "12345678901234567890");
  ::close(fd);
  BOOST_TEST(server.stats().requests == 2U);
  BOOST_TEST(server.stats().accepted == 1U);
}

BOOST_FIXTURE_TEST_CASE(several_requests_in_one_write_are_answered_in_order, Fixture) {
  ControlServer server(config, sensor);
  const int fd = connect_to(config.socket_path);
  send_all(fd, "{\"id\":1,\"cmd\":\"ping\"}\r\n\n{\"id\":2,\"cmd\":\"ping\"}\n{\"id\":3,\"cmd\":\"ping\"}\n");
  Received received;
  BOOST_TEST(next_json(server, fd, received).find("id")->to_json() == "1");
  BOOST_TEST(next_json(server, fd, received).find("id")->to_json() == "2");
  BOOST_TEST(next_json(server, fd, received).find("id")->to_json() == "3");
  BOOST_TEST(server.stats().requests == 3U);  // the blank line is not a request
  ::close(fd);
}

BOOST_FIXTURE_TEST_CASE(long_lines_are_parsed_off_the_loop_and_answered_in_order, Fixture) {
  ControlServer server(config, sensor);
  const int fd = connect_to(config.socket_path);
  const std::string long_id = std::string(20000, 'x');
  std::string push = R"({"id":5,"cmd":"lists.set","protected":["army.mil")";
  for (int i = 0; i < 2000; ++i) {
    push += ",\"d" + std::to_string(i) + ".mil\"";
  }
  push += "]}";
  send_all(fd, R"({"id":")" + long_id + R"(","cmd":"ping"})" + "\n" + R"({"id":2,"cmd":"ping"})" + "\n" +
                   R"({"id":3,)" + std::string(20000, 'a') + "\n" + R"({"id":4,"cmd":"ping"})" + "\n" + push +
                   "\n" + R"({"id":6,"cmd":"lists.get"})" + "\n");
  Received received;
  BOOST_TEST(next_json(server, fd, received).find("id")->as_string() == long_id);
  BOOST_TEST(next_json(server, fd, received).find("id")->to_json() == "2");
  const JsonValue refused = next_json(server, fd, received);
  BOOST_TEST(error_code(refused) == "parse_error");
  BOOST_TEST(error_message(refused) ==
             "invalid JSON at byte 8: syntax error while parsing object key - invalid literal; expected string literal");
  BOOST_TEST(next_json(server, fd, received).find("id")->to_json() == "4");
  const JsonValue pushed = next_json(server, fd, received);
  BOOST_TEST(pushed.find("id")->to_json() == "5");
  BOOST_TEST(pushed.find("protected")->to_json() == "2001");
  BOOST_TEST(next_json(server, fd, received).find("protected")->as_array().size() == 2001U);
  BOOST_TEST(server.stats().counters.get(ControlCounter::kParsedOffLoop) == 3U);
  BOOST_TEST(server.stats().requests == 6U);
  ::close(fd);
}

BOOST_FIXTURE_TEST_CASE(lists_set_swaps_and_lists_get_reads_back, Fixture) {
  ControlServer server(config, sensor);
  const int fd = connect_to(config.socket_path);
  const JsonValue set = ask(
      server, fd,
      R"({"id":7,"cmd":"lists.set","protected":["army.mil","NAVY.mil","navy.mil"],"allow":["army.ml"]})");
  BOOST_TEST(set.to_json() ==
             R"({"id":7,"ok":true,"generation":2,"patterns":20,"compile_ms":1.5,"protected":2,"allow":1})");
  BOOST_TEST(sensor.current_lists().protected_domains ==
             (std::vector<std::string>{"army.mil", "navy.mil"}));
  BOOST_TEST(ask(server, fd, R"({"cmd":"lists.get"})").to_json() ==
             R"({"id":null,"ok":true,"generation":2,"protected":["army.mil","navy.mil"],"allow":["army.ml"]})");
  ::close(fd);
}

BOOST_FIXTURE_TEST_CASE(a_bad_list_is_refused_naming_the_element_and_changes_nothing, Fixture) {
  ControlServer server(config, sensor);
  const int fd = connect_to(config.socket_path);
  const JsonValue bad =
      ask(server, fd, R"({"id":1,"cmd":"lists.set","protected":["a.mil","b.mil","c.mil","ar my.mil"]})");
  BOOST_TEST(bad.find("ok")->as_bool() == false);
  BOOST_TEST(bad.find("id")->to_json() == "1");
  BOOST_TEST(error_code(bad) == "invalid_domain");
  BOOST_TEST(error_message(bad).rfind(R"(protected[3]: "ar my.mil" is not a valid domain)", 0) == 0U);
  const JsonValue bad_allow =
      ask(server, fd, R"({"cmd":"lists.set","protected":["a.mil"],"allow":["ok.ml","-x-"]})");
  BOOST_TEST(error_message(bad_allow).rfind("allow[1]: ", 0) == 0U);
  const JsonValue empty = ask(server, fd, R"({"cmd":"lists.set","protected":[]})");
  BOOST_TEST(error_code(empty) == "empty_protected");
  const JsonValue uncompilable =
      ask(server, fd, R"({"cmd":"lists.set","protected":["a.mil","uncompilable.mil"]})");
  BOOST_TEST(error_code(uncompilable) == "lists_rejected");
  BOOST_TEST(error_message(uncompilable) == "pattern 3 (uncompilable.mil): compile failed");
  BOOST_TEST(sensor.replace_calls == 1);  // only the compile failure reached the sensor
  BOOST_TEST(sensor.generation() == 1U);
  BOOST_TEST(sensor.current_lists().protected_domains == (std::vector<std::string>{"army.mil"}));
  BOOST_TEST(server.stats().errors == 4U);
  ::close(fd);
}

BOOST_FIXTURE_TEST_CASE(add_and_remove_work_on_the_current_lists, Fixture) {
  ControlServer server(config, sensor);
  const int fd = connect_to(config.socket_path);
  BOOST_TEST(ask(server, fd, R"({"cmd":"lists.add","protected":["navy.mil","army.mil"],"allow":["a.ml"]})")
                 .find("ok")
                 ->as_bool());
  BOOST_TEST(sensor.current_lists().protected_domains ==
             (std::vector<std::string>{"army.mil", "navy.mil"}));
  BOOST_TEST(sensor.current_lists().allow == (std::vector<std::string>{"a.ml"}));
  const JsonValue missing = ask(server, fd, R"({"cmd":"lists.remove","protected":["navy.mil","af.mil"]})");
  BOOST_TEST(error_code(missing) == "not_found");
  BOOST_TEST(error_message(missing) == R"(protected[1]: "af.mil" is not on the protected list)");
  BOOST_TEST(sensor.current_lists().protected_domains.size() == 2U);
  BOOST_TEST(ask(server, fd, R"({"cmd":"lists.remove","protected":["NAVY.MIL"]})").find("ok")->as_bool());
  BOOST_TEST(sensor.current_lists().protected_domains == (std::vector<std::string>{"army.mil"}));
  const JsonValue last = ask(server, fd, R"({"cmd":"lists.remove","protected":["army.mil"]})");
  BOOST_TEST(error_code(last) == "empty_protected");
  ::close(fd);
}

BOOST_FIXTURE_TEST_CASE(accepted_lists_are_saved_in_the_state_dir, Fixture) {
  config.state_dir = dir.path() + "/state";
  ControlServer server(config, sensor);
  const int fd = connect_to(config.socket_path);
  const JsonValue set =
      ask(server, fd, R"({"cmd":"lists.set","protected":["navy.mil"],"allow":["navy.ml"]})");
  BOOST_TEST(set.find("persisted")->as_bool() == true);
  ask(server, fd, R"({"cmd":"lists.set","protected":["bad domain"]})");
  const ListLoadResult loaded = ListStore(config.state_dir).load();
  BOOST_REQUIRE(loaded.ok());
  BOOST_REQUIRE(loaded.lists.has_value());
  BOOST_TEST(loaded.lists->protected_domains == (std::vector<std::string>{"navy.mil"}));
  BOOST_TEST(loaded.lists->allow == (std::vector<std::string>{"navy.ml"}));
  BOOST_TEST(!std::filesystem::exists(config.state_dir + "/lists.json.tmp"));
  ::close(fd);
}

BOOST_FIXTURE_TEST_CASE(malformed_json_is_answered_and_the_connection_stays, Fixture) {
  ControlServer server(config, sensor);
  const int fd = connect_to(config.socket_path);
  const JsonValue bad = ask(server, fd, R"({"cmd": "ping",)");
  BOOST_TEST(error_code(bad) == "parse_error");
  BOOST_TEST(error_message(bad) == "invalid JSON at byte 15: syntax error while parsing object key - unexpected end of input; expected string literal");
  BOOST_TEST(error_code(ask(server, fd, R"({"cmd":"shutdown"})")) == "unknown_command");
  BOOST_TEST(error_code(ask(server, fd, "\xFF\xFE")) == "parse_error");
  BOOST_TEST(ask(server, fd, R"({"cmd":"ping"})").find("ok")->as_bool());
  ::close(fd);
}

BOOST_FIXTURE_TEST_CASE(an_oversized_line_is_answered_then_closed_while_others_are_served, Fixture) {
  config.max_message_bytes = 1024;
  ControlServer server(config, sensor);
  const int flooder = connect_to(config.socket_path);
  const int other = connect_to(config.socket_path);
  // No newline at all: the server must stop reading at the limit, not wait for one.
  send_all(flooder, std::string(4000, 'x'));
  Received flooded;
  const JsonValue refusal = next_json(server, flooder, flooded);
  BOOST_TEST(error_code(refusal) == "message_too_large");
  BOOST_TEST(error_message(refusal) == "request line longer than 1024 bytes");
  BOOST_TEST(wait_for_close(server, flooder, flooded));
  BOOST_TEST(ask(server, other, R"({"id":2,"cmd":"ping"})").find("ok")->as_bool());
  // A complete line over the limit is refused the same way.
  const int second = connect_to(config.socket_path);
  send_all(second, R"({"cmd":"ping","pad":")" + std::string(2000, 'y') + "\"}\n");
  Received second_received;
  BOOST_TEST(error_code(next_json(server, second, second_received)) == "message_too_large");
  BOOST_TEST(wait_for_close(server, second, second_received));
  BOOST_TEST(server.stats().counters.get(ControlCounter::kOversized) == 2U);
  BOOST_TEST(server.stats().clients == 1U);
  ::close(flooder);
  ::close(other);
  ::close(second);
}

BOOST_FIXTURE_TEST_CASE(a_line_cut_by_the_end_of_the_connection_is_refused, Fixture) {
  ControlServer server(config, sensor);
  const int fd = connect_to(config.socket_path);
  send_all(fd, "{\"id\":1,\"cmd\":\"ping\"}\n{\"id\":2,\"cm");
  ::shutdown(fd, SHUT_WR);
  Received received;
  BOOST_TEST(next_json(server, fd, received).find("ok")->as_bool());
  BOOST_TEST(error_code(next_json(server, fd, received)) == "incomplete_line");
  BOOST_TEST(wait_for_close(server, fd, received));
  BOOST_TEST(server.stats().counters.get(ControlCounter::kIncompleteLines) == 1U);
  ::close(fd);
}

BOOST_FIXTURE_TEST_CASE(stats_carry_the_sensor_record_and_the_control_counters, Fixture) {
  ControlServer server(config, sensor);
  const int fd = connect_to(config.socket_path);
  const JsonValue stats = ask(server, fd, R"({"id":3,"cmd":"stats"})");
  BOOST_TEST(stats.find("sensor")->to_json() ==
             R"({"event_type":"stats","stats":{"packets":42},"misdirect":{"note":"plain"}})");
  BOOST_TEST(stats.find("generation")->to_json() == "1");
  BOOST_TEST(stats.find("control")->find("accepted")->to_json() == "1");
  BOOST_TEST(stats.find("control")->find("requests")->to_json() == "1");
  // Texts in the tree (port and driver names) are escaped by the writer: the answer stays JSON.
  sensor.note = "a \"quoted\" \\ name\n";
  const JsonValue escaped = ask(server, fd, R"({"id":4,"cmd":"stats"})");
  BOOST_TEST(escaped.find("sensor")->find("misdirect")->find("note")->as_string() == sensor.note);
  ::close(fd);
}

BOOST_FIXTURE_TEST_CASE(subscribers_get_only_their_event_types, Fixture) {
  ControlServer server(config, sensor);
  const int alerts = connect_to(config.socket_path);
  const int everything = connect_to(config.socket_path);
  BOOST_TEST(ask(server, alerts, R"({"cmd":"subscribe"})").to_json() ==
             R"({"id":null,"ok":true,"events":["alert"]})");
  BOOST_TEST(ask(server, everything, R"({"cmd":"subscribe","events":["stats","smtp","alert"]})")
                 .find("events")
                 ->to_json() == R"(["alert","smtp","stats"])");
  server.broadcast(dataplane::RecordType::kSmtp, R"({"event_type":"smtp"})");
  server.broadcast(dataplane::RecordType::kAlert, R"({"event_type":"alert"})");
  server.broadcast(dataplane::RecordType::kStats, R"({"event_type":"stats"})");
  Received got_alerts;
  Received got_everything;
  BOOST_TEST(next_line(server, alerts, got_alerts) == R"({"event_type":"alert"})");
  BOOST_TEST(next_line(server, everything, got_everything) == R"({"event_type":"smtp"})");
  BOOST_TEST(next_line(server, everything, got_everything) == R"({"event_type":"alert"})");
  BOOST_TEST(next_line(server, everything, got_everything) == R"({"event_type":"stats"})");
  server.poll_once(0);
  read_available(alerts, got_alerts);
  BOOST_TEST(got_alerts.text.empty());
  BOOST_TEST(server.stats().subscribers == 2U);
  ::close(alerts);
  ::close(everything);
}

BOOST_FIXTURE_TEST_CASE(a_subscriber_that_never_reads_drops_records_and_others_get_all, Fixture) {
  config.subscriber_buffer_bytes = 4096;
  ControlServer server(config, sensor);
  const int stalled = connect_to(config.socket_path);
  const int reader = connect_to(config.socket_path);
  ask(server, stalled, R"({"cmd":"subscribe"})");
  ask(server, reader, R"({"cmd":"subscribe"})");
  const std::string record = R"({"event_type":"alert","pad":")" + std::string(200, 'p') + "\"}";
  constexpr int kRecords = 5000;  // about 1 MB: more than the stalled peer's socket buffer
  Received read_by_reader;
  std::size_t reader_lines = 0;
  for (int i = 0; i < kRecords; ++i) {
    // broadcast never blocks: if it did, this loop would hang with the stalled client.
    server.broadcast(dataplane::RecordType::kAlert, record);
    if (i % 8 == 0) {
      server.poll_once(0);
      read_available(reader, read_by_reader);
    }
  }
  for (int i = 0; i < 200; ++i) {
    server.poll_once(1);
    read_available(reader, read_by_reader);
  }
  for (std::size_t at = 0; (at = read_by_reader.text.find('\n', at)) != std::string::npos; ++at) {
    ++reader_lines;
  }
  const uint64_t drops = server.stats().subscriber_drops;
  BOOST_TEST(drops > 0U);
  BOOST_TEST(read_by_reader.text.find("overflow") == std::string::npos);
  // Now the stalled subscriber reads: it gets what fitted, then an overflow event that counts
  // exactly the records it lost.
  Received read_by_stalled;
  uint64_t stalled_records = 0;
  uint64_t reported_dropped = 0;
  for (int i = 0; i < 2000 && stalled_records + reported_dropped < kRecords; ++i) {
    server.poll_once(1);
    read_available(stalled, read_by_stalled);
    std::size_t newline = 0;
    while ((newline = read_by_stalled.text.find('\n')) != std::string::npos) {
      const std::string line = read_by_stalled.text.substr(0, newline);
      read_by_stalled.text.erase(0, newline + 1);
      if (line == record) {
        ++stalled_records;
      } else {
        const JsonParseResult event = parse_json(line);
        BOOST_REQUIRE(event.ok());
        BOOST_TEST(event.value.find("event_type")->as_string() == "overflow");
        reported_dropped += static_cast<uint64_t>(*event.value.find("dropped")->as_int64());
      }
    }
  }
  BOOST_TEST(reported_dropped == drops);
  BOOST_TEST(stalled_records + reported_dropped == static_cast<uint64_t>(kRecords));
  BOOST_TEST(reader_lines == static_cast<std::size_t>(kRecords));
  BOOST_TEST(server.stats().disconnects == 0U);
  ::close(stalled);
  ::close(reader);
}

BOOST_FIXTURE_TEST_CASE(a_subscriber_past_the_drop_bound_is_disconnected, Fixture) {
  config.subscriber_buffer_bytes = 4096;
  config.subscriber_drop_limit = 50;
  ControlServer server(config, sensor);
  const int stalled = connect_to(config.socket_path);
  ask(server, stalled, R"({"cmd":"subscribe","events":["smtp"]})");
  const std::string record = R"({"event_type":"smtp","pad":")" + std::string(500, 'p') + "\"}";
  for (int i = 0; i < 5000 && server.stats().disconnects == 0; ++i) {
    server.broadcast(dataplane::RecordType::kSmtp, record);
    server.poll_once(0);
  }
  BOOST_TEST(server.stats().disconnects == 1U);
  BOOST_TEST(server.stats().subscriber_drops == 50U);
  server.poll_once(0);
  BOOST_TEST(server.stats().clients == 0U);
  Received received;
  BOOST_TEST(wait_for_close(server, stalled, received));
  ::close(stalled);
}

uint64_t g_fake_now_ms = 0;

BOOST_FIXTURE_TEST_CASE(silent_clients_are_closed_after_the_idle_timeout_but_subscribers_stay, Fixture) {
  g_fake_now_ms = 1'000;
  config.idle_timeout_ms = 60'000;
  config.clock_ms = [] { return g_fake_now_ms; };
  ControlServer server(config, sensor);
  const int silent = connect_to(config.socket_path);
  const int talker = connect_to(config.socket_path);
  const int subscriber = connect_to(config.socket_path);
  ask(server, subscriber, R"({"cmd":"subscribe","events":["alert"]})");
  ask(server, talker, R"({"cmd":"ping"})");
  server.poll_once(0);
  BOOST_TEST(server.stats().clients == 3U);

  g_fake_now_ms += 59'999;
  server.poll_once(0);
  BOOST_TEST(server.stats().clients == 3U);
  ask(server, talker, R"({"cmd":"ping"})");  // a request restarts its clock
  g_fake_now_ms += 1;
  server.poll_once(0);
  Received silent_received;
  BOOST_TEST(wait_for_close(server, silent, silent_received));
  BOOST_TEST(server.stats().clients == 2U);
  BOOST_TEST(server.counters_tree().find("idle_timeouts")->count() == 1U);

  g_fake_now_ms += 60'000;
  server.poll_once(0);
  Received talker_received;
  BOOST_TEST(wait_for_close(server, talker, talker_received));
  BOOST_TEST(server.stats().clients == 1U);
  BOOST_TEST(server.stats().subscribers == 1U);
  BOOST_TEST(server.counters_tree().find("idle_timeouts")->count() == 2U);
  ::close(silent);
  ::close(talker);
  ::close(subscriber);
}

BOOST_FIXTURE_TEST_CASE(refuses_a_stale_path_that_is_not_a_socket, Fixture) {
  std::filesystem::create_directories(dir.path() + "/run");
  { std::FILE* file = std::fopen(config.socket_path.c_str(), "w"); std::fclose(file); }
  try {
    ControlServer server(config, sensor);
    BOOST_FAIL("a regular file was replaced");
  } catch (const std::runtime_error& error) {
    BOOST_TEST(std::string(error.what()) ==
               "control socket: " + config.socket_path + " exists and is not a socket");
  }
}

BOOST_FIXTURE_TEST_CASE(replaces_a_dead_socket_but_not_a_live_one, Fixture) {
  {
    ControlServer first(config, sensor);
    try {
      ControlServer second(config, sensor);
      BOOST_FAIL("a live socket was taken over");
    } catch (const std::runtime_error& error) {
      BOOST_TEST(std::string(error.what()) == "control socket: another process is listening on " +
                                                  config.socket_path + " (is another sensor running?)");
    }
    // The failed start did not remove the live sensor's socket.
    const int fd = connect_to(config.socket_path);
    BOOST_TEST(ask(first, fd, R"({"cmd":"ping"})").find("ok")->as_bool());
    ::close(fd);
  }
  // A socket file nobody listens on (a crashed sensor's) is replaced.
  const int dead = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, config.socket_path.data(), config.socket_path.size());
  BOOST_REQUIRE(::bind(dead, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
  ::close(dead);
  ControlServer server(config, sensor);
  const int fd = connect_to(config.socket_path);
  BOOST_TEST(ask(server, fd, R"({"cmd":"ping"})").find("ok")->as_bool());
  ::close(fd);
}

BOOST_FIXTURE_TEST_CASE(an_unknown_group_is_a_setup_error, Fixture) {
  config.group = "no-such-group-misdirect";
  try {
    ControlServer server(config, sensor);
    BOOST_FAIL("an unknown group was accepted");
  } catch (const std::runtime_error& error) {
    BOOST_TEST(std::string(error.what()) == "--control-group: no group named 'no-such-group-misdirect'");
  }
}

namespace {

// Forks a child that drops to uid 65534 (and `gid`), connects and sends a ping; the child exits
// 0 when it got an answer and 3 when it was closed without one. Needs root.
int ping_as_other_user(ControlServer& server, const std::string& path, gid_t gid) {
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(65534) != 0) {
      ::_exit(10);
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), path.size());
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      ::_exit(11);
    }
    const char request[] = "{\"cmd\":\"ping\"}\n";
    [[maybe_unused]] const ssize_t sent = ::send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL);
    char buffer[256];
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    ::_exit(got > 0 ? 0 : 3);
  }
  int status = 0;
  for (int i = 0; i < 1000; ++i) {
    server.poll_once(10);
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
    }
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  BOOST_FAIL("the child never finished");
  return 100;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(refuses_a_user_that_is_not_root_the_sensor_or_in_the_group, Fixture) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: needs root to run a client as another user");
    return;
  }
  ControlServer server(config, sensor);
  // Let the other user reach the socket file, so what refuses it is SO_PEERCRED, not the mode.
  BOOST_REQUIRE(::chmod((dir.path()).c_str(), 0755) == 0);
  BOOST_REQUIRE(::chmod((dir.path() + "/run").c_str(), 0755) == 0);
  BOOST_REQUIRE(::chmod(config.socket_path.c_str(), 0666) == 0);
  BOOST_TEST(ping_as_other_user(server, config.socket_path, 65534) == 3);
  BOOST_TEST(server.stats().refused == 1U);
  BOOST_TEST(server.stats().accepted == 0U);
}

BOOST_FIXTURE_TEST_CASE(admits_a_member_of_the_control_group, Fixture) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: needs root to run a client as another user");
    return;
  }
  config.group = "54321";  // numeric: no /etc/group entry needed
  ControlServer server(config, sensor);
  struct stat status {};
  BOOST_REQUIRE(::stat(config.socket_path.c_str(), &status) == 0);
  BOOST_TEST(status.st_gid == 54321U);
  BOOST_REQUIRE(::stat((dir.path() + "/run").c_str(), &status) == 0);
  BOOST_TEST(status.st_gid == 54321U);
  BOOST_REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  BOOST_TEST(ping_as_other_user(server, config.socket_path, 54321) == 0);
  // Outside the group the socket's mode already keeps the user out; open it up so the refusal
  // seen is SO_PEERCRED's.
  BOOST_TEST(ping_as_other_user(server, config.socket_path, 54322) == 11);
  BOOST_REQUIRE(::chmod((dir.path() + "/run").c_str(), 0755) == 0);
  BOOST_REQUIRE(::chmod(config.socket_path.c_str(), 0666) == 0);
  BOOST_TEST(ping_as_other_user(server, config.socket_path, 54322) == 3);
  BOOST_TEST(server.stats().accepted == 1U);
  BOOST_TEST(server.stats().refused == 1U);
}

// Serves a few rounds and returns what the client received meanwhile (maybe nothing).
std::string serve_rounds(ControlServer& server, int fd, int rounds) {
  Received received;
  for (int i = 0; i < rounds; ++i) {
    server.poll_once(1);
    read_available(fd, received);
  }
  return received.text;
}

// Serves rounds until `done()` holds (bounded), returning what the client received meanwhile. The
// list validation runs on a helper thread, so how many 1 ms rounds it takes depends on the
// machine's load: tests wait for the state they need instead of counting rounds.
template <typename Done>
std::string serve_until(ControlServer& server, int fd, Done done) {
  std::string received;
  for (int i = 0; i < 20'000 && !done(); ++i) {
    received += serve_rounds(server, fd, 1);
  }
  return received;
}

BOOST_FIXTURE_TEST_CASE(a_compiling_push_holds_only_its_own_client, Fixture) {
  sensor.hold = true;
  ControlServer server(config, sensor);
  const int pusher = connect_to(config.socket_path);
  const int other = connect_to(config.socket_path);
  send_all(pusher, "{\"id\":1,\"cmd\":\"lists.set\",\"protected\":[\"army.mil\",\"navy.mil\"]}\n"
                   "{\"id\":2,\"cmd\":\"ping\"}\n");
  // The validation runs on a helper thread first: serve until the compile has started (a loaded
  // machine can take longer than a few 1 ms rounds), then a few more.
  std::string early = serve_until(server, pusher, [&] { return sensor.compiling(); });
  early += serve_rounds(server, pusher, 5);
  BOOST_TEST(early == "");  // compiling: neither answer yet
  BOOST_TEST(sensor.compiling());
  BOOST_TEST(server.swap_in_flight());
  // Another client is served while the compile runs, and sees the generation judging now.
  BOOST_TEST(ask(server, other, R"({"id":"b","cmd":"ping"})").to_json() ==
             R"({"id":"b","ok":true,"pong":true,"generation":1})");
  sensor.hold = false;
  Received received;
  BOOST_TEST(next_json(server, pusher, received).to_json() ==
             R"({"id":1,"ok":true,"generation":2,"patterns":20,"compile_ms":1.5,"protected":2,"allow":0})");
  // The ping sent after the push is answered after it, in order.
  BOOST_TEST(next_json(server, pusher, received).to_json() ==
             R"({"id":2,"ok":true,"pong":true,"generation":2})");
  BOOST_TEST(!server.swap_in_flight());
  ::close(pusher);
  ::close(other);
}

BOOST_FIXTURE_TEST_CASE(a_second_push_waits_for_the_first_and_applies_on_top_of_it, Fixture) {
  sensor.hold = true;
  ControlServer server(config, sensor);
  const int first = connect_to(config.socket_path);
  const int second = connect_to(config.socket_path);
  send_all(first, R"({"id":1,"cmd":"lists.set","protected":["army.mil","navy.mil"]})" "\n");
  BOOST_TEST(serve_until(server, first, [&] { return sensor.compiling(); }) == "");
  send_all(second, R"({"id":2,"cmd":"lists.add","protected":["af.mil"]})" "\n");
  const auto queued = [&] {
    return server.stats().counters.get(ControlCounter::kPushesQueued) == 1U;
  };
  std::string early = serve_until(server, second, queued);
  early += serve_rounds(server, second, 5);
  BOOST_TEST(early == "");  // queued behind the first
  BOOST_TEST(sensor.replace_calls == 1);
  BOOST_TEST(server.stats().counters.get(ControlCounter::kPushesQueued) == 1U);
  sensor.hold = false;
  Received first_received;
  BOOST_TEST(next_json(server, first, first_received).find("generation")->to_json() == "2");
  Received second_received;
  const JsonValue added = next_json(server, second, second_received);
  BOOST_TEST(added.find("generation")->to_json() == "3");
  BOOST_TEST(added.find("protected")->to_json() == "3");
  BOOST_TEST(sensor.current_lists().protected_domains ==
             (std::vector<std::string>{"army.mil", "navy.mil", "af.mil"}));
  ::close(first);
  ::close(second);
}

BOOST_FIXTURE_TEST_CASE(a_push_whose_client_hangs_up_still_applies_and_others_go_on, Fixture) {
  sensor.hold = true;
  ControlServer server(config, sensor);
  const int pusher = connect_to(config.socket_path);
  send_all(pusher, R"({"id":1,"cmd":"lists.set","protected":["navy.mil"]})" "\n");
  BOOST_TEST(serve_until(server, pusher, [&] { return sensor.compiling(); }) == "");
  ::close(pusher);
  for (int i = 0; i < 3; ++i) {
    server.poll_once(1);
  }
  sensor.hold = false;
  for (int i = 0; i < 20'000 && server.swap_in_flight(); ++i) {
    server.poll_once(1);
  }
  const int other = connect_to(config.socket_path);
  BOOST_TEST(ask(server, other, R"({"cmd":"ping"})").find("generation")->to_json() == "2");
  BOOST_TEST(sensor.current_lists().protected_domains == (std::vector<std::string>{"navy.mil"}));
  ::close(other);
}

BOOST_FIXTURE_TEST_CASE(refused_connections_are_counted_exactly_and_logged_once_a_minute, Fixture) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: needs root to run a client as another user");
    return;
  }
  char* text = nullptr;
  std::size_t size = 0;
  std::FILE* log = open_memstream(&text, &size);
  g_fake_now_ms = 5'000;
  config.clock_ms = [] { return g_fake_now_ms; };
  config.log = log;
  ControlServer server(config, sensor);
  BOOST_REQUIRE(::chmod((dir.path()).c_str(), 0755) == 0);
  BOOST_REQUIRE(::chmod((dir.path() + "/run").c_str(), 0755) == 0);
  BOOST_REQUIRE(::chmod(config.socket_path.c_str(), 0666) == 0);
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(ping_as_other_user(server, config.socket_path, 65534) == 3);
  }
  std::fflush(log);
  const auto lines = [&] { return std::count(text, text + size, '\n'); };
  BOOST_TEST(lines() == 1);
  g_fake_now_ms += 60'000;
  BOOST_TEST(ping_as_other_user(server, config.socket_path, 65534) == 3);
  std::fflush(log);
  BOOST_TEST(lines() == 2);
  BOOST_TEST(std::string(text, size).find("(2 more refused since the last line)") != std::string::npos,
             std::string(text, size));
  BOOST_TEST(server.stats().refused == 4U);
  std::fclose(log);
  std::free(text);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::control
