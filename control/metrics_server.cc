// MetricsServer: the Prometheus page over civetweb, handed over from the control thread.
#include "control/metrics_server.h"

#include <arpa/inet.h>
#include <civetweb.h>

#include <chrono>
#include <cstring>
#include <span>
#include <stdexcept>
#include <vector>

#include "control/command_line.h"
#include "control/control_server.h"
#include "control/sensor_control.h"
#include "dataplane/output/prometheus_exposition.h"

namespace misdirect::control {
namespace {

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr unsigned kFeatureIpv6 = 8;  // mg_check_feature: built with IPv6

int on_request(mg_connection* connection, void* server) {
  return static_cast<MetricsServer*>(server)->handle_request(connection);
}

// civetweb's error lines would let any client write to our stderr as fast as it can send
// garbage: they are counted instead.
int on_log_message(const mg_connection* connection, const char*) {
  const mg_request_info* info = connection != nullptr ? mg_get_request_info(connection) : nullptr;
  if (info != nullptr && info->user_data != nullptr) {
    static_cast<MetricsServer*>(info->user_data)->count(MetricsCounter::kHttpErrors);
  }
  return 1;
}

int on_log_access(const mg_connection*, const char*) { return 1; }

}  // namespace

std::string parse_metrics_listen(std::string_view text, MetricsListen& out) {
  MetricsListen parsed;
  std::string_view port_text = text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return "is not [IPv6]:PORT";
    }
    parsed.host = std::string(text.substr(1, close - 1));
    parsed.ipv6 = true;
    port_text = text.substr(close + 2);
    in6_addr address{};
    if (inet_pton(AF_INET6, parsed.host.c_str(), &address) != 1) {
      return "does not hold a numeric IPv6 address between the brackets";
    }
  } else if (const std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    if (colon != 0) {
      parsed.host = std::string(text.substr(0, colon));
      in_addr address{};
      if (inet_pton(AF_INET, parsed.host.c_str(), &address) != 1) {
        return "is not ADDR:PORT with a numeric IPv4 address (or [IPv6]:PORT)";
      }
    }
    port_text = text.substr(colon + 1);
  }
  uint64_t port = 0;
  if (std::string problem = CommandLine::parse_number(port_text, 0, 65535, port); !problem.empty()) {
    return "has a port that " + problem;
  }
  parsed.port = static_cast<uint16_t>(port);
  out = std::move(parsed);
  return {};
}

MetricsServer::MetricsServer(const MetricsServerConfig& config) : config_(config) {
  if (config_.listen.ipv6 && mg_check_feature(kFeatureIpv6) == 0) {
    throw std::runtime_error("--metrics-listen: this civetweb was built without IPv6");
  }
  mg_init_library(0);
  const std::string listening = config_.listen.ipv6
                                    ? "[" + config_.listen.host + "]:" + std::to_string(config_.listen.port)
                                    : config_.listen.host + ":" + std::to_string(config_.listen.port);
  const std::string threads = std::to_string(config_.threads);
  const std::string queue = std::to_string(config_.connection_queue);
  const std::string timeout = std::to_string(config_.request_timeout_ms);
  const std::string request_bytes = std::to_string(config_.max_request_bytes);
  // No document_root: civetweb serves no file, only the handler below.
  const char* options[] = {
      "listening_ports", listening.c_str(),
      "num_threads", threads.c_str(),
      "connection_queue", queue.c_str(),
      "request_timeout_ms", timeout.c_str(),
      "max_request_size", request_bytes.c_str(),
      "enable_keep_alive", "no",
      nullptr,
  };
  mg_callbacks callbacks{};
  callbacks.log_message = on_log_message;
  callbacks.log_access = on_log_access;
  char error_text[256] = "";
  unsigned error_code = 0;
  mg_error_data error{&error_code, error_text, sizeof(error_text)};
  mg_init_data init{&callbacks, this, options};
  context_ = mg_start2(&init, &error);
  if (context_ == nullptr) {
    mg_exit_library();
    throw std::runtime_error("--metrics-listen " + listening + ": cannot listen: " +
                             (error_text[0] != '\0' ? error_text : "civetweb did not start"));
  }
  mg_server_port ports[4]{};
  const int count = mg_get_server_ports(context_, 4, ports);
  port_ = count > 0 ? static_cast<uint16_t>(ports[0].port) : config_.listen.port;
  mg_set_request_handler(context_, "/", on_request, this);
}

MetricsServer::~MetricsServer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  page_ready_.notify_all();
  mg_stop(context_);
  mg_exit_library();
}

std::string MetricsServer::url() const {
  const std::string host = config_.listen.ipv6 ? "[" + config_.listen.host + "]" : config_.listen.host;
  return "http://" + host + ":" + std::to_string(port_) + "/metrics";
}

int MetricsServer::handle_request(mg_connection* connection) {
  const mg_request_info* info = mg_get_request_info(connection);
  const char* uri = info->local_uri != nullptr ? info->local_uri : "";
  if (std::strcmp(uri, "/metrics") != 0) {
    count(MetricsCounter::kNotFound);
    mg_send_http_error(connection, 404, "%s", "only /metrics is served here\n");
    return 404;
  }
  const bool head = std::strcmp(info->request_method, "HEAD") == 0;
  if (!head && std::strcmp(info->request_method, "GET") != 0) {
    count(MetricsCounter::kBadMethod);
    mg_send_http_error(connection, 405, "%s", "/metrics answers GET and HEAD\n");
    return 405;
  }
  const std::shared_ptr<const std::string> page = wait_for_page();
  if (!page) {
    count(MetricsCounter::kControlLoopLate);
    mg_send_http_error(connection, 503, "%s", "the sensor's control loop gave no page in time\n");
    return 503;
  }
  count(MetricsCounter::kScrapes);
  mg_send_http_ok(connection, kContentType, static_cast<long long>(page->size()));
  if (!head) {
    mg_write(connection, page->data(), page->size());
  }
  return 200;
}

std::shared_ptr<const std::string> MetricsServer::wait_for_page() {
  std::unique_lock lock(mutex_);
  const uint64_t ticket = ++tickets_;
  page_wanted_.store(true, std::memory_order_release);
  const bool answered = page_ready_.wait_for(lock, std::chrono::milliseconds(config_.page_wait_ms), [&] {
    return covered_ >= ticket || stopping_;
  });
  return answered && covered_ >= ticket ? page_ : nullptr;
}

void MetricsServer::poll_once(const SensorControl& sensor, const ControlServer* control) {
  if (!page_wanted_.load(std::memory_order_acquire)) {
    return;
  }
  // Every ticket taken up to here is answered by a page gathered from now on; scrapes that
  // arrive meanwhile raise the flag again and get the next one.
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    page_wanted_.store(false, std::memory_order_relaxed);
    ticket = tickets_;
  }
  dataplane::StatsNode record;
  sensor.collect_stats(record);
  dataplane::PrometheusExposition page;
  page.add_record(record, "misdirect");
  if (control != nullptr) {
    page.add_tree(control->counters_tree(), "misdirect_control", "control");
  }
  page.add_tree(counters_tree(), "misdirect_metrics", "metrics");
  auto shared = std::make_shared<const std::string>(page.text());
  {
    std::lock_guard lock(mutex_);
    page_ = std::move(shared);
    covered_ = ticket;
  }
  page_ready_.notify_all();
}

dataplane::StatsNode MetricsServer::counters_tree() const {
  std::array<uint64_t, static_cast<std::size_t>(MetricsCounter::kCount)> values{};
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = counters_[i].load(std::memory_order_relaxed);
  }
  dataplane::StatsNode tree;
  dataplane::add_counter_table(tree, "", std::span<const uint64_t>(values),
                              std::span<const dataplane::CounterInfo>(kMetricsCounterInfo));
  return tree;
}

}  // namespace misdirect::control
