// MetricsServer: --metrics-listen parsing, and the hand-over of a page from the control loop to
// civetweb's threads over a real loopback socket (a scrape is answered with the page gathered
// after it asked; without the loop, 503 and a count).
#include "control/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <future>
#include <string>
#include <vector>

#include "control/sensor_control.h"
#include "dataplane/output/stats_tree.h"

namespace misdirect::control {
namespace {

// A sensor whose stats record holds one figure the test sets.
class FigureSensor final : public SensorControl {
 public:
  void start_list_swap(inspect::DomainLists) override {}
  std::optional<ListSwapResult> finish_list_swap() override { return std::nullopt; }
  inspect::DomainLists current_lists() const override { return {}; }
  uint64_t generation() const override { return 1; }
  std::vector<CheckAnswer> check(const std::vector<std::string>&) override { return {}; }
  ReopenResult reopen_output() override { return {}; }
  SensorUptime uptime() const override { return {}; }
  void collect_stats(dataplane::StatsNode& record) const override {
    ++collected;
    record.set_text("event_type", "stats");
    record.child("stats").child("decoder").add("pkts", packets);
  }
  uint64_t packets = 0;
  mutable int collected = 0;
};

// An HTTP/1.1 request that asks the server to close the connection after its answer.
std::string request(const std::string& method, const std::string& path) {
  return method + " " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
}

// One HTTP exchange on 127.0.0.1:port; the whole answer, headers included.
std::string http(uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  BOOST_REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  std::string answer;
  char buffer[4096];
  for (ssize_t got; (got = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    answer.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return answer;
}

// Serves the loop's side until `answer` is ready, as the live control loop does every round.
std::string scrape_while_polling(MetricsServer& server, FigureSensor& sensor, const std::string& request) {
  auto answer = std::async(std::launch::async, [&] { return http(server.port(), request); });
  while (answer.wait_for(std::chrono::milliseconds(1)) != std::future_status::ready) {
    server.poll_once(sensor, nullptr);
  }
  return answer.get();
}

MetricsServerConfig loopback_any_port() {
  MetricsServerConfig config;
  config.listen.port = 0;  // host 127.0.0.1 by default
  return config;
}

BOOST_AUTO_TEST_SUITE(metrics_server)

BOOST_AUTO_TEST_CASE(listen_addresses_parse_and_bad_ones_are_named) {
  MetricsListen listen;
  BOOST_TEST(parse_metrics_listen("9100", listen).empty());
  BOOST_TEST(listen.host == "127.0.0.1");
  BOOST_TEST(listen.port == 9100);
  BOOST_TEST(parse_metrics_listen(":9101", listen).empty());
  BOOST_TEST(listen.host == "127.0.0.1");
  BOOST_TEST(listen.port == 9101);
  BOOST_TEST(parse_metrics_listen("0.0.0.0:80", listen).empty());
  BOOST_TEST(listen.host == "0.0.0.0");
  BOOST_TEST(!listen.ipv6);
  BOOST_TEST(parse_metrics_listen("[::1]:9102", listen).empty());
  BOOST_TEST(listen.host == "::1");
  BOOST_TEST(listen.ipv6);
  BOOST_TEST(listen.port == 9102);
  const MetricsListen before = listen;
  BOOST_TEST(parse_metrics_listen("localhost:9100", listen).find("numeric IPv4") != std::string::npos);
  BOOST_TEST(parse_metrics_listen("1.2.3.4:65536", listen).find("port") != std::string::npos);
  BOOST_TEST(parse_metrics_listen("[::1]", listen).find("[IPv6]:PORT") != std::string::npos);
  BOOST_TEST(parse_metrics_listen("[1.2.3.4]:1", listen).find("IPv6") != std::string::npos);
  BOOST_TEST(!parse_metrics_listen("", listen).empty());
  // A refused value changes nothing.
  BOOST_TEST(listen.host == before.host);
  BOOST_TEST(listen.port == before.port);
}

BOOST_AUTO_TEST_CASE(a_scrape_gets_the_page_the_control_loop_gathered_after_it_asked) {
  MetricsServer server(loopback_any_port());
  BOOST_TEST(server.port() != 0);
  FigureSensor sensor;
  // Nobody asks: the loop gathers nothing.
  server.poll_once(sensor, nullptr);
  BOOST_TEST(sensor.collected == 0);

  sensor.packets = 41;
  std::string answer = scrape_while_polling(server, sensor, request("GET", "/metrics"));
  BOOST_TEST_INFO(answer);
  BOOST_TEST(answer.starts_with("HTTP/1.1 200"));
  BOOST_TEST(answer.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
  BOOST_TEST(answer.find("\nmisdirect_decoder_pkts_total 41\n") != std::string::npos);
  BOOST_TEST(sensor.collected >= 1);

  sensor.packets = 42;  // a later scrape never gets the earlier page
  answer = scrape_while_polling(server, sensor, request("GET", "/metrics"));
  BOOST_TEST(answer.find("\nmisdirect_decoder_pkts_total 42\n") != std::string::npos);
  BOOST_TEST(answer.find("\nmisdirect_metrics_scrapes_total 1\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(other_paths_and_methods_are_refused_and_counted) {
  MetricsServer server(loopback_any_port());
  FigureSensor sensor;
  BOOST_TEST(http(server.port(), request("GET", "/other")).starts_with("HTTP/1.1 404"));
  BOOST_TEST(http(server.port(), request("GET", "/metricsX")).starts_with("HTTP/1.1 404"));
  BOOST_TEST(http(server.port(), request("DELETE", "/metrics")).starts_with("HTTP/1.1 405"));
  const std::string head = scrape_while_polling(server, sensor, request("HEAD", "/metrics"));
  BOOST_TEST(head.starts_with("HTTP/1.1 200"));
  BOOST_TEST(head.ends_with("\r\n\r\n"));  // headers only
  const dataplane::StatsNode counters = server.counters_tree();
  BOOST_TEST(counters.find("not_found")->count() == 2u);
  BOOST_TEST(counters.find("bad_method")->count() == 1u);
  BOOST_TEST(counters.find("scrapes")->count() == 1u);
}

BOOST_AUTO_TEST_CASE(without_the_control_loop_a_scrape_gets_503_and_is_counted) {
  MetricsServerConfig config = loopback_any_port();
  config.page_wait_ms = 50;
  MetricsServer server(config);
  BOOST_TEST(http(server.port(), request("GET", "/metrics")).starts_with("HTTP/1.1 503"));
  BOOST_TEST(server.counters_tree().find("control_loop_late")->count() == 1u);
}

BOOST_AUTO_TEST_CASE(a_port_in_use_is_refused_with_one_line) {
  MetricsServer first(loopback_any_port());
  MetricsServerConfig config;
  config.listen.port = first.port();
  BOOST_CHECK_EXCEPTION(MetricsServer second(config), std::runtime_error, [](const std::runtime_error& error) {
    return std::string(error.what()).find("--metrics-listen 127.0.0.1:") != std::string::npos;
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace misdirect::control
