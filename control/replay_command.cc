// `misdirect replay`: captures through the shared packet path with libpcap — no root, no EAL.
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/capture_paths.h"
#include "control/commands.h"
#include "control/replay_progress.h"
#include "dataplane/output/eve_writer.h"
#include "dataplane/pcap_source.h"
#include "dataplane/worker.h"
#include "inspect/domain_lists.h"
#include "inspect/matcher.h"

namespace misdirect::control {
namespace {

constexpr std::string_view kUsage =
    "usage: misdirect replay --protected FILE [--allow FILE] [--eve FILE|-] [--ports LIST]\n"
    "                        [--smtp-log all|lookalike|none] [--no-port-detection]\n"
    "                        [--no-edit-distance] [--matcher-engine hash|hyperscan]\n"
    "                        [--max-flows N] [--bpf EXPR] [--recursive] [--quiet]\n"
    "                        CAPTURE|DIR|- ...\n"
    "\n"
    "Reads pcap/pcapng captures with libpcap and writes EVE JSON lines (alert, smtp, stats) to\n"
    "stdout or --eve FILE. A capture may be gzip or zstd compressed; - reads one from standard\n"
    "input; a directory stands for the captures in it in name order (--recursive: and in its\n"
    "subdirectories). --bpf applies a libpcap filter to every capture. --ports lists the SMTP\n"
    "ports (default 25,587,2525); other ports are still detected by behaviour unless\n"
    "--no-port-detection. Progress goes to stderr when it is a terminal; a summary line always\n"
    "ends the run (--quiet: neither). Exit 0 when every capture was read to its end, 1 when a\n"
    "capture was cut short or unreadable (what was readable is processed), 2 for bad options,\n"
    "filters or lists.\n";

struct ReplayOptions {
  std::string protected_path;
  std::string allow_path;
  std::string eve_path = "-";
  std::vector<std::string> pcaps;
  std::string bpf;
  bool recursive = false;
  bool quiet = false;
  dataplane::WorkerConfig worker;
  inspect::MatcherOptions matcher;
};

bool parse_ports(std::string_view text, std::vector<uint16_t>& ports, std::string& error) {
  ports.clear();
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    unsigned value = 0;
    const auto result = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || result.ec != std::errc() || result.ptr != item.data() + item.size() ||
        value == 0 || value > 65535) {
      error = "--ports: \"" + std::string(item) + "\" is not a port number (1-65535)";
      return false;
    }
    ports.push_back(static_cast<uint16_t>(value));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  if (ports.empty()) {
    error = "--ports: empty list";
    return false;
  }
  return true;
}

// Returns 0 when parsed, otherwise the exit code (after printing the problem).
int parse_options(int argc, char** argv, ReplayOptions& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&](std::string_view name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "misdirect replay: %.*s needs a value\n", static_cast<int>(name.size()),
                     name.data());
        return nullptr;
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return -1;
    } else if (arg == "--protected") {
      const char* v = value(arg);
      if (v == nullptr) return 2;
      options.protected_path = v;
    } else if (arg == "--allow") {
      const char* v = value(arg);
      if (v == nullptr) return 2;
      options.allow_path = v;
    } else if (arg == "--eve") {
      const char* v = value(arg);
      if (v == nullptr) return 2;
      options.eve_path = v;
    } else if (arg == "--ports") {
      const char* v = value(arg);
      if (v == nullptr) return 2;
      std::string error;
      if (!parse_ports(v, options.worker.smtp_ports, error)) {
        std::fprintf(stderr, "misdirect replay: %s\n", error.c_str());
        return 2;
      }
    } else if (arg == "--smtp-log") {
      const char* v = value(arg);
      if (v == nullptr) return 2;
      const std::string_view mode = v;
      if (mode == "all") {
        options.worker.smtp_log = dataplane::SmtpLogMode::kAll;
      } else if (mode == "lookalike") {
        options.worker.smtp_log = dataplane::SmtpLogMode::kLookalike;
      } else if (mode == "none") {
        options.worker.smtp_log = dataplane::SmtpLogMode::kNone;
      } else {
        std::fprintf(stderr, "misdirect replay: --smtp-log: \"%s\" is not all, lookalike or none\n", v);
        return 2;
      }
    } else if (arg == "--no-port-detection") {
      options.worker.port_agnostic_detection = false;
    } else if (arg == "--no-edit-distance") {
      options.matcher.edit_distance = false;
    } else if (arg == "--matcher-engine") {
      const char* v = value(arg);
      if (v == nullptr) return 2;
      const std::optional<inspect::MatcherEngine> engine = inspect::engine_from_name(v);
      if (!engine) {
        std::fprintf(stderr, "misdirect replay: --matcher-engine: \"%s\" is not hash or hyperscan\n", v);
        return 2;
      }
      options.matcher.engine = *engine;
    } else if (arg == "--max-flows") {
      const char* v = value(arg);
      if (v == nullptr) return 2;
      const std::string_view text = v;
      uint32_t flows = 0;
      const auto result = std::from_chars(text.data(), text.data() + text.size(), flows);
      if (result.ec != std::errc() || result.ptr != text.data() + text.size() || flows < 16) {
        std::fprintf(stderr, "misdirect replay: --max-flows: \"%s\" is not a number >= 16\n", v);
        return 2;
      }
      options.worker.max_flows = flows;
    } else if (arg == "--bpf") {
      const char* v = value(arg);
      if (v == nullptr) return 2;
      options.bpf = v;
    } else if (arg == "--recursive") {
      options.recursive = true;
    } else if (arg == "--quiet") {
      options.quiet = true;
    } else if (arg.starts_with("--")) {
      std::fprintf(stderr, "misdirect replay: unknown option %s\n%.*s", argv[i],
                   static_cast<int>(kUsage.size()), kUsage.data());
      return 2;
    } else {
      options.pcaps.emplace_back(arg);
    }
  }
  if (options.protected_path.empty()) {
    std::fprintf(stderr, "misdirect replay: --protected FILE is required\n%.*s",
                 static_cast<int>(kUsage.size()), kUsage.data());
    return 2;
  }
  if (std::count(options.pcaps.begin(), options.pcaps.end(), "-") > 1) {
    std::fprintf(stderr, "misdirect replay: - (standard input) may be given once\n");
    return 2;
  }
  if (!options.bpf.empty()) {
    if (const std::string error = dataplane::check_bpf_filter(options.bpf); !error.empty()) {
      std::fprintf(stderr, "misdirect replay: --bpf: %s\n", error.c_str());
      return 2;
    }
  }
  if (options.pcaps.empty()) {
    std::fprintf(stderr, "misdirect replay: no capture given\n%.*s", static_cast<int>(kUsage.size()),
                 kUsage.data());
    return 2;
  }
  return 0;
}

// Writes each record as one line; a write error (a closed pipe, a full disk) is remembered and
// reported once at the end rather than per record.
class LineFileSink final : public dataplane::RecordSink {
 public:
  explicit LineFileSink(std::FILE* file) : file_(file) {}

  bool on_record(dataplane::RecordType, std::string_view json_line) noexcept override {
    if (std::fwrite(json_line.data(), 1, json_line.size(), file_) != json_line.size() ||
        std::fputc('\n', file_) == EOF) {
      failed_ = true;
      return false;
    }
    return true;
  }
  bool failed() const noexcept { return failed_; }

 private:
  std::FILE* file_;
  bool failed_ = false;
};

uint64_t clock_ns(clockid_t clock) noexcept {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(now.tv_nsec);
}

// Stored size of every input, or 0 when one of them has none (a pipe): the progress line's ETA.
uint64_t total_stored_size(const std::vector<std::string>& paths) {
  uint64_t total = 0;
  for (const std::string& path : paths) {
    struct stat status {};
    const int result = path == "-" ? ::fstat(STDIN_FILENO, &status) : ::stat(path.c_str(), &status);
    if (result != 0 || !S_ISREG(status.st_mode)) {
      return 0;
    }
    total += static_cast<uint64_t>(status.st_size);
  }
  return total;
}

}  // namespace

int run_replay_command(int argc, char** argv) {
  ReplayOptions options;
  if (const int code = parse_options(argc, argv, options); code != 0) {
    return code < 0 ? 0 : code;
  }

  inspect::DomainLists lists;
  {
    inspect::ListParseResult protected_list = inspect::read_domain_list_file(options.protected_path);
    if (!protected_list.ok()) {
      std::fprintf(stderr, "misdirect replay: %s\n", protected_list.error.c_str());
      return 2;
    }
    lists.protected_domains = std::move(protected_list.domains);
    if (!options.allow_path.empty()) {
      inspect::ListParseResult allow_list = inspect::read_domain_list_file(options.allow_path);
      if (!allow_list.ok()) {
        std::fprintf(stderr, "misdirect replay: %s\n", allow_list.error.c_str());
        return 2;
      }
      lists.allow = std::move(allow_list.domains);
    }
  }
  inspect::MatcherBuildResult built = inspect::Matcher::build(lists, options.matcher);
  if (!built.matcher) {
    std::fprintf(stderr, "misdirect replay: cannot build the look-alike matcher: %s\n",
                 built.error.c_str());
    return 2;
  }
  inspect::MatcherScratch scratch = built.matcher->make_scratch();

  std::FILE* eve = stdout;
  if (options.eve_path != "-") {
    eve = std::fopen(options.eve_path.c_str(), "a");
    if (eve == nullptr) {
      std::fprintf(stderr, "misdirect replay: --eve %s: %s\n", options.eve_path.c_str(),
                   std::strerror(errno));
      return 2;
    }
  }
  LineFileSink sink(eve);
  dataplane::Worker worker(options.worker, sink);
  worker.bind_matcher(dataplane::MatcherBinding{built.matcher.get(), &scratch, 1});

  CapturePaths captures = expand_capture_paths(options.pcaps, options.recursive);
  int exit_code = 0;
  for (const std::string& error : captures.errors) {
    std::fprintf(stderr, "misdirect replay: %s\n", error.c_str());
    exit_code = 1;
  }

  const uint64_t start_ns = clock_ns(CLOCK_MONOTONIC);
  ReplayProgress progress(!options.quiet && isatty(STDERR_FILENO) != 0 ? stderr : nullptr, start_ns);
  ReplayTally tally;
  tally.file_count = static_cast<uint32_t>(captures.paths.size());
  tally.stored_bytes_total = total_stored_size(captures.paths);
  const auto count_into_tally = [&] {
    const dataplane::Worker::Totals totals = worker.totals();
    tally.packets = totals.packets;
    tally.smtp_sessions = totals.smtp_sessions;
    tally.recipients = totals.recipients;
    tally.alerts = totals.alerts;
  };
  uint64_t stored_bytes_before = 0;  // of the files already read
  uint64_t last_timestamp_ns = 0;
  for (const std::string& path : captures.paths) {
    ++tally.file_index;
    tally.file_name = path == "-" ? std::string_view("standard input") : std::string_view(path);
    std::string error;
    std::unique_ptr<dataplane::PcapSource> source = dataplane::PcapSource::open(path, error, options.bpf);
    if (!source) {
      progress.end();
      std::fprintf(stderr, "misdirect replay: %s\n", error.c_str());
      exit_code = 1;
      continue;
    }
    worker.set_source_name(path);
    std::array<dataplane::PacketView, dataplane::PcapSource::kMaxBurst> burst;
    for (std::size_t count; (count = source->next_burst(burst)) > 0;) {
      worker.process_burst(std::span<const dataplane::PacketView>(burst.data(), count));
      for (std::size_t i = 0; i < count; ++i) {
        last_timestamp_ns = std::max(last_timestamp_ns, burst[i].timestamp_ns);
      }
      if (progress.enabled()) {
        count_into_tally();
        tally.stored_bytes_read = stored_bytes_before + source->file_offset();
        progress.update(tally, clock_ns(CLOCK_MONOTONIC));
      }
    }
    stored_bytes_before += source->file_offset();
    // Flows never span files: each capture's open flows end with it.
    worker.finish(last_timestamp_ns);
    if (!source->error().empty()) {
      progress.end();
      std::fprintf(stderr, "misdirect replay: %s\n", source->error().c_str());
      exit_code = 1;
    }
  }

  std::string stats;
  {
    // Stamped with the last packet's time; a run that read no packet has none, and takes the
    // time it ended rather than the Unix epoch.
    const uint64_t stamp_ns = last_timestamp_ns != 0 ? last_timestamp_ns : clock_ns(CLOCK_REALTIME);
    char timestamp[dataplane::kTimestampBytes];
    stats += "{\"timestamp\":\"";
    stats += dataplane::format_timestamp(stamp_ns, timestamp);
    stats += "\",\"event_type\":\"stats\",\"stats\":{";
    worker.append_stats_json(stats);
    stats += "}}";
  }
  sink.on_record(dataplane::RecordType::kStats, stats);
  if (eve != stdout) {
    std::fclose(eve);
  } else {
    std::fflush(stdout);
  }
  progress.end();
  if (!options.quiet) {
    count_into_tally();
    const std::string summary = ReplayProgress::format_summary(tally, clock_ns(CLOCK_MONOTONIC) - start_ns);
    std::fprintf(stderr, "%s\n", summary.c_str());
  }
  if (sink.failed()) {
    std::fprintf(stderr, "misdirect replay: writing EVE output to %s failed\n",
                 options.eve_path == "-" ? "stdout" : options.eve_path.c_str());
    return 1;
  }
  return exit_code;
}

}  // namespace misdirect::control
