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
//
// Two paths, one answer. decode() first tries a fast path for what mirrors mostly deliver —
// Ethernet/IPv4/TCP or UDP, bare or inside VXLAN, nothing unusual (see "The fast path" below) —
// and hands every other frame to the layer loop. The fast path gives exactly the DecodedPacket
// and counters the loop gives; decode_layer_loop() exists so that tests can prove it.
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
  // false: fragments are looked at, not reassembled, and nothing is kept (for the fan-out,
  // FanoutClassifier, which places fragments and leaves reassembly to the workers). A fragment
  // after the first decodes to kFragmentHeld with the addresses of the IP header it is a fragment
  // of and the tunnel around that header filled. A first fragment (offset 0) is decoded on
  // through, as a datagram the capture cut short at the fragment's end: what it carries — a
  // tunnel and the inner packet's headers, when the fragment holds them — fills DecodedPacket.
  // decode_looking() says which fragment the frame was (LookedFragment).
  bool reassemble_fragments = true;
};

// The outermost IP fragment a frame is, as the decoder saw it in look-only mode
// (reassemble_fragments false): which datagram it belongs to and where in it, with what was
// around its IP header (the VLAN tags of the frame that carried it; key.scope the tunnel
// identity), so that the fan-out can keep a datagram's fragments together.
struct LookedFragment {
  FragmentKey key;            // IPv6: key.protocol is the fragment header's next header
  uint32_t offset_bytes = 0;  // where this fragment's data starts in the datagram
  uint32_t length = 0;        // data bytes it carries, from its IP header (not the frame)
  bool more_fragments = false;
  uint16_t vlan_ids[2] = {0, 0};
  uint8_t vlan_count = 0;
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
    const DecodeResult fast = decode_fast(packet, out);
    if (fast != DecodeResult::kDropped) [[likely]] {
      return fast;
    }
    return decode_general(packet, out);
  }
  // The layer loop alone, without the fast path: what decode() gives for every frame, `out` and
  // counters alike. Only for the tests that prove the fast path agrees with it; the packet path
  // calls decode().
  DecodeResult decode_layer_loop(const PacketView& packet, DecodedPacket& out) noexcept {
    return decode_general(packet, out);
  }
  // decode() in look-only mode (reassemble_fragments false): `fragment` is the outermost IP
  // fragment the frame is, or nullptr. Valid until the next call.
  DecodeResult decode_looking(const PacketView& packet, DecodedPacket& out,
                              const LookedFragment*& fragment) noexcept {
    looked_present_ = false;
    const DecodeResult result = decode(packet, out);
    fragment = looked_present_ ? &looked_ : nullptr;
    return result;
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
  // The equivalence test (tests/packet_decoder_fast_path_test.cc) calls decode_fast() directly,
  // to prove that the frames it should take are taken and that a frame not taken counted nothing.
  friend struct PacketDecoderFastPathPeer;

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

  // The fast path (defined below, inline so that the worker's loop holds it): the frames a
  // mirror mostly delivers — Ethernet, IPv4 without options or fragmentation, TCP or UDP, bare or
  // inside VXLAN — decoded with every bound checked once, up front. It gives exactly the `out`
  // and counters decode_general() gives for the same frame. kDropped means "not taken" (it never
  // drops a frame itself): nothing counted, and decode() hands the frame to the layer loop, which
  // decodes it from scratch and counts whatever is unusual about it.
  DecodeResult decode_fast(const PacketView& packet, DecodedPacket& out) noexcept;
  // The rest of the fast path once the outer UDP header says VXLAN: VXLAN with the I flag, an
  // untagged inner Ethernet frame, inner IPv4 (as above) and TCP or UDP. `outer_total` is the
  // outer IPv4 total length, already checked to fit the frame.
  DecodeResult decode_vxlan_fast(const PacketView& packet, uint32_t outer_total,
                                 DecodedPacket& out) noexcept;
  // An IPv4 header at `ip` (20 bytes captured) the fast path takes: version 4, a 20-byte header,
  // not a fragment (DF may be set), a total length of at least 28 (IPv4 and UDP headers) that
  // fits the `wire` bytes the packet may span. Its total length, or 0 when it is anything else.
  static uint32_t fast_ipv4_total_length(const uint8_t* ip, uint32_t wire) noexcept;
  // TCP or UDP in the IPv4 packet at `ip` that fast_ipv4_total_length accepted: `captured`
  // bytes of it present, `total` its total length. Fill every field of `out` but the timestamp,
  // the VLAN tags and the tunnel; false (nothing counted) when the header is not all there or
  // its lengths do not fit.
  static bool fast_tcp(const uint8_t* ip, uint32_t captured, uint32_t total, DecodedPacket& out) noexcept;
  static bool fast_udp(const uint8_t* ip, uint32_t captured, uint32_t total, DecodedPacket& out) noexcept;
  // Counts a UDP datagram whose ports say a tunnel misdirect does not open (VXLAN-GPE, GTP-U,
  // L2TP, Teredo). The layer loop and the fast path both call it, so they count alike.
  void count_unsupported_udp_tunnel(uint16_t src_port, uint16_t dst_port) noexcept;

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
  // Look-only mode: records the fragment (the outermost only) for decode_looking().
  void look_at_fragment(const FragmentKey& key, uint32_t offset_bytes, bool more_fragments,
                        uint32_t length, const DecodedPacket& out) noexcept;
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
  LookedFragment looked_;
  bool looked_present_ = false;
};

// ---- The fast path ------------------------------------------------------------------------------
//
// Why: the layer loop pays for its generality on every frame — a Step returned and switched on
// per layer, a ByteReader bounds check per field, the whole DecodedPacket cleared. For TCP that
// is about 400 instructions bare; UDP (DNS, QUIC: a fifth of an enterprise mix) and VXLAN (every
// frame a cloud mirror delivers) cost the same per layer, about 800 in VXLAN. Here the common
// shapes are checked once against fixed offsets and read with plain loads, in 100-200.
//
// What it takes, and what it leaves to the loop (each check below is one the loop makes too, or
// the line between the two paths; none is there for its own sake):
//   Ethernet, ethertype IPv4 (a VLAN tag: the loop);
//   IPv4: version 4, IHL 5, not a fragment, 28 <= total length <= the frame on the wire (options,
//     fragments, total length 0 and lengths past the frame: the loop, which counts them);
//   TCP: a data offset of at least 20 whose header the IP length holds and the capture has;
//   UDP: the 8-byte header captured; to a GENEVE port: the loop; to a VXLAN port: VXLAN with the I
//     flag, then an untagged inner Ethernet frame with IPv4 and TCP or UDP as above (an inner UDP
//     datagram to a VXLAN or GENEVE port, i.e. a second tunnel: the loop).
// Anything else, however ordinary (IPv6, ICMP, SLL captures), is the loop's: taking more shapes
// here would add branches to the frames the fast path exists for.
//
// The contract: for every frame it takes, `out` (every field, the tunnel's too) and every counter
// are exactly what decode_layer_loop() gives; packet_decoder_test feeds both thousands of
// generated frames and compares. Plain loads at fixed offsets are safe because each offset read
// lies inside a length checked before it (noted at each check).

namespace fast_path {

// Big-endian words at any alignment (memcpy + byte swap compile to one load and a bswap).
inline uint32_t load16(const uint8_t* at) noexcept {
  uint16_t value;
  std::memcpy(&value, at, sizeof(value));
  return static_cast<uint32_t>(__builtin_bswap16(value));
}
inline uint32_t load32(const uint8_t* at) noexcept {
  uint32_t value;
  std::memcpy(&value, at, sizeof(value));
  return __builtin_bswap32(value);
}
inline IpAddress ipv4_address(const uint8_t* at) noexcept {
  IpAddress address;  // bytes 4-15 stay zero, as read_address leaves them
  address.version = 4;
  std::memcpy(address.bytes.data(), at, 4);
  return address;
}
// The IP-layer fields the loop's ipv4_layer and ip_payload set.
inline void fill_ipv4(const uint8_t* ip, uint32_t total, uint8_t protocol, DecodedPacket& out) noexcept {
  out.src = ipv4_address(ip + 12);
  out.dst = ipv4_address(ip + 16);
  out.ip_protocol = protocol;
  out.ip_bytes = total;
  out.reassembled = false;
}

constexpr uint32_t kEthernetBytes = 14;
constexpr uint32_t kIpv4Bytes = 20;
constexpr uint32_t kUdpBytes = 8;
constexpr uint32_t kTcpMinBytes = 20;
constexpr uint32_t kVxlanBytes = 8;
constexpr uint8_t kProtocolTcp = 6;
constexpr uint8_t kProtocolUdp = 17;

}  // namespace fast_path

inline uint32_t PacketDecoder::fast_ipv4_total_length(const uint8_t* ip, uint32_t wire) noexcept {
  const uint32_t total = fast_path::load16(ip + 2);
  // 0x45: version 4, IHL 5. Flags/offset without DF (0x4000): MF and the offset both zero.
  if (ip[0] != 0x45 || (fast_path::load16(ip + 6) & 0x3fffu) != 0 ||
      total < fast_path::kIpv4Bytes + fast_path::kUdpBytes || total > wire) {
    return 0;
  }
  return total;
}

inline bool PacketDecoder::fast_tcp(const uint8_t* ip, uint32_t captured, uint32_t total,
                                    DecodedPacket& out) noexcept {
  using namespace fast_path;
  if (captured < kIpv4Bytes + kTcpMinBytes) {  // the fixed TCP header: offsets 20-39 below
    return false;
  }
  const uint8_t* tcp = ip + kIpv4Bytes;
  const uint32_t header_bytes = static_cast<uint32_t>(tcp[12] >> 4) * 4;
  // The loop's tcp_segment: offset >= 20 and within the IP payload (bad data offset), and the
  // whole header captured (truncated headers).
  if (header_bytes < kTcpMinBytes || total < kIpv4Bytes + header_bytes ||
      captured < kIpv4Bytes + header_bytes) {
    return false;
  }
  fill_ipv4(ip, total, kProtocolTcp, out);
  out.src_port = static_cast<uint16_t>(load16(tcp));
  out.dst_port = static_cast<uint16_t>(load16(tcp + 2));
  out.tcp_flags = tcp[13];
  out.seq = load32(tcp + 4);
  out.ack = load32(tcp + 8);
  out.payload = tcp + header_bytes;
  out.payload_length = total - kIpv4Bytes - header_bytes;
  // What the capture holds of the IP packet, less the headers (Ethernet padding is not payload).
  const uint32_t ip_captured = captured < total ? captured : total;
  out.captured_payload_length = ip_captured - kIpv4Bytes - header_bytes;
  return true;
}

inline bool PacketDecoder::fast_udp(const uint8_t* ip, uint32_t captured, uint32_t total,
                                    DecodedPacket& out) noexcept {
  using namespace fast_path;
  // total >= 28 is fast_ipv4_total_length's; the loop's udp_payload needs the header captured.
  if (captured < kIpv4Bytes + kUdpBytes) {
    return false;
  }
  const uint8_t* udp = ip + kIpv4Bytes;
  fill_ipv4(ip, total, kProtocolUdp, out);
  out.src_port = static_cast<uint16_t>(load16(udp));
  out.dst_port = static_cast<uint16_t>(load16(udp + 2));
  out.tcp_flags = 0;
  out.seq = 0;
  out.ack = 0;
  // As the loop: the payload's length from the IP header (the UDP length field is not read).
  out.payload = udp + kUdpBytes;
  out.payload_length = total - kIpv4Bytes - kUdpBytes;
  const uint32_t ip_captured = captured < total ? captured : total;
  out.captured_payload_length = ip_captured - kIpv4Bytes - kUdpBytes;
  return true;
}

inline void PacketDecoder::count_unsupported_udp_tunnel(uint16_t src_port, uint16_t dst_port) noexcept {
  // VXLAN-GPE by its destination port (like VXLAN); the others by either, as their replies come
  // from the well-known port.
  constexpr uint16_t kVxlanGpe = 4790;
  constexpr uint16_t kGtpU = 2152;
  constexpr uint16_t kL2tp = 1701;
  constexpr uint16_t kTeredo = 3544;
  const auto either = [=](uint16_t port) { return src_port == port || dst_port == port; };
  if (dst_port == kVxlanGpe) {
    encapsulation_counters_.add(EncapsulationCounter::kUnsupportedVxlanGpe);
  } else if (either(kGtpU)) {
    encapsulation_counters_.add(EncapsulationCounter::kUnsupportedGtpU);
  } else if (either(kL2tp)) {
    encapsulation_counters_.add(EncapsulationCounter::kUnsupportedL2tp);
  } else if (either(kTeredo)) {
    encapsulation_counters_.add(EncapsulationCounter::kUnsupportedTeredo);
  }
}

inline DecodeResult PacketDecoder::decode_fast(const PacketView& packet, DecodedPacket& out) noexcept {
  using namespace fast_path;
  constexpr uint32_t kIp = kEthernetBytes;
  const uint8_t* frame = packet.data;
  const uint32_t captured = packet.captured_length;
  // Ethernet and the IPv4 and UDP headers captured (offsets 0-41); ethertype IPv4.
  if (packet.link_type != LinkType::kEthernet || frame == nullptr ||
      captured < kIp + kIpv4Bytes + kUdpBytes || frame[12] != 0x08 || frame[13] != 0x00) {
    return DecodeResult::kDropped;
  }
  // A source that does not know the wire length gets the captured length, as in the loop.
  const uint32_t wire = packet.wire_length > captured ? packet.wire_length : captured;
  const uint8_t* ip = frame + kIp;
  const uint32_t total = fast_ipv4_total_length(ip, wire - kIp);
  if (total == 0) {
    return DecodeResult::kDropped;
  }
  // One dispatch on the protocol, then (UDP) on the destination port: a VXLAN frame is told
  // from a bare one here, not by a second attempt after the bare path has said no.
  DecodeResult result;
  if (ip[9] == kProtocolTcp) {
    if (!fast_tcp(ip, captured - kIp, total, out)) {
      return DecodeResult::kDropped;
    }
    counters_.add(DecodeCounter::kTcp);
    if (out.captured_payload_length < out.payload_length) {
      counters_.add(DecodeCounter::kTruncatedPayload);
    }
    result = DecodeResult::kTcp;
  } else if (ip[9] == kProtocolUdp) {
    const auto dst_port = static_cast<uint16_t>(load16(ip + kIpv4Bytes + 2));  // offset 36-37
    if (is_vxlan_port(dst_port)) {
      return decode_vxlan_fast(packet, total, out);
    }
    if (is_geneve_port(dst_port) || !fast_udp(ip, captured - kIp, total, out)) {
      return DecodeResult::kDropped;
    }
    counters_.add(DecodeCounter::kUdp);
    count_unsupported_udp_tunnel(out.src_port, out.dst_port);
    result = DecodeResult::kOtherIp;
  } else {
    return DecodeResult::kDropped;
  }
  counters_.add(DecodeCounter::kPackets);
  counters_.add(DecodeCounter::kIpv4);
  out.timestamp_ns = packet.timestamp_ns;
  out.vlan_ids[0] = 0;
  out.vlan_ids[1] = 0;
  out.vlan_count = 0;
  out.tunnel = TunnelInfo{};
  return result;
}

inline DecodeResult PacketDecoder::decode_vxlan_fast(const PacketView& packet, uint32_t outer_total,
                                                     DecodedPacket& out) noexcept {
  using namespace fast_path;
  // Outer Ethernet(14) IPv4(20) UDP(8) VXLAN(8), inner Ethernet(14): the inner IP starts at 64.
  constexpr uint32_t kOuterIp = kEthernetBytes;
  constexpr uint32_t kUdp = kOuterIp + kIpv4Bytes;
  constexpr uint32_t kVxlan = kUdp + kUdpBytes;
  constexpr uint32_t kInnerEthernet = kVxlan + kVxlanBytes;
  constexpr uint32_t kInnerIp = kInnerEthernet + kEthernetBytes;
  constexpr uint32_t kTunnelBytes = kInnerIp - kOuterIp;  // outer IPv4 header to inner IPv4 header
  const uint8_t* frame = packet.data;
  const uint32_t captured = packet.captured_length;
  // The headers up to the inner UDP header captured (offsets 0-91) and within the outer IP
  // length; the VXLAN I flag (without it the loop counts vxlan_malformed); an untagged inner
  // Ethernet frame carrying IPv4.
  if (captured < kInnerIp + kIpv4Bytes + kUdpBytes || outer_total < kTunnelBytes + kIpv4Bytes + kUdpBytes ||
      (frame[kVxlan] & 0x08) == 0 || frame[kInnerEthernet + 12] != 0x08 ||
      frame[kInnerEthernet + 13] != 0x00) {
    return DecodeResult::kDropped;
  }
  // The inner packet may span the outer IP payload less the tunnel headers; the capture holds
  // up to that of it (the loop's layers are bounded by the outer total length the same way).
  const uint8_t* inner = frame + kInnerIp;
  const uint32_t inner_wire = outer_total - kTunnelBytes;
  const uint32_t inner_captured = captured - kInnerIp < inner_wire ? captured - kInnerIp : inner_wire;
  const uint32_t inner_total = fast_ipv4_total_length(inner, inner_wire);
  if (inner_total == 0) {
    return DecodeResult::kDropped;
  }
  DecodeResult result;
  if (inner[9] == kProtocolTcp) {
    if (!fast_tcp(inner, inner_captured, inner_total, out)) {
      return DecodeResult::kDropped;
    }
    counters_.add(DecodeCounter::kTcp);
    counters_.add(DecodeCounter::kUdp);  // the outer datagram
    if (out.captured_payload_length < out.payload_length) {
      counters_.add(DecodeCounter::kTruncatedPayload);
    }
    result = DecodeResult::kTcp;
  } else if (inner[9] == kProtocolUdp) {
    // A second tunnel inside the first is the loop's (it walks the depth bound).
    const auto dst_port = static_cast<uint16_t>(load16(inner + kIpv4Bytes + 2));  // offset 86-87
    if (is_vxlan_port(dst_port) || is_geneve_port(dst_port) ||
        !fast_udp(inner, inner_captured, inner_total, out)) {
      return DecodeResult::kDropped;
    }
    counters_.add(DecodeCounter::kUdp, 2);  // outer and inner
    count_unsupported_udp_tunnel(out.src_port, out.dst_port);
    result = DecodeResult::kOtherIp;
  } else {
    return DecodeResult::kDropped;
  }
  // The constructor refuses a depth bound of 0, so one VXLAN layer always fits: no depth check.
  const uint8_t* outer = frame + kOuterIp;
  TunnelInfo& tunnel = out.tunnel;
  tunnel.layers = {};
  tunnel.layers[0] = Encapsulation::kVxlan;
  tunnel.layer_count = 1;
  tunnel.depth = 1;
  tunnel.id_kind = Encapsulation::kVxlan;
  tunnel.id = load32(frame + kVxlan + 4) >> 8;
  tunnel.outer_protocol = kProtocolUdp;
  tunnel.outer_src_port = static_cast<uint16_t>(load16(frame + kUdp));
  tunnel.outer_dst_port = static_cast<uint16_t>(load16(frame + kUdp + 2));
  tunnel.outer_src = ipv4_address(outer + 12);
  tunnel.outer_dst = ipv4_address(outer + 16);
  out.timestamp_ns = packet.timestamp_ns;
  out.vlan_ids[0] = 0;
  out.vlan_ids[1] = 0;
  out.vlan_count = 0;
  counters_.add(DecodeCounter::kPackets);
  counters_.add(DecodeCounter::kIpv4, 2);
  encapsulation_counters_.add(EncapsulationCounter::kVxlan);
  return result;
}

}  // namespace misdirect::dataplane
