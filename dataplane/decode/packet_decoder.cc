// PacketDecoder: one captured frame in, the L2–L4 facts the packet path needs out (DecodedPacket).
#include "dataplane/decode/packet_decoder.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

namespace misdirect::dataplane {

namespace {

constexpr uint16_t kEthertypeIpv4 = 0x0800;
constexpr uint16_t kEthertypeIpv6 = 0x86dd;
constexpr uint16_t kEthertypeVlan = 0x8100;
constexpr uint16_t kEthertypeQinq = 0x88a8;
constexpr uint16_t kEthertypeQinqOld = 0x9100;
constexpr uint16_t kEthertypeMplsUnicast = 0x8847;
constexpr uint16_t kEthertypeMplsMulticast = 0x8848;
constexpr uint16_t kEthertypePppoeDiscovery = 0x8863;
constexpr uint16_t kEthertypePppoeSession = 0x8864;
constexpr uint16_t kEthertypePbb = 0x88e7;
constexpr uint16_t kEthertypeMacsec = 0x88e5;
constexpr uint16_t kEthertypeNsh = 0x894f;

constexpr uint32_t kEthernetHeaderBytes = 14;
constexpr uint32_t kVlanTagBytes = 4;
constexpr uint32_t kSllHeaderBytes = 16;
constexpr uint32_t kSll2HeaderBytes = 20;
constexpr uint32_t kNullHeaderBytes = 4;
constexpr uint32_t kIpv4MinHeaderBytes = 20;
constexpr uint32_t kIpv6HeaderBytes = 40;
constexpr uint32_t kIpv6FragmentHeaderBytes = 8;
constexpr uint32_t kTcpMinHeaderBytes = 20;
constexpr uint32_t kUdpHeaderBytes = 8;
// Look-only mode: how long a first fragment's datagram may be (the largest IP datagram), so the
// layers inside decode as a capture cut short rather than as lengths reaching past the frame.
constexpr uint32_t kLookedDatagramBytes = 65535;

constexpr uint8_t kProtoHopByHop = 0;
constexpr uint8_t kProtoIpv4InIp = 4;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIpv6InIp = 41;
constexpr uint8_t kProtoGre = 47;
constexpr uint8_t kProtoEtherIp = 97;
constexpr uint8_t kProtoL2tpV3 = 115;
constexpr uint8_t kProtoMplsInIp = 137;
constexpr uint8_t kProtoRouting = 43;
constexpr uint8_t kProtoFragment = 44;
constexpr uint8_t kProtoAh = 51;
constexpr uint8_t kProtoDestinationOptions = 60;

// DLT_NULL stores the sender's AF_ value in the capturing host's byte order; AF_INET6 differs
// between systems (Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30).
constexpr bool is_af_inet(uint32_t family) { return family == 2; }
constexpr bool is_af_inet6(uint32_t family) {
  return family == 10 || family == 24 || family == 28 || family == 30;
}

bool is_vlan_tpid(uint16_t ethertype) {
  return ethertype == kEthertypeVlan || ethertype == kEthertypeQinq || ethertype == kEthertypeQinqOld;
}

IpAddress read_address(const ByteReader& bytes, uint32_t offset, uint8_t version) noexcept {
  IpAddress address;
  address.version = version;
  bytes.copy(offset, version == 4 ? 4 : 16, address.bytes.data());
  return address;
}

}  // namespace

PacketDecoder::PacketDecoder(const DecoderConfig& config)
    : config_(config), reassembler_(config.reassembly) {
  if (config_.max_ipv6_ext_headers == 0 || config_.max_ipv6_ext_headers > 64) {
    throw std::invalid_argument("packet decoder: max_ipv6_ext_headers must be 1..64, got " +
                                std::to_string(config_.max_ipv6_ext_headers));
  }
  if (config_.max_encapsulation_depth == 0 || config_.max_encapsulation_depth > 16) {
    throw std::invalid_argument("packet decoder: max_encapsulation_depth must be 1..16, got " +
                                std::to_string(config_.max_encapsulation_depth));
  }
  const auto take_ports = [](const char* name, const std::vector<uint16_t>& ports,
                             std::array<uint16_t, kMaxTunnelPorts>& table, uint32_t& count) {
    if (ports.size() > kMaxTunnelPorts) {
      throw std::invalid_argument(std::string("packet decoder: at most ") +
                                  std::to_string(kMaxTunnelPorts) + " " + name + ", got " +
                                  std::to_string(ports.size()));
    }
    for (const uint16_t port : ports) {
      if (port == 0) {
        throw std::invalid_argument(std::string("packet decoder: ") + name + ": port 0 is not a port");
      }
      table[count++] = port;
    }
  };
  take_ports("vxlan_ports", config_.vxlan_ports, vxlan_ports_, vxlan_port_count_);
  take_ports("geneve_ports", config_.geneve_ports, geneve_ports_, geneve_port_count_);
  for (uint32_t i = 0; i < vxlan_port_count_; ++i) {
    if (is_geneve_port(vxlan_ports_[i])) {
      throw std::invalid_argument("packet decoder: port " + std::to_string(vxlan_ports_[i]) +
                                  " is in both vxlan_ports and geneve_ports");
    }
  }
}

void PacketDecoder::expire(uint64_t now_ns) noexcept { reassembler_.expire(now_ns); }

void PacketDecoder::look_at_fragment(const FragmentKey& key, uint32_t offset_bytes,
                                     bool more_fragments, uint32_t length,
                                     const DecodedPacket& out) noexcept {
  if (looked_present_) {
    return;  // a fragment inside a first fragment: the outer one places the frame
  }
  looked_.key = key;
  looked_.offset_bytes = offset_bytes;
  looked_.length = length;
  looked_.more_fragments = more_fragments;
  looked_.vlan_ids[0] = out.vlan_ids[0];
  looked_.vlan_ids[1] = out.vlan_ids[1];
  looked_.vlan_count = out.vlan_count;
  looked_present_ = true;
}

DecodeResult PacketDecoder::short_header(Layer layer, uint32_t needed,
                                         DecodeCounter malformed) noexcept {
  // The header would fit in what was on the wire: the capture cut it, the packet is fine.
  if (needed <= layer.wire_length && layer.bytes.size() < layer.wire_length) {
    counters_.add(DecodeCounter::kTruncatedHeaders);
  } else {
    counters_.add(malformed);
  }
  return DecodeResult::kDropped;
}


PacketDecoder::Step PacketDecoder::short_encapsulation(Layer layer, uint32_t needed,
                                                       EncapsulationCounter malformed) noexcept {
  if (needed <= layer.wire_length && layer.bytes.size() < layer.wire_length) {
    counters_.add(DecodeCounter::kTruncatedHeaders);
  } else {
    encapsulation_counters_.add(malformed);
  }
  return done(DecodeResult::kDropped);
}

bool PacketDecoder::open_encapsulation(Encapsulation kind, DecodedPacket& out) noexcept {
  TunnelInfo& tunnel = out.tunnel;
  if (tunnel.layer_count >= config_.max_encapsulation_depth) {
    encapsulation_counters_.add(EncapsulationCounter::kDepthExceeded);
    return false;
  }
  if (tunnel.layer_count < TunnelInfo::kMaxLayers) {
    tunnel.layers[tunnel.layer_count] = kind;
  }
  ++tunnel.layer_count;
  return true;
}

void PacketDecoder::enter_ip_tunnel(uint8_t protocol, uint16_t src_port, uint16_t dst_port,
                                    DecodedPacket& out) noexcept {
  TunnelInfo& tunnel = out.tunnel;
  if (tunnel.depth == 0) {
    tunnel.outer_src = out.src;
    tunnel.outer_dst = out.dst;
    tunnel.outer_protocol = protocol;
    tunnel.outer_src_port = src_port;
    tunnel.outer_dst_port = dst_port;
  }
  if (tunnel.depth < UINT8_MAX) {
    ++tunnel.depth;
  }
  // The outer frame's tags belong to the mirror's transport, not to the inner flow.
  out.vlan_ids[0] = 0;
  out.vlan_ids[1] = 0;
  out.vlan_count = 0;
}

DecodeResult PacketDecoder::decode_general(const PacketView& packet, DecodedPacket& out) noexcept {
  out = DecodedPacket{};
  out.timestamp_ns = packet.timestamp_ns;
  counters_.add(DecodeCounter::kPackets);
  // The layer loop: each step names the next layer or gives the answer. Every pass through an
  // encapsulation is checked against max_encapsulation_depth (open_encapsulation), so the loop
  // ends for every input.
  Step step = link_layer(packet, out);
  for (;;) {
    switch (step.next) {
      case LayerType::kDone:
        return step.result;
      case LayerType::kEthernet:
        step = ethernet_frame(step.layer, out);
        break;
      case LayerType::kIpv4:
        step = ipv4_layer(step.layer, out);
        break;
      case LayerType::kIpv6:
        step = ipv6_layer(step.layer, out);
        break;
      case LayerType::kMpls:
        step = mpls_layer(step.layer, out);
        break;
      case LayerType::kPppoeSession:
        step = pppoe_session_layer(step.layer, out);
        break;
      case LayerType::kVxlan:
        step = vxlan_layer(step.layer, out);
        break;
      case LayerType::kGeneve:
        step = geneve_layer(step.layer, out);
        break;
      case LayerType::kGre:
        step = gre_layer(step.layer, out);
        break;
    }
  }
}

PacketDecoder::Step PacketDecoder::link_layer(const PacketView& packet, DecodedPacket& out) noexcept {
  const uint32_t captured = packet.data == nullptr ? 0 : packet.captured_length;
  // A source that does not know the wire length (or reports less than it captured) gets the
  // captured length: then nothing is taken for truncated.
  const Layer frame{ByteReader(packet.data, captured), std::max(packet.wire_length, captured)};
  const ByteReader& bytes = frame.bytes;

  switch (packet.link_type) {
    case LinkType::kEthernet:
      return to(LayerType::kEthernet, frame);
    case LinkType::kLinuxSll:
      // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
      if (!bytes.has(0, kSllHeaderBytes)) {
        return done(short_header(frame, kSllHeaderBytes, DecodeCounter::kLinkShort));
      }
      return ethertype_layer(bytes.be16(14), frame.after(kSllHeaderBytes), out);
    case LinkType::kLinuxSll2:
      // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8)
      if (!bytes.has(0, kSll2HeaderBytes)) {
        return done(short_header(frame, kSll2HeaderBytes, DecodeCounter::kLinkShort));
      }
      return ethertype_layer(bytes.be16(0), frame.after(kSll2HeaderBytes), out);
    case LinkType::kRawIp: {
      if (!bytes.has(0, 1)) {
        return done(short_header(frame, 1, DecodeCounter::kLinkShort));
      }
      const uint8_t version = bytes.u8(0) >> 4;
      if (version == 4) {
        return to(LayerType::kIpv4, frame);
      }
      if (version == 6) {
        return to(LayerType::kIpv6, frame);
      }
      counters_.add(DecodeCounter::kRawIpBadVersion);
      return done(DecodeResult::kDropped);
    }
    case LinkType::kIpv4:
      return to(LayerType::kIpv4, frame);
    case LinkType::kIpv6:
      return to(LayerType::kIpv6, frame);
    case LinkType::kNull: {
      if (!bytes.has(0, kNullHeaderBytes)) {
        return done(short_header(frame, kNullHeaderBytes, DecodeCounter::kLinkShort));
      }
      // The capturing host's byte order is unknown; the families are small numbers, so a value
      // that is a family in one order is not one in the other.
      const uint32_t little = bytes.le32(0);
      const uint32_t big = bytes.be32(0);
      if (is_af_inet(little) || is_af_inet(big)) {
        return to(LayerType::kIpv4, frame.after(kNullHeaderBytes));
      }
      if (is_af_inet6(little) || is_af_inet6(big)) {
        return to(LayerType::kIpv6, frame.after(kNullHeaderBytes));
      }
      counters_.add(DecodeCounter::kNotIp);
      return done(DecodeResult::kDropped);
    }
  }
  counters_.add(DecodeCounter::kUnknownLinkType);
  return done(DecodeResult::kDropped);
}

PacketDecoder::Step PacketDecoder::ethernet_frame(Layer layer, DecodedPacket& out) noexcept {
  if (!layer.bytes.has(0, kEthernetHeaderBytes)) {
    return done(short_header(layer, kEthernetHeaderBytes, DecodeCounter::kLinkShort));
  }
  // The tags recorded are those of the innermost Ethernet header (see DecodedPacket).
  out.vlan_ids[0] = 0;
  out.vlan_ids[1] = 0;
  out.vlan_count = 0;
  return ethertype_layer(layer.bytes.be16(12), layer.after(kEthernetHeaderBytes), out);
}

PacketDecoder::Step PacketDecoder::ethertype_layer(uint16_t ethertype, Layer layer,
                                                   DecodedPacket& out) noexcept {
  // Walk VLAN tags: TCI(2) then the next ethertype(2). The outer two are recorded (QinQ);
  // deeper stacks are rare but real (provider networks), so they are walked and counted.
  uint32_t tags = 0;
  while (is_vlan_tpid(ethertype)) {
    if (tags == kMaxVlanTags) {
      counters_.add(DecodeCounter::kVlanTooManyTags);
      return done(DecodeResult::kDropped);
    }
    if (!layer.bytes.has(0, kVlanTagBytes)) {
      return done(short_header(layer, kVlanTagBytes, DecodeCounter::kLinkShort));
    }
    if (tags < 2) {
      out.vlan_ids[tags] = layer.bytes.be16(0) & 0x0fff;
      out.vlan_count = static_cast<uint8_t>(tags + 1);
    }
    ethertype = layer.bytes.be16(2);
    layer = layer.after(kVlanTagBytes);
    ++tags;
  }
  if (tags > 0) {
    counters_.add(DecodeCounter::kVlanTagged);
  }
  if (tags > 2) {
    counters_.add(DecodeCounter::kVlanExtraTags);
  }
  switch (ethertype) {
    case kEthertypeIpv4:
      return to(LayerType::kIpv4, layer);
    case kEthertypeIpv6:
      return to(LayerType::kIpv6, layer);
    case kEthertypeMplsUnicast:
    case kEthertypeMplsMulticast:
      return to(LayerType::kMpls, layer);
    case kEthertypePppoeSession:
      return to(LayerType::kPppoeSession, layer);
    case kEthertypePppoeDiscovery:
      encapsulation_counters_.add(EncapsulationCounter::kPppoeDiscovery);
      break;
    case kEthertypePbb:
      encapsulation_counters_.add(EncapsulationCounter::kUnsupportedPbb);
      break;
    case kEthertypeMacsec:
      encapsulation_counters_.add(EncapsulationCounter::kUnsupportedMacsec);
      break;
    case kEthertypeNsh:
      encapsulation_counters_.add(EncapsulationCounter::kUnsupportedNsh);
      break;
    default:
      break;
  }
  // ARP, LLDP, PPPoE discovery, 802.3 length fields (< 0x0600) with LLC, ...: a normal sight.
  counters_.add(DecodeCounter::kNotIp);
  return done(DecodeResult::kDropped);
}

std::optional<DecodeResult> PacketDecoder::reassemble(const Fragment& fragment, uint64_t timestamp_ns,
                                                      ReassembledDatagram& datagram) noexcept {
  switch (reassembler_.add(fragment, timestamp_ns, datagram)) {
    case FragmentResult::kHeld:
      return DecodeResult::kFragmentHeld;
    case FragmentResult::kDropped:
      counters_.add(DecodeCounter::kFragmentDropped);
      return DecodeResult::kDropped;
    case FragmentResult::kComplete:
      break;
  }
  return std::nullopt;
}

PacketDecoder::Step PacketDecoder::ipv4_layer(Layer layer, DecodedPacket& out) noexcept {
  const ByteReader& bytes = layer.bytes;
  if (!bytes.has(0, kIpv4MinHeaderBytes)) {
    return done(short_header(layer, kIpv4MinHeaderBytes, DecodeCounter::kIpv4ShortHeader));
  }
  if ((bytes.u8(0) >> 4) != 4) {
    counters_.add(DecodeCounter::kIpv4BadVersion);
    return done(DecodeResult::kDropped);
  }
  const uint32_t header_bytes = uint32_t{bytes.u8(0) & 0x0fu} * 4;
  if (header_bytes < kIpv4MinHeaderBytes) {
    counters_.add(DecodeCounter::kIpv4BadIhl);
    return done(DecodeResult::kDropped);
  }
  // The total length is the truth: bytes after it are Ethernet padding (or trailers).
  uint32_t total_length = bytes.be16(2);
  if (total_length == 0) {
    // TCP segmentation offload: the capturing host saw the segment before the NIC split it and
    // filled the length in. Such frames are never padded, so the frame is the datagram.
    counters_.add(DecodeCounter::kIpv4ZeroTotalLength);
    total_length = layer.wire_length;
  }
  if (total_length < header_bytes) {
    counters_.add(DecodeCounter::kIpv4BadTotalLength);
    return done(DecodeResult::kDropped);
  }
  if (total_length > layer.wire_length) {
    counters_.add(DecodeCounter::kIpv4LengthBeyondFrame);
    return done(DecodeResult::kDropped);
  }
  if (!bytes.has(0, header_bytes)) {
    // header_bytes <= total_length <= wire_length: only the capture can have cut it.
    return done(short_header(layer, header_bytes, DecodeCounter::kIpv4ShortHeader));
  }

  out.src = read_address(bytes, 12, 4);
  out.dst = read_address(bytes, 16, 4);
  out.ip_bytes = total_length;
  const uint8_t protocol = bytes.u8(9);
  const Layer payload{bytes.first(total_length).from(header_bytes), total_length - header_bytes};

  const uint16_t flags_offset = bytes.be16(6);
  const bool more_fragments = (flags_offset & 0x2000) != 0;
  const uint32_t fragment_offset = uint32_t{flags_offset & 0x1fffu} * 8;
  if (!more_fragments && fragment_offset == 0) {
    counters_.add(DecodeCounter::kIpv4);
    return ip_payload(protocol, payload, out);
  }

  if (!config_.reassemble_fragments) {
    look_at_fragment(FragmentKey{out.src, out.dst, bytes.be16(4), protocol, out.tunnel.identity()},
                     fragment_offset, more_fragments, payload.wire_length, out);
    if (fragment_offset != 0) {
      return done(DecodeResult::kFragmentHeld);
    }
    // The first fragment: its payload as a datagram cut short where the fragment ends.
    counters_.add(DecodeCounter::kIpv4);
    return ip_payload(protocol, Layer{payload.bytes, kLookedDatagramBytes}, out);
  }
  if (payload.bytes.size() < payload.wire_length) {
    counters_.add(DecodeCounter::kFragmentTruncated);
    return done(DecodeResult::kDropped);
  }
  Fragment fragment;
  fragment.key.src = out.src;
  fragment.key.dst = out.dst;
  fragment.key.id = bytes.be16(4);
  fragment.key.protocol = protocol;
  fragment.key.scope = out.tunnel.identity();
  fragment.offset_bytes = fragment_offset;
  fragment.more_fragments = more_fragments;
  fragment.next_header = protocol;
  fragment.data = payload.bytes.data();
  fragment.length = payload.bytes.size();
  ReassembledDatagram datagram;
  if (const auto pending = reassemble(fragment, out.timestamp_ns, datagram)) {
    return done(*pending);
  }
  out.reassembled = true;
  out.ip_bytes = header_bytes + datagram.length;
  counters_.add(DecodeCounter::kIpv4);
  return ip_payload(datagram.protocol, Layer{ByteReader(datagram.data, datagram.length), datagram.length},
                    out);
}

PacketDecoder::Step PacketDecoder::ipv6_layer(Layer layer, DecodedPacket& out) noexcept {
  const ByteReader& bytes = layer.bytes;
  if (!bytes.has(0, kIpv6HeaderBytes)) {
    return done(short_header(layer, kIpv6HeaderBytes, DecodeCounter::kIpv6ShortHeader));
  }
  if ((bytes.u8(0) >> 4) != 6) {
    counters_.add(DecodeCounter::kIpv6BadVersion);
    return done(DecodeResult::kDropped);
  }
  const uint32_t payload_length = bytes.be16(4);
  const uint8_t next_header = bytes.u8(6);
  if (payload_length == 0 && next_header == kProtoHopByHop) {
    // RFC 2675: the real length is in a hop-by-hop option; never seen on a mail path.
    counters_.add(DecodeCounter::kIpv6Jumbogram);
    return done(DecodeResult::kDropped);
  }
  if (kIpv6HeaderBytes + payload_length > layer.wire_length) {
    counters_.add(DecodeCounter::kIpv6LengthBeyondFrame);
    return done(DecodeResult::kDropped);
  }
  out.src = read_address(bytes, 8, 6);
  out.dst = read_address(bytes, 24, 6);
  out.ip_bytes = kIpv6HeaderBytes + payload_length;
  const Layer payload{bytes.first(kIpv6HeaderBytes + payload_length).from(kIpv6HeaderBytes),
                      payload_length};
  return ipv6_chain(next_header, payload, kIpv6HeaderBytes, false, out);
}

PacketDecoder::Step PacketDecoder::ipv6_chain(uint8_t next_header, Layer layer,
                                              uint32_t unfragmentable_bytes, bool reassembled,
                                              DecodedPacket& out) noexcept {
  const ByteReader& bytes = layer.bytes;
  uint32_t offset = 0;
  uint32_t walked = 0;
  for (;;) {
    uint32_t header_bytes = 0;
    if (next_header == kProtoHopByHop || next_header == kProtoRouting ||
        next_header == kProtoDestinationOptions || next_header == kProtoAh) {
      if (++walked > config_.max_ipv6_ext_headers) {
        counters_.add(DecodeCounter::kIpv6TooManyExtHeaders);
        return done(DecodeResult::kDropped);
      }
      // Next header(1), length(1): in 8-byte units not counting the first 8, or for AH in 4-byte
      // units not counting the first 8.
      if (offset + 2 > layer.wire_length) {
        counters_.add(DecodeCounter::kIpv6BadExtHeader);
        return done(DecodeResult::kDropped);
      }
      if (!bytes.has(offset, 2)) {
        counters_.add(DecodeCounter::kTruncatedHeaders);
        return done(DecodeResult::kDropped);
      }
      const uint32_t length_field = bytes.u8(offset + 1);
      header_bytes = next_header == kProtoAh ? (length_field + 2) * 4 : (length_field + 1) * 8;
    } else if (next_header == kProtoFragment) {
      if (++walked > config_.max_ipv6_ext_headers) {
        counters_.add(DecodeCounter::kIpv6TooManyExtHeaders);
        return done(DecodeResult::kDropped);
      }
      header_bytes = kIpv6FragmentHeaderBytes;
    } else {
      break;  // an upper-layer protocol (or ESP / no next header, which end the walk too)
    }
    if (uint64_t{offset} + header_bytes > layer.wire_length) {
      counters_.add(DecodeCounter::kIpv6BadExtHeader);
      return done(DecodeResult::kDropped);
    }
    if (!bytes.has(offset, header_bytes)) {
      counters_.add(DecodeCounter::kTruncatedHeaders);
      return done(DecodeResult::kDropped);
    }
    const uint8_t following = bytes.u8(offset);
    if (next_header == kProtoFragment) {
      // Offset(13 bits, 8-byte units) reserved(2) M(1), then the 32-bit identification.
      const uint16_t offset_flags = bytes.be16(offset + 2);
      const uint32_t fragment_offset = offset_flags & 0xfff8u;
      const bool more_fragments = (offset_flags & 1) != 0;
      if (fragment_offset != 0 || more_fragments) {
        if (reassembled) {
          // A fragment header inside a reassembled datagram: nested fragmentation is invalid.
          counters_.add(DecodeCounter::kIpv6BadExtHeader);
          return done(DecodeResult::kDropped);
        }
        const uint32_t fragmentable = offset + header_bytes;
        const Layer rest{bytes.from(fragmentable), layer.wire_length - fragmentable};
        if (!config_.reassemble_fragments) {
          look_at_fragment(FragmentKey{out.src, out.dst, bytes.be32(offset + 4), following,
                                       out.tunnel.identity()},
                           fragment_offset, more_fragments, rest.wire_length, out);
          if (fragment_offset != 0) {
            return done(DecodeResult::kFragmentHeld);
          }
          // The first fragment: the rest as a datagram cut short where the fragment ends (one
          // level, as for a reassembled one).
          return ipv6_chain(following, Layer{rest.bytes, kLookedDatagramBytes},
                            unfragmentable_bytes + fragmentable, true, out);
        }
        if (rest.bytes.size() < rest.wire_length) {
          counters_.add(DecodeCounter::kFragmentTruncated);
          return done(DecodeResult::kDropped);
        }
        Fragment fragment;
        fragment.key.src = out.src;
        fragment.key.dst = out.dst;
        fragment.key.id = bytes.be32(offset + 4);
        fragment.key.scope = out.tunnel.identity();
        fragment.offset_bytes = fragment_offset;
        fragment.more_fragments = more_fragments;
        fragment.next_header = following;
        fragment.data = rest.bytes.data();
        fragment.length = rest.bytes.size();
        ReassembledDatagram datagram;
        if (const auto pending = reassemble(fragment, out.timestamp_ns, datagram)) {
          return done(*pending);
        }
        // The headers before the fragment header are those of this (last) fragment; RFC 8200
        // takes them from the first, but they carry nothing the flow path reads. The datagram's
        // own headers are walked once more (one level: `reassembled` refuses a second).
        out.reassembled = true;
        out.ip_bytes = unfragmentable_bytes + offset + datagram.length;
        return ipv6_chain(datagram.protocol,
                          Layer{ByteReader(datagram.data, datagram.length), datagram.length},
                          unfragmentable_bytes + offset, true, out);
      }
      // An atomic fragment (offset 0, no more fragments; RFC 6946): just a header to step over.
    }
    next_header = following;
    offset += header_bytes;
  }
  counters_.add(DecodeCounter::kIpv6);
  return ip_payload(next_header, layer.after(offset), out);
}

PacketDecoder::Step PacketDecoder::ip_payload(uint8_t protocol, Layer layer,
                                              DecodedPacket& out) noexcept {
  out.ip_protocol = protocol;
  const bool outer_is_ipv4 = out.src.version == 4;
  switch (protocol) {
    case kProtoTcp:
      return done(tcp_segment(layer, out));
    case kProtoUdp:
      return udp_payload(layer, out);
    case kProtoGre:
      enter_ip_tunnel(protocol, 0, 0, out);
      return to(LayerType::kGre, layer);
    case kProtoIpv4InIp:
    case kProtoIpv6InIp:
      if (!open_encapsulation(Encapsulation::kIpInIp, out)) {
        return done(DecodeResult::kDropped);
      }
      enter_ip_tunnel(protocol, 0, 0, out);
      if (protocol == kProtoIpv4InIp) {
        encapsulation_counters_.add(outer_is_ipv4 ? EncapsulationCounter::kIpv4InIpv4
                                                  : EncapsulationCounter::kIpv4InIpv6);
        return to(LayerType::kIpv4, layer);
      }
      encapsulation_counters_.add(outer_is_ipv4 ? EncapsulationCounter::kIpv6InIpv4
                                                : EncapsulationCounter::kIpv6InIpv6);
      return to(LayerType::kIpv6, layer);
    case kProtoMplsInIp:
      enter_ip_tunnel(protocol, 0, 0, out);
      return to(LayerType::kMpls, layer);
    case kProtoL2tpV3:
      encapsulation_counters_.add(EncapsulationCounter::kUnsupportedL2tp);
      break;
    case kProtoEtherIp:
      encapsulation_counters_.add(EncapsulationCounter::kUnsupportedEtherIp);
      break;
    default:
      break;
  }
  counters_.add(DecodeCounter::kOtherIpProtocol);
  return done(DecodeResult::kOtherIp);
}

PacketDecoder::Step PacketDecoder::udp_payload(Layer layer, DecodedPacket& out) noexcept {
  const ByteReader& bytes = layer.bytes;
  if (!bytes.has(0, kUdpHeaderBytes)) {
    return done(short_header(layer, kUdpHeaderBytes, DecodeCounter::kUdpShortHeader));
  }
  out.src_port = bytes.be16(0);
  out.dst_port = bytes.be16(2);
  out.payload = bytes.data() + kUdpHeaderBytes;
  out.payload_length = layer.wire_length - kUdpHeaderBytes;
  out.captured_payload_length = bytes.size() - kUdpHeaderBytes;
  counters_.add(DecodeCounter::kUdp);
  // Tunnels are told by their destination port (the source port carries the inner flow's hash).
  if (is_vxlan_port(out.dst_port)) {
    enter_ip_tunnel(kProtoUdp, out.src_port, out.dst_port, out);
    return to(LayerType::kVxlan, layer.after(kUdpHeaderBytes));
  }
  if (is_geneve_port(out.dst_port)) {
    enter_ip_tunnel(kProtoUdp, out.src_port, out.dst_port, out);
    return to(LayerType::kGeneve, layer.after(kUdpHeaderBytes));
  }
  count_unsupported_udp_tunnel(out.src_port, out.dst_port);
  return done(DecodeResult::kOtherIp);
}

DecodeResult PacketDecoder::tcp_segment(Layer layer, DecodedPacket& out) noexcept {
  const ByteReader& bytes = layer.bytes;
  if (!bytes.has(0, kTcpMinHeaderBytes)) {
    return short_header(layer, kTcpMinHeaderBytes, DecodeCounter::kTcpShortHeader);
  }
  const uint32_t header_bytes = static_cast<uint32_t>(bytes.u8(12) >> 4) * 4;
  if (header_bytes < kTcpMinHeaderBytes || header_bytes > layer.wire_length) {
    counters_.add(DecodeCounter::kTcpBadDataOffset);
    return DecodeResult::kDropped;
  }
  if (!bytes.has(0, header_bytes)) {
    counters_.add(DecodeCounter::kTruncatedHeaders);
    return DecodeResult::kDropped;
  }
  out.src_port = bytes.be16(0);
  out.dst_port = bytes.be16(2);
  out.seq = bytes.be32(4);
  out.ack = bytes.be32(8);
  out.tcp_flags = bytes.u8(13);
  out.payload = bytes.data() + header_bytes;
  out.payload_length = layer.wire_length - header_bytes;
  out.captured_payload_length = bytes.size() - header_bytes;
  if (out.captured_payload_length < out.payload_length) {
    counters_.add(DecodeCounter::kTruncatedPayload);
  }
  counters_.add(DecodeCounter::kTcp);
  return DecodeResult::kTcp;
}

}  // namespace misdirect::dataplane
