// PcapSource: libpcap offline reading with nanosecond timestamps.
#include "dataplane/pcap_source.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>

#include "dataplane/clock.h"

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

std::string check_bpf_filter(const std::string& expression) {
  // Ethernet stands for every link type here; open() compiles again for the capture's own.
  pcap* dead = pcap_open_dead(DLT_EN10MB, static_cast<int>(PcapSource::kMaxCapturedBytes));
  if (dead == nullptr) {
    return "cannot create a libpcap handle to check the filter";
  }
  bpf_program program{};
  std::string error;
  if (pcap_compile(dead, &program, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    error = pcap_geterr(dead);
  } else {
    pcap_freecode(&program);
  }
  pcap_close(dead);
  return error;
}

std::unique_ptr<PcapSource> PcapSource::open(const std::string& path, std::string& error,
                                             const std::string& bpf_filter) {
  std::unique_ptr<CaptureInput> input = CaptureInput::open(path, error);
  if (!input) {
    return nullptr;
  }
  const std::string name = path == "-" ? std::string("standard input") : path;
  char pcap_error[PCAP_ERRBUF_SIZE] = {};
  // On success libpcap owns the stream; on failure it leaves it to us (the CaptureInput).
  std::FILE* stream = input->take_stream();
  pcap* handle = pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_NANO, pcap_error);
  if (handle == nullptr) {
    std::fclose(stream);
    error = name + ": not a readable pcap or pcapng file: " +
            (input->error().empty() ? std::string(pcap_error) : input->error());
    return nullptr;
  }
  const int dlt = pcap_datalink(handle);
  const std::optional<LinkType> link_type = link_type_from_dlt(dlt);
  if (!link_type) {
    const char* dlt_name = pcap_datalink_val_to_name(dlt);
    error = name + ": unsupported link type " + std::to_string(dlt) + " (" +
            (dlt_name != nullptr ? dlt_name : "unknown") +
            "); misdirect reads Ethernet, Linux cooked (SLL, SLL2), raw IP and BSD loopback";
    pcap_close(handle);
    return nullptr;
  }
  if (!bpf_filter.empty()) {
    bpf_program program{};
    if (pcap_compile(handle, &program, bpf_filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 ||
        pcap_setfilter(handle, &program) != 0) {
      error = name + ": --bpf: " + pcap_geterr(handle);
      pcap_freecode(&program);
      pcap_close(handle);
      return nullptr;
    }
    pcap_freecode(&program);
  }
  return std::unique_ptr<PcapSource>(new PcapSource(handle, std::move(input), name, *link_type));
}

PcapSource::PcapSource(pcap* handle, std::unique_ptr<CaptureInput> input, std::string path,
                       LinkType link_type) noexcept
    : handle_(handle), input_(std::move(input)), path_(std::move(path)), link_type_(link_type) {}

PcapSource::~PcapSource() { pcap_close(handle_); }

bool PcapSource::next(PacketView& packet) noexcept {
  if (!error_.empty()) {
    return false;  // after an error libpcap's position in the file means nothing: stop for good
  }
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  const int result = pcap_next_ex(handle_, &header, &data);
  if (result == 1) {
    packet.data = data;
    packet.captured_length = header->caplen;
    packet.wire_length = header->len;
    // tv_usec holds nanoseconds (see open()); capture_time_ns undoes libpcap's sign extension
    // of a classic file's unsigned 32-bit seconds.
    packet.timestamp_ns = capture_time_ns(header->ts.tv_sec, static_cast<uint64_t>(header->ts.tv_usec));
    packet.link_type = link_type_;
    ++packets_read_;
    return true;
  }
  if (result == PCAP_ERROR) {
    char where[64];
    std::snprintf(where, sizeof where, "stopped after packet %llu (reading packet %llu): ",
                  static_cast<unsigned long long>(packets_read_),
                  static_cast<unsigned long long>(packets_read_ + 1));
    // A bad compressed stream makes libpcap's read fail; the decompressor knows why.
    error_ = path_ + ": " + where + (input_->error().empty() ? std::string(pcap_geterr(handle_)) : input_->error());
  } else if (result == PCAP_ERROR_BREAK && !input_->error().empty()) {
    error_ = path_ + ": " + input_->error();
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

}  // namespace misdirect::dataplane
