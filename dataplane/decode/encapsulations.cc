// PacketDecoder's encapsulation layers: VXLAN, GENEVE, GRE, ERSPAN, MPLS and PPPoE. Each reads
// its header with bounds-checked loads and returns the next layer (see packet_decoder.h); none
// calls another, so nesting is only ever walked by decode_general's loop.
#include "dataplane/decode/packet_decoder.h"

namespace misdirect::dataplane {

namespace {

constexpr uint16_t kEthertypeIpv4 = 0x0800;
constexpr uint16_t kEthertypeIpv6 = 0x86dd;
constexpr uint16_t kEthertypeTransparentEthernet = 0x6558;  // RFC 1701 "transparent bridging"
constexpr uint16_t kEthertypeMplsUnicast = 0x8847;
constexpr uint16_t kEthertypeMplsMulticast = 0x8848;
constexpr uint16_t kGreProtocolErspanType2 = 0x88be;  // also type I (no sequence number)
constexpr uint16_t kGreProtocolErspanType3 = 0x22eb;

constexpr uint32_t kVxlanHeaderBytes = 8;
constexpr uint32_t kGeneveHeaderBytes = 8;
constexpr uint32_t kGreHeaderBytes = 4;
constexpr uint32_t kErspanType2HeaderBytes = 8;
constexpr uint32_t kErspanType3HeaderBytes = 12;
constexpr uint32_t kErspanPlatformSubheaderBytes = 8;
constexpr uint32_t kMplsLabelBytes = 4;
constexpr uint32_t kPseudowireControlWordBytes = 4;
constexpr uint32_t kPppoeHeaderBytes = 6;
constexpr uint32_t kEthernetHeaderBytes = 14;

constexpr uint16_t kGreChecksum = 0x8000;
constexpr uint16_t kGreRouting = 0x4000;
constexpr uint16_t kGreKey = 0x2000;
constexpr uint16_t kGreSequence = 0x1000;
constexpr uint16_t kGreVersionMask = 0x0007;

constexpr uint32_t kMplsLabelIpv4ExplicitNull = 0;
constexpr uint32_t kMplsLabelIpv6ExplicitNull = 2;

constexpr uint16_t kPppIpv4 = 0x0021;
constexpr uint16_t kPppIpv6 = 0x0057;
constexpr uint16_t kPppFirstControlProtocol = 0x8000;  // 0x8000-0xffff: NCPs, LCP, auth

// The ethertypes an Ethernet pseudowire's frame plausibly carries.
bool common_ethertype(uint16_t ethertype) noexcept {
  switch (ethertype) {
    case 0x0800: case 0x86dd: case 0x0806: case 0x8100: case 0x88a8: case 0x9100:
    case 0x8847: case 0x8848: case 0x8863: case 0x8864: case 0x88cc:
      return true;
    default:
      return false;
  }
}

// An Ethernet header whose ethertype is a common one starts at offset 0.
bool plausible_ethernet(const ByteReader& bytes) noexcept {
  return bytes.has(0, kEthernetHeaderBytes) && common_ethertype(bytes.be16(12));
}

// An IPv4 header whose length fits `wire_length` starts at offset 0; `checksum_ok` says whether
// its header checksum holds too.
bool plausible_ipv4(const ByteReader& bytes, uint32_t wire_length, bool& checksum_ok) noexcept {
  const uint8_t first = bytes.u8(0);
  const uint32_t header_bytes = uint32_t{first & 0x0fu} * 4;
  const uint32_t total_length = bytes.be16(2);
  if (!bytes.has(0, 4) || (first >> 4) != 4 || header_bytes < 20 || total_length < header_bytes ||
      total_length > wire_length) {
    return false;
  }
  uint32_t sum = 0;
  if (bytes.has(0, header_bytes)) {
    for (uint32_t i = 0; i < header_bytes; i += 2) {
      sum += bytes.be16(i);
    }
    while ((sum >> 16) != 0) {
      sum = (sum & 0xffff) + (sum >> 16);
    }
  }
  checksum_ok = sum == 0xffff;
  return true;
}

bool plausible_ipv6(const ByteReader& bytes, uint32_t wire_length) noexcept {
  return bytes.has(0, 6) && (bytes.u8(0) >> 4) == 6 && 40 + uint32_t{bytes.be16(4)} <= wire_length;
}

}  // namespace

PacketDecoder::Step PacketDecoder::vxlan_layer(Layer layer, DecodedPacket& out) noexcept {
  // RFC 7348: flags(1; I = 0x08 says the VNI is valid) reserved(3) VNI(3) reserved(1), then an
  // Ethernet frame. Other flag bits (group policy, ...) are ignored.
  const ByteReader& bytes = layer.bytes;
  if (!bytes.has(0, kVxlanHeaderBytes)) {
    return short_encapsulation(layer, kVxlanHeaderBytes, EncapsulationCounter::kVxlanMalformed);
  }
  if ((bytes.u8(0) & 0x08) == 0) {
    encapsulation_counters_.add(EncapsulationCounter::kVxlanMalformed);
    return done(DecodeResult::kDropped);
  }
  if (!open_encapsulation(Encapsulation::kVxlan, out)) {
    return done(DecodeResult::kDropped);
  }
  encapsulation_counters_.add(EncapsulationCounter::kVxlan);
  set_tunnel_id(Encapsulation::kVxlan, bytes.be32(4) >> 8, out);
  return to(LayerType::kEthernet, layer.after(kVxlanHeaderBytes));
}

PacketDecoder::Step PacketDecoder::geneve_layer(Layer layer, DecodedPacket& out) noexcept {
  // RFC 8926: version(2) options length(6, in 4-byte words) | O(1) C(1) reserved(6) | protocol
  // type(2) | VNI(3) reserved(1) | options. Options are skipped: none changes what the inner
  // packet is (the C bit asks endpoints, not observers, to understand them).
  const ByteReader& bytes = layer.bytes;
  if (!bytes.has(0, kGeneveHeaderBytes)) {
    return short_encapsulation(layer, kGeneveHeaderBytes, EncapsulationCounter::kGeneveMalformed);
  }
  if ((bytes.u8(0) >> 6) != 0) {
    encapsulation_counters_.add(EncapsulationCounter::kGeneveMalformed);
    return done(DecodeResult::kDropped);
  }
  const uint32_t header_bytes = kGeneveHeaderBytes + uint32_t{bytes.u8(0) & 0x3fu} * 4;
  if (!bytes.has(0, header_bytes)) {
    return short_encapsulation(layer, header_bytes, EncapsulationCounter::kGeneveMalformed);
  }
  if ((bytes.u8(1) & 0x80) != 0) {
    encapsulation_counters_.add(EncapsulationCounter::kGeneveOam);
    return done(DecodeResult::kDropped);
  }
  LayerType next;
  switch (bytes.be16(2)) {
    case kEthertypeTransparentEthernet:
      next = LayerType::kEthernet;
      break;
    case kEthertypeIpv4:
      next = LayerType::kIpv4;
      break;
    case kEthertypeIpv6:
      next = LayerType::kIpv6;
      break;
    default:
      encapsulation_counters_.add(EncapsulationCounter::kUnsupportedGeneveProtocol);
      return done(DecodeResult::kDropped);
  }
  if (!open_encapsulation(Encapsulation::kGeneve, out)) {
    return done(DecodeResult::kDropped);
  }
  encapsulation_counters_.add(EncapsulationCounter::kGeneve);
  set_tunnel_id(Encapsulation::kGeneve, bytes.be32(4) >> 8, out);
  return to(next, layer.after(header_bytes));
}

PacketDecoder::Step PacketDecoder::gre_layer(Layer layer, DecodedPacket& out) noexcept {
  // RFC 2784 / 2890: C R K S s recur(3) | A flags(4) version(3) | protocol type(2), then the
  // checksum and reserved word (C or R), the key (K) and the sequence number (S).
  const ByteReader& bytes = layer.bytes;
  if (!bytes.has(0, kGreHeaderBytes)) {
    return short_encapsulation(layer, kGreHeaderBytes, EncapsulationCounter::kGreMalformed);
  }
  const uint16_t flags = bytes.be16(0);
  const uint16_t protocol = bytes.be16(2);
  if ((flags & kGreVersionMask) != 0) {
    encapsulation_counters_.add(EncapsulationCounter::kUnsupportedGreVersion);  // 1: PPTP
    return done(DecodeResult::kDropped);
  }
  if ((flags & kGreRouting) != 0) {
    encapsulation_counters_.add(EncapsulationCounter::kUnsupportedGreRouting);
    return done(DecodeResult::kDropped);
  }
  const uint32_t key_offset = kGreHeaderBytes + ((flags & kGreChecksum) != 0 ? 4 : 0);
  const bool has_key = (flags & kGreKey) != 0;
  const bool has_sequence = (flags & kGreSequence) != 0;
  const uint32_t header_bytes = key_offset + (has_key ? 4 : 0) + (has_sequence ? 4 : 0);
  if (!bytes.has(0, header_bytes)) {
    return short_encapsulation(layer, header_bytes, EncapsulationCounter::kGreMalformed);
  }
  const Layer payload = layer.after(header_bytes);
  if (protocol == kGreProtocolErspanType2 || protocol == kGreProtocolErspanType3) {
    encapsulation_counters_.add(EncapsulationCounter::kGre);
    return erspan_layer(protocol, has_sequence, payload, out);
  }
  LayerType next;
  switch (protocol) {
    case kEthertypeTransparentEthernet:
      next = LayerType::kEthernet;
      break;
    case kEthertypeIpv4:
      next = LayerType::kIpv4;
      break;
    case kEthertypeIpv6:
      next = LayerType::kIpv6;
      break;
    case kEthertypeMplsUnicast:
    case kEthertypeMplsMulticast:
      next = LayerType::kMpls;
      break;
    default:
      encapsulation_counters_.add(EncapsulationCounter::kUnsupportedGreProtocol);
      return done(DecodeResult::kDropped);
  }
  if (!open_encapsulation(Encapsulation::kGre, out)) {
    return done(DecodeResult::kDropped);
  }
  encapsulation_counters_.add(EncapsulationCounter::kGre);
  if (has_key) {
    set_tunnel_id(Encapsulation::kGre, bytes.be32(key_offset), out);
  }
  return to(next, payload);
}

PacketDecoder::Step PacketDecoder::erspan_layer(uint16_t gre_protocol, bool gre_sequence, Layer layer,
                                                DecodedPacket& out) noexcept {
  const ByteReader& bytes = layer.bytes;
  if (gre_protocol == kGreProtocolErspanType2 && !gre_sequence) {
    // Type I: no ERSPAN header and no session id; the mirrored frame follows GRE directly.
    if (!open_encapsulation(Encapsulation::kErspan, out)) {
      return done(DecodeResult::kDropped);
    }
    encapsulation_counters_.add(EncapsulationCounter::kErspanType1);
    return to(LayerType::kEthernet, layer);
  }
  if (gre_protocol == kGreProtocolErspanType2) {
    // Type II: version(4) = 1, VLAN(12) | COS(3) En(2) T(1) session id(10) | reserved(12)
    // index(20).
    if (!bytes.has(0, kErspanType2HeaderBytes)) {
      return short_encapsulation(layer, kErspanType2HeaderBytes, EncapsulationCounter::kErspanMalformed);
    }
    if ((bytes.u8(0) >> 4) != 1) {
      encapsulation_counters_.add(EncapsulationCounter::kErspanMalformed);
      return done(DecodeResult::kDropped);
    }
    if (!open_encapsulation(Encapsulation::kErspan, out)) {
      return done(DecodeResult::kDropped);
    }
    encapsulation_counters_.add(EncapsulationCounter::kErspanType2);
    set_tunnel_id(Encapsulation::kErspan, bytes.be16(2) & 0x03ffu, out);
    return to(LayerType::kEthernet, layer.after(kErspanType2HeaderBytes));
  }
  // Type III: version(4) = 2, VLAN(12) | COS(3) BSO(2) T(1) session id(10) | timestamp(32) |
  // SGT(16) | P(1) frame type(5) hardware id(6) D(1) granularity(2) O(1), then the 8-byte
  // platform-specific sub-header when O is set.
  if (!bytes.has(0, kErspanType3HeaderBytes)) {
    return short_encapsulation(layer, kErspanType3HeaderBytes, EncapsulationCounter::kErspanMalformed);
  }
  if ((bytes.u8(0) >> 4) != 2) {
    encapsulation_counters_.add(EncapsulationCounter::kErspanMalformed);
    return done(DecodeResult::kDropped);
  }
  const uint16_t last_word = bytes.be16(10);
  const uint32_t header_bytes =
      kErspanType3HeaderBytes + ((last_word & 0x0001) != 0 ? kErspanPlatformSubheaderBytes : 0);
  if (!bytes.has(0, header_bytes)) {
    return short_encapsulation(layer, header_bytes, EncapsulationCounter::kErspanMalformed);
  }
  if (((last_word >> 10) & 0x1f) != 0) {
    encapsulation_counters_.add(EncapsulationCounter::kUnsupportedErspanFrameType);
    return done(DecodeResult::kDropped);
  }
  if (!open_encapsulation(Encapsulation::kErspan, out)) {
    return done(DecodeResult::kDropped);
  }
  encapsulation_counters_.add(EncapsulationCounter::kErspanType3);
  set_tunnel_id(Encapsulation::kErspan, bytes.be16(2) & 0x03ffu, out);
  return to(LayerType::kEthernet, layer.after(header_bytes));
}

PacketDecoder::Step PacketDecoder::mpls_layer(Layer layer, DecodedPacket& out) noexcept {
  // RFC 3032: label(20) TC(3) S(1) TTL(8) per entry, S set on the bottom one. What follows is not
  // named anywhere; it is told as Wireshark and Suricata tell it:
  //   - the bottom label is an explicit null: 0 IPv4, 2 IPv6;
  //   - first nibble 0: a pseudowire control word (RFC 4385), then an Ethernet frame — unless
  //     only the bytes read as a frame without the word show a common ethertype;
  //   - first nibble 4 or 6, a length that fits, and (IPv4) a valid header checksum or (both)
  //     no common ethertype where an Ethernet frame would have it: IPv4 or IPv6;
  //   - first nibble 1: an associated channel (OAM), not decoded;
  //   - anything else: an Ethernet pseudowire without a control word.
  const ByteReader& bytes = layer.bytes;
  uint32_t offset = 0;
  uint32_t bottom_label = 0;
  for (uint32_t labels = 0;; ++labels) {
    if (labels == kMaxMplsLabels) {
      encapsulation_counters_.add(EncapsulationCounter::kMplsMalformed);
      return done(DecodeResult::kDropped);
    }
    if (!bytes.has(offset, kMplsLabelBytes)) {
      return short_encapsulation(layer, offset + kMplsLabelBytes, EncapsulationCounter::kMplsMalformed);
    }
    const uint32_t entry = bytes.be32(offset);
    offset += kMplsLabelBytes;
    if ((entry & 0x100) != 0) {
      bottom_label = entry >> 12;
      break;
    }
  }
  if (!open_encapsulation(Encapsulation::kMpls, out)) {
    return done(DecodeResult::kDropped);
  }
  encapsulation_counters_.add(EncapsulationCounter::kMpls);
  const Layer payload = layer.after(offset);
  if (bottom_label == kMplsLabelIpv4ExplicitNull) {
    return to(LayerType::kIpv4, payload);
  }
  if (bottom_label == kMplsLabelIpv6ExplicitNull) {
    return to(LayerType::kIpv6, payload);
  }
  if (!payload.bytes.has(0, 1)) {
    return short_encapsulation(payload, 1, EncapsulationCounter::kUnsupportedMplsPayload);
  }
  const ByteReader& rest = payload.bytes;
  switch (rest.u8(0) >> 4) {
    case 0: {
      // A control word, or a frame whose destination MAC starts with a 0 nibble: the control
      // word unless only the frame without it has a common ethertype.
      const bool with_word = plausible_ethernet(rest.from(kPseudowireControlWordBytes));
      if (with_word || !plausible_ethernet(rest)) {
        if (!rest.has(0, kPseudowireControlWordBytes)) {
          return short_encapsulation(payload, kPseudowireControlWordBytes,
                                     EncapsulationCounter::kMplsMalformed);
        }
        encapsulation_counters_.add(EncapsulationCounter::kMplsPseudowire);
        return to(LayerType::kEthernet, payload.after(kPseudowireControlWordBytes));
      }
      break;
    }
    case 1:
      encapsulation_counters_.add(EncapsulationCounter::kUnsupportedMplsPayload);
      return done(DecodeResult::kDropped);
    case 4: {
      // IPv4 when its header checksum holds, or when it is not also a frame with a common
      // ethertype (a destination MAC starting with 4).
      bool checksum_ok = false;
      if (plausible_ipv4(rest, payload.wire_length, checksum_ok) &&
          (checksum_ok || !plausible_ethernet(rest))) {
        return to(LayerType::kIpv4, payload);
      }
      break;
    }
    case 6:
      if (plausible_ipv6(rest, payload.wire_length) && !plausible_ethernet(rest)) {
        return to(LayerType::kIpv6, payload);
      }
      break;
    default:
      break;
  }
  if (payload.wire_length < kEthernetHeaderBytes) {
    encapsulation_counters_.add(EncapsulationCounter::kUnsupportedMplsPayload);
    return done(DecodeResult::kDropped);
  }
  encapsulation_counters_.add(EncapsulationCounter::kMplsPseudowire);
  return to(LayerType::kEthernet, payload);
}

PacketDecoder::Step PacketDecoder::pppoe_session_layer(Layer layer, DecodedPacket& out) noexcept {
  // RFC 2516: version(4) = 1 type(4) = 1 | code(8) = 0 | session id(16) | length(16), then the
  // PPP protocol (two bytes, or one when compressed: an odd first byte) and its packet. The
  // length covers the PPP protocol and packet; bytes after it are Ethernet padding.
  const ByteReader& bytes = layer.bytes;
  if (!bytes.has(0, kPppoeHeaderBytes + 1)) {
    return short_encapsulation(layer, kPppoeHeaderBytes + 1, EncapsulationCounter::kPppoeMalformed);
  }
  const uint32_t length = bytes.be16(4);
  if (bytes.u8(0) != 0x11 || bytes.u8(1) != 0 || length > layer.wire_length - kPppoeHeaderBytes) {
    encapsulation_counters_.add(EncapsulationCounter::kPppoeMalformed);
    return done(DecodeResult::kDropped);
  }
  const bool compressed = (bytes.u8(kPppoeHeaderBytes) & 1) != 0;
  const uint32_t protocol_bytes = compressed ? 1 : 2;
  if (length < protocol_bytes || !bytes.has(0, kPppoeHeaderBytes + protocol_bytes)) {
    return short_encapsulation(layer, kPppoeHeaderBytes + protocol_bytes,
                               EncapsulationCounter::kPppoeMalformed);
  }
  const uint16_t protocol = compressed ? bytes.u8(kPppoeHeaderBytes) : bytes.be16(kPppoeHeaderBytes);
  LayerType next;
  if (protocol == kPppIpv4) {
    next = LayerType::kIpv4;
  } else if (protocol == kPppIpv6) {
    next = LayerType::kIpv6;
  } else {
    encapsulation_counters_.add(protocol >= kPppFirstControlProtocol
                                    ? EncapsulationCounter::kPppoeControl
                                    : EncapsulationCounter::kUnsupportedPppProtocol);
    return done(DecodeResult::kDropped);
  }
  if (!open_encapsulation(Encapsulation::kPppoe, out)) {
    return done(DecodeResult::kDropped);
  }
  encapsulation_counters_.add(EncapsulationCounter::kPppoeSession);
  const uint32_t start = kPppoeHeaderBytes + protocol_bytes;
  return to(next, Layer{bytes.first(kPppoeHeaderBytes + length).from(start), length - protocol_bytes});
}

}  // namespace misdirect::dataplane
