// `misdirect live`: the DPDK poll-mode sensor — EAL, ports and lcores (dataplane::LiveSensor),
// and the control thread on the main lcore: records out to EVE and subscribers, evidence pcaps,
// the control socket, periodic stats, the service watchdog, and an orderly shutdown. The parts it
// puts together: live_options (the command line), live_lists (the starting lists), eal_memory
// (hugepages or not), live_sensor_control (the socket's requests), record_output, live_signals,
// live_heartbeat.
#include <rte_eal.h>
#include <rte_errno.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "control/commands.h"
#include "control/control_server.h"
#include "control/eal_memory.h"
#include "control/live_heartbeat.h"
#include "control/live_lists.h"
#include "control/live_options.h"
#include "control/live_sensor_control.h"
#include "control/live_signals.h"
#include "control/metrics_server.h"
#include "control/record_output.h"
#include "control/service_notifier.h"
#include "control/timed_matcher_build.h"
#include "dataplane/clock.h"
#include "dataplane/live/live_sensor.h"
#include "dataplane/output/stats_tree.h"
#include "inspect/domain_lists.h"
#include "inspect/matcher.h"

namespace misdirect::control {
namespace {

using dataplane::monotonic_clock_ns;
using dataplane::wall_clock_ns;

// Everything after rte_eal_init, so that the sensor and the server are gone before
// rte_eal_cleanup.
int run_sensor(const LiveOptions& options, std::unique_ptr<const inspect::Matcher> matcher,
               uint64_t compile_ns) {
  dataplane::LiveSensor sensor(options.sensor);
  std::vector<std::string> log;
  const std::string error = sensor.prepare(log);
  for (const std::string& line : log) {
    std::fprintf(stderr, "misdirect live: %s\n", line.c_str());
  }
  if (!error.empty()) {
    std::fprintf(stderr, "misdirect live: %s\n", error.c_str());
    return 2;
  }
  const std::size_t patterns = matcher->pattern_count();
  try {
    sensor.matchers().publish(std::move(matcher), compile_ns);
  } catch (const std::exception& failure) {
    std::fprintf(stderr, "misdirect live: cannot allocate the workers' scratch: %s\n", failure.what());
    return 2;
  }

  RecordOutput output(options.shared.eve_path, nullptr);
  if (!output.open()) {
    return 2;
  }
  if (!options.shared.evidence.directory.empty()) {
    output.keep_evidence(options.shared.evidence);
  }
  LiveSensorControl control(sensor, options.shared.matcher, output);
  std::unique_ptr<ControlServer> server;
  if (!options.control_path.empty()) {
    ControlServerConfig config;
    config.socket_path = options.control_path;
    config.group = options.control_group;
    config.state_dir = options.state_dir;
    try {
      server = std::make_unique<ControlServer>(config, control);
    } catch (const std::exception& failure) {
      std::fprintf(stderr, "misdirect live: %s\n", failure.what());
      return 2;
    }
    output.set_server(server.get());
    std::fprintf(stderr, "misdirect live: control socket %s\n", options.control_path.c_str());
  }

  std::unique_ptr<MetricsServer> metrics;
  if (options.metrics_listen) {
    MetricsServerConfig config;
    config.listen = *options.metrics_listen;
    try {
      metrics = std::make_unique<MetricsServer>(config);
    } catch (const std::exception& failure) {
      std::fprintf(stderr, "misdirect live: %s\n", failure.what());
      return 2;
    }
    std::fprintf(stderr, "misdirect live: metrics on %s\n", metrics->url().c_str());
  }

  install_live_signal_handlers();
  sensor.start();
  std::fprintf(stderr, "misdirect live: running: %u worker(s), %zu patterns%s\n",
               sensor.worker_count(), patterns,
               options.exit_on_eof ? ", exit at end of input" : "; SIGINT/SIGTERM to stop");

  // systemd (when it started us): ready now that the lists are compiled, the ports are up and
  // the control socket listens.
  uint64_t alerts_emitted = 0;
  ServiceNotifier notifier = ServiceNotifier::from_environment();
  SensorHeartbeat heartbeat(sensor.matchers());
  const auto service_status = [&] {
    const dataplane::MatcherGeneration* generation = sensor.matchers().current();
    return ServiceStatus{sensor.worker_count(), sensor.packets_inspected(), alerts_emitted,
                         generation != nullptr ? generation->generation : 0};
  };
  // The watchdog line is logged before READY=1, so that whoever sees READY=1 finds it in the log.
  if (notifier.watchdog_ns() != 0) {
    std::fprintf(stderr, "misdirect live: systemd watchdog every %.1f s (workers checked by RCU heartbeat)\n",
                 static_cast<double>(notifier.watchdog_ns()) / 1e9);
  }
  notifier.ready(service_status(), monotonic_clock_ns());

  const auto emit = [&](dataplane::RecordType type, std::string_view line) {
    alerts_emitted += type == dataplane::RecordType::kAlert ? 1 : 0;
    output.emit(type, line);
  };
  // Evidence pcaps (--evidence-dir): the workers queue the frames of flows that alerted to their
  // rings; this loop writes them, as it writes records. A ring it does not empty in time fills and
  // its worker drops and counts the frames (frames_ring_full); a worker never waits for a file.
  const auto drain_evidence = [&] {
    std::size_t taken = 0;
    for (uint32_t id = 0; id < sensor.worker_count(); ++id) {
      if (dataplane::EvidenceRing* ring = sensor.evidence_ring(id)) {
        taken += output.write_evidence(*ring);
      }
    }
    return taken;
  };
  const auto emit_stats = [&](bool final_record) {
    dataplane::StatsNode record;
    sensor.collect_stats(record, wall_clock_ns(), monotonic_clock_ns(), final_record);
    output.collect_stats(record);
    std::string stats;
    dataplane::write_stats_json(record, stats);
    output.emit(dataplane::RecordType::kStats, stats);
  };
  const uint64_t stats_interval_ns = options.stats_interval_s * 1'000'000'000ull;
  uint64_t next_stats_ns = monotonic_clock_ns() + stats_interval_ns;
  bool stats_pending = false;
  const char* reason = "signal";
  for (;;) {
    const std::size_t records = sensor.drain_records(emit);
    if (records != 0) {
      output.flush();
    }
    const std::size_t drained = records + drain_evidence();
    if (server) {
      server->poll_once(drained != 0 ? 0 : 2);
    } else if (drained == 0) {
      usleep(1000);
    }
    if (metrics) {
      metrics->poll_once(control, server.get());  // a page only when a scrape waits for one
    }
    if (sensor.matchers().retired() != 0) {
      sensor.matchers().reclaim();  // old matchers whose grace period is over; never waits
    }
    if (take_reopen_request()) {
      output.reopen();  // a failure is warned about by the sink (at most once a minute) and retried
    }
    output.retry();
    // A periodic record: ask the workers for fresh trees, then write it once they have answered
    // (or one is overdue) on a later round; the loop never waits for them.
    const uint64_t now_mono_ns = monotonic_clock_ns();
    if (stats_interval_ns != 0 && !stats_pending && now_mono_ns >= next_stats_ns) {
      sensor.request_stats(now_mono_ns);
      stats_pending = true;
      next_stats_ns += stats_interval_ns;
    } else if (stats_pending && (sensor.stats_answered() || sensor.stats_overdue(now_mono_ns))) {
      emit_stats(false);
      output.flush();
      stats_pending = false;
    } else {
      sensor.refresh_stats(now_mono_ns);  // keeps the socket's `stats` answers recent
    }
    if (notifier.enabled()) {
      notifier.tick(service_status(), monotonic_clock_ns(), &heartbeat);
    }
    if (stop_requested()) {
      break;
    }
    if (options.exit_on_eof && sensor.input_ended()) {
      reason = "end of input";
      break;
    }
  }

  // Shutdown: RX stops, the workers empty their rings and flush every open flow; keep draining
  // their records (and serving the socket) meanwhile so that they never wait long for room.
  std::fprintf(stderr, "misdirect live: stopping (%s): draining\n", reason);
  notifier.stopping(service_status());
  sensor.request_stop();
  while (!sensor.lcores_finished()) {
    if (notifier.enabled()) {
      notifier.tick(service_status(), monotonic_clock_ns(), &heartbeat);
    }
    if (sensor.drain_records(emit) + drain_evidence() == 0) {
      if (server) {
        server->poll_once(1);
      } else {
        usleep(200);
      }
    }
  }
  sensor.drain_records(emit);
  sensor.join();
  drain_evidence();
  emit_stats(true);
  output.flush();
  if (server) {
    // Give subscribers their last records; never wait on a client that does not read.
    for (int round = 0; round < 20; ++round) {
      server->poll_once(5);
    }
  }
  const bool written = output.close();
  std::fprintf(stderr, "misdirect live: stopped\n");
  return written ? 0 : 1;
}

}  // namespace

int run_live_command(int argc, char** argv) {
  // argv[0] is "live": EAL takes it as the program name, then everything up to "--".
  int eal_argc = 1;
  int own_first = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      eal_argc = i;
      own_first = i + 1;
      break;
    }
  }
  // --config FILE is misdirect's wherever it stands (EAL has no --config): the units give it first.
  std::vector<char*> eal_given(argv + 1, argv + eal_argc);
  std::vector<std::string> own_args;
  for (auto arg = eal_given.begin(); arg != eal_given.end();) {
    const std::string_view text = *arg;
    const bool separate = text == "--config" && arg + 1 != eal_given.end();
    if (separate || text.starts_with("--config=")) {
      own_args.insert(own_args.end(), arg, arg + (separate ? 2 : 1));
      arg = eal_given.erase(arg, arg + (separate ? 2 : 1));
    } else {
      ++arg;
    }
  }
  own_args.insert(own_args.end(), argv + own_first, argv + argc);
  LiveOptions options;
  if (const int code = parse_live_options(own_args, options); code >= 0) {
    return code;
  }

  // Lists and the matcher before EAL: a bad list fails fast, without touching any port.
  inspect::DomainLists lists;
  if (!load_live_lists(options, lists)) {
    return 2;
  }
  TimedMatcherBuild timed = build_matcher_timed(lists, options.shared.matcher);
  inspect::MatcherBuildResult& built = timed.built;
  if (!built.matcher) {
    std::fprintf(stderr, "misdirect live: cannot build the look-alike matcher: %s\n",
                 built.error.c_str());
    return 2;
  }

  // The file's EAL arguments, then the command line's (EAL keeps the last of a repeated option).
  std::vector<char*> eal_argv{argv[0]};
  for (std::string& arg : options.eal_args) {
    eal_argv.push_back(arg.data());
  }
  eal_argv.insert(eal_argv.end(), eal_given.begin(), eal_given.end());
  add_no_huge_when_needed(eal_argv);
  const int eal_count = static_cast<int>(eal_argv.size());
  eal_argv.push_back(nullptr);
  if (rte_eal_init(eal_count, eal_argv.data()) < 0) {
    std::fprintf(stderr, "misdirect live: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
    return 2;
  }
  const int code = run_sensor(options, std::move(built.matcher), timed.compile_ns);
  rte_eal_cleanup();
  return code;
}

}  // namespace misdirect::control
