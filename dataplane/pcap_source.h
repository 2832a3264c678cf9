// PcapSource: packets from a capture file (pcap or pcapng) through libpcap, for `misdirect replay`.
// One packet at a time: libpcap's buffer is valid until the next read, so the view is handed to
// the worker before the next read and nothing is copied.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "dataplane/packet_view.h"

struct pcap;

namespace misdirect::dataplane {

// The packet path's link type for a libpcap DLT, or nothing when the packet path can't read it.
std::optional<LinkType> link_type_from_dlt(int dlt) noexcept;

class PcapSource {
 public:
  // Opens `path`. On failure returns null and sets `error` to one line naming the file and problem.
  static std::unique_ptr<PcapSource> open(const std::string& path, std::string& error);
  ~PcapSource();
  PcapSource(const PcapSource&) = delete;
  PcapSource& operator=(const PcapSource&) = delete;

  // The next packet, or false at the end of the file or at an error (see error()).
  bool next(PacketView& packet) noexcept;

  // Empty after a clean end; otherwise where reading stopped and why.
  const std::string& error() const noexcept { return error_; }
  uint64_t packets_read() const noexcept { return packets_read_; }
  // Bytes of the file read so far and its size, for progress lines.
  uint64_t file_offset() const noexcept;
  uint64_t file_size() const noexcept { return file_size_; }

 private:
  PcapSource(pcap* handle, std::string path, LinkType link_type, uint64_t file_size) noexcept;

  pcap* handle_;
  std::string path_;
  LinkType link_type_;
  uint64_t file_size_;
  uint64_t packets_read_ = 0;
  std::string error_;
};

}  // namespace misdirect::dataplane
