// ControlServer: the live sensor's control socket — a Unix stream socket speaking JSON lines
// (docs/control.md). It answers requests, pushes lists into the sensor and mirrors records to
// subscribers. Single-threaded: every call comes from the sensor's control thread, and nothing in
// it ever blocks that thread longer than poll_once's timeout.
//
// The server is the reactor's loop over its connections; each concern has its own file:
// the listening socket (control_socket.h), one connection's I/O (control_client.h), the answers
// (command_dispatch.h), list pushes as jobs (list_push_queue.h) and their meaning (list_push.h),
// persistence (list_store.h), and the records' way to subscribers (subscriber_fanout.h).
//
// A list push is a job: its compile runs on the sensor's helper thread while poll_once keeps
// serving every client. The pushing client waits — its later requests stay unread until the push
// is answered, so its answers keep their order — and a push from another client while one
// compiles waits its turn in a queue (one waiting push per client, so at most max_clients).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/command_dispatch.h"
#include "control/control_client.h"
#include "control/control_counters.h"
#include "control/control_socket.h"
#include "control/list_push_queue.h"
#include "control/list_store.h"
#include "control/peer_credentials.h"
#include "control/sensor_control.h"
#include "dataplane/output/record_sink.h"
#include "dataplane/output/stats_tree.h"

namespace misdirect::control {

struct ControlServerConfig {
  std::string socket_path = "/run/misdirect/control.sock";
  std::string group;  // --control-group (name or gid); empty: only root and the sensor's user
  std::size_t max_message_bytes = 1 << 20;      // one request line, newline excluded
  std::size_t subscriber_buffer_bytes = 4 << 20;  // queued output per client
  std::string state_dir;                        // empty: no persistence
  std::size_t max_clients = 64;
  // A subscriber that drops this many records without taking a single byte in between is
  // disconnected: it is not reading at all, and keeping it costs a buffer for nothing.
  uint64_t subscriber_drop_limit = 100000;
  // A client that is not subscribed and has sent no complete request for this long is closed, so
  // silent connections cannot hold every one of the max_clients slots. 0: never.
  uint64_t idle_timeout_ms = 60'000;
  // Milliseconds on a monotonic clock; tests give their own.
  uint64_t (*clock_ms)() = nullptr;  // null: CLOCK_MONOTONIC
  // Where refused connections are logged (at most one line a minute); null: stderr.
  std::FILE* log = nullptr;
};

struct ControlServerStats {
  std::size_t clients = 0;      // connected now
  std::size_t subscribers = 0;  // connected now with a non-empty subscription
  uint64_t accepted = 0;
  uint64_t refused = 0;
  uint64_t requests = 0;
  uint64_t errors = 0;
  uint64_t subscriber_drops = 0;
  uint64_t disconnects = 0;  // subscribers disconnected past the drop bound
  dataplane::CounterArray<ControlCounter> counters;
};

class ControlServer {
 public:
  // Creates the socket's directory (0750) when missing, removes a stale socket (refusing when a
  // live sensor still answers on it), binds the socket with mode 0660 and the control group.
  // Throws std::runtime_error with one clear line on any set-up failure.
  ControlServer(const ControlServerConfig& config, SensorControl& sensor);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Accepts, reads, answers and flushes; picks up a finished list compile and starts the next
  // queued push. Waits at most `timeout_ms` (0: just look) in poll(2).
  void poll_once(int timeout_ms);
  // True while a pushed list compiles (the caller may poll with a shorter timeout).
  bool swap_in_flight() const noexcept { return pushes_.in_flight(); }

  // Queues one record line (no newline) to the subscribers of its type. Never blocks: a full
  // subscriber buffer drops the record and counts it; the subscriber gets an overflow event once
  // it has room again, and is disconnected past subscriber_drop_limit.
  void broadcast(dataplane::RecordType type, std::string_view json_line);

  ControlServerStats stats() const;
  // The server's counters (clients, subscribers, the ControlCounter table), for the `stats` answer.
  dataplane::StatsNode counters_tree() const;

  const std::string& socket_path() const noexcept { return config_.socket_path; }

 private:
  void accept_clients();
  bool admit(int fd, const PeerCredentials& peer);
  void serve(ControlClient& client, short revents);
  void read_from(ControlClient& client, bool readable);
  void refuse_oversized(ControlClient& client);
  void handle_line(ControlClient& client, std::string line);
  void dispatch(ControlClient& client, RequestParseResult parsed);
  void poll_parses();
  void flush(ControlClient& client);
  void poll_pushes();
  void close_idle_clients();
  void prune_closed();
  ControlClient* find_client(uint64_t serial) noexcept;
  uint64_t now_ms() const;

  ControlServerConfig config_;
  SensorControl& sensor_;
  std::optional<gid_t> group_;
  PeerPolicy policy_;
  std::unique_ptr<ListStore> store_;
  std::unique_ptr<ControlSocket> socket_;
  ControlCounters counters_;
  CommandDispatcher dispatcher_;
  ListPushQueue pushes_;
  std::vector<std::unique_ptr<ControlClient>> clients_;
  uint64_t next_client_serial_ = 1;
  // Refused connections are counted exactly but logged at most once a minute: a local user
  // hammering the socket must not flood the sensor's log.
  static constexpr uint64_t kRefusalLogIntervalMs = 60'000;
  bool refusal_logged_ = false;
  uint64_t last_refusal_log_ms_ = 0;
  uint64_t refusals_not_logged_ = 0;
  // Long lines being parsed on helper threads; one at most per client (it is held meanwhile).
  struct OffloadedParse {
    uint64_t client = 0;
    std::future<RequestParseResult> result;
  };
  std::vector<OffloadedParse> parses_;
};

}  // namespace misdirect::control
