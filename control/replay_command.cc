// `misdirect replay`: captures through the shared packet path with libpcap — no root, no EAL.
#include <sys/stat.h>
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
#include "control/command_line.h"
#include "control/commands.h"
#include "control/list_files.h"
#include "control/replay_options.h"
#include "control/sensor_options.h"
#include "control/replay_fanout.h"
#include "control/replay_progress.h"
#include "dataplane/clock.h"
#include "dataplane/clock.h"
#include "dataplane/output/eve_writer.h"
#include "dataplane/output/stats_record.h"
#include "dataplane/pcap_source.h"
#include "dataplane/worker.h"
#include "inspect/domain_lists.h"
#include "inspect/matcher.h"

namespace misdirect::control {
namespace {

// Returns -1 when the replay should run, otherwise the exit code (after --help, or a problem).
int parse_options(int argc, char** argv, ReplayOptions& options) {
  const std::unique_ptr<CommandLine> made = make_replay_command_line(options);
  CommandLine& line = *made;
  if (const int code = line.parse(argc - 1, argv + 1); code >= 0) {
    return code;
  }
  if (options.sensor.protected_path.empty()) {
    line.print_error("--protected FILE is required");
    return 2;
  }
  if (const std::string problem = sensor_options_problem(options.sensor); !problem.empty()) {
    line.print_error(problem);
    return 2;
  }
  if (std::count(options.pcaps.begin(), options.pcaps.end(), "-") > 1) {
    line.print_error("- (standard input) may be given once");
    return 2;
  }
  if (!options.bpf.empty()) {
    if (const std::string error = dataplane::check_bpf_filter(options.bpf); !error.empty()) {
      line.print_error("--bpf: " + error);
      return 2;
    }
  }
  if (options.pcaps.empty()) {
    line.print_error("no capture given");
    return 2;
  }
  return -1;
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

using dataplane::monotonic_clock_ns;
using dataplane::wall_clock_ns;

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
  if (const int code = parse_options(argc, argv, options); code >= 0) {
    return code;
  }
  const SensorOptions& sensor = options.sensor;

  const ListFilesResult lists = read_list_files(sensor.protected_path, sensor.allow_path);
  if (!lists.ok()) {
    std::fprintf(stderr, "misdirect replay: %s\n", lists.error.c_str());
    return 2;
  }
  inspect::MatcherBuildResult built = inspect::Matcher::build(lists.lists, sensor.matcher);
  if (!built.matcher) {
    std::fprintf(stderr, "misdirect replay: cannot build the look-alike matcher: %s\n",
                 built.error.c_str());
    return 2;
  }
  inspect::MatcherScratch scratch = built.matcher->make_scratch();

  std::FILE* eve = stdout;
  if (sensor.eve_path != "-") {
    eve = std::fopen(sensor.eve_path.c_str(), "a");
    if (eve == nullptr) {
      std::fprintf(stderr, "misdirect replay: --eve %s: %s\n", sensor.eve_path.c_str(),
                   std::strerror(errno));
      return 2;
    }
  }
  LineFileSink sink(eve);
  // One worker on this thread, or N on their own threads fed by this one.
  std::unique_ptr<dataplane::Worker> single;
  std::unique_ptr<ReplayFanout> fanout;
  if (options.workers == 1) {
    single = std::make_unique<dataplane::Worker>(sensor.worker, sink);
    single->bind_matcher(dataplane::MatcherBinding{built.matcher.get(), &scratch, 1});
  } else {
    fanout = std::make_unique<ReplayFanout>(options.workers, sensor.worker, *built.matcher, eve);
  }

  CapturePaths captures = expand_capture_paths(options.pcaps, options.recursive);
  int exit_code = 0;
  for (const std::string& error : captures.errors) {
    std::fprintf(stderr, "misdirect replay: %s\n", error.c_str());
    exit_code = 1;
  }

  const uint64_t start_ns = monotonic_clock_ns();
  ReplayProgress progress(!options.quiet && isatty(STDERR_FILENO) != 0 ? stderr : nullptr, start_ns);
  ReplayTally tally;
  tally.file_count = static_cast<uint32_t>(captures.paths.size());
  tally.stored_bytes_total = total_stored_size(captures.paths);
  const auto count_into_tally = [&] {
    const dataplane::Worker::Totals totals = single ? single->totals() : fanout->totals();
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
    if (single) {
      single->set_source_name(path);
    } else {
      fanout->begin_file(path);
    }
    std::array<dataplane::PacketView, dataplane::PcapSource::kMaxBurst> burst;
    for (std::size_t count; (count = source->next_burst(burst)) > 0;) {
      const std::span<const dataplane::PacketView> packets(burst.data(), count);
      if (single) {
        single->process_burst(packets);
      } else {
        fanout->burst(packets);
      }
      for (std::size_t i = 0; i < count; ++i) {
        last_timestamp_ns = std::max(last_timestamp_ns, burst[i].timestamp_ns);
      }
      if (progress.enabled()) {
        count_into_tally();
        tally.stored_bytes_read = stored_bytes_before + source->file_offset();
        progress.update(tally, monotonic_clock_ns());
      }
    }
    stored_bytes_before += source->file_offset();
    // Flows never span files: each capture's open flows end with it.
    if (single) {
      single->finish(last_timestamp_ns);
    } else {
      fanout->end_file(last_timestamp_ns);
    }
    if (!source->error().empty()) {
      progress.end();
      std::fprintf(stderr, "misdirect replay: %s\n", source->error().c_str());
      exit_code = 1;
    }
  }

  std::string stats;
  {
    // Stamped with the last packet's time; a run that read no packet has none, and takes the
    // time it ended rather than the Unix epoch. Uptime is the run's own (wall) duration.
    const uint64_t stamp_ns = last_timestamp_ns != 0 ? last_timestamp_ns : wall_clock_ns();
    dataplane::StatsNode record;
    dataplane::start_stats_record(record, stamp_ns, (monotonic_clock_ns() - start_ns) / 1'000'000'000ull,
                                  sensor.worker.sensor_name);
    if (single) {
      record.at_path("misdirect.matcher").add("generation", single->matcher_generation());
      dataplane::StatsNode thread;
      single->collect_stats(thread);
      dataplane::add_thread_stats(record, dataplane::worker_thread_name(0), thread);
    } else {
      // Every record of the workers is written before the stats that count them.
      fanout->wait_idle();
      record.at_path("misdirect.matcher").add("generation", fanout->matcher_generation());
      fanout->collect_stats(record);
    }
    dataplane::write_stats_json(record, stats);
  }
  sink.on_record(dataplane::RecordType::kStats, stats);
  count_into_tally();
  const bool workers_failed = fanout && fanout->write_failed();
  fanout.reset();  // the worker threads end before the output closes
  if (eve != stdout) {
    std::fclose(eve);
  } else {
    std::fflush(stdout);
  }
  progress.end();
  if (!options.quiet) {
    const std::string summary = ReplayProgress::format_summary(tally, monotonic_clock_ns() - start_ns);
    std::fprintf(stderr, "%s\n", summary.c_str());
  }
  if (sink.failed() || workers_failed) {
    std::fprintf(stderr, "misdirect replay: writing EVE output to %s failed\n",
                 sensor.eve_path == "-" ? "stdout" : sensor.eve_path.c_str());
    return 1;
  }
  return exit_code;
}

}  // namespace misdirect::control
