// ControlServer: the live sensor's control socket — a Unix stream socket speaking JSON lines
// (docs/control.md). It answers requests, pushes lists into the sensor and mirrors records to
// subscribers. Single-threaded: every call comes from the sensor's control thread, and nothing in
// it ever blocks that thread longer than poll_once's timeout.
//
// A list push is a job: its compile runs on the sensor's helper thread while poll_once keeps
// serving every client. The pushing client waits — its later requests stay unread until the push
// is answered, so its answers keep their order — and a push from another client while one
// compiles waits its turn in a queue (one waiting push per client, so at most max_clients).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/control_protocol.h"
#include "control/list_store.h"
#include "control/peer_credentials.h"
#include "control/sensor_control.h"
#include "inspect/domain_lists.h"
#include "dataplane/counter_table.h"
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

enum class ControlCounter : uint16_t {
  kAccepted,
  kRefused,
  kTooManyClients,
  kRequests,
  kErrors,
  kOversized,
  kIncompleteLines,
  kListSwaps,
  kPersistFailures,
  kEventsSent,
  kSubscriberDrops,
  kSubscriberDisconnects,
  kWriteErrors,
  kIdleTimeouts,
  kPushesQueued,
  kCount
};

inline constexpr dataplane::CounterInfo kControlCounterInfo[] = {
    {"accepted", "connections accepted"},
    {"refused", "connections refused by the SO_PEERCRED policy"},
    {"too_many_clients", "connections closed because max_clients were connected"},
    {"requests", "request lines answered"},
    {"errors", "requests answered with an error"},
    {"oversized", "connections closed for a line longer than max_message_bytes"},
    {"incomplete_lines", "connections that ended in the middle of a line"},
    {"list_swaps", "lists accepted and published"},
    {"persist_failures", "accepted lists that could not be written to the state directory"},
    {"events_sent", "records queued to subscribers"},
    {"subscriber_drops", "records a subscriber's full buffer could not take"},
    {"subscriber_disconnects", "subscribers disconnected for not reading"},
    {"write_errors", "connections closed because a write failed"},
    {"idle_timeouts", "connections closed after idle_timeout_ms without a request (not subscribers)"},
    {"pushes_queued", "list pushes that waited for another push's compile to end"},
};
static_assert(std::size(kControlCounterInfo) == static_cast<std::size_t>(ControlCounter::kCount));

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

// The lists a push asks for, validated and merged with the current ones; or its error answer.
struct PreparedPush {
  std::optional<inspect::DomainLists> lists;
  std::string error_answer;
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
  bool swap_in_flight() const noexcept { return swap_.has_value(); }

  // Queues one record line (no newline) to the subscribers of its type. Never blocks: a full
  // subscriber buffer drops the record and counts it; the subscriber gets an overflow event once
  // it has room again, and is disconnected past subscriber_drop_limit.
  void broadcast(dataplane::RecordType type, std::string_view json_line);

  ControlServerStats stats() const;
  // The server's counters (clients, subscribers, the ControlCounter table), for the `stats` answer.
  dataplane::StatsNode counters_tree() const;

  const std::string& socket_path() const noexcept { return config_.socket_path; }

 private:
  struct Client;

  void accept_clients();
  void read_from(Client& client, bool readable);
  void refuse_oversized(Client& client);
  void handle_line(Client& client, std::string_view line);
  void queue_response(Client& client, std::string line);
  void flush(Client& client);
  void close_client(Client& client);
  void prune_closed();
  void close_idle_clients();
  uint64_t now_ms() const;

  std::string answer(Client& client, const Request& request);
  std::string answer_stats(const JsonValue& id);

  // List pushes (lists.set, lists.add, lists.remove).
  static bool is_push(const Request& request) noexcept;
  void begin_push(Client& client, Request request);
  void poll_swap();
  std::string answer_swap(const JsonValue& id, const inspect::DomainLists& lists,
                          const ListSwapResult& swap);
  Client* find_client(uint64_t serial) noexcept;

  // The push being prepared (validated, merged: on a helper thread), then compiled.
  struct Swap {
    uint64_t client = 0;  // Client::serial; the client may be gone when the compile ends
    JsonValue id;
    inspect::DomainLists lists;            // once prepared
    std::future<PreparedPush> preparing;   // until prepared
    bool compiling = false;
  };

  ControlServerConfig config_;
  SensorControl& sensor_;
  std::optional<gid_t> group_;
  PeerPolicy policy_;
  std::unique_ptr<ListStore> store_;
  int listen_fd_ = -1;
  dev_t socket_device_ = 0;
  ino_t socket_inode_ = 0;
  std::vector<std::unique_ptr<Client>> clients_;
  uint64_t next_client_serial_ = 1;
  std::optional<Swap> swap_;
  std::deque<uint64_t> push_queue_;  // clients holding a push that waits for swap_ to end
  dataplane::CounterArray<ControlCounter> counters_;
  // Refused connections are counted exactly but logged at most once a minute: a local user
  // hammering the socket must not flood the sensor's log.
  static constexpr uint64_t kRefusalLogIntervalMs = 60'000;
  bool refusal_logged_ = false;
  uint64_t last_refusal_log_ms_ = 0;
  uint64_t refusals_not_logged_ = 0;
};

}  // namespace misdirect::control
