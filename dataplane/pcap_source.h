// PcapSource: packets from a capture (pcap or pcapng; a file or standard input; plain, gzip or
// zstd — see CaptureInput) through libpcap, for `misdirect replay`, optionally through a BPF filter.
// One packet at a time (next: libpcap's buffer is valid until the next read, so the view is
// handed on before the next read and nothing is copied), or a burst at a time (next_burst: each
// packet is copied into the source's burst buffer, valid until the next read, so that the worker
// gets the bursts its pipeline is built for).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "dataplane/capture_input.h"
#include "dataplane/decode/packet_view.h"

struct pcap;

namespace misdirect::dataplane {

// The packet path's link type for a libpcap DLT, or nothing when the packet path can't read it.
std::optional<LinkType> link_type_from_dlt(int dlt) noexcept;

// Checks a libpcap filter expression before any capture is opened. Empty when it compiles;
// otherwise libpcap's message.
std::string check_bpf_filter(const std::string& expression);

class PcapSource {
 public:
  // Opens `path` ("-": standard input). A non-empty `bpf_filter` is compiled for the capture's
  // link type and applied by libpcap: packets it rejects never reach next(). On failure returns
  // null and sets `error` to one line naming the file and problem.
  static std::unique_ptr<PcapSource> open(const std::string& path, std::string& error,
                                          const std::string& bpf_filter = std::string());
  ~PcapSource();
  PcapSource(const PcapSource&) = delete;
  PcapSource& operator=(const PcapSource&) = delete;

  // The next packet, or false at the end of the file or at an error (see error()).
  bool next(PacketView& packet) noexcept;
  // Up to min(out.size(), kMaxBurst) next packets, copied into the source's burst buffer; their
  // views stay valid until the next call of next or next_burst. 0 at the end of the file or at
  // an error (see error()).
  std::size_t next_burst(std::span<PacketView> out) noexcept;

  static constexpr std::size_t kMaxBurst = 32;
  // libpcap's largest snapshot length: no record it returns captures more.
  static constexpr uint32_t kMaxCapturedBytes = 262144;

  // Empty after a clean end; otherwise where reading stopped and why.
  const std::string& error() const noexcept { return error_; }
  uint64_t packets_read() const noexcept { return packets_read_; }
  // Bytes of the stored file read so far (compressed bytes for a compressed file) and its size
  // (0 when unknown: a pipe), for progress lines.
  uint64_t file_offset() const noexcept { return input_->stored_bytes_read(); }
  uint64_t file_size() const noexcept { return input_->stored_size(); }
  CaptureCompression compression() const noexcept { return input_->compression(); }

 private:
  PcapSource(pcap* handle, std::unique_ptr<CaptureInput> input, std::string path, LinkType link_type) noexcept;

  pcap* handle_;
  std::unique_ptr<CaptureInput> input_;  // read by handle_: destroyed after it
  std::string path_;
  LinkType link_type_;
  uint64_t packets_read_ = 0;
  std::string error_;
  // kMaxBurst × kMaxCapturedBytes, allocated on the first next_burst; pages past the largest
  // packets seen are never touched.
  std::unique_ptr<uint8_t[]> burst_buffer_;
};

}  // namespace misdirect::dataplane
