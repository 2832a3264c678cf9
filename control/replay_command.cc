// `misdirect replay`: captures through the shared packet path with libpcap — no root, no EAL.
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

#include "control/commands.h"
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
    "                        [--max-flows N] PCAP...\n"
    "\n"
    "Reads pcap/pcapng captures with libpcap and writes EVE JSON lines (alert, smtp, stats) to\n"
    "stdout or --eve FILE. --ports lists the SMTP ports (default 25,587,2525); other ports are\n"
    "still detected by behaviour unless --no-port-detection. Exit 0 when every capture was read\n"
    "to its end, 1 when a capture was cut short or unreadable (what was readable is processed),\n"
    "2 for bad options or lists.\n";

struct ReplayOptions {
  std::string protected_path;
  std::string allow_path;
  std::string eve_path = "-";
  std::vector<std::string> pcaps;
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

void print_progress(const std::string& path, const dataplane::PcapSource& source) {
  const uint64_t size = source.file_size();
  const unsigned percent = size == 0 ? 100 : static_cast<unsigned>(source.file_offset() * 100 / size);
  std::fprintf(stderr, "\rreplay: %s %3u%% (%llu packets)", path.c_str(), percent,
               static_cast<unsigned long long>(source.packets_read()));
  std::fflush(stderr);
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

  const bool show_progress = isatty(STDERR_FILENO) != 0;
  int exit_code = 0;
  uint64_t last_timestamp_ns = 0;
  for (const std::string& path : options.pcaps) {
    std::string error;
    std::unique_ptr<dataplane::PcapSource> source = dataplane::PcapSource::open(path, error);
    if (!source) {
      std::fprintf(stderr, "misdirect replay: %s\n", error.c_str());
      exit_code = 1;
      continue;
    }
    worker.set_source_name(path);
    const bool large = show_progress && source->file_size() > (64u << 20);
    uint64_t progress_at = 0;
    std::array<dataplane::PacketView, dataplane::PcapSource::kMaxBurst> burst;
    for (std::size_t count; (count = source->next_burst(burst)) > 0;) {
      worker.process_burst(std::span<const dataplane::PacketView>(burst.data(), count));
      for (std::size_t i = 0; i < count; ++i) {
        last_timestamp_ns = std::max(last_timestamp_ns, burst[i].timestamp_ns);
      }
      if (large && source->packets_read() - progress_at >= 0x10000) {
        progress_at = source->packets_read();
        print_progress(path, *source);
      }
    }
    if (large) {
      print_progress(path, *source);
      std::fputc('\n', stderr);
    }
    // Flows never span files: each capture's open flows end with it.
    worker.finish(last_timestamp_ns);
    if (!source->error().empty()) {
      std::fprintf(stderr, "misdirect replay: %s\n", source->error().c_str());
      exit_code = 1;
    }
  }

  std::string stats;
  {
    char timestamp[dataplane::kTimestampBytes];
    stats += "{\"timestamp\":\"";
    stats += dataplane::format_timestamp(last_timestamp_ns, timestamp);
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
  if (sink.failed()) {
    std::fprintf(stderr, "misdirect replay: writing EVE output to %s failed\n",
                 options.eve_path == "-" ? "stdout" : options.eve_path.c_str());
    return 1;
  }
  return exit_code;
}

}  // namespace misdirect::control
