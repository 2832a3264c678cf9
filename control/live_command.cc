// `misdirect live`: the DPDK poll-mode sensor — EAL, ports and lcores (dataplane::LiveSensor),
// and the control thread on the main lcore: records out to EVE and subscribers, the control
// socket, periodic stats, and an orderly shutdown.
#include <rte_eal.h>
#include <rte_errno.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "control/command_line.h"
#include "control/commands.h"
#include "control/list_files.h"
#include "control/live_options.h"
#include "control/sensor_options.h"
#include "control/control_server.h"
#include "control/list_store.h"
#include "control/metrics_server.h"
#include "control/sensor_control.h"
#include "control/service_notifier.h"
#include "dataplane/clock.h"
#include "dataplane/output/stats_tree.h"
#include "dataplane/live/live_sensor.h"
#include "inspect/domain_lists.h"
#include "inspect/matcher.h"

namespace misdirect::control {
namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reopen = 0;

void on_stop_signal(int) { g_stop = 1; }
void on_hangup(int) { g_reopen = 1; }

using dataplane::monotonic_clock_ns;
using dataplane::wall_clock_ns;

// Returns -1 when the sensor should start, otherwise the exit code (after --help, or a problem).
int parse_options(const std::vector<std::string>& args, LiveOptions& options) {
  const std::unique_ptr<CommandLine> made = make_live_command_line(options);
  CommandLine& line = *made;
  dataplane::LiveSensorConfig& sensor = options.sensor;
  if (const int code = line.parse(args); code >= 0) {
    return code;
  }
  sensor.worker = options.shared.worker;
  if (options.shared.protected_path.empty() && options.state_dir.empty()) {
    line.print_error("--protected FILE is required (or --state-dir DIR holding lists saved by a push)");
    return 2;
  }
  if (!options.shared.allow_path.empty() && options.shared.protected_path.empty()) {
    line.print_error("--allow needs --protected");
    return 2;
  }
  return -1;
}

// Lists from the files given, or else the ones the last push saved in the state directory.
bool load_lists(const LiveOptions& options, inspect::DomainLists& lists) {
  if (!options.shared.protected_path.empty()) {
    ListFilesResult files = read_list_files(options.shared.protected_path, options.shared.allow_path);
    if (!files.ok()) {
      std::fprintf(stderr, "misdirect live: %s\n", files.error.c_str());
      return false;
    }
    lists = std::move(files.lists);
    return true;
  }
  const ListLoadResult saved = ListStore(options.state_dir).load();
  if (!saved.ok()) {
    std::fprintf(stderr, "misdirect live: %s\n", saved.error.c_str());
    return false;
  }
  if (!saved.lists.has_value()) {
    std::fprintf(stderr,
                 "misdirect live: no --protected given and no lists saved in %s yet\n",
                 options.state_dir.c_str());
    return false;
  }
  lists = *saved.lists;
  std::fprintf(stderr, "misdirect live: lists loaded from %s (%zu protected, %zu allowed)\n",
               options.state_dir.c_str(), lists.protected_domains.size(), lists.allow.size());
  return true;
}

// What the control socket may ask of the running sensor; every call is on the main lcore. A list
// compile (seconds for a large list, or with the Hyperscan engine) runs on a helper thread; the
// control loop polls it and keeps moving records and serving clients meanwhile.
class LiveSensorControl final : public SensorControl {
 public:
  LiveSensorControl(dataplane::LiveSensor& sensor, const inspect::MatcherOptions& options)
      : sensor_(sensor), options_(options) {}
  // Shutdown during a compile: the future's destructor waits for the helper thread (a compile
  // cannot be interrupted); its matcher is dropped unpublished.
  ~LiveSensorControl() override = default;

  void start_list_swap(inspect::DomainLists lists) override {
    building_ = std::async(std::launch::async, [lists = std::move(lists), options = options_] {
      return inspect::Matcher::build(lists, options);
    });
  }

  // Three steps, each polled: the compile ends; the matcher is published; every worker has passed
  // a quiescent point since (the old matcher is then reclaimed). Only then is the push answered,
  // so that whatever the sensor sees after the answer is judged by the new lists.
  std::optional<ListSwapResult> finish_list_swap() override {
    if (published_.has_value()) {
      if (sensor_.matchers().reclaim() != 0) {
        return std::nullopt;
      }
      std::optional<ListSwapResult> done = std::move(published_);
      published_.reset();
      return done;
    }
    if (!building_.valid() ||
        building_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      return std::nullopt;
    }
    inspect::MatcherBuildResult built = building_.get();
    ListSwapResult result;
    result.generation = generation();
    if (!built.matcher) {
      result.error = built.error;
      return result;
    }
    result.pattern_count = built.matcher->pattern_count();
    result.compile_milliseconds = built.matcher->compile_milliseconds();
    try {
      result.generation = sensor_.matchers().publish(std::move(built.matcher));
    } catch (const std::exception& error) {
      result.error = std::string("cannot publish the new matcher: ") + error.what();
      return result;
    }
    result.ok = true;
    published_ = std::move(result);
    return finish_list_swap();
  }

  inspect::DomainLists current_lists() const override {
    const dataplane::MatcherGeneration* current = sensor_.matchers().current();
    return current != nullptr ? current->matcher->lists() : inspect::DomainLists{};
  }

  uint64_t generation() const override {
    const dataplane::MatcherGeneration* current = sensor_.matchers().current();
    return current != nullptr ? current->generation : 0;
  }

  void collect_stats(dataplane::StatsNode& record) const override {
    sensor_.collect_stats(record, wall_clock_ns(), monotonic_clock_ns(), false);
  }

 private:
  dataplane::LiveSensor& sensor_;
  inspect::MatcherOptions options_;
  std::future<inspect::MatcherBuildResult> building_;
  std::optional<ListSwapResult> published_;  // waiting for the workers' grace period
};

// The records' way out of the control thread: the EVE file (reopened on SIGHUP) and the
// subscribers of the control socket.
class RecordOutput {
 public:
  RecordOutput(std::string path, ControlServer* server) : path_(std::move(path)), server_(server) {}
  ~RecordOutput() { close(); }

  bool open() {
    if (path_.empty()) {
      return true;
    }
    if (path_ == "-") {
      file_ = stdout;
      return true;
    }
    file_ = std::fopen(path_.c_str(), "a");
    if (file_ == nullptr) {
      std::fprintf(stderr, "misdirect live: --eve %s: %s\n", path_.c_str(), std::strerror(errno));
      return false;
    }
    return true;
  }
  void reopen() {
    if (file_ == nullptr || file_ == stdout) {
      return;
    }
    std::fclose(file_);
    file_ = nullptr;
    if (!open()) {
      failed_ = true;
    }
  }
  void set_server(ControlServer* server) { server_ = server; }

  void emit(dataplane::RecordType type, std::string_view line) {
    if (file_ != nullptr && !failed_) {
      if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
          std::fputc('\n', file_) == EOF) {
        failed_ = true;
        std::fprintf(stderr, "misdirect live: writing EVE output to %s failed: %s\n",
                     path_ == "-" ? "stdout" : path_.c_str(), std::strerror(errno));
      }
    }
    if (server_ != nullptr) {
      server_->broadcast(type, line);
    }
  }
  void flush() {
    if (file_ != nullptr && !failed_) {
      std::fflush(file_);
    }
  }
  void close() {
    if (file_ != nullptr) {
      std::fflush(file_);
      if (file_ != stdout) {
        std::fclose(file_);
      }
      file_ = nullptr;
    }
  }
  bool failed() const { return failed_; }

 private:
  std::string path_;
  ControlServer* server_;
  std::FILE* file_ = nullptr;
  bool failed_ = false;
};

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  action.sa_handler = on_hangup;
  sigaction(SIGHUP, &action, nullptr);
  action.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &action, nullptr);
}

// Hugepages are used when the machine has them; without any, EAL would refuse to start, so the
// sensor runs on ordinary memory (--no-huge, and -m 512 unless a memory size was given).
void add_no_huge_when_needed(std::vector<char*>& eal_argv) {
  static char no_huge[] = "--no-huge";
  static char memory_flag[] = "-m";
  static char memory_size[] = "512";
  bool has_memory = false;
  for (std::size_t i = 1; i < eal_argv.size(); ++i) {
    const std::string_view arg = eal_argv[i];
    if (arg == "--no-huge" || arg.starts_with("--in-memory") || arg.starts_with("--huge-dir")) {
      return;
    }
    has_memory = has_memory || arg == "-m" || arg.starts_with("--socket-mem");
  }
  std::FILE* meminfo = std::fopen("/proc/meminfo", "r");
  if (meminfo == nullptr) {
    return;
  }
  char line[256];
  long total = -1;
  while (std::fgets(line, sizeof(line), meminfo) != nullptr) {
    if (std::sscanf(line, "HugePages_Total: %ld", &total) == 1) {
      break;
    }
  }
  std::fclose(meminfo);
  if (total != 0) {
    return;
  }
  eal_argv.push_back(no_huge);
  if (!has_memory) {
    eal_argv.push_back(memory_flag);
    eal_argv.push_back(memory_size);
  }
  std::fprintf(stderr, "misdirect live: no hugepages on this machine: EAL runs with --no-huge%s\n",
               has_memory ? "" : " -m 512");
}

// The workers' heartbeat for the service watchdog: the matcher slot's RCU token.
class SensorHeartbeat final : public WorkerHeartbeat {
 public:
  explicit SensorHeartbeat(dataplane::MatcherSlot& slot) : slot_(slot) {}
  uint64_t start() noexcept override { return slot_.start_heartbeat(); }
  bool passed(uint64_t token) noexcept override { return slot_.heartbeat_passed(token); }
  std::optional<uint32_t> lagging(uint64_t token) noexcept override { return slot_.heartbeat_lagging(token); }

 private:
  dataplane::MatcherSlot& slot_;
};

// Everything after rte_eal_init, so that the sensor and the server are gone before
// rte_eal_cleanup.
int run_sensor(const LiveOptions& options, std::unique_ptr<const inspect::Matcher> matcher) {
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
    sensor.matchers().publish(std::move(matcher));
  } catch (const std::exception& failure) {
    std::fprintf(stderr, "misdirect live: cannot allocate the workers' scratch: %s\n", failure.what());
    return 2;
  }

  RecordOutput output(options.shared.eve_path, nullptr);
  if (!output.open()) {
    return 2;
  }
  LiveSensorControl control(sensor, options.shared.matcher);
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

  install_signal_handlers();
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
  notifier.ready(service_status(), monotonic_clock_ns());
  if (notifier.watchdog_ns() != 0) {
    std::fprintf(stderr, "misdirect live: systemd watchdog every %.1f s (workers checked by RCU heartbeat)\n",
                 static_cast<double>(notifier.watchdog_ns()) / 1e9);
  }

  const auto emit = [&](dataplane::RecordType type, std::string_view line) {
    alerts_emitted += type == dataplane::RecordType::kAlert ? 1 : 0;
    output.emit(type, line);
  };
  const auto emit_stats = [&](bool final_record) {
    dataplane::StatsNode record;
    sensor.collect_stats(record, wall_clock_ns(), monotonic_clock_ns(), final_record);
    std::string stats;
    dataplane::write_stats_json(record, stats);
    output.emit(dataplane::RecordType::kStats, stats);
  };
  const uint64_t stats_interval_ns = options.stats_interval_s * 1'000'000'000ull;
  uint64_t next_stats_ns = monotonic_clock_ns() + stats_interval_ns;
  bool stats_pending = false;
  const char* reason = "signal";
  for (;;) {
    const std::size_t drained = sensor.drain_records(emit);
    if (drained != 0) {
      output.flush();
    }
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
    if (g_reopen) {
      g_reopen = 0;
      output.reopen();
    }
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
    if (g_stop) {
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
    if (sensor.drain_records(emit) == 0) {
      if (server) {
        server->poll_once(1);
      } else {
        usleep(200);
      }
    }
  }
  sensor.drain_records(emit);
  sensor.join();
  emit_stats(true);
  output.flush();
  if (server) {
    // Give subscribers their last records; never wait on a client that does not read.
    for (int round = 0; round < 20; ++round) {
      server->poll_once(5);
    }
  }
  output.close();
  std::fprintf(stderr, "misdirect live: stopped\n");
  return output.failed() ? 1 : 0;
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
  if (const int code = parse_options(own_args, options); code >= 0) {
    return code;
  }

  // Lists and the matcher before EAL: a bad list fails fast, without touching any port.
  inspect::DomainLists lists;
  if (!load_lists(options, lists)) {
    return 2;
  }
  inspect::MatcherBuildResult built = inspect::Matcher::build(lists, options.shared.matcher);
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
  const int code = run_sensor(options, std::move(built.matcher));
  rte_eal_cleanup();
  return code;
}

}  // namespace misdirect::control
