// PacketBuilder: header-only helpers that build test frames byte by byte into a std::vector.
//
// Ethernet (with VLAN/QinQ tags and padding), Linux SLL/SLL2, raw IP and DLT_NULL framing around
// IPv4 (options, fragments) or IPv6 (extension headers, fragment header), carrying TCP (options,
// flags, seq/ack, payload) or UDP. Checksums (IPv4 header, TCP, UDP) are correct unless a field is
// overridden (with an IPv6 routing header the pseudo-header uses `dst`, not the final hop); every
// length can be overridden to make malformed packets. Nothing here validates: tests build what
// they ask for, malformed or not.
//
// Typical use:
//   TcpFrameSpec spec;
//   spec.ip.version = 6;                     // addresses default per version
//   spec.link.vlans = {{0x88a8, 10}, {0x8100, 20}};
//   spec.tcp.payload = bytes_of("EHLO x\r\n");
//   Bytes frame = build_tcp_frame(spec);
//   PacketView view = view_of(frame);
//
// Fragments: build the whole transport segment with build_tcp_segment(), slice it, and wrap each
// slice with build_frame() after setting the IPv4 fragment fields or adding an IPv6 fragment
// header (ipv6_fragment_header()); build_ipv4_fragments()/build_ipv6_fragments() do that for
// equal-sized slices.
//
// Encapsulations: vxlan(), geneve(), gre(), erspan_type2(), erspan_type3(), mpls(),
// pppoe_session() each return their header followed by what they carry, so tunnels nest by
// composition: an inner frame (build_tcp_frame) or IP packet (build_ip_packet) goes in, the
// result goes into build_udp_datagram / build_frame / build_link_frame of the outer packet, e.g.
//   Bytes inner = build_tcp_frame(spec);                         // the tenant's Ethernet frame
//   IpSpec outer;                                                // the mirror's addresses
//   Bytes frame = build_frame({}, outer, 17, build_udp_datagram(outer, 50000, 4789, vxlan(7, inner)));
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/decode/decoded_packet.h"
#include "dataplane/decode/packet_view.h"

namespace misdirect::test_support {

using Bytes = std::vector<uint8_t>;

inline Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

// "192.0.2.1" or "2001:db8::1" → the 4 or 16 address bytes. Throws on a bad literal.
inline Bytes address_bytes(const std::string& text) {
  std::array<uint8_t, 16> buffer{};
  if (inet_pton(AF_INET, text.c_str(), buffer.data()) == 1) {
    return Bytes(buffer.begin(), buffer.begin() + 4);
  }
  if (inet_pton(AF_INET6, text.c_str(), buffer.data()) == 1) {
    return Bytes(buffer.begin(), buffer.end());
  }
  throw std::invalid_argument("packet_builder: bad IP address '" + text + "'");
}

// The address as DecodedPacket holds it.
inline dataplane::IpAddress ip_address(const std::string& text) {
  const Bytes bytes = address_bytes(text);
  dataplane::IpAddress address;
  address.version = bytes.size() == 4 ? 4 : 6;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    address.bytes[i] = bytes[i];
  }
  return address;
}

inline void put16(Bytes& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}
inline void put32(Bytes& out, uint32_t value) {
  put16(out, static_cast<uint16_t>(value >> 16));
  put16(out, static_cast<uint16_t>(value));
}
inline void set16(Bytes& out, std::size_t offset, uint16_t value) {
  out[offset] = static_cast<uint8_t>(value >> 8);
  out[offset + 1] = static_cast<uint8_t>(value);
}

// The Internet checksum (RFC 1071) of `bytes`, starting from the partial sum `sum`.
inline uint16_t internet_checksum(const Bytes& bytes, uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
    sum += (uint32_t{bytes[i]} << 8) | bytes[i + 1];
  }
  if (bytes.size() % 2 != 0) {
    sum += uint32_t{bytes.back()} << 8;
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

struct VlanTag {
  uint16_t tpid = 0x8100;  // 0x8100 (802.1Q), 0x88a8 (802.1ad), 0x9100 (pre-standard QinQ)
  uint16_t vid = 0;
  uint8_t priority = 0;
};

struct LinkSpec {
  dataplane::LinkType type = dataplane::LinkType::kEthernet;
  std::array<uint8_t, 6> src_mac{0x02, 0, 0, 0, 0, 0x01};
  std::array<uint8_t, 6> dst_mac{0x02, 0, 0, 0, 0, 0x02};
  std::vector<VlanTag> vlans;          // Ethernet, SLL, SLL2; outer first
  std::optional<uint16_t> ethertype;   // default: 0x0800 / 0x86dd from the IP version
  uint32_t min_frame_bytes = 0;        // pad with zeros to this size (Ethernet minimum: 60)
  std::optional<uint32_t> null_family; // DLT_NULL, written little-endian; default 2 / 30
};

struct Ipv6ExtHeader {
  uint8_t type = 60;  // 0 hop-by-hop, 43 routing, 60 destination options, 44 fragment, 51 AH
  // Everything after the next-header and length bytes; padded with zeros to the header's unit
  // (8 bytes). For the fragment header: offset/flags(2) and identification(4).
  Bytes body;
  std::optional<uint8_t> length_field;  // override the computed length byte (malformed cases)
};

// An IPv6 fragment header: `offset_bytes` a multiple of 8.
inline Ipv6ExtHeader ipv6_fragment_header(uint16_t offset_bytes, bool more, uint32_t id) {
  Ipv6ExtHeader header;
  header.type = 44;
  put16(header.body, static_cast<uint16_t>((offset_bytes & 0xfff8) | (more ? 1 : 0)));
  put32(header.body, id);
  return header;
}

struct IpSpec {
  uint8_t version = 4;
  std::string src;  // default 192.0.2.1 / 2001:db8::1
  std::string dst;  // default 198.51.100.2 / 2001:db8::2
  uint8_t ttl = 64;
  // IPv4.
  uint16_t id = 1;
  Bytes ipv4_options;  // padded with zeros (end of options list) to a multiple of 4
  bool dont_fragment = false;
  bool more_fragments = false;
  uint16_t fragment_offset_bytes = 0;  // a multiple of 8
  std::optional<uint16_t> total_length;
  std::optional<uint8_t> ihl_words;
  // IPv6: headers between the fixed header and the transport header, in order.
  std::vector<Ipv6ExtHeader> ipv6_ext_headers;
  std::optional<uint16_t> payload_length;
  // Both: the version nibble written (malformed cases).
  std::optional<uint8_t> version_field;

  std::string src_or_default() const {
    return !src.empty() ? src : (version == 4 ? "192.0.2.1" : "2001:db8::1");
  }
  std::string dst_or_default() const {
    return !dst.empty() ? dst : (version == 4 ? "198.51.100.2" : "2001:db8::2");
  }
};

struct TcpSpec {
  uint16_t src_port = 40000;
  uint16_t dst_port = 25;
  uint32_t seq = 1000;
  uint32_t ack = 0;
  uint8_t flags = dataplane::kTcpAck | dataplane::kTcpPsh;
  uint16_t window = 65535;
  Bytes options;  // padded with zeros to a multiple of 4
  Bytes payload;
  std::optional<uint8_t> data_offset_words;
};

struct TcpFrameSpec {
  LinkSpec link;
  IpSpec ip;
  TcpSpec tcp;
};

struct UdpFrameSpec {
  LinkSpec link;
  IpSpec ip;
  uint16_t src_port = 5353;
  uint16_t dst_port = 53;
  Bytes payload;
};

// The sum of the TCP/UDP pseudo-header (RFC 793 / RFC 8200 8.1), before folding.
inline uint32_t pseudo_header_sum(const IpSpec& ip, uint8_t protocol, uint32_t length) {
  Bytes pseudo = address_bytes(ip.src_or_default());
  const Bytes dst = address_bytes(ip.dst_or_default());
  pseudo.insert(pseudo.end(), dst.begin(), dst.end());
  uint32_t sum = 0;
  for (std::size_t i = 0; i < pseudo.size(); i += 2) {
    sum += (uint32_t{pseudo[i]} << 8) | pseudo[i + 1];
  }
  return sum + protocol + (length >> 16) + (length & 0xffff);
}

// TCP header (with options) and payload, checksum filled for `ip`'s addresses.
inline Bytes build_tcp_segment(const IpSpec& ip, const TcpSpec& tcp) {
  Bytes options = tcp.options;
  while (options.size() % 4 != 0) {
    options.push_back(0);
  }
  const uint8_t offset_words =
      tcp.data_offset_words.value_or(static_cast<uint8_t>((20 + options.size()) / 4));
  Bytes out;
  put16(out, tcp.src_port);
  put16(out, tcp.dst_port);
  put32(out, tcp.seq);
  put32(out, tcp.ack);
  out.push_back(static_cast<uint8_t>(offset_words << 4));
  out.push_back(tcp.flags);
  put16(out, tcp.window);
  put16(out, 0);  // checksum, below
  put16(out, 0);  // urgent pointer
  out.insert(out.end(), options.begin(), options.end());
  out.insert(out.end(), tcp.payload.begin(), tcp.payload.end());
  set16(out, 16, internet_checksum(out, pseudo_header_sum(ip, 6, static_cast<uint32_t>(out.size()))));
  return out;
}

inline Bytes build_udp_datagram(const IpSpec& ip, uint16_t src_port, uint16_t dst_port,
                                const Bytes& payload) {
  Bytes out;
  put16(out, src_port);
  put16(out, dst_port);
  put16(out, static_cast<uint16_t>(8 + payload.size()));
  put16(out, 0);
  out.insert(out.end(), payload.begin(), payload.end());
  uint16_t checksum =
      internet_checksum(out, pseudo_header_sum(ip, 17, static_cast<uint32_t>(out.size())));
  set16(out, 6, checksum == 0 ? 0xffff : checksum);
  return out;
}

// The IP header(s) for `ip` followed by `l4` (the transport bytes this packet carries).
inline Bytes build_ip_packet(const IpSpec& ip, uint8_t protocol, const Bytes& l4) {
  const Bytes src = address_bytes(ip.src_or_default());
  const Bytes dst = address_bytes(ip.dst_or_default());
  Bytes out;
  if (ip.version == 4) {
    Bytes options = ip.ipv4_options;
    while (options.size() % 4 != 0) {
      options.push_back(0);
    }
    const uint8_t ihl = ip.ihl_words.value_or(static_cast<uint8_t>((20 + options.size()) / 4));
    const uint16_t total =
        ip.total_length.value_or(static_cast<uint16_t>(20 + options.size() + l4.size()));
    out.push_back(static_cast<uint8_t>((ip.version_field.value_or(4) << 4) | (ihl & 0x0f)));
    out.push_back(0);  // DSCP/ECN
    put16(out, total);
    put16(out, ip.id);
    put16(out, static_cast<uint16_t>((ip.dont_fragment ? 0x4000 : 0) |
                                     (ip.more_fragments ? 0x2000 : 0) |
                                     ((ip.fragment_offset_bytes / 8) & 0x1fff)));
    out.push_back(ip.ttl);
    out.push_back(protocol);
    put16(out, 0);  // header checksum, below
    out.insert(out.end(), src.begin(), src.end());
    out.insert(out.end(), dst.begin(), dst.end());
    out.insert(out.end(), options.begin(), options.end());
    set16(out, 10, internet_checksum(out));
    out.insert(out.end(), l4.begin(), l4.end());
    return out;
  }
  Bytes extensions;
  for (std::size_t i = 0; i < ip.ipv6_ext_headers.size(); ++i) {
    const Ipv6ExtHeader& header = ip.ipv6_ext_headers[i];
    const uint8_t next =
        i + 1 < ip.ipv6_ext_headers.size() ? ip.ipv6_ext_headers[i + 1].type : protocol;
    Bytes body = header.body;
    while ((2 + body.size()) % 8 != 0) {
      body.push_back(0);
    }
    const std::size_t total = 2 + body.size();
    uint8_t length = 0;  // the fragment header's second byte is reserved
    if (header.type == 51) {
      length = static_cast<uint8_t>(total / 4 - 2);
    } else if (header.type != 44) {
      length = static_cast<uint8_t>(total / 8 - 1);
    }
    extensions.push_back(next);
    extensions.push_back(header.length_field.value_or(length));
    extensions.insert(extensions.end(), body.begin(), body.end());
  }
  const uint16_t payload_length =
      ip.payload_length.value_or(static_cast<uint16_t>(extensions.size() + l4.size()));
  out.push_back(static_cast<uint8_t>(ip.version_field.value_or(6) << 4));
  out.push_back(0);
  put16(out, 0);  // traffic class / flow label
  put16(out, payload_length);
  out.push_back(ip.ipv6_ext_headers.empty() ? protocol : ip.ipv6_ext_headers.front().type);
  out.push_back(ip.ttl);
  out.insert(out.end(), src.begin(), src.end());
  out.insert(out.end(), dst.begin(), dst.end());
  out.insert(out.end(), extensions.begin(), extensions.end());
  out.insert(out.end(), l4.begin(), l4.end());
  return out;
}

// `l3` wrapped in the link layer of `link`; `ip_version` picks the default ethertype/family.
inline Bytes build_link_frame(const LinkSpec& link, const Bytes& l3, uint8_t ip_version) {
  using dataplane::LinkType;
  const uint16_t ethertype = link.ethertype.value_or(ip_version == 6 ? 0x86dd : 0x0800);
  // The protocol field is followed by TCI/next-protocol pairs for each tag, as on Ethernet.
  Bytes tagged;
  for (const VlanTag& tag : link.vlans) {
    put16(tagged, tag.tpid);
    put16(tagged, static_cast<uint16_t>((tag.priority << 13) | (tag.vid & 0x0fff)));
  }
  put16(tagged, ethertype);
  Bytes out;
  switch (link.type) {
    case LinkType::kEthernet:
      out.insert(out.end(), link.dst_mac.begin(), link.dst_mac.end());
      out.insert(out.end(), link.src_mac.begin(), link.src_mac.end());
      out.insert(out.end(), tagged.begin(), tagged.end());
      break;
    case LinkType::kLinuxSll:
      put16(out, 0);  // packet type: to us
      put16(out, 1);  // ARPHRD_ETHER
      put16(out, 6);  // address length
      out.insert(out.end(), link.src_mac.begin(), link.src_mac.end());
      put16(out, 0);  // address padding to 8 bytes
      out.insert(out.end(), tagged.begin(), tagged.end());
      break;
    case LinkType::kLinuxSll2:
      out.insert(out.end(), tagged.begin(), tagged.begin() + 2);  // protocol
      put16(out, 0);                                             // reserved
      put32(out, 1);                                             // interface index
      put16(out, 1);                                             // ARPHRD_ETHER
      out.push_back(0);                                          // packet type
      out.push_back(6);                                          // address length
      out.insert(out.end(), link.src_mac.begin(), link.src_mac.end());
      put16(out, 0);
      out.insert(out.end(), tagged.begin() + 2, tagged.end());
      break;
    case LinkType::kNull: {
      const uint32_t family = link.null_family.value_or(ip_version == 6 ? 30 : 2);
      for (int shift = 0; shift < 32; shift += 8) {
        out.push_back(static_cast<uint8_t>(family >> shift));
      }
      break;
    }
    case LinkType::kRawIp:
    case LinkType::kIpv4:
    case LinkType::kIpv6:
      break;
  }
  out.insert(out.end(), l3.begin(), l3.end());
  while (out.size() < link.min_frame_bytes) {
    out.push_back(0);
  }
  return out;
}

inline Bytes build_frame(const LinkSpec& link, const IpSpec& ip, uint8_t protocol, const Bytes& l4) {
  return build_link_frame(link, build_ip_packet(ip, protocol, l4), ip.version);
}

inline Bytes build_tcp_frame(const TcpFrameSpec& spec) {
  return build_frame(spec.link, spec.ip, 6, build_tcp_segment(spec.ip, spec.tcp));
}

inline Bytes build_udp_frame(const UdpFrameSpec& spec) {
  return build_frame(spec.link, spec.ip, 17,
                     build_udp_datagram(spec.ip, spec.src_port, spec.dst_port, spec.payload));
}

// `l4` split into IPv4 fragments of `fragment_bytes` (a multiple of 8; the last takes the rest),
// in order. Reorder the result to test reordering.
inline std::vector<Bytes> build_ipv4_fragments(const LinkSpec& link, IpSpec ip, uint8_t protocol,
                                               const Bytes& l4, uint32_t fragment_bytes) {
  std::vector<Bytes> fragments;
  for (std::size_t offset = 0; offset < l4.size(); offset += fragment_bytes) {
    const std::size_t end = std::min(l4.size(), offset + fragment_bytes);
    ip.fragment_offset_bytes = static_cast<uint16_t>(offset);
    ip.more_fragments = end < l4.size();
    fragments.push_back(build_frame(link, ip, protocol, Bytes(l4.begin() + offset, l4.begin() + end)));
  }
  return fragments;
}

// The same for IPv6: a fragment header is appended after `ip.ipv6_ext_headers`.
inline std::vector<Bytes> build_ipv6_fragments(const LinkSpec& link, const IpSpec& ip,
                                               uint8_t protocol, const Bytes& l4,
                                               uint32_t fragment_bytes, uint32_t id) {
  std::vector<Bytes> fragments;
  for (std::size_t offset = 0; offset < l4.size(); offset += fragment_bytes) {
    const std::size_t end = std::min(l4.size(), offset + fragment_bytes);
    IpSpec piece = ip;
    piece.ipv6_ext_headers.push_back(
        ipv6_fragment_header(static_cast<uint16_t>(offset), end < l4.size(), id));
    fragments.push_back(
        build_frame(link, piece, protocol, Bytes(l4.begin() + offset, l4.begin() + end)));
  }
  return fragments;
}

// --- Encapsulations ------------------------------------------------------------------------------

// RFC 7348: flags with I set, the VNI, then the Ethernet frame.
inline Bytes vxlan(uint32_t vni, const Bytes& inner_frame, uint8_t flags = 0x08) {
  Bytes out = {flags, 0, 0, 0};
  put32(out, vni << 8);
  out.insert(out.end(), inner_frame.begin(), inner_frame.end());
  return out;
}

// RFC 8926: `options` (a multiple of 4 bytes) after the base header; `protocol` 0x6558 Ethernet,
// 0x0800 IPv4, 0x86dd IPv6.
inline Bytes geneve(uint32_t vni, uint16_t protocol, const Bytes& options, const Bytes& inner,
                    bool oam = false) {
  Bytes out = {static_cast<uint8_t>(options.size() / 4), static_cast<uint8_t>(oam ? 0x80 : 0)};
  put16(out, protocol);
  put32(out, vni << 8);
  out.insert(out.end(), options.begin(), options.end());
  out.insert(out.end(), inner.begin(), inner.end());
  return out;
}

// One GENEVE option TLV: class(2) type(1) length(1, in 4-byte words) and `words` words of data.
inline Bytes geneve_option(uint16_t option_class, uint8_t type, uint8_t words) {
  Bytes out;
  put16(out, option_class);
  out.push_back(type);
  out.push_back(words & 0x1f);
  out.insert(out.end(), std::size_t{words} * 4, 0xab);
  return out;
}

struct GreSpec {
  uint16_t protocol = 0x0800;
  bool checksum = false;  // C: checksum over the GRE header and payload, then a reserved word
  std::optional<uint32_t> key;
  std::optional<uint32_t> sequence;
  uint8_t version = 0;
};

inline Bytes gre(const GreSpec& spec, const Bytes& payload) {
  Bytes out;
  put16(out, static_cast<uint16_t>((spec.checksum ? 0x8000 : 0) | (spec.key ? 0x2000 : 0) |
                                   (spec.sequence ? 0x1000 : 0) | (spec.version & 7)));
  put16(out, spec.protocol);
  if (spec.checksum) {
    put32(out, 0);
  }
  if (spec.key) {
    put32(out, *spec.key);
  }
  if (spec.sequence) {
    put32(out, *spec.sequence);
  }
  out.insert(out.end(), payload.begin(), payload.end());
  if (spec.checksum) {
    set16(out, 4, internet_checksum(out));
  }
  return out;
}

// ERSPAN type II (GRE protocol 0x88be, with a GRE sequence number): version 1, the original
// VLAN, the session id and the port index, then the mirrored frame.
inline Bytes erspan_type2(uint16_t session, const Bytes& inner_frame, uint16_t vlan = 0, uint32_t index = 0) {
  Bytes out;
  put16(out, static_cast<uint16_t>(0x1000 | (vlan & 0x0fff)));
  put16(out, static_cast<uint16_t>(session & 0x03ff));
  put32(out, index & 0xfffff);
  out.insert(out.end(), inner_frame.begin(), inner_frame.end());
  return out;
}

// ERSPAN type III (GRE protocol 0x22eb): version 2, session id, timestamp, SGT, frame type 0
// (Ethernet), hardware id, and with `platform_subheader` the O bit and an 8-byte sub-header.
inline Bytes erspan_type3(uint16_t session, const Bytes& inner_frame, bool platform_subheader,
                          uint8_t frame_type = 0) {
  Bytes out;
  put16(out, 0x2000);  // version 2, VLAN 0
  put16(out, static_cast<uint16_t>(session & 0x03ff));
  put32(out, 0x12345678);  // timestamp
  put16(out, 0);           // SGT
  put16(out, static_cast<uint16_t>(((frame_type & 0x1f) << 10) | (5 << 4) | (platform_subheader ? 1 : 0)));
  if (platform_subheader) {
    put32(out, 0x0c000000);  // platform id 3, switch id / port index
    put32(out, 0x9abcdef0);  // upper timestamp
  }
  out.insert(out.end(), inner_frame.begin(), inner_frame.end());
  return out;
}

// An MPLS label stack (outermost first; the last gets the bottom-of-stack bit), then `payload`.
inline Bytes mpls(const std::vector<uint32_t>& labels, const Bytes& payload) {
  Bytes out;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    put32(out, (labels[i] << 12) | (i + 1 == labels.size() ? 0x100u : 0u) | 64u);
  }
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// The RFC 4385 pseudowire control word (first nibble 0, sequence number), then `frame`.
inline Bytes pseudowire_control_word(const Bytes& frame, uint16_t sequence = 1) {
  Bytes out;
  put16(out, 0);
  put16(out, sequence);
  out.insert(out.end(), frame.begin(), frame.end());
  return out;
}

// A PPPoE session packet: version/type 0x11, code 0, the session id and length, the PPP
// protocol (0x0021 IPv4, 0x0057 IPv6, 0xc021 LCP, ...), then `payload`.
inline Bytes pppoe_session(uint16_t session, uint16_t ppp_protocol, const Bytes& payload) {
  Bytes out = {0x11, 0};
  put16(out, session);
  put16(out, static_cast<uint16_t>(payload.size() + 2));
  put16(out, ppp_protocol);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// `payload` in an Ethernet (or other `link`) frame of the given ethertype.
inline Bytes build_ethertype_frame(LinkSpec link, uint16_t ethertype, const Bytes& payload) {
  link.ethertype = ethertype;
  return build_link_frame(link, payload, 4);
}

// A view of `frame` as a source would hand it over. `captured_length` cuts the capture short
// (0: the whole frame); the wire length is always the whole frame.
inline dataplane::PacketView view_of(const Bytes& frame,
                                     dataplane::LinkType link_type = dataplane::LinkType::kEthernet,
                                     uint64_t timestamp_ns = 0, uint32_t captured_length = 0) {
  dataplane::PacketView view;
  view.data = frame.data();
  view.wire_length = static_cast<uint32_t>(frame.size());
  view.captured_length = captured_length == 0 ? view.wire_length : captured_length;
  view.timestamp_ns = timestamp_ns;
  view.link_type = link_type;
  return view;
}

}  // namespace misdirect::test_support
