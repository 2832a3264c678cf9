// PcapSource: libpcap offline reading with nanosecond timestamps.
#include "dataplane/pcap_source.h"

#include <pcap/pcap.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>

namespace misdirect::dataplane {

std::optional<LinkType> link_type_from_dlt(int dlt) noexcept {
  switch (dlt) {
    case DLT_EN10MB: return LinkType::kEthernet;
    case DLT_LINUX_SLL: return LinkType::kLinuxSll;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2: return LinkType::kLinuxSll2;
#endif
    case DLT_RAW: return LinkType::kRawIp;
#ifdef DLT_IPV4
    case DLT_IPV4: return LinkType::kIpv4;
#endif
#ifdef DLT_IPV6
    case DLT_IPV6: return LinkType::kIpv6;
#endif
    case DLT_NULL: return LinkType::kNull;
    default: return std::nullopt;
  }
}

std::unique_ptr<PcapSource> PcapSource::open(const std::string& path, std::string& error) {
  char pcap_error[PCAP_ERRBUF_SIZE] = {};
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    error = path + ": cannot open: no such file or not readable";
    return nullptr;
  }
  pcap* handle =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, pcap_error);
  if (handle == nullptr) {
    error = path + ": not a readable pcap or pcapng file: " + pcap_error;
    return nullptr;
  }
  const int dlt = pcap_datalink(handle);
  const std::optional<LinkType> link_type = link_type_from_dlt(dlt);
  if (!link_type) {
    const char* name = pcap_datalink_val_to_name(dlt);
    error = path + ": unsupported link type " + std::to_string(dlt) + " (" +
            (name != nullptr ? name : "unknown") +
            "); misdirect reads Ethernet, Linux cooked (SLL, SLL2), raw IP and BSD loopback";
    pcap_close(handle);
    return nullptr;
  }
  return std::unique_ptr<PcapSource>(
      new PcapSource(handle, path, *link_type, static_cast<uint64_t>(status.st_size)));
}

PcapSource::PcapSource(pcap* handle, std::string path, LinkType link_type, uint64_t file_size) noexcept
    : handle_(handle), path_(std::move(path)), link_type_(link_type), file_size_(file_size) {}

PcapSource::~PcapSource() { pcap_close(handle_); }

bool PcapSource::next(PacketView& packet) noexcept {
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  const int result = pcap_next_ex(handle_, &header, &data);
  if (result == 1) {
    packet.data = data;
    packet.captured_length = header->caplen;
    packet.wire_length = header->len;
    packet.timestamp_ns = static_cast<uint64_t>(header->ts.tv_sec) * 1'000'000'000ull +
                          static_cast<uint64_t>(header->ts.tv_usec);  // nanoseconds: see open()
    packet.link_type = link_type_;
    ++packets_read_;
    return true;
  }
  if (result == PCAP_ERROR) {
    char where[64];
    std::snprintf(where, sizeof where, "stopped after packet %llu: ",
                  static_cast<unsigned long long>(packets_read_));
    error_ = path_ + ": " + where + pcap_geterr(handle_);
  }
  return false;
}

std::size_t PcapSource::next_burst(std::span<PacketView> out) noexcept {
  if (!burst_buffer_) {
    burst_buffer_.reset(new (std::nothrow) uint8_t[kMaxBurst * std::size_t{kMaxCapturedBytes}]);
    if (!burst_buffer_) {
      error_ = path_ + ": out of memory for the burst buffer";
      return 0;
    }
  }
  const std::size_t limit = std::min(out.size(), kMaxBurst);
  std::size_t count = 0;
  uint8_t* free_space = burst_buffer_.get();
  while (count < limit && next(out[count])) {
    PacketView& packet = out[count++];
    // A record longer than libpcap's own limit cannot come from it; cut rather than overrun (the
    // decoder then sees a capture cut short, which it counts).
    packet.captured_length = std::min(packet.captured_length, kMaxCapturedBytes);
    if (packet.captured_length > 0) {
      std::memcpy(free_space, packet.data, packet.captured_length);
    }
    packet.data = free_space;
    free_space += packet.captured_length;
  }
  return count;
}

uint64_t PcapSource::file_offset() const noexcept {
  std::FILE* file = pcap_file(handle_);
  if (file == nullptr) {
    return 0;
  }
  const long offset = std::ftell(file);
  return offset < 0 ? 0 : static_cast<uint64_t>(offset);
}

}  // namespace misdirect::dataplane
