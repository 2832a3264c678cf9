// ReplayProgress: what `misdirect replay` tells a person watching it — a progress line on stderr
// while a run that lasts more than kQuietStartNs goes on (only when stderr is a terminal), and the
// one-line summary at the end.
//
// Time is given, never read here, so the lines can be tested; the replay command passes its clock.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace misdirect::control {

// Where a replay run stands.
struct ReplayTally {
  uint32_t file_index = 0;       // 1-based: the file being read
  uint32_t file_count = 0;
  std::string_view file_name;
  uint64_t stored_bytes_read = 0;  // over all files so far (compressed bytes for compressed files)
  uint64_t stored_bytes_total = 0; // 0 when some input's size is unknown (a pipe)
  uint64_t packets = 0;
  uint64_t smtp_sessions = 0;
  uint64_t recipients = 0;
  uint64_t alerts = 0;
};

class ReplayProgress {
 public:
  // No line before the run is this old, so quick runs stay quiet.
  static constexpr uint64_t kQuietStartNs = 1'500'000'000;
  static constexpr uint64_t kIntervalNs = 500'000'000;

  // `out` null: no progress lines at all (stderr is not a terminal, or --quiet).
  ReplayProgress(std::FILE* out, uint64_t start_ns) noexcept : out_(out), start_ns_(start_ns) {}

  bool enabled() const noexcept { return out_ != nullptr; }
  // Cheap when no line is due; prints (overwriting the previous line) when one is.
  void update(const ReplayTally& tally, uint64_t now_ns);
  // Clears the progress line, if one was printed, so the summary starts on a clean line.
  void end();

  // "replay: 2/5 big.pcap.gz  1.21 GB of 3.40 GB (35%)  8.52M packets  401k packets/s
  //  57.3 MB/s  12 alerts  ETA 0:00:38"
  static std::string format_line(const ReplayTally& tally, uint64_t elapsed_ns);
  // "replay: 5 files, 8520311 packets, 1204 SMTP sessions, 3310 recipients, 12 alerts in 21.3 s"
  static std::string format_summary(const ReplayTally& tally, uint64_t elapsed_ns);

 private:
  std::FILE* out_;
  uint64_t start_ns_;
  uint64_t next_line_ns_ = 0;
  bool line_shown_ = false;
};

}  // namespace misdirect::control
