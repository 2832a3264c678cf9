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

constexpr uint8_t kProtoHopByHop = 0;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
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
}

void PacketDecoder::expire(uint64_t now_ns) noexcept { reassembler_.expire(now_ns); }

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

DecodeResult PacketDecoder::decode_general(const PacketView& packet, DecodedPacket& out) noexcept {
  out = DecodedPacket{};
  out.timestamp_ns = packet.timestamp_ns;
  counters_.add(DecodeCounter::kPackets);

  const uint32_t captured = packet.data == nullptr ? 0 : packet.captured_length;
  // A source that does not know the wire length (or reports less than it captured) gets the
  // captured length: then nothing is taken for truncated.
  const Layer frame{ByteReader(packet.data, captured), std::max(packet.wire_length, captured)};
  const ByteReader& bytes = frame.bytes;

  auto after = [&frame](uint32_t header_bytes) {
    return Layer{frame.bytes.from(header_bytes), frame.wire_length - header_bytes};
  };

  switch (packet.link_type) {
    case LinkType::kEthernet:
      if (!bytes.has(0, kEthernetHeaderBytes)) {
        return short_header(frame, kEthernetHeaderBytes, DecodeCounter::kLinkShort);
      }
      return decode_ethertype(bytes.be16(12), after(kEthernetHeaderBytes), out);
    case LinkType::kLinuxSll:
      // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
      if (!bytes.has(0, kSllHeaderBytes)) {
        return short_header(frame, kSllHeaderBytes, DecodeCounter::kLinkShort);
      }
      return decode_ethertype(bytes.be16(14), after(kSllHeaderBytes), out);
    case LinkType::kLinuxSll2:
      // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8)
      if (!bytes.has(0, kSll2HeaderBytes)) {
        return short_header(frame, kSll2HeaderBytes, DecodeCounter::kLinkShort);
      }
      return decode_ethertype(bytes.be16(0), after(kSll2HeaderBytes), out);
    case LinkType::kRawIp: {
      if (!bytes.has(0, 1)) {
        return short_header(frame, 1, DecodeCounter::kLinkShort);
      }
      const uint8_t version = bytes.u8(0) >> 4;
      if (version == 4) {
        return decode_ipv4(frame, out);
      }
      if (version == 6) {
        return decode_ipv6(frame, out);
      }
      counters_.add(DecodeCounter::kRawIpBadVersion);
      return DecodeResult::kDropped;
    }
    case LinkType::kIpv4:
      return decode_ipv4(frame, out);
    case LinkType::kIpv6:
      return decode_ipv6(frame, out);
    case LinkType::kNull: {
      if (!bytes.has(0, kNullHeaderBytes)) {
        return short_header(frame, kNullHeaderBytes, DecodeCounter::kLinkShort);
      }
      // The capturing host's byte order is unknown; the families are small numbers, so a value
      // that is a family in one order is not one in the other.
      const uint32_t little = bytes.le32(0);
      const uint32_t big = bytes.be32(0);
      if (is_af_inet(little) || is_af_inet(big)) {
        return decode_ipv4(after(kNullHeaderBytes), out);
      }
      if (is_af_inet6(little) || is_af_inet6(big)) {
        return decode_ipv6(after(kNullHeaderBytes), out);
      }
      counters_.add(DecodeCounter::kNotIp);
      return DecodeResult::kDropped;
    }
  }
  counters_.add(DecodeCounter::kUnknownLinkType);
  return DecodeResult::kDropped;
}

DecodeResult PacketDecoder::decode_ethertype(uint16_t ethertype, Layer layer,
                                             DecodedPacket& out) noexcept {
  // Walk VLAN tags: TCI(2) then the next ethertype(2). The outer two are recorded (QinQ);
  // deeper stacks are rare but real (provider networks), so they are walked and counted.
  uint32_t tags = 0;
  while (is_vlan_tpid(ethertype)) {
    if (tags == kMaxVlanTags) {
      counters_.add(DecodeCounter::kVlanTooManyTags);
      return DecodeResult::kDropped;
    }
    if (!layer.bytes.has(0, kVlanTagBytes)) {
      return short_header(layer, kVlanTagBytes, DecodeCounter::kLinkShort);
    }
    if (tags < 2) {
      out.vlan_ids[tags] = layer.bytes.be16(0) & 0x0fff;
      out.vlan_count = static_cast<uint8_t>(tags + 1);
    }
    ethertype = layer.bytes.be16(2);
    layer = Layer{layer.bytes.from(kVlanTagBytes), layer.wire_length - kVlanTagBytes};
    ++tags;
  }
  if (tags > 0) {
    counters_.add(DecodeCounter::kVlanTagged);
  }
  if (tags > 2) {
    counters_.add(DecodeCounter::kVlanExtraTags);
  }
  if (ethertype == kEthertypeIpv4) {
    return decode_ipv4(layer, out);
  }
  if (ethertype == kEthertypeIpv6) {
    return decode_ipv6(layer, out);
  }
  // ARP, LLDP, MPLS, PPPoE, 802.3 length fields (< 0x0600) with LLC, ...: a normal sight.
  counters_.add(DecodeCounter::kNotIp);
  return DecodeResult::kDropped;
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

DecodeResult PacketDecoder::decode_ipv4(Layer layer, DecodedPacket& out) noexcept {
  const ByteReader& bytes = layer.bytes;
  if (!bytes.has(0, kIpv4MinHeaderBytes)) {
    return short_header(layer, kIpv4MinHeaderBytes, DecodeCounter::kIpv4ShortHeader);
  }
  if ((bytes.u8(0) >> 4) != 4) {
    counters_.add(DecodeCounter::kIpv4BadVersion);
    return DecodeResult::kDropped;
  }
  const uint32_t header_bytes = uint32_t{bytes.u8(0) & 0x0fu} * 4;
  if (header_bytes < kIpv4MinHeaderBytes) {
    counters_.add(DecodeCounter::kIpv4BadIhl);
    return DecodeResult::kDropped;
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
    return DecodeResult::kDropped;
  }
  if (total_length > layer.wire_length) {
    counters_.add(DecodeCounter::kIpv4LengthBeyondFrame);
    return DecodeResult::kDropped;
  }
  if (!bytes.has(0, header_bytes)) {
    // header_bytes <= total_length <= wire_length: only the capture can have cut it.
    return short_header(layer, header_bytes, DecodeCounter::kIpv4ShortHeader);
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
    return decode_transport(protocol, payload, out);
  }

  if (payload.bytes.size() < payload.wire_length) {
    counters_.add(DecodeCounter::kFragmentTruncated);
    return DecodeResult::kDropped;
  }
  Fragment fragment;
  fragment.key.src = out.src;
  fragment.key.dst = out.dst;
  fragment.key.id = bytes.be16(4);
  fragment.key.protocol = protocol;
  fragment.offset_bytes = fragment_offset;
  fragment.more_fragments = more_fragments;
  fragment.next_header = protocol;
  fragment.data = payload.bytes.data();
  fragment.length = payload.bytes.size();
  ReassembledDatagram datagram;
  if (const auto pending = reassemble(fragment, out.timestamp_ns, datagram)) {
    return *pending;
  }
  out.reassembled = true;
  out.ip_bytes = header_bytes + datagram.length;
  counters_.add(DecodeCounter::kIpv4);
  return decode_transport(datagram.protocol, Layer{ByteReader(datagram.data, datagram.length),
                                                   datagram.length},
                          out);
}

DecodeResult PacketDecoder::decode_ipv6(Layer layer, DecodedPacket& out) noexcept {
  const ByteReader& bytes = layer.bytes;
  if (!bytes.has(0, kIpv6HeaderBytes)) {
    return short_header(layer, kIpv6HeaderBytes, DecodeCounter::kIpv6ShortHeader);
  }
  if ((bytes.u8(0) >> 4) != 6) {
    counters_.add(DecodeCounter::kIpv6BadVersion);
    return DecodeResult::kDropped;
  }
  const uint32_t payload_length = bytes.be16(4);
  const uint8_t next_header = bytes.u8(6);
  if (payload_length == 0 && next_header == kProtoHopByHop) {
    // RFC 2675: the real length is in a hop-by-hop option; never seen on a mail path.
    counters_.add(DecodeCounter::kIpv6Jumbogram);
    return DecodeResult::kDropped;
  }
  if (kIpv6HeaderBytes + payload_length > layer.wire_length) {
    counters_.add(DecodeCounter::kIpv6LengthBeyondFrame);
    return DecodeResult::kDropped;
  }
  out.src = read_address(bytes, 8, 6);
  out.dst = read_address(bytes, 24, 6);
  out.ip_bytes = kIpv6HeaderBytes + payload_length;
  const Layer payload{bytes.first(kIpv6HeaderBytes + payload_length).from(kIpv6HeaderBytes),
                      payload_length};
  return decode_ipv6_chain(next_header, payload, kIpv6HeaderBytes, false, out);
}

DecodeResult PacketDecoder::decode_ipv6_chain(uint8_t next_header, Layer layer,
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
        return DecodeResult::kDropped;
      }
      // Next header(1), length(1): in 8-byte units not counting the first 8, or for AH in 4-byte
      // units not counting the first 8.
      if (offset + 2 > layer.wire_length) {
        counters_.add(DecodeCounter::kIpv6BadExtHeader);
        return DecodeResult::kDropped;
      }
      if (!bytes.has(offset, 2)) {
        counters_.add(DecodeCounter::kTruncatedHeaders);
        return DecodeResult::kDropped;
      }
      const uint32_t length_field = bytes.u8(offset + 1);
      header_bytes = next_header == kProtoAh ? (length_field + 2) * 4 : (length_field + 1) * 8;
    } else if (next_header == kProtoFragment) {
      if (++walked > config_.max_ipv6_ext_headers) {
        counters_.add(DecodeCounter::kIpv6TooManyExtHeaders);
        return DecodeResult::kDropped;
      }
      header_bytes = kIpv6FragmentHeaderBytes;
    } else {
      break;  // an upper-layer protocol (or ESP / no next header, which end the walk too)
    }
    if (uint64_t{offset} + header_bytes > layer.wire_length) {
      counters_.add(DecodeCounter::kIpv6BadExtHeader);
      return DecodeResult::kDropped;
    }
    if (!bytes.has(offset, header_bytes)) {
      counters_.add(DecodeCounter::kTruncatedHeaders);
      return DecodeResult::kDropped;
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
          return DecodeResult::kDropped;
        }
        const uint32_t fragmentable = offset + header_bytes;
        const Layer rest{bytes.from(fragmentable), layer.wire_length - fragmentable};
        if (rest.bytes.size() < rest.wire_length) {
          counters_.add(DecodeCounter::kFragmentTruncated);
          return DecodeResult::kDropped;
        }
        Fragment fragment;
        fragment.key.src = out.src;
        fragment.key.dst = out.dst;
        fragment.key.id = bytes.be32(offset + 4);
        fragment.offset_bytes = fragment_offset;
        fragment.more_fragments = more_fragments;
        fragment.next_header = following;
        fragment.data = rest.bytes.data();
        fragment.length = rest.bytes.size();
        ReassembledDatagram datagram;
        if (const auto pending = reassemble(fragment, out.timestamp_ns, datagram)) {
          return *pending;
        }
        // The headers before the fragment header are those of this (last) fragment; RFC 8200
        // takes them from the first, but they carry nothing the flow path reads.
        out.reassembled = true;
        out.ip_bytes = unfragmentable_bytes + offset + datagram.length;
        return decode_ipv6_chain(datagram.protocol,
                                 Layer{ByteReader(datagram.data, datagram.length), datagram.length},
                                 unfragmentable_bytes + offset, true, out);
      }
      // An atomic fragment (offset 0, no more fragments; RFC 6946): just a header to step over.
    }
    next_header = following;
    offset += header_bytes;
  }
  counters_.add(DecodeCounter::kIpv6);
  return decode_transport(next_header, Layer{bytes.from(offset), layer.wire_length - offset}, out);
}

DecodeResult PacketDecoder::decode_transport(uint8_t protocol, Layer layer,
                                             DecodedPacket& out) noexcept {
  out.ip_protocol = protocol;
  const ByteReader& bytes = layer.bytes;
  if (protocol == kProtoTcp) {
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
  if (protocol == kProtoUdp) {
    if (!bytes.has(0, kUdpHeaderBytes)) {
      return short_header(layer, kUdpHeaderBytes, DecodeCounter::kUdpShortHeader);
    }
    out.src_port = bytes.be16(0);
    out.dst_port = bytes.be16(2);
    out.payload = bytes.data() + kUdpHeaderBytes;
    out.payload_length = layer.wire_length - kUdpHeaderBytes;
    out.captured_payload_length = bytes.size() - kUdpHeaderBytes;
    counters_.add(DecodeCounter::kUdp);
    return DecodeResult::kOtherIp;
  }
  counters_.add(DecodeCounter::kOtherIpProtocol);
  return DecodeResult::kOtherIp;
}

}  // namespace misdirect::dataplane
