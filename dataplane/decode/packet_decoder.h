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
// Lengths come from the IP header, never the frame: Ethernet padding is ignored. (One exception:
// an IPv4 total length of 0 is what segmentation offload leaves in captures taken on the sending
// host, as Wireshark assumes too; the frame's length is used and the case counted.) A capture cut
// short (captured_length < wire_length) still decodes when the headers are present;
// `captured_payload_length` then says how much payload the capture holds. A frame whose IP length
// reaches past its wire length is malformed. Every malformed case has its own counter and
// decodes to kDropped; nothing is read past the captured bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>

#include "dataplane/decode/byte_reader.h"
#include "dataplane/counter_table.h"
#include "dataplane/decode/decoded_packet.h"
#include "dataplane/decode/ip_reassembler.h"
#include "dataplane/decode/packet_view.h"

namespace misdirect::dataplane {

enum class DecodeResult : uint8_t {
  kTcp,           // a TCP segment: every TCP field of DecodedPacket is filled
  kOtherIp,       // UDP (ports filled), ICMP, ESP, ...: addresses and protocol filled
  kFragmentHeld,  // an IP fragment kept by the reassembler; nothing to do yet
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
    {"ipv4", "IPv4 packets decoded (reassembled datagrams count once)"},
    {"ipv6", "IPv6 packets decoded (reassembled datagrams count once)"},
    {"tcp", "TCP segments decoded"},
    {"udp", "UDP datagrams decoded"},
    {"other_ip_protocol", "IP packets that are neither TCP nor UDP (ICMP, ESP, no next header, ...)"},
    {"vlan_tagged", "frames with one or more 802.1Q/802.1ad tags"},
    {"vlan_extra_tags", "frames with more than two VLAN tags (inner tags skipped, not recorded)"},
    {"not_ip", "frames carrying neither IPv4 nor IPv6 (ARP, LLDP, 802.3/LLC, ...)"},
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
};

class PacketDecoder {
 public:
  // The VLAN tags walked through before a frame is malformed; the outer two are recorded.
  static constexpr uint32_t kMaxVlanTags = 4;

  // Throws std::invalid_argument naming the bad field when the configuration cannot work.
  explicit PacketDecoder(const DecoderConfig& config);

  // `out` is overwritten. Its `payload` points into the frame or, for a reassembled datagram,
  // into the reassembler's buffer until the next decode() or expire() call.
  DecodeResult decode(const PacketView& packet, DecodedPacket& out) noexcept {
    if (decode_ipv4_tcp_fast(packet, out)) [[likely]] {
      return DecodeResult::kTcp;
    }
    return decode_general(packet, out);
  }
  // Packet time moves on: drop incomplete datagrams whose reassembly timeout has passed.
  void expire(uint64_t now_ns) noexcept;

  const CounterArray<DecodeCounter>& counters() const noexcept { return counters_; }
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
  };

  // The common frame — Ethernet, IPv4 without options or fragmentation, TCP, headers captured —
  // with every bound checked once up front (inline, so the worker's loop holds it). False
  // (nothing counted, `out` untouched) when the frame is anything else; decode() then takes the
  // general path, which decodes it from scratch.
  bool decode_ipv4_tcp_fast(const PacketView& packet, DecodedPacket& out) noexcept;
  DecodeResult decode_general(const PacketView& packet, DecodedPacket& out) noexcept;
  DecodeResult decode_ethertype(uint16_t ethertype, Layer layer, DecodedPacket& out) noexcept;
  DecodeResult decode_ipv4(Layer layer, DecodedPacket& out) noexcept;
  DecodeResult decode_ipv6(Layer layer, DecodedPacket& out) noexcept;
  // Walks IPv6 extension headers from `next_header` at the start of `layer` (whose lengths are
  // already bounded by the IPv6 payload length), then the transport header.
  DecodeResult decode_ipv6_chain(uint8_t next_header, Layer layer, uint32_t unfragmentable_bytes,
                                 bool reassembled, DecodedPacket& out) noexcept;
  DecodeResult decode_transport(uint8_t protocol, Layer layer, DecodedPacket& out) noexcept;
  // Hands one IPv4 or IPv6 fragment to the reassembler: nothing when it completed a datagram
  // (now in `datagram`), else what the frame decodes to (held, or dropped and counted).
  std::optional<DecodeResult> reassemble(const Fragment& fragment, uint64_t timestamp_ns,
                                         ReassembledDatagram& datagram) noexcept;
  // A header of `needed` bytes is not all captured: truncated capture or malformed packet.
  DecodeResult short_header(Layer layer, uint32_t needed, DecodeCounter malformed) noexcept;

  DecoderConfig config_;
  IpReassembler reassembler_;
  CounterArray<DecodeCounter> counters_;
};


inline bool PacketDecoder::decode_ipv4_tcp_fast(const PacketView& packet, DecodedPacket& out) noexcept {
  constexpr uint32_t kIpOffset = 14;                // Ethernet header
  constexpr uint32_t kTcpOffset = kIpOffset + 20;   // IPv4 header without options
  constexpr uint32_t kMinTcpHeaderBytes = 20;
  const uint8_t* frame = packet.data;
  const uint32_t captured = packet.captured_length;
  if (packet.link_type != LinkType::kEthernet || frame == nullptr ||
      captured < kTcpOffset + kMinTcpHeaderBytes) {
    return false;
  }
  // Fixed offsets, all inside the 54 bytes just checked; multi-byte fields read as big-endian
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
  const uint8_t* ip = frame + kIpOffset;
  const uint8_t* tcp = frame + kTcpOffset;
  const uint32_t wire = packet.wire_length > captured ? packet.wire_length : captured;
  const uint32_t total_length = load16(ip + 2);
  const uint32_t tcp_header_bytes = static_cast<uint32_t>(tcp[12] >> 4) * 4;
  // Ethertype IPv4; version 4 with a 20-byte header; not a fragment (DF may be set); TCP; an IP
  // length that holds the TCP header and fits the frame; a TCP header wholly captured.
  if (load16(frame + 12) != 0x0800 || ip[0] != 0x45 || (load16(ip + 6) & 0x3fffu) != 0 || ip[9] != 6 ||
      tcp_header_bytes < kMinTcpHeaderBytes || total_length < 20 + tcp_header_bytes ||
      total_length > wire - kIpOffset || kTcpOffset + tcp_header_bytes > captured) {
    return false;
  }
  out.timestamp_ns = packet.timestamp_ns;
  out.src.bytes = {};
  out.dst.bytes = {};
  std::memcpy(out.src.bytes.data(), ip + 12, 4);
  std::memcpy(out.dst.bytes.data(), ip + 16, 4);
  out.src.version = 4;
  out.dst.version = 4;
  out.ip_protocol = 6;
  out.ip_bytes = total_length;
  out.reassembled = false;
  out.vlan_ids[0] = 0;
  out.vlan_ids[1] = 0;
  out.vlan_count = 0;
  out.src_port = static_cast<uint16_t>(load16(tcp));
  out.dst_port = static_cast<uint16_t>(load16(tcp + 2));
  out.tcp_flags = tcp[13];
  out.seq = load32(tcp + 4);
  out.ack = load32(tcp + 8);
  out.payload = tcp + tcp_header_bytes;
  out.payload_length = total_length - 20 - tcp_header_bytes;
  // What the capture holds of the IP packet, less the headers (Ethernet padding is not payload).
  const uint32_t ip_captured = captured - kIpOffset < total_length ? captured - kIpOffset : total_length;
  out.captured_payload_length = ip_captured - 20 - tcp_header_bytes;
  counters_.add(DecodeCounter::kPackets);
  counters_.add(DecodeCounter::kIpv4);
  counters_.add(DecodeCounter::kTcp);
  if (out.captured_payload_length < out.payload_length) {
    counters_.add(DecodeCounter::kTruncatedPayload);
  }
  return true;
}

}  // namespace misdirect::dataplane
