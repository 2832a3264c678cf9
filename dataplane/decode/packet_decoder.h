// PacketDecoder: one captured frame in, the L2–L4 facts the packet path needs out (DecodedPacket).
//
// Link layers: Ethernet (DIX; 802.3/LLC frames are "not ip"), up to kMaxVlanTags 802.1Q/802.1ad
// tags with TPIDs 0x8100, 0x88a8 and 0x9100 (the outer two are recorded; deeper stacks are
// skipped through and counted; more than kMaxVlanTags is malformed), Linux cooked SLL and SLL2,
// raw IP (version nibble), DLT_IPV4/DLT_IPV6 and DLT_NULL (address family in either byte order).
// Network: IPv4 with options (checksum not verified) and IPv6 with up to max_ipv6_ext_headers
// extension headers (hop-by-hop, routing, destination options, fragment, AH). Fragments of either
// go to the IpReassembler; the frame that completes a datagram decodes as that whole datagram.
// Transport: TCP (options skipped; flags, seq, ack, payload) and UDP (ports); anything else is
// "other IP" with addresses filled.
//
// Encapsulations (STYLE.md rule 22: layers are a bounded loop). Each layer's decoder returns a
// Step — "the next layer starts here, of this type", or the answer — and decode_general() walks
// the steps in one loop. Every encapsulation opened counts towards max_encapsulation_depth; a
// packet nested deeper is dropped and counted, so a crafted loop (GRE in GRE in GRE ...) ends at
// the bound. Decoded: VXLAN (UDP to vxlan_ports), GENEVE (UDP to geneve_ports; options skipped;
// Ethernet, IPv4 or IPv6), GRE (checksum, key, sequence; carrying Ethernet 0x6558, IPv4, IPv6,
// MPLS or ERSPAN), ERSPAN type I, II and III (with or without the platform sub-header), MPLS
// label stacks (over Ethernet, GRE or IP protocol 137; carrying IPv4, IPv6 or an Ethernet
// pseudowire with or without a control word), PPPoE sessions (IPv4, IPv6) and IP-in-IP (4in4,
// 6in4, 4in6, 6in6). Outer IP fragments are reassembled before the tunnel inside is opened. The
// inner packet's facts fill DecodedPacket; DecodedPacket::tunnel keeps the outermost tunnel's IP
// header and the tunnel identity (see tunnel.h). Encapsulations recognised but not decoded are
// counted by kind (EncapsulationCounter).
//
// Lengths come from the IP header, never the frame: Ethernet padding is ignored. (One exception:
// an IPv4 total length of 0 is what segmentation offload leaves in captures taken on the sending
// host, as Wireshark assumes too; the frame's length is used and the case counted.) A capture cut
// short (captured_length < wire_length) still decodes when the headers are present;
// `captured_payload_length` then says how much payload the capture holds. A frame whose IP length
// reaches past its wire length is malformed. Every malformed case has its own counter and
// decodes to kDropped; nothing is read past the captured bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <vector>

#include "dataplane/decode/byte_reader.h"
#include "dataplane/counter_table.h"
#include "dataplane/decode/decoded_packet.h"
#include "dataplane/decode/encapsulation_counter.h"
#include "dataplane/decode/ip_reassembler.h"
#include "dataplane/decode/packet_view.h"

namespace misdirect::dataplane {

enum class DecodeResult : uint8_t {
  kTcp,           // a TCP segment: every TCP field of DecodedPacket is filled
  kOtherIp,       // UDP (ports filled), ICMP, ESP, ...: addresses and protocol filled
  kFragmentHeld,  // an IP fragment kept by the reassembler (or, not reassembling, seen); nothing to do yet
  kDropped,       // nothing for the flow path: not IP, or malformed; the counters say which
};

enum class DecodeCounter : uint16_t {
  kPackets,
  kIpv4,
  kIpv6,
  kTcp,
  kUdp,
  kOtherIpProtocol,
  kVlanTagged,
  kVlanExtraTags,
  kNotIp,
  kTruncatedHeaders,
  kTruncatedPayload,
  kLinkShort,
  kUnknownLinkType,
  kVlanTooManyTags,
  kRawIpBadVersion,
  kIpv4ShortHeader,
  kIpv4BadVersion,
  kIpv4BadIhl,
  kIpv4BadTotalLength,
  kIpv4ZeroTotalLength,
  kIpv4LengthBeyondFrame,
  kIpv6ShortHeader,
  kIpv6BadVersion,
  kIpv6LengthBeyondFrame,
  kIpv6Jumbogram,
  kIpv6BadExtHeader,
  kIpv6TooManyExtHeaders,
  kFragmentTruncated,
  kFragmentDropped,
  kTcpShortHeader,
  kTcpBadDataOffset,
  kUdpShortHeader,
  kCount,
};

inline constexpr CounterInfo kDecodeCounterInfo[] = {
    {"packets", "frames given to the decoder"},
    {"ipv4", "IPv4 headers decoded (each of a tunnelled packet; reassembled datagrams once)"},
    {"ipv6", "IPv6 headers decoded (each of a tunnelled packet; reassembled datagrams once)"},
    {"tcp", "TCP segments decoded"},
    {"udp", "UDP datagrams decoded"},
    {"other_ip_protocol", "IP packets that are neither TCP nor UDP (ICMP, ESP, no next header, ...)"},
    {"vlan_tagged", "frames with one or more 802.1Q/802.1ad tags"},
    {"vlan_extra_tags", "frames with more than two VLAN tags (inner tags skipped, not recorded)"},
    {"not_ip", "frames carrying neither IPv4 nor IPv6 (ARP, LLDP, 802.3/LLC, PPPoE discovery, ...)"},
    {"truncated_headers", "frames the capture cut short inside their L2-L4 headers"},
    {"truncated_payload", "TCP segments whose payload the capture cut short (decoded)"},
    {"link_short", "frames shorter than their link-layer header"},
    {"unknown_link_type", "frames of a link type the decoder does not know"},
    {"vlan_too_many_tags", "frames with more VLAN tags than the decoder walks through"},
    {"raw_ip_bad_version", "raw-IP frames whose version nibble is neither 4 nor 6"},
    {"ipv4_short_header", "IPv4 packets shorter than their header"},
    {"ipv4_bad_version", "IPv4-typed packets whose version field is not 4"},
    {"ipv4_bad_ihl", "IPv4 headers with a header length under 20 bytes"},
    {"ipv4_bad_total_length", "IPv4 total lengths shorter than the header"},
    {"ipv4_zero_total_length",
     "IPv4 total length 0 (segmentation offload on the capturing host): length from the frame"},
    {"ipv4_length_beyond_frame", "IPv4 total lengths reaching past the frame on the wire"},
    {"ipv6_short_header", "IPv6 packets shorter than the 40-byte header"},
    {"ipv6_bad_version", "IPv6-typed packets whose version field is not 6"},
    {"ipv6_length_beyond_frame", "IPv6 payload lengths reaching past the frame on the wire"},
    {"ipv6_jumbogram", "IPv6 packets with payload length 0 (jumbograms, not supported)"},
    {"ipv6_bad_ext_header", "IPv6 extension headers reaching past the payload"},
    {"ipv6_too_many_ext_headers", "IPv6 packets with more extension headers than the decoder walks"},
    {"fragment_truncated", "IP fragments the capture cut short (cannot be reassembled)"},
    {"fragment_dropped", "IP fragments the reassembler dropped (its counters say why)"},
    {"tcp_short_header", "TCP segments shorter than the 20-byte header"},
    {"tcp_bad_data_offset", "TCP data offsets under 20 bytes or past the IP payload"},
    {"udp_short_header", "UDP datagrams shorter than the 8-byte header"},
};
static_assert(std::size(kDecodeCounterInfo) == static_cast<std::size_t>(DecodeCounter::kCount));

struct DecoderConfig {
  IpReassemblerConfig reassembly;
  uint32_t max_ipv6_ext_headers = 8;
  // UDP destination ports opened as VXLAN / GENEVE (--vxlan-ports, --geneve-ports); each at most
  // kMaxTunnelPorts, none of them 0. Empty: that tunnel is not decoded.
  std::vector<uint16_t> vxlan_ports = {4789};
  std::vector<uint16_t> geneve_ports = {6081};
  // Encapsulations walked through before a packet is dropped (counted): 1..16.
  uint32_t max_encapsulation_depth = 4;
  // false: fragments are looked at, not reassembled. A fragment (first or not) decodes to
  // kFragmentHeld with the addresses of the IP header it is a fragment of and the tunnel around
  // that header filled, and nothing is kept (a fragment the capture cut short too). For the
  // fan-out (FanoutClassifier), which places fragments and leaves reassembly to the workers.
  bool reassemble_fragments = true;
};

class PacketDecoder {
 public:
  // The VLAN tags walked through before a frame is malformed; the outer two are recorded.
  static constexpr uint32_t kMaxVlanTags = 4;
  // VXLAN or GENEVE ports configurable at once (each).
  static constexpr std::size_t kMaxTunnelPorts = 8;
  // MPLS labels walked before a stack is malformed.
  static constexpr uint32_t kMaxMplsLabels = 16;

  // Throws std::invalid_argument naming the bad field when the configuration cannot work.
  explicit PacketDecoder(const DecoderConfig& config);

  // `out` is overwritten. Its `payload` points into the frame or, for a reassembled datagram,
  // into the reassembler's buffer until the next decode() or expire() call.
  DecodeResult decode(const PacketView& packet, DecodedPacket& out) noexcept {
    if (decode_ipv4_tcp_fast(packet, out)) [[likely]] {
      return DecodeResult::kTcp;
    }
    if (decode_vxlan_ipv4_tcp_fast(packet, out)) {
      return DecodeResult::kTcp;
    }
    return decode_general(packet, out);
  }
  // Packet time moves on: drop incomplete datagrams whose reassembly timeout has passed.
  void expire(uint64_t now_ns) noexcept;

  const CounterArray<DecodeCounter>& counters() const noexcept { return counters_; }
  const CounterArray<EncapsulationCounter>& encapsulation_counters() const noexcept {
    return encapsulation_counters_;
  }
  const CounterArray<IpReassemblerCounter>& reassembler_counters() const noexcept {
    return reassembler_.counters();
  }
  const IpReassembler& reassembler() const noexcept { return reassembler_; }

 private:
  // The part of the frame one layer is given: `bytes` is what the capture holds, `wire_length`
  // how long it was on the wire (from this layer's start).
  struct Layer {
    ByteReader bytes;
    uint32_t wire_length = 0;

    // The rest after a header of `header_bytes` (which the caller has checked is present).
    Layer after(uint32_t header_bytes) const noexcept {
      return Layer{bytes.from(header_bytes), wire_length - header_bytes};
    }
  };

  // What a layer's decoder found: the next layer and where it starts, or (kDone) the answer.
  enum class LayerType : uint8_t { kDone, kEthernet, kIpv4, kIpv6, kMpls, kPppoeSession, kVxlan, kGeneve, kGre };
  struct Step {
    LayerType next = LayerType::kDone;
    DecodeResult result = DecodeResult::kDropped;
    Layer layer;
  };
  static Step done(DecodeResult result) noexcept { return Step{LayerType::kDone, result, Layer{}}; }
  static Step to(LayerType next, Layer layer) noexcept {
    return Step{next, DecodeResult::kDropped, layer};
  }

  // The common frame — Ethernet, IPv4 without options or fragmentation, TCP, headers captured —
  // with every bound checked once up front (inline, so the worker's loop holds it). False
  // (nothing counted, `out` untouched) when the frame is anything else; decode() then takes the
  // general path, which decodes it from scratch.
  bool decode_ipv4_tcp_fast(const PacketView& packet, DecodedPacket& out) noexcept;
  // The same frame inside VXLAN on the common outer headers (Ethernet, IPv4 without options or
  // fragmentation, UDP to a VXLAN port, no inner VLAN tag): what cloud traffic mirrors deliver.
  bool decode_vxlan_ipv4_tcp_fast(const PacketView& packet, DecodedPacket& out) noexcept;
  // IPv4 (20-byte header, not a fragment) and TCP at `ip`: `captured` bytes present, the packet
  // may span at most `wire` bytes. Fills the IP and TCP fields of `out`; counts nothing.
  static bool fast_ipv4_tcp(const uint8_t* ip, uint32_t captured, uint32_t wire,
                            DecodedPacket& out) noexcept;

  DecodeResult decode_general(const PacketView& packet, DecodedPacket& out) noexcept;
  Step link_layer(const PacketView& packet, DecodedPacket& out) noexcept;
  // Ethernet from its ethertype field on: VLAN tags, then the ethertype's layer.
  Step ethertype_layer(uint16_t ethertype, Layer layer, DecodedPacket& out) noexcept;
  Step ethernet_frame(Layer layer, DecodedPacket& out) noexcept;
  Step ipv4_layer(Layer layer, DecodedPacket& out) noexcept;
  Step ipv6_layer(Layer layer, DecodedPacket& out) noexcept;
  // Walks IPv6 extension headers from `next_header` at the start of `layer` (whose lengths are
  // already bounded by the IPv6 payload length), then the IP payload.
  Step ipv6_chain(uint8_t next_header, Layer layer, uint32_t unfragmentable_bytes, bool reassembled,
                  DecodedPacket& out) noexcept;
  // The payload of an IP packet: TCP or UDP (the answer), or an encapsulation to open.
  Step ip_payload(uint8_t protocol, Layer layer, DecodedPacket& out) noexcept;
  Step udp_payload(Layer layer, DecodedPacket& out) noexcept;
  DecodeResult tcp_segment(Layer layer, DecodedPacket& out) noexcept;
  // The encapsulations (encapsulations.cc).
  Step vxlan_layer(Layer layer, DecodedPacket& out) noexcept;
  Step geneve_layer(Layer layer, DecodedPacket& out) noexcept;
  Step gre_layer(Layer layer, DecodedPacket& out) noexcept;
  Step erspan_layer(uint16_t gre_protocol, bool gre_sequence, Layer layer, DecodedPacket& out) noexcept;
  Step mpls_layer(Layer layer, DecodedPacket& out) noexcept;
  Step pppoe_session_layer(Layer layer, DecodedPacket& out) noexcept;

  // An encapsulation of `kind` is about to be walked through: recorded in out.tunnel; false
  // (counted) when that would pass max_encapsulation_depth.
  bool open_encapsulation(Encapsulation kind, DecodedPacket& out) noexcept;
  // The IP packet now in `out` carries a tunnel (its payload is an encapsulation): the first
  // such packet is the outer one records show. Inner VLAN tags start afresh.
  static void enter_ip_tunnel(uint8_t protocol, uint16_t src_port, uint16_t dst_port,
                              DecodedPacket& out) noexcept;
  static void set_tunnel_id(Encapsulation kind, uint32_t id, DecodedPacket& out) noexcept {
    out.tunnel.id_kind = kind;
    out.tunnel.id = id;
  }
  bool is_vxlan_port(uint16_t port) const noexcept {
    for (uint32_t i = 0; i < vxlan_port_count_; ++i) {
      if (vxlan_ports_[i] == port) {
        return true;
      }
    }
    return false;
  }
  bool is_geneve_port(uint16_t port) const noexcept {
    for (uint32_t i = 0; i < geneve_port_count_; ++i) {
      if (geneve_ports_[i] == port) {
        return true;
      }
    }
    return false;
  }

  // Hands one IPv4 or IPv6 fragment to the reassembler: nothing when it completed a datagram
  // (now in `datagram`), else what the frame decodes to (held, or dropped and counted).
  std::optional<DecodeResult> reassemble(const Fragment& fragment, uint64_t timestamp_ns,
                                         ReassembledDatagram& datagram) noexcept;
  // A header of `needed` bytes is not all captured: truncated capture or malformed packet.
  DecodeResult short_header(Layer layer, uint32_t needed, DecodeCounter malformed) noexcept;
  // The same for an encapsulation's header.
  Step short_encapsulation(Layer layer, uint32_t needed, EncapsulationCounter malformed) noexcept;

  DecoderConfig config_;
  IpReassembler reassembler_;
  std::array<uint16_t, kMaxTunnelPorts> vxlan_ports_{};
  std::array<uint16_t, kMaxTunnelPorts> geneve_ports_{};
  uint32_t vxlan_port_count_ = 0;
  uint32_t geneve_port_count_ = 0;
  CounterArray<DecodeCounter> counters_;
  CounterArray<EncapsulationCounter> encapsulation_counters_;
};

inline bool PacketDecoder::fast_ipv4_tcp(const uint8_t* ip, uint32_t captured, uint32_t wire,
                                         DecodedPacket& out) noexcept {
  constexpr uint32_t kMinTcpHeaderBytes = 20;
  if (captured < 20 + kMinTcpHeaderBytes) {
    return false;
  }
  // Fixed offsets, all inside the 40 bytes just checked; multi-byte fields read as big-endian
  // words (memcpy + byte swap: no alignment assumed).
  const auto load16 = [](const uint8_t* at) {
    uint16_t value;
    std::memcpy(&value, at, sizeof(value));
    return static_cast<uint32_t>(__builtin_bswap16(value));
  };
  const auto load32 = [](const uint8_t* at) {
    uint32_t value;
    std::memcpy(&value, at, sizeof(value));
    return __builtin_bswap32(value);
  };
  const uint8_t* tcp = ip + 20;
  const uint32_t total_length = load16(ip + 2);
  const uint32_t tcp_header_bytes = static_cast<uint32_t>(tcp[12] >> 4) * 4;
  // Version 4 with a 20-byte header; not a fragment (DF may be set); TCP; an IP length that
  // holds the TCP header and fits the frame; a TCP header wholly captured.
  if (ip[0] != 0x45 || (load16(ip + 6) & 0x3fffu) != 0 || ip[9] != 6 ||
      tcp_header_bytes < kMinTcpHeaderBytes || total_length < 20 + tcp_header_bytes ||
      total_length > wire || 20 + tcp_header_bytes > captured) {
    return false;
  }
  out.src.bytes = {};
  out.dst.bytes = {};
  std::memcpy(out.src.bytes.data(), ip + 12, 4);
  std::memcpy(out.dst.bytes.data(), ip + 16, 4);
  out.src.version = 4;
  out.dst.version = 4;
  out.ip_protocol = 6;
  out.ip_bytes = total_length;
  out.reassembled = false;
  out.src_port = static_cast<uint16_t>(load16(tcp));
  out.dst_port = static_cast<uint16_t>(load16(tcp + 2));
  out.tcp_flags = tcp[13];
  out.seq = load32(tcp + 4);
  out.ack = load32(tcp + 8);
  out.payload = tcp + tcp_header_bytes;
  out.payload_length = total_length - 20 - tcp_header_bytes;
  // What the capture holds of the IP packet, less the headers (Ethernet padding is not payload).
  const uint32_t ip_captured = captured < total_length ? captured : total_length;
  out.captured_payload_length = ip_captured - 20 - tcp_header_bytes;
  return true;
}

inline bool PacketDecoder::decode_ipv4_tcp_fast(const PacketView& packet, DecodedPacket& out) noexcept {
  constexpr uint32_t kIpOffset = 14;  // Ethernet header
  const uint8_t* frame = packet.data;
  const uint32_t captured = packet.captured_length;
  if (packet.link_type != LinkType::kEthernet || frame == nullptr || captured < kIpOffset + 40 ||
      frame[12] != 0x08 || frame[13] != 0x00) {
    return false;
  }
  const uint32_t wire = packet.wire_length > captured ? packet.wire_length : captured;
  if (!fast_ipv4_tcp(frame + kIpOffset, captured - kIpOffset, wire - kIpOffset, out)) {
    return false;
  }
  out.timestamp_ns = packet.timestamp_ns;
  out.vlan_ids[0] = 0;
  out.vlan_ids[1] = 0;
  out.vlan_count = 0;
  out.tunnel.layer_count = 0;
  out.tunnel.depth = 0;
  out.tunnel.id_kind = Encapsulation::kNone;
  out.tunnel.id = 0;
  counters_.add(DecodeCounter::kPackets);
  counters_.add(DecodeCounter::kIpv4);
  counters_.add(DecodeCounter::kTcp);
  if (out.captured_payload_length < out.payload_length) {
    counters_.add(DecodeCounter::kTruncatedPayload);
  }
  return true;
}

inline bool PacketDecoder::decode_vxlan_ipv4_tcp_fast(const PacketView& packet,
                                                      DecodedPacket& out) noexcept {
  // Outer Ethernet(14) IPv4(20) UDP(8) VXLAN(8), inner Ethernet(14): the inner IP starts at 64.
  constexpr uint32_t kOuterIp = 14;
  constexpr uint32_t kUdp = kOuterIp + 20;
  constexpr uint32_t kVxlan = kUdp + 8;
  constexpr uint32_t kInnerEthernet = kVxlan + 8;
  constexpr uint32_t kInnerIp = kInnerEthernet + 14;
  const uint8_t* frame = packet.data;
  const uint32_t captured = packet.captured_length;
  if (packet.link_type != LinkType::kEthernet || frame == nullptr || captured < kInnerIp + 40 ||
      frame[12] != 0x08 || frame[13] != 0x00 || config_.max_encapsulation_depth < 1) {
    return false;
  }
  const uint8_t* ip = frame + kOuterIp;
  const uint32_t wire = packet.wire_length > captured ? packet.wire_length : captured;
  const uint32_t outer_total = (uint32_t{ip[2]} << 8) | ip[3];
  const auto dst_port = static_cast<uint16_t>((frame[kUdp + 2] << 8) | frame[kUdp + 3]);
  // IPv4 with a 20-byte header, not a fragment, UDP, long enough for the inner headers and
  // within the frame; a VXLAN port; the VNI flag; an untagged inner IPv4 frame.
  if (ip[0] != 0x45 || ((ip[6] & 0x3f) | ip[7]) != 0 || ip[9] != 17 ||
      outer_total < kInnerIp - kOuterIp + 40 || outer_total > wire - kOuterIp ||
      !is_vxlan_port(dst_port) || (frame[kVxlan] & 0x08) == 0 ||
      frame[kInnerEthernet + 12] != 0x08 || frame[kInnerEthernet + 13] != 0x00) {
    return false;
  }
  const uint32_t inner_wire = outer_total - (kInnerIp - kOuterIp);
  const uint32_t inner_captured = captured - kInnerIp < inner_wire ? captured - kInnerIp : inner_wire;
  // The outer header is kept before the inner one overwrites the addresses.
  TunnelInfo& tunnel = out.tunnel;
  tunnel.outer_src.bytes = {};
  tunnel.outer_dst.bytes = {};
  std::memcpy(tunnel.outer_src.bytes.data(), ip + 12, 4);
  std::memcpy(tunnel.outer_dst.bytes.data(), ip + 16, 4);
  if (!fast_ipv4_tcp(frame + kInnerIp, inner_captured, inner_wire, out)) {
    return false;
  }
  tunnel.outer_src.version = 4;
  tunnel.outer_dst.version = 4;
  tunnel.outer_protocol = 17;
  tunnel.outer_src_port = static_cast<uint16_t>((frame[kUdp] << 8) | frame[kUdp + 1]);
  tunnel.outer_dst_port = dst_port;
  tunnel.layers[0] = Encapsulation::kVxlan;
  tunnel.layer_count = 1;
  tunnel.depth = 1;
  tunnel.id_kind = Encapsulation::kVxlan;
  tunnel.id = (uint32_t{frame[kVxlan + 4]} << 16) | (uint32_t{frame[kVxlan + 5]} << 8) | frame[kVxlan + 6];
  out.timestamp_ns = packet.timestamp_ns;
  out.vlan_ids[0] = 0;
  out.vlan_ids[1] = 0;
  out.vlan_count = 0;
  counters_.add(DecodeCounter::kPackets);
  counters_.add(DecodeCounter::kIpv4, 2);
  counters_.add(DecodeCounter::kUdp);
  counters_.add(DecodeCounter::kTcp);
  encapsulation_counters_.add(EncapsulationCounter::kVxlan);
  if (out.captured_payload_length < out.payload_length) {
    counters_.add(DecodeCounter::kTruncatedPayload);
  }
  return true;
}

}  // namespace misdirect::dataplane
