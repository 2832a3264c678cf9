// EveWriter: the fields every EVE record shares (Suricata's layout), written into one per-worker
// buffer so that SIEM tooling built for Suricata reads misdirect's records unchanged.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "dataplane/flow/flow_identity.h"
#include "dataplane/output/json_line_writer.h"

namespace misdirect::dataplane {

// "2024-05-01T12:00:00.123456+0000", as Suricata writes it (UTC).
inline constexpr std::size_t kTimestampBytes = 32;
std::string_view format_timestamp(uint64_t timestamp_ns, std::span<char, kTimestampBytes> out) noexcept;

inline constexpr std::size_t kIpTextBytes = 48;
std::string_view format_ip(const IpAddress& address, std::span<char, kIpTextBytes> out) noexcept;

// Suricata's name of an IP protocol that carries a tunnel ("UDP", "GRE", "IP-in-IP", "IPv6",
// "MPLS-in-IP"), as its `tunnel.proto` shows it.
std::string_view tunnel_protocol_name(uint8_t protocol) noexcept;

// misdirect's own tunnel facts, written as the member `"tunnel":{...}` of the record's
// `misdirect` object (Suricata's `tunnel` object has no place for them): the kind and id that
// key the flow (id only when an encapsulation carried one) and the encapsulations walked,
// outermost first. Nothing when the flow was not encapsulated.
void write_tunnel_extension(JsonLineWriter& json, const FlowIdentity& flow) noexcept;

class EveWriter {
 public:
  explicit EveWriter(std::span<char> buffer) noexcept : json_(buffer) {}

  // Starts a record: timestamp, flow_id, in_iface (when the flow came from a named live port),
  // pcap_filename (when not empty), event_type, the flow's
  // addresses oriented client → server, proto, vlan, community_id, and for a flow inside an IP
  // tunnel Suricata's `tunnel` object (the outermost tunnel's IP header: src_ip, src_port, dest_ip,
  // dest_port, proto, depth). `flow` may be null (stats records).
  // `event_type` is one of the program's own names ("alert", "smtp", "stats"): written unescaped.
  JsonLineWriter& begin(std::string_view event_type, uint64_t timestamp_ns, const FlowIdentity* flow,
                        std::string_view pcap_filename) noexcept;
  // Closes the record (with `host` when a sensor name is set). Returns the line, or an empty
  // view when it did not fit the buffer.
  std::string_view finish() noexcept;
  // The record begun last, for writers that add to it piece by piece (dns records).
  JsonLineWriter& json() noexcept { return json_; }
  // The sensor's name, written as `host` at the end of every record (Suricata's place for
  // its sensor-name); empty: omitted. The text must outlive the writer.
  void set_host(std::string_view host) noexcept { host_ = host; }
  // The live sensor's port names, by PacketView::input: a flow whose `input` has a name here
  // gets `in_iface` (where Suricata writes it: after flow_id). Empty (replay): never written.
  // The names must outlive the writer.
  void set_input_names(std::span<const std::string> names) noexcept { input_names_ = names; }

 private:
  JsonLineWriter json_;
  std::string_view host_;
  std::span<const std::string> input_names_;
  // The timestamp of the last record: records come in bursts within one second, so only the
  // microseconds are formatted again while the second is the same.
  uint64_t timestamp_second_ = UINT64_MAX;
  char timestamp_[kTimestampBytes] = {};
};

}  // namespace misdirect::dataplane
