// ServiceNotifier: the live sensor's side of systemd's notify protocol (sd_notify(3)).
//
//   READY=1      once the lists are compiled, the ports are up and the control socket listens
//                (the live command calls ready() after all three);
//   STATUS=...   "running: 2 workers, 81234 packets, 3 alerts, lists generation 1", at ready, at
//                most every status_interval_ns after, and on stalls and stopping;
//   WATCHDOG=1   from the control loop every half WatchdogSec, but only while every worker is
//                seen alive (below): a stalled control loop stops calling tick(), a stalled worker
//                stops the petting, and either way systemd restarts the service after WatchdogSec;
//   STOPPING=1   when the drain begins.
//
// How a stalled worker is noticed: the control loop hands out a heartbeat token (WorkerHeartbeat:
// in the live sensor an RCU QSBR token, which every worker passes at the quiescent point it
// reports after each poll of its queues, busy or idle) and checks without waiting whether every
// worker has passed it. A worker that has not passed a token for worker_stall_ns is stalled. The
// stall is logged once with the worker's id and the watchdog is no longer petted; if the worker
// moves again, petting resumes.
//
// Without systemd (no NOTIFY_SOCKET) sd_notify does nothing and no watchdog is configured, so the
// sensor runs the same under a shell. Tests construct it with their own sender and clock values.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace misdirect::control {

// The proof that workers still loop. start() begins a round; passed(token) says, without
// waiting, whether every running worker has gone past it; lagging(token) names one that has not.
class WorkerHeartbeat {
 public:
  virtual ~WorkerHeartbeat() = default;
  virtual uint64_t start() noexcept = 0;
  virtual bool passed(uint64_t token) noexcept = 0;
  virtual std::optional<uint32_t> lagging(uint64_t token) noexcept = 0;
};

struct ServiceStatus {
  uint32_t workers = 0;
  uint64_t packets = 0;
  uint64_t alerts = 0;
  uint64_t generation = 0;
};

struct ServiceNotifierConfig {
  // From WATCHDOG_USEC (sd_watchdog_enabled); 0: no watchdog.
  uint64_t watchdog_ns = 0;
  // A worker that has not passed a heartbeat token this long is stalled. 0: half the watchdog.
  uint64_t worker_stall_ns = 0;
  uint64_t status_interval_ns = 5'000'000'000;
  // How often the heartbeat is looked at: a check reads one cache line of each worker.
  uint64_t heartbeat_interval_ns = 100'000'000;
};

class ServiceNotifier {
 public:
  using Sender = std::function<void(const std::string& message)>;

  // systemd's view: enabled when NOTIFY_SOCKET is set; the watchdog from WATCHDOG_USEC (and
  // WATCHDOG_PID when set); messages go out with sd_notify.
  static ServiceNotifier from_environment();
  ServiceNotifier(const ServiceNotifierConfig& config, bool enabled, Sender send);

  bool enabled() const noexcept { return enabled_; }
  uint64_t watchdog_ns() const noexcept { return config_.watchdog_ns; }

  void ready(const ServiceStatus& status, uint64_t now_ns);
  // Every turn of the control loop (cheap when nothing is due). `workers` may be null.
  void tick(const ServiceStatus& status, uint64_t now_ns, WorkerHeartbeat* workers);
  void stopping(const ServiceStatus& status);

  // Set while a worker is stalled: "worker 1 has not passed a heartbeat in 15.0 s".
  const std::string& stall() const noexcept { return stall_; }

  static std::string status_line(std::string_view state, const ServiceStatus& status);

 private:
  void check_workers(uint64_t now_ns, WorkerHeartbeat& workers);

  ServiceNotifierConfig config_;
  bool enabled_;
  Sender send_;
  uint64_t next_status_ns_ = 0;
  uint64_t next_pet_ns_ = 0;
  uint64_t next_heartbeat_ns_ = 0;
  bool token_pending_ = false;
  uint64_t token_ = 0;
  uint64_t token_since_ns_ = 0;
  std::string stall_;
  std::string_view state_ = "running";  // "stopping" once the drain began
};

}  // namespace misdirect::control
