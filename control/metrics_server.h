// MetricsServer: `--metrics-listen ADDR:PORT` — GET /metrics answers with the stats tree as a
// Prometheus text exposition page (dataplane/output/prometheus_exposition.h).
//
// Why civetweb (Debian libcivetweb-dev) and not a handler of our own in the control loop: HTTP is
// cold-path protocol work a well-kept library already does (request line and header parsing with a
// size bound, per-read timeouts, HEAD, error answers), STYLE.md 24; and civetweb serves clients on
// its own threads, so no byte a client sends or withholds — a slowloris, a header without end,
// garbage — ever reaches the control thread: at worst it holds one of civetweb's few threads
// until request_timeout_ms, and later scrapes wait in civetweb's bounded connection queue.
// civetweb's threads are started from the control thread after EAL has pinned it, so they inherit
// the control lcore's CPU set and never run on a worker's core.
//
// How a page is made without touching a worker from civetweb's threads: a scrape only asks. Its
// handler takes a ticket and waits (at most page_wait_ms) on a condition variable; the control
// loop sees the request through poll_once() (one relaxed atomic load a round when nobody
// scrapes), gathers the record with the same SensorControl::collect_stats snapshot the socket's
// `stats` command uses, renders the page on the control thread and publishes it as a
// shared_ptr<const std::string> under a mutex that either side holds only to swap a pointer and a
// number — never while gathering, rendering or writing to a client. Every scrape whose ticket the
// page covers is answered with it; the control thread never waits for a client, and a client never
// calls into the sensor. If the loop does not answer in time (shutting down, a stall), the scrape
// gets 503 and is counted.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "dataplane/counter_table.h"
#include "dataplane/output/stats_tree.h"

struct mg_context;
struct mg_connection;

namespace misdirect::control {

class SensorControl;
class ControlServer;

// Where the metrics page listens. No host means 127.0.0.1: metrics are local unless told otherwise.
struct MetricsListen {
  std::string host = "127.0.0.1";  // a numeric IPv4 address, or an IPv6 one (without brackets)
  bool ipv6 = false;
  uint16_t port = 0;  // 0: any free port (the one bound is logged)
};

// Parses "ADDR:PORT", ":PORT", "PORT" or "[IPv6]:PORT"; returns the problem ("is not ...") or "".
std::string parse_metrics_listen(std::string_view text, MetricsListen& out);

struct MetricsServerConfig {
  MetricsListen listen;
  unsigned threads = 2;                  // civetweb worker threads: scrapes served at once
  unsigned connection_queue = 16;        // accepted connections waiting for a thread
  unsigned request_timeout_ms = 5000;    // a client that sends or reads nothing this long is closed
  std::size_t max_request_bytes = 8192;  // request line and headers
  unsigned page_wait_ms = 2000;          // how long a scrape waits for the control loop's page
};

enum class MetricsCounter : uint16_t {
  kScrapes,
  kNotFound,
  kBadMethod,
  kControlLoopLate,
  kHttpErrors,
  kCount
};

inline constexpr dataplane::CounterInfo kMetricsCounterInfo[] = {
    {"scrapes", "/metrics pages served"},
    {"not_found", "requests for a path other than /metrics"},
    {"bad_method", "requests with a method other than GET or HEAD"},
    {"control_loop_late", "scrapes answered 503 because the control loop gave no page within page_wait_ms"},
    {"http_errors", "connections civetweb ended with an error (bad or oversized request, timeout)"},
};
static_assert(std::size(kMetricsCounterInfo) == static_cast<std::size_t>(MetricsCounter::kCount));

class MetricsServer {
 public:
  // Starts listening. Throws std::runtime_error with one clear line when it cannot.
  explicit MetricsServer(const MetricsServerConfig& config);
  // Releases every waiting scrape (503), then stops civetweb's threads.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port bound (the one asked for, or the one the kernel chose for 0).
  uint16_t port() const noexcept { return port_; }
  // "http://127.0.0.1:9100/metrics"
  std::string url() const;

  // Control thread, every loop round. Never blocks: when a scrape waits, gathers the sensor's
  // stats record (and the control socket's counters when `control` is given), renders the page
  // and hands it over; otherwise returns at once.
  void poll_once(const SensorControl& sensor, const ControlServer* control);

  // The server's own counters (MetricsCounter), as a tree.
  dataplane::StatsNode counters_tree() const;

  // Called by civetweb's threads (public for the C callback only).
  int handle_request(mg_connection* connection);
  void count(MetricsCounter counter) noexcept {
    counters_[static_cast<std::size_t>(counter)].fetch_add(1, std::memory_order_relaxed);
  }

 private:
  std::shared_ptr<const std::string> wait_for_page();

  MetricsServerConfig config_;
  mg_context* context_ = nullptr;
  uint16_t port_ = 0;
  std::array<std::atomic<uint64_t>, static_cast<std::size_t>(MetricsCounter::kCount)> counters_{};

  // The hand-over between civetweb's threads and the control thread.
  std::atomic<bool> page_wanted_{false};
  std::mutex mutex_;
  std::condition_variable page_ready_;
  uint64_t tickets_ = 0;  // scrapes that asked so far
  uint64_t covered_ = 0;  // the tickets the current page answers
  std::shared_ptr<const std::string> page_;
  bool stopping_ = false;
};

}  // namespace misdirect::control
