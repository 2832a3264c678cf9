// EveFile: the EVE file sink — the one way records reach the EVE file, in replay and in live.
//
// Records are appended to a bounded buffer of whole lines and written with write(2) on flush()
// (or when the buffer fills). The file is opened O_APPEND, so logrotate's "move, then SIGHUP"
// works: reopen() closes and opens the path again.
//
// When the file cannot be written (ENOSPC, EIO, a reopen that fails because the path is briefly
// unusable) nothing is lost at once and the sensor runs on:
//   - the records stay in the buffer (`buffer_bytes`, bounded); while it is full, new records are
//     refused and counted (`records_lost`); a line is never split between two files;
//   - every failed write counts `write_errors`, every failed open `reopen_failures`;
//   - retry() (called by the owner on its periodic tick) tries again with back-off (1 s, doubling
//     to 60 s): it reopens the path when the file is closed, or writes what is buffered; every
//     reopen() (SIGHUP) tries at once;
//   - stderr gets at most one warning a minute (each names the path and the error), and one line
//     when writing works again;
//   - once the file takes writes again, the buffered records go out first, in order.
// A line cut by a failed write (some bytes written) is completed in the same file when it
// recovers; after a reopen the new file starts with the next whole line and the cut one counts
// as lost.
//
// close() writes what it can and reports whether everything offered reached the file: replay
// exits 1 naming the path when it did not (a failed write, flush or close), as live does.
//
// Time comes from the caller (monotonic ns), so back-off and the warning limit are testable.
// This is control-thread code: it allocates its buffer once at construction, and never blocks
// beyond a write(2) to a regular file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include "dataplane/counter_table.h"

namespace misdirect::dataplane {

class StatsNode;

enum class EveFileCounter : uint16_t {
  kRecordsWritten,
  kWriteErrors,
  kRecordsLost,
  kReopens,
  kReopenFailures,
  kCount,
};

inline constexpr CounterInfo kEveFileCounterInfo[] = {
    {"records_written", "records written whole to the EVE file"},
    {"write_errors", "writes or flushes of the EVE file that failed (records kept and retried)"},
    {"records_lost", "records never written: refused while the output buffer was full, or cut by a reopen"},
    {"reopens", "times the EVE file was opened again (SIGHUP or recovery)"},
    {"reopen_failures", "attempts to open the EVE file again that failed (retried with back-off)"},
};
static_assert(std::size(kEveFileCounterInfo) == static_cast<std::size_t>(EveFileCounter::kCount));

class EveFile {
 public:
  static constexpr std::size_t kDefaultBufferBytes = 8u << 20;
  static constexpr uint64_t kFirstRetryNs = 1'000'000'000;
  static constexpr uint64_t kMaxRetryNs = 60'000'000'000;
  static constexpr uint64_t kWarningIntervalNs = 60'000'000'000;

  // `path` "-" is stdout (never reopened). `program` prefixes stderr lines ("misdirect live").
  EveFile(std::string path, std::string program, std::size_t buffer_bytes = kDefaultBufferBytes,
          std::FILE* warnings = stderr);
  ~EveFile();
  EveFile(const EveFile&) = delete;
  EveFile& operator=(const EveFile&) = delete;

  // At start-up: false (with `error` naming the path) when the file cannot be opened.
  bool open(std::string& error);
  // One record (a JSON line without its newline). False when it was refused (buffer full).
  bool append(std::string_view line, uint64_t now_ns);
  // Writes what is buffered. False when the file is not writable now (kept, retried later).
  bool flush(uint64_t now_ns);
  // SIGHUP: closes the file and opens the path again, at once. False (with `error`, when given,
  // set to the system's reason) when the path could not be opened: then the records wait in the
  // buffer and retry() tries again with back-off.
  bool reopen(uint64_t now_ns, std::string* error = nullptr);
  // Periodic: when writing failed, tries again once the back-off has passed.
  void retry(uint64_t now_ns);
  // The end: flushes and closes. False when any record offered did not reach the file (or the
  // close failed); then `error` says what, naming the path. (Replay also fails on any write
  // error counted before, even one it recovered from.)
  bool close(uint64_t now_ns, std::string& error);

  bool healthy() const noexcept { return fd_ >= 0 && !broken_; }
  std::size_t buffered_bytes() const noexcept { return size_; }
  const std::string& path() const noexcept { return path_; }
  const CounterArray<EveFileCounter>& counters() const noexcept { return counters_; }
  // Cold: the counters under `misdirect.output` of a stats record (the owner adds
  // `buffered_bytes` where it is a state worth showing: live, not replay's one final record).
  void collect_stats(StatsNode& record) const;

 private:
  bool write_buffered(uint64_t now_ns);
  void fail(const char* what, int error_number, uint64_t now_ns);
  // At most one stderr line a minute; the next one says how many were held back.
  void warn(const std::string& message, uint64_t now_ns);
  void recovered(uint64_t now_ns);
  bool open_fd(int& error_number);
  void close_fd();
  void drop_cut_line();
  const char* shown_path() const noexcept { return path_ == "-" ? "stdout" : path_.c_str(); }

  std::string path_;
  std::string program_;
  std::FILE* warnings_;
  int fd_ = -1;
  bool owns_fd_ = false;

  // Buffered bytes: [start_, start_ + size_) of a linear buffer, compacted when it runs out of
  // tail room; `line_cut_` when its first line was partly written already.
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_;
  std::size_t start_ = 0;
  std::size_t size_ = 0;
  bool line_cut_ = false;

  bool broken_ = false;            // a write or open failed; retry() is due at next_retry_ns_
  uint64_t retry_wait_ns_ = kFirstRetryNs;
  uint64_t next_retry_ns_ = 0;
  bool warned_ = false;
  uint64_t last_warning_ns_ = 0;
  uint64_t warnings_suppressed_ = 0;
  std::string last_error_;

  CounterArray<EveFileCounter> counters_;
};

}  // namespace misdirect::dataplane
