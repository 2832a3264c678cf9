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
#include <mutex>
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
#include "dataplane/output/eve_file.h"
#include "dataplane/output/eve_writer.h"
#include "dataplane/output/evidence_writer.h"
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

using dataplane::monotonic_clock_ns;
using dataplane::wall_clock_ns;

// The worker's records into the EVE file sink (dataplane/output/eve_file.h), the one live uses
// too: buffered, a failed write kept and counted, and reported naming the path at the end.
// With --workers N the worker threads append to the same sink under `shared` (ReplayFanout); this
// thread's records (the stats) take it too. One worker on this thread needs no lock (null).
class EveFileRecordSink final : public dataplane::RecordSink {
 public:
  EveFileRecordSink(dataplane::EveFile& file, std::mutex* shared) : file_(file), shared_(shared) {}

  bool on_record(dataplane::RecordType, std::string_view json_line) noexcept override {
    if (shared_ == nullptr) {
      return file_.append(json_line, monotonic_clock_ns());
    }
    std::lock_guard lock(*shared_);
    return file_.append(json_line, monotonic_clock_ns());
  }

 private:
  dataplane::EveFile& file_;
  std::mutex* shared_;
};


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

  dataplane::EveFile eve(sensor.eve_path, "misdirect replay");
  {
    std::string error;
    if (!eve.open(error)) {
      std::fprintf(stderr, "misdirect replay: --eve %s\n", error.c_str());
      return 2;
    }
  }
  // One worker on this thread, or N on their own threads fed by this one; all write through `eve`.
  std::mutex eve_mutex;
  EveFileRecordSink sink(eve, options.workers == 1 ? nullptr : &eve_mutex);
  std::unique_ptr<dataplane::Worker> single;
  std::unique_ptr<ReplayFanout> fanout;
  if (options.workers == 1) {
    single = std::make_unique<dataplane::Worker>(sensor.worker, sink);
    single->bind_matcher(dataplane::MatcherBinding{built.matcher.get(), &scratch, 1});
  } else {
    fanout = std::make_unique<ReplayFanout>(options.workers, sensor.worker, *built.matcher, eve, eve_mutex);
  }

  // Evidence pcaps: the workers queue the frames of alerting flows, this thread writes them.
  std::optional<dataplane::EvidenceWriter> evidence;
  if (!sensor.evidence.directory.empty()) {
    evidence.emplace(sensor.evidence);
  }
  const auto drain_evidence = [&] {
    if (!evidence) {
      return;
    }
    if (single) {
      evidence->drain(*single->evidence_ring());
    } else {
      fanout->drain_evidence(*evidence);
    }
  };

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
      drain_evidence();
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
    drain_evidence();
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
    eve.collect_stats(record);
    if (evidence) {
      drain_evidence();
      evidence->close_all();
      dataplane::add_counter_table(record, "misdirect.evidence", evidence->counters(),
                                   dataplane::kEvidenceFileCounterInfo);
    }
    dataplane::write_stats_json(record, stats);
  }
  sink.on_record(dataplane::RecordType::kStats, stats);
  count_into_tally();
  const bool workers_failed = fanout && fanout->write_failed();
  fanout.reset();  // the worker threads end before the output closes
  std::string error;
  const bool written = eve.close(monotonic_clock_ns(), error);
  progress.end();
  if (!options.quiet) {
    const std::string summary = ReplayProgress::format_summary(tally, monotonic_clock_ns() - start_ns);
    std::fprintf(stderr, "%s\n", summary.c_str());
  }
  const uint64_t write_errors = eve.counters().get(dataplane::EveFileCounter::kWriteErrors);
  if (!written || write_errors > 0 || workers_failed) {
    // Any failed write, flush or close fails the replay, even one retried successfully: the
    // output may be incomplete or reordered in a way the caller must know about.
    std::fprintf(stderr, "misdirect replay: writing EVE output failed: %s\n",
                 !written          ? error.c_str()
                 : write_errors > 0 ? (eve.path() + ": " + std::to_string(write_errors) + " failed writes (retried)").c_str()
                                    : (eve.path() + ": records refused (output buffer full)").c_str());
    return 1;
  }
  return exit_code;
}

}  // namespace misdirect::control
