// `misdirect live`: the DPDK poll-mode sensor — EAL, ports and lcores (dataplane::LiveSensor),
// and the control thread on the main lcore: records out to EVE and subscribers, the control
// socket, periodic stats, and an orderly shutdown.
#include <rte_eal.h>
#include <rte_errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "control/commands.h"
#include "control/control_server.h"
#include "control/list_store.h"
#include "control/sensor_control.h"
#include "dataplane/live/live_sensor.h"
#include "inspect/domain_lists.h"
#include "inspect/matcher.h"

namespace misdirect::control {
namespace {

constexpr std::string_view kUsage =
    "usage: misdirect live [EAL ARGS] -- --protected FILE [--allow FILE] [--eve FILE|-]\n"
    "         [--control PATH] [--control-group NAME] [--state-dir DIR]\n"
    "         [--workers N] [--burst N] [--mbufs N] [--max-frame BYTES] [--rx-descriptors N]\n"
    "         [--ring-size N] [--port-ids LIST] [--ports LIST] [--stats-interval SECONDS]\n"
    "         [--exit-on-eof] [--eof-idle-ms MS] [--lossless] [--wall-clock]\n"
    "         [--smtp-log all|lookalike|none]\n"
    "         [--no-port-detection] [--no-edit-distance] [--matcher-engine hash|hyperscan]\n"
    "         [--max-flows N]\n"
    "\n"
    "The DPDK poll-mode sensor. EAL arguments come first (ports are any ethdev: -a PCI, --vdev\n"
    "net_pcap0,rx_pcap=FILE, --vdev net_af_packet0,iface=IF), then --, then misdirect's own.\n"
    "  --protected/--allow  domain lists (without --protected: the lists saved in --state-dir)\n"
    "  --eve FILE|-         EVE JSON lines (alert, smtp, stats); default - (stdout); SIGHUP reopens\n"
    "  --control PATH       serve the control socket (docs/control.md)\n"
    "  --workers N          worker lcores (default 1); software fan-out needs one more RX lcore\n"
    "  --port-ids LIST      ethdev port ids to read (default: every probed port)\n"
    "  --ports LIST         SMTP ports, as for replay (default 25,587,2525)\n"
    "  --stats-interval S   a stats record every S seconds (default 60; 0: only at exit)\n"
    "  --exit-on-eof        stop when every port has been quiet for --eof-idle-ms (default 500):\n"
    "                       the end of a net_pcap rx_pcap file\n"
    "  --lossless           a full fan-out ring makes RX wait instead of drop (for files)\n"
    "  --wall-clock         packet time from the clock even on net_pcap (default there: the\n"
    "                       capture's timestamps, so timeouts fire as in replay)\n"
    "SIGINT/SIGTERM stop RX, drain the rings, flush every open flow, write final stats, exit 0.\n"
    "Exit 2 for bad options, lists or set-up failures; 1 when EVE output could not be written.\n";

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reopen = 0;

void on_stop_signal(int) { g_stop = 1; }
void on_hangup(int) { g_reopen = 1; }

uint64_t wall_clock_ns() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(now.tv_nsec);
}

uint64_t monotonic_ns() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(now.tv_nsec);
}

struct LiveOptions {
  std::string protected_path;
  std::string allow_path;
  std::string eve_path = "-";
  std::string control_path;
  std::string control_group;
  std::string state_dir;
  uint64_t stats_interval_s = 60;
  bool exit_on_eof = false;
  dataplane::LiveSensorConfig sensor;
  inspect::MatcherOptions matcher;
};

template <typename Number>
bool parse_number(std::string_view name, std::string_view text, uint64_t min, uint64_t max,
                  Number& out, std::string& error) {
  uint64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size() ||
      value < min || value > max) {
    error = std::string(name) + ": \"" + std::string(text) + "\" is not a number from " +
            std::to_string(min) + " to " + std::to_string(max);
    return false;
  }
  out = static_cast<Number>(value);
  return true;
}

bool parse_list(std::string_view name, std::string_view text, uint64_t min, uint64_t max,
                std::vector<uint16_t>& out, std::string& error) {
  out.clear();
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    uint16_t value = 0;
    if (!parse_number(name, text.substr(0, comma), min, max, value, error)) {
      return false;
    }
    out.push_back(value);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  if (out.empty()) {
    error = std::string(name) + ": empty list";
    return false;
  }
  return true;
}

// Returns 0 when parsed, -1 after --help, otherwise the exit code (after printing the problem).
int parse_options(int argc, char** argv, LiveOptions& options) {
  std::string error;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const char* value = nullptr;
    const auto need_value = [&]() {
      if (i + 1 >= argc) {
        error = std::string(arg) + " needs a value";
        return false;
      }
      value = argv[++i];
      return true;
    };
    bool ok = true;
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return -1;
    } else if (arg == "--protected") {
      ok = need_value() && (options.protected_path = value, true);
    } else if (arg == "--allow") {
      ok = need_value() && (options.allow_path = value, true);
    } else if (arg == "--eve") {
      ok = need_value() && (options.eve_path = value, true);
    } else if (arg == "--control") {
      ok = need_value() && (options.control_path = value, true);
    } else if (arg == "--control-group") {
      ok = need_value() && (options.control_group = value, true);
    } else if (arg == "--state-dir") {
      ok = need_value() && (options.state_dir = value, true);
    } else if (arg == "--workers") {
      ok = need_value() && parse_number(arg, value, 1, dataplane::LiveSensor::kMaxWorkers,
                                        options.sensor.workers, error);
    } else if (arg == "--burst") {
      ok = need_value() && parse_number(arg, value, 1, dataplane::LiveSensor::kMaxBurst,
                                        options.sensor.burst, error);
    } else if (arg == "--mbufs") {
      ok = need_value() && parse_number(arg, value, 1023, 1u << 26, options.sensor.mbufs, error);
    } else if (arg == "--max-frame") {
      ok = need_value() && parse_number(arg, value, 1518, 65000, options.sensor.max_frame_bytes, error);
    } else if (arg == "--rx-descriptors") {
      ok = need_value() && parse_number(arg, value, 32, 32768, options.sensor.rx_descriptors, error);
    } else if (arg == "--ring-size") {
      ok = need_value() &&
           parse_number(arg, value, 64, 1u << 20, options.sensor.fanout_ring_size, error);
      if (ok && (options.sensor.fanout_ring_size & (options.sensor.fanout_ring_size - 1)) != 0) {
        error = "--ring-size: \"" + std::string(value) + "\" is not a power of two";
        ok = false;
      }
    } else if (arg == "--port-ids") {
      ok = need_value() && parse_list(arg, value, 0, 65534, options.sensor.port_ids, error);
    } else if (arg == "--ports") {
      ok = need_value() && parse_list(arg, value, 1, 65535, options.sensor.worker.smtp_ports, error);
    } else if (arg == "--stats-interval") {
      ok = need_value() && parse_number(arg, value, 0, 86400, options.stats_interval_s, error);
    } else if (arg == "--lossless") {
      options.sensor.lossless = true;
    } else if (arg == "--wall-clock") {
      options.sensor.wall_clock = true;
    } else if (arg == "--exit-on-eof") {
      options.exit_on_eof = true;
    } else if (arg == "--eof-idle-ms") {
      uint64_t milliseconds = 0;
      ok = need_value() && parse_number(arg, value, 50, 3'600'000, milliseconds, error);
      options.sensor.eof_idle_ns = milliseconds * 1'000'000;
    } else if (arg == "--smtp-log") {
      if ((ok = need_value())) {
        const std::string_view mode = value;
        if (mode == "all") {
          options.sensor.worker.smtp_log = dataplane::SmtpLogMode::kAll;
        } else if (mode == "lookalike") {
          options.sensor.worker.smtp_log = dataplane::SmtpLogMode::kLookalike;
        } else if (mode == "none") {
          options.sensor.worker.smtp_log = dataplane::SmtpLogMode::kNone;
        } else {
          error = "--smtp-log: \"" + std::string(mode) + "\" is not all, lookalike or none";
          ok = false;
        }
      }
    } else if (arg == "--no-port-detection") {
      options.sensor.worker.port_agnostic_detection = false;
    } else if (arg == "--no-edit-distance") {
      options.matcher.edit_distance = false;
    } else if (arg == "--matcher-engine") {
      if (need_value()) {
        const std::optional<inspect::MatcherEngine> engine = inspect::engine_from_name(value);
        if (engine) {
          options.matcher.engine = *engine;
        } else {
          error = "--matcher-engine: \"" + std::string(value) + "\" is not hash or hyperscan";
          ok = false;
        }
      }
    } else if (arg == "--max-flows") {
      ok = need_value() && parse_number(arg, value, 16, 1u << 28, options.sensor.worker.max_flows, error);
    } else {
      error = "unknown option " + std::string(arg) +
              (arg.starts_with("-") ? " (EAL arguments go before --)" : "");
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "misdirect live: %s\n", error.c_str());
      return 2;
    }
  }
  if (options.protected_path.empty() && options.state_dir.empty()) {
    std::fprintf(stderr,
                 "misdirect live: --protected FILE is required (or --state-dir DIR holding lists "
                 "saved by a push)\n%.*s",
                 static_cast<int>(kUsage.size()), kUsage.data());
    return 2;
  }
  if (!options.allow_path.empty() && options.protected_path.empty()) {
    std::fprintf(stderr, "misdirect live: --allow needs --protected\n");
    return 2;
  }
  return 0;
}

// Lists from the files given, or else the ones the last push saved in the state directory.
bool load_lists(const LiveOptions& options, inspect::DomainLists& lists) {
  if (!options.protected_path.empty()) {
    inspect::ListParseResult protected_list = inspect::read_domain_list_file(options.protected_path);
    if (!protected_list.ok()) {
      std::fprintf(stderr, "misdirect live: %s\n", protected_list.error.c_str());
      return false;
    }
    lists.protected_domains = std::move(protected_list.domains);
    if (!options.allow_path.empty()) {
      inspect::ListParseResult allow_list = inspect::read_domain_list_file(options.allow_path);
      if (!allow_list.ok()) {
        std::fprintf(stderr, "misdirect live: %s\n", allow_list.error.c_str());
        return false;
      }
      lists.allow = std::move(allow_list.domains);
    }
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

// What the control socket may ask of the running sensor; every call is on the main lcore.
class LiveSensorControl final : public SensorControl {
 public:
  LiveSensorControl(dataplane::LiveSensor& sensor, const inspect::MatcherOptions& options)
      : sensor_(sensor), options_(options) {}

  // Called every millisecond while a push compiles: the main lcore is the one that moves the
  // workers' records to the EVE output, and a large list (or the Hyperscan engine) can take
  // seconds to compile, longer than the record rings can wait. The control socket itself waits.
  void set_work_while_compiling(std::function<void()> work) { work_while_compiling_ = std::move(work); }

  ListSwapResult replace_lists(const inspect::DomainLists& lists) override {
    ListSwapResult result;
    result.generation = generation();
    std::future<inspect::MatcherBuildResult> building = std::async(
        std::launch::async, [&lists, this] { return inspect::Matcher::build(lists, options_); });
    while (building.wait_for(std::chrono::milliseconds(1)) != std::future_status::ready) {
      if (work_while_compiling_) {
        work_while_compiling_();
      }
    }
    inspect::MatcherBuildResult built = building.get();
    if (!built.matcher) {
      result.error = built.error;
      return result;
    }
    result.pattern_count = built.matcher->pattern_count();
    result.compile_milliseconds = built.matcher->compile_milliseconds();
    try {
      result.generation = sensor_.matchers().publish(std::move(built.matcher));
    } catch (const std::exception& error) {
      result.error = std::string("cannot allocate the workers' scratch: ") + error.what();
      return result;
    }
    result.ok = true;
    return result;
  }

  inspect::DomainLists current_lists() const override {
    const dataplane::MatcherGeneration* current = sensor_.matchers().current();
    return current != nullptr ? current->matcher->lists() : inspect::DomainLists{};
  }

  uint64_t generation() const override {
    const dataplane::MatcherGeneration* current = sensor_.matchers().current();
    return current != nullptr ? current->generation : 0;
  }

  std::string stats_json() const override { return sensor_.stats_json(wall_clock_ns(), false); }

 private:
  dataplane::LiveSensor& sensor_;
  inspect::MatcherOptions options_;
  std::function<void()> work_while_compiling_;
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

  RecordOutput output(options.eve_path, nullptr);
  if (!output.open()) {
    return 2;
  }
  LiveSensorControl control(sensor, options.matcher);
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

  install_signal_handlers();
  sensor.start();
  std::fprintf(stderr, "misdirect live: running: %u worker(s), %zu patterns%s\n",
               sensor.worker_count(), patterns,
               options.exit_on_eof ? ", exit at end of input" : "; SIGINT/SIGTERM to stop");

  const auto emit = [&](dataplane::RecordType type, std::string_view line) { output.emit(type, line); };
  control.set_work_while_compiling([&] {
    if (sensor.drain_records(emit) != 0) {
      output.flush();
    }
  });
  const auto emit_stats = [&](bool final_record) {
    const std::string stats = sensor.stats_json(wall_clock_ns(), final_record);
    output.emit(dataplane::RecordType::kStats, stats);
  };
  const uint64_t stats_interval_ns = options.stats_interval_s * 1'000'000'000ull;
  uint64_t next_stats_ns = monotonic_ns() + stats_interval_ns;
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
    if (g_reopen) {
      g_reopen = 0;
      output.reopen();
    }
    if (stats_interval_ns != 0 && monotonic_ns() >= next_stats_ns) {
      emit_stats(false);
      output.flush();
      next_stats_ns += stats_interval_ns;
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
  sensor.request_stop();
  while (!sensor.lcores_finished()) {
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
  LiveOptions options;
  if (const int code = parse_options(argc - own_first, argv + own_first, options); code != 0) {
    return code < 0 ? 0 : code;
  }

  // Lists and the matcher before EAL: a bad list fails fast, without touching any port.
  inspect::DomainLists lists;
  if (!load_lists(options, lists)) {
    return 2;
  }
  inspect::MatcherBuildResult built = inspect::Matcher::build(lists, options.matcher);
  if (!built.matcher) {
    std::fprintf(stderr, "misdirect live: cannot build the look-alike matcher: %s\n",
                 built.error.c_str());
    return 2;
  }

  std::vector<char*> eal_argv(argv, argv + eal_argc);
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
