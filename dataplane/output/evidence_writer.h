// EvidenceWriter: the output thread's half of evidence pcaps. It drains the workers'
// EvidenceRings and writes each alerting flow's frames to `<dir>/<flow_id>.pcap` — the name the
// flow's alerts carry as `capture_file` — and keeps the directory within its bounds: at most
// `max_files` files and `max_bytes` bytes from this run, the oldest removed first.
//
// Cold path only (one thread: replay's, or the live sensor's control thread): it opens files,
// writes with write(2), allocates its file table. The pcap format is written here (libpcap's
// nanosecond variant, magic 0xa1b23c4d, which libpcap, tshark and `misdirect replay` read):
// 24 bytes of file header, then per frame 16 bytes of record header and the captured bytes.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <unordered_map>

#include "dataplane/counter_table.h"
#include "dataplane/output/evidence_ring.h"

namespace misdirect::dataplane {

enum class EvidenceFileCounter : uint16_t {
  kFilesCreated,
  kFilesRemovedCount,
  kFilesRemovedSize,
  kFramesWritten,
  kBytesWritten,
  kFramesOverSize,
  kFramesFileRemoved,
  kFramesFileFailed,
  kOpenErrors,
  kWriteErrors,
  kCount,
};

inline constexpr CounterInfo kEvidenceFileCounterInfo[] = {
    {"files_created", "evidence pcaps created"},
    {"files_removed_count", "evidence pcaps removed to stay within --evidence-max-files (oldest first)"},
    {"files_removed_size", "evidence pcaps removed to stay within --evidence-max-mb (oldest first)"},
    {"frames_written", "frames written to evidence pcaps"},
    {"bytes_written", "bytes written to evidence pcaps (headers included)"},
    {"frames_over_size", "frames not written: their file alone reached --evidence-max-mb (it ends there)"},
    {"frames_file_removed", "frames not written: their flow's file was removed by rotation"},
    {"frames_file_failed", "frames not written: their flow's file could not be created or written"},
    {"open_errors", "evidence pcaps that could not be created"},
    {"write_errors", "writes to evidence pcaps that failed"},
};
static_assert(std::size(kEvidenceFileCounterInfo) == static_cast<std::size_t>(EvidenceFileCounter::kCount));

struct EvidenceWriterConfig {
  std::string directory;
  uint64_t max_bytes = 1024ull << 20;
  uint32_t max_files = 1000;
  uint32_t max_open_files = 64;  // descriptors held at once; a flow's file is reopened to append
};

// The longest evidence path: --evidence-dir is refused when longer than this allows.
inline constexpr std::size_t kEvidencePathBytes = 4096;
inline constexpr std::size_t kEvidenceDirMaxBytes = kEvidencePathBytes - 32;

// "<dir>/<flow_id>.pcap": the evidence file of a flow, as alerts name it.
std::string evidence_file_path(std::string_view directory, uint64_t flow_id);

class EvidenceWriter {
 public:
  explicit EvidenceWriter(EvidenceWriterConfig config);
  ~EvidenceWriter();
  EvidenceWriter(const EvidenceWriter&) = delete;
  EvidenceWriter& operator=(const EvidenceWriter&) = delete;

  // Checks the directory exists and is writable; false with a message naming the problem.
  static bool check_directory(const std::string& directory, std::string& error);

  // Writes every entry waiting in `ring`.
  std::size_t drain(EvidenceRing& ring);
  // One entry (drain calls this; tests call it directly).
  void write(const EvidenceEntry& entry, std::span<const uint8_t> bytes);
  // Closes every open file (end of run).
  void close_all();

  const CounterArray<EvidenceFileCounter>& counters() const noexcept { return counters_; }
  uint64_t bytes_kept() const noexcept { return bytes_kept_; }

 private:
  struct File {
    std::string path;
    uint64_t bytes = 0;
    int fd = -1;
    uint64_t last_use = 0;
    uint8_t link_type = 0;
    bool failed = false;   // could not be created or written: later frames are counted
    bool removed = false;  // rotated out: later frames are counted
    bool capped = false;   // reached --evidence-max-mb alone: later frames are counted, so the
                           // file stays the flow's beginning (no holes, no later stragglers)
  };
  File* file_for(const EvidenceEntry& entry);
  bool ensure_open(File& file);
  void close(File& file);
  void remove_oldest(EvidenceFileCounter reason, uint64_t keep_flow);
  bool write_all(File& file, const void* data, std::size_t length);

  EvidenceWriterConfig config_;
  std::unordered_map<uint64_t, File> files_;  // by flow_id: files created and not removed
  std::deque<uint64_t> order_;                 // flow ids, oldest file first
  uint32_t open_files_ = 0;
  uint64_t use_clock_ = 0;
  uint64_t bytes_kept_ = 0;
  CounterArray<EvidenceFileCounter> counters_;
};

}  // namespace misdirect::dataplane
