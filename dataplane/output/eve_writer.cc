// EveWriter: shared EVE record fields.
#include "dataplane/output/eve_writer.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace misdirect::dataplane {

namespace {

// Two decimal digits at `out`.
void put_2_digits(char* out, unsigned value) noexcept {
  out[0] = static_cast<char>('0' + value / 10);
  out[1] = static_cast<char>('0' + value % 10);
}

// Decimal digits of `value` at `out`, without leading zeros; returns the count.
std::size_t put_octet(char* out, unsigned value) noexcept {
  if (value >= 100) {
    out[0] = static_cast<char>('0' + value / 100);
    put_2_digits(out + 1, value % 100);
    return 3;
  }
  if (value >= 10) {
    put_2_digits(out, value);
    return 2;
  }
  out[0] = static_cast<char>('0' + value);
  return 1;
}

}  // namespace

std::string_view format_timestamp(uint64_t timestamp_ns,
                                  std::span<char, kTimestampBytes> out) noexcept {
  // Days since 1970-01-01 to the proleptic Gregorian date (H. Hinnant's civil_from_days), so no
  // gmtime_r or printf is needed. uint64 nanoseconds end in 2554: four-digit years always.
  const uint64_t seconds = timestamp_ns / 1'000'000'000;
  const auto microseconds = static_cast<unsigned>((timestamp_ns / 1000) % 1'000'000);
  const uint64_t days = seconds / 86400;
  const auto second_of_day = static_cast<unsigned>(seconds % 86400);
  const uint64_t shifted = days + 719468;  // days since 0000-03-01
  const uint64_t era = shifted / 146097;
  const auto day_of_era = static_cast<unsigned>(shifted - era * 146097);
  const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned month_from_march = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
  const unsigned month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
  const auto year = static_cast<unsigned>(year_of_era + era * 400 + (month <= 2 ? 1 : 0));

  char* text = out.data();
  put_2_digits(text, year / 100);
  put_2_digits(text + 2, year % 100);
  text[4] = '-';
  put_2_digits(text + 5, month);
  text[7] = '-';
  put_2_digits(text + 8, day);
  text[10] = 'T';
  put_2_digits(text + 11, second_of_day / 3600);
  text[13] = ':';
  put_2_digits(text + 14, second_of_day / 60 % 60);
  text[16] = ':';
  put_2_digits(text + 17, second_of_day % 60);
  text[19] = '.';
  put_2_digits(text + 20, microseconds / 10000);
  put_2_digits(text + 22, microseconds / 100 % 100);
  put_2_digits(text + 24, microseconds % 100);
  std::memcpy(text + 26, "+0000", 5);
  return {text, 31};
}

std::string_view format_ip(const IpAddress& address, std::span<char, kIpTextBytes> out) noexcept {
  if (address.version != 6) {
    // Dotted quad written directly: the same text as inet_ntop, without the library call.
    std::size_t length = 0;
    for (int i = 0; i < 4; ++i) {
      if (i > 0) {
        out[length++] = '.';
      }
      length += put_octet(out.data() + length, address.bytes[static_cast<std::size_t>(i)]);
    }
    return {out.data(), length};
  }
  if (inet_ntop(AF_INET6, address.bytes.data(), out.data(), static_cast<socklen_t>(out.size())) ==
      nullptr) {
    return {};
  }
  return {out.data()};
}

JsonLineWriter& EveWriter::begin(std::string_view event_type, uint64_t timestamp_ns,
                                 const FlowIdentity* flow, std::string_view pcap_filename) noexcept {
  json_.reset();
  json_.begin_object();
  const uint64_t second = timestamp_ns / 1'000'000'000;
  if (second != timestamp_second_) {
    format_timestamp(timestamp_ns, timestamp_);
    timestamp_second_ = second;
  } else {
    const auto microseconds = static_cast<unsigned>((timestamp_ns / 1000) % 1'000'000);
    put_2_digits(timestamp_ + 20, microseconds / 10000);
    put_2_digits(timestamp_ + 22, microseconds / 100 % 100);
    put_2_digits(timestamp_ + 24, microseconds % 100);
  }
  json_.member_plain_string("timestamp", std::string_view(timestamp_, kTimestampBytes - 1));
  if (flow != nullptr) {
    json_.key("flow_id");
    json_.number(flow->flow_id);
    if (flow->input < input_names_.size()) {
      json_.key("in_iface");
      json_.string(input_names_[flow->input]);
    }
  }
  if (!pcap_filename.empty()) {
    json_.key("pcap_filename");
    json_.string(pcap_filename);
  }
  json_.key("event_type");
  json_.plain_string(event_type);  // the program's own names
  if (flow != nullptr) {
    char address[kIpTextBytes];
    json_.key("src_ip");
    json_.plain_string(format_ip(flow->client, address));
    json_.key("src_port");
    json_.number(flow->client_port);
    json_.key("dest_ip");
    json_.plain_string(format_ip(flow->server, address));
    json_.key("dest_port");
    json_.number(flow->server_port);
    json_.key("proto");
    json_.plain_string(flow->protocol == 17 ? "UDP" : "TCP");
    if (flow->vlan_count > 0) {
      json_.key("vlan");
      json_.begin_array();
      for (uint8_t i = 0; i < flow->vlan_count && i < 2; ++i) {
        json_.number(flow->vlan_ids[i]);
      }
      json_.end_array();
    }
    if (flow->community_id.present) {
      json_.member_plain_string("community_id", flow->community_id.view());  // base64: no escapes
    }
    const TunnelInfo& tunnel = flow->tunnel;
    if (tunnel.depth > 0) {
      json_.key("tunnel");
      json_.begin_object();
      json_.key("src_ip");
      json_.plain_string(format_ip(tunnel.outer_src, address));
      json_.member_number("src_port", tunnel.outer_src_port);
      json_.key("dest_ip");
      json_.plain_string(format_ip(tunnel.outer_dst, address));
      json_.member_number("dest_port", tunnel.outer_dst_port);
      json_.member_plain_string("proto", tunnel_protocol_name(tunnel.outer_protocol));
      json_.member_number("depth", tunnel.depth);
      json_.end_object();
    }
  }
  return json_;
}

std::string_view tunnel_protocol_name(uint8_t protocol) noexcept {
  switch (protocol) {
    case 4:
      return "IP-in-IP";
    case 17:
      return "UDP";
    case 41:
      return "IPv6";
    case 47:
      return "GRE";
    case 137:
      return "MPLS-in-IP";
    default:
      return "unknown";
  }
}

void write_tunnel_extension(JsonLineWriter& json, const FlowIdentity& flow) noexcept {
  const TunnelInfo& tunnel = flow.tunnel;
  if (tunnel.layer_count == 0) {
    return;
  }
  json.key("tunnel");
  json.begin_object();
  // The kind is the encapsulation whose id keys the flow, or (none carried one) the innermost.
  if (tunnel.id_kind != Encapsulation::kNone) {
    json.member_plain_string("kind", encapsulation_name(tunnel.id_kind));
    json.member_number("id", tunnel.id);
  } else {
    const std::size_t innermost = std::min<std::size_t>(tunnel.layer_count, TunnelInfo::kMaxLayers) - 1;
    json.member_plain_string("kind", encapsulation_name(tunnel.layers[innermost]));
  }
  json.key("layers");
  json.begin_array();
  for (std::size_t i = 0; i < tunnel.layer_count && i < TunnelInfo::kMaxLayers; ++i) {
    json.plain_string(encapsulation_name(tunnel.layers[i]));
  }
  json.end_array();
  json.end_object();
}

std::string_view EveWriter::finish() noexcept {
  if (!host_.empty()) {
    json_.key("host");
    json_.string(host_);
  }
  json_.end_object();
  if (json_.overflowed()) {
    return {};
  }
  return json_.view();
}

}  // namespace misdirect::dataplane
