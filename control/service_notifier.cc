// ServiceNotifier: sd_notify messages, the watchdog and the worker stall check.
// libsystemd's sd_notify is the reference implementation of the protocol (Debian libsystemd-dev).
#include "control/service_notifier.h"

#include <systemd/sd-daemon.h>

#include <cstdio>
#include <cstdlib>

namespace misdirect::control {

ServiceNotifier ServiceNotifier::from_environment() {
  ServiceNotifierConfig config;
  uint64_t watchdog_us = 0;
  if (sd_watchdog_enabled(0, &watchdog_us) > 0) {
    config.watchdog_ns = watchdog_us * 1000;
  }
  const char* socket = std::getenv("NOTIFY_SOCKET");
  const bool enabled = socket != nullptr && socket[0] != '\0';
  return ServiceNotifier(config, enabled, [](const std::string& message) { sd_notify(0, message.c_str()); });
}

ServiceNotifier::ServiceNotifier(const ServiceNotifierConfig& config, bool enabled, Sender send)
    : config_(config), enabled_(enabled), send_(std::move(send)) {
  if (config_.worker_stall_ns == 0) {
    config_.worker_stall_ns = config_.watchdog_ns / 2;
  }
}

std::string ServiceNotifier::status_line(std::string_view state, const ServiceStatus& status) {
  std::string line(state);
  line += ": " + std::to_string(status.workers) + (status.workers == 1 ? " worker, " : " workers, ");
  line += std::to_string(status.packets) + (status.packets == 1 ? " packet, " : " packets, ");
  line += std::to_string(status.alerts) + (status.alerts == 1 ? " alert, " : " alerts, ");
  line += "lists generation " + std::to_string(status.generation);
  return line;
}

void ServiceNotifier::ready(const ServiceStatus& status, uint64_t now_ns) {
  if (!enabled_) {
    return;
  }
  send_("READY=1\nSTATUS=" + status_line("running", status));
  next_status_ns_ = now_ns + config_.status_interval_ns;
  if (config_.watchdog_ns != 0) {
    send_("WATCHDOG=1");
    next_pet_ns_ = now_ns + config_.watchdog_ns / 2;
  }
}

void ServiceNotifier::check_workers(uint64_t now_ns, WorkerHeartbeat& workers) {
  if (!token_pending_) {
    token_ = workers.start();
    token_since_ns_ = now_ns;
    token_pending_ = true;
    return;
  }
  if (workers.passed(token_)) {
    token_pending_ = false;
    if (!stall_.empty()) {
      std::fprintf(stderr, "misdirect live: workers move again; the watchdog is notified again\n");
      stall_.clear();
    }
    return;
  }
  if (stall_.empty() && now_ns - token_since_ns_ >= config_.worker_stall_ns) {
    const std::optional<uint32_t> worker = workers.lagging(token_);
    char text[160];
    std::snprintf(text, sizeof text, "worker %s has not passed a heartbeat in %.1f s",
                  worker ? std::to_string(*worker).c_str() : "?",
                  static_cast<double>(now_ns - token_since_ns_) / 1e9);
    stall_ = text;
    std::fprintf(stderr, "misdirect live: %s: the watchdog is no longer notified\n", stall_.c_str());
    send_("STATUS=stalled: " + stall_);
  }
}

void ServiceNotifier::tick(const ServiceStatus& status, uint64_t now_ns, WorkerHeartbeat* workers) {
  if (!enabled_) {
    return;
  }
  if (config_.watchdog_ns != 0 && workers != nullptr && now_ns >= next_heartbeat_ns_) {
    next_heartbeat_ns_ = now_ns + config_.heartbeat_interval_ns;
    check_workers(now_ns, *workers);
  }
  if (config_.watchdog_ns != 0 && now_ns >= next_pet_ns_ && stall_.empty()) {
    send_("WATCHDOG=1");
    next_pet_ns_ = now_ns + config_.watchdog_ns / 2;
  }
  if (now_ns >= next_status_ns_ && stall_.empty()) {
    send_("STATUS=" + status_line(state_, status));
    next_status_ns_ = now_ns + config_.status_interval_ns;
  }
}

void ServiceNotifier::stopping(const ServiceStatus& status) {
  if (!enabled_) {
    return;
  }
  state_ = "stopping";
  send_("STOPPING=1\nSTATUS=" + status_line(state_, status));
}

}  // namespace misdirect::control
