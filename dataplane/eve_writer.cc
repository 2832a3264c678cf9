// EveWriter: shared EVE record fields.
#include "dataplane/eve_writer.h"

#include <arpa/inet.h>

#include <cstdio>
#include <ctime>

namespace misdirect::dataplane {

std::string_view format_timestamp(uint64_t timestamp_ns,
                                  std::span<char, kTimestampBytes> out) noexcept {
  const auto seconds = static_cast<std::time_t>(timestamp_ns / 1'000'000'000);
  const auto microseconds = static_cast<unsigned>((timestamp_ns / 1000) % 1'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  const int length = std::snprintf(out.data(), out.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%06u+0000",
                                   utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                                   utc.tm_min, utc.tm_sec, microseconds);
  if (length <= 0 || static_cast<std::size_t>(length) >= out.size()) {
    return {};
  }
  return {out.data(), static_cast<std::size_t>(length)};
}

std::string_view format_ip(const IpAddress& address, std::span<char, kIpTextBytes> out) noexcept {
  const int family = address.version == 6 ? AF_INET6 : AF_INET;
  if (inet_ntop(family, address.bytes.data(), out.data(), static_cast<socklen_t>(out.size())) ==
      nullptr) {
    return {};
  }
  return {out.data()};
}

JsonLineWriter& EveWriter::begin(std::string_view event_type, uint64_t timestamp_ns,
                                 const FlowIdentity* flow, std::string_view pcap_filename) noexcept {
  json_.reset();
  json_.begin_object();
  char timestamp[kTimestampBytes];
  json_.key("timestamp");
  json_.string(format_timestamp(timestamp_ns, timestamp));
  if (flow != nullptr) {
    json_.key("flow_id");
    json_.number(flow->flow_id);
  }
  if (!pcap_filename.empty()) {
    json_.key("pcap_filename");
    json_.string(pcap_filename);
  }
  json_.key("event_type");
  json_.string(event_type);
  if (flow != nullptr) {
    char address[kIpTextBytes];
    json_.key("src_ip");
    json_.string(format_ip(flow->client, address));
    json_.key("src_port");
    json_.number(flow->client_port);
    json_.key("dest_ip");
    json_.string(format_ip(flow->server, address));
    json_.key("dest_port");
    json_.number(flow->server_port);
    json_.key("proto");
    json_.string("TCP");
    if (flow->vlan_count > 0) {
      json_.key("vlan");
      json_.begin_array();
      for (uint8_t i = 0; i < flow->vlan_count && i < 2; ++i) {
        json_.number(flow->vlan_ids[i]);
      }
      json_.end_array();
    }
  }
  return json_;
}

std::string_view EveWriter::finish() noexcept {
  json_.end_object();
  if (json_.overflowed()) {
    return {};
  }
  return json_.view();
}

}  // namespace misdirect::dataplane
