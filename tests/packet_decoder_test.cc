// PacketDecoder tests: every encapsulation, padding, truncated captures, each malformed case's
// counter, and fragments decoded end to end.
#include "dataplane/decode/packet_decoder.h"

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/packet_builder.h"

namespace misdirect::dataplane {

// Internal linkage: other test files may print addresses their own way.
static std::ostream& boost_test_print_type(std::ostream& out, const IpAddress& address) {
  out << "IPv" << int{address.version};
  for (uint8_t byte : address.bytes) {
    out << ' ' << int{byte};
  }
  return out;
}

namespace {

using test_support::Bytes;
using test_support::build_frame;
using test_support::build_tcp_frame;
using test_support::build_tcp_segment;
using test_support::build_udp_frame;
using test_support::bytes_of;
using test_support::ip_address;
using test_support::Ipv6ExtHeader;
using test_support::TcpFrameSpec;
using test_support::UdpFrameSpec;
using test_support::view_of;

struct Decoder {
  PacketDecoder decoder{DecoderConfig{}};
  DecodedPacket out;
  Bytes frame;  // a copy of the last frame, so `out.payload` outlives a temporary argument

  DecodeResult decode(const Bytes& bytes, LinkType link_type = LinkType::kEthernet,
                      uint32_t captured_length = 0, uint64_t timestamp_ns = 0) {
    frame = bytes;
    return decoder.decode(view_of(frame, link_type, timestamp_ns, captured_length), out);
  }
  uint64_t count(DecodeCounter counter) const { return decoder.counters().get(counter); }
  // The names of every non-zero counter, "packets" left out.
  std::set<std::string> counted() const {
    std::set<std::string> names;
    for (std::size_t i = 0; i < std::size(kDecodeCounterInfo); ++i) {
      if (decoder.counters().values()[i] != 0 && kDecodeCounterInfo[i].name != "packets") {
        names.insert(std::string(kDecodeCounterInfo[i].name));
      }
    }
    return names;
  }
  std::string payload() const {
    return std::string(reinterpret_cast<const char*>(out.payload), out.captured_payload_length);
  }
};

TcpFrameSpec smtp_segment(uint8_t ip_version = 4) {
  TcpFrameSpec spec;
  spec.ip.version = ip_version;
  spec.tcp.src_port = 40001;
  spec.tcp.dst_port = 25;
  spec.tcp.seq = 0xfffffff0u;
  spec.tcp.ack = 12345;
  spec.tcp.flags = kTcpAck | kTcpPsh;
  spec.tcp.payload = bytes_of("RCPT TO:<a@army.ml>\r\n");
  return spec;
}

// The facts every decoded copy of smtp_segment() must show.
void check_smtp_segment(const Decoder& d, uint8_t ip_version) {
  BOOST_TEST(d.out.src == ip_address(ip_version == 4 ? "192.0.2.1" : "2001:db8::1"));
  BOOST_TEST(d.out.dst == ip_address(ip_version == 4 ? "198.51.100.2" : "2001:db8::2"));
  BOOST_TEST(d.out.ip_protocol == 6);
  BOOST_TEST(d.out.src_port == 40001);
  BOOST_TEST(d.out.dst_port == 25);
  BOOST_TEST(d.out.seq == 0xfffffff0u);
  BOOST_TEST(d.out.ack == 12345u);
  BOOST_TEST(d.out.tcp_flags == (kTcpAck | kTcpPsh));
  BOOST_TEST(d.out.payload_length == 21u);
  BOOST_TEST(d.out.captured_payload_length == 21u);
  BOOST_TEST(d.payload() == "RCPT TO:<a@army.ml>\r\n");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(packet_decoder)

BOOST_AUTO_TEST_CASE(ethernet_ipv4_tcp) {
  Decoder d;
  const Bytes frame = build_tcp_frame(smtp_segment());
  BOOST_TEST(static_cast<int>(d.decode(frame, LinkType::kEthernet, 0, 77)) ==
             static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 4);
  BOOST_TEST(d.out.timestamp_ns == 77u);
  BOOST_TEST(d.out.ip_bytes == 20u + 20u + 21u);
  BOOST_TEST(d.out.vlan_count == 0);
  BOOST_TEST(d.out.reassembled == false);
  BOOST_TEST(d.count(DecodeCounter::kPackets) == 1u);
  BOOST_TEST((d.counted() == std::set<std::string>{"ipv4", "tcp"}));
}

BOOST_AUTO_TEST_CASE(ethernet_ipv6_tcp) {
  Decoder d;
  BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(smtp_segment(6)))) ==
             static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 6);
  BOOST_TEST(d.out.ip_bytes == 40u + 20u + 21u);
  BOOST_TEST((d.counted() == std::set<std::string>{"ipv6", "tcp"}));
}

BOOST_AUTO_TEST_CASE(single_vlan_tag) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  spec.link.vlans = {{0x8100, 100, 5}};
  BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec))) == static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 4);
  BOOST_TEST(d.out.vlan_count == 1);
  BOOST_TEST(d.out.vlan_ids[0] == 100);
  BOOST_TEST((d.counted() == std::set<std::string>{"ipv4", "tcp", "vlan_tagged"}));
}

BOOST_AUTO_TEST_CASE(qinq_with_each_outer_tpid) {
  for (uint16_t tpid : {uint16_t{0x88a8}, uint16_t{0x9100}, uint16_t{0x8100}}) {
    BOOST_TEST_CONTEXT("outer TPID " << tpid) {
      Decoder d;
      TcpFrameSpec spec = smtp_segment(6);
      spec.link.vlans = {{tpid, 10}, {0x8100, 4095}};
      BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec))) ==
                 static_cast<int>(DecodeResult::kTcp));
      check_smtp_segment(d, 6);
      BOOST_TEST(d.out.vlan_count == 2);
      BOOST_TEST(d.out.vlan_ids[0] == 10);
      BOOST_TEST(d.out.vlan_ids[1] == 4095);
      BOOST_TEST(d.count(DecodeCounter::kVlanExtraTags) == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(three_tags_are_walked_the_outer_two_recorded) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  spec.link.vlans = {{0x88a8, 1}, {0x8100, 2}, {0x8100, 3}};
  BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec))) == static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 4);
  BOOST_TEST(d.out.vlan_count == 2);
  BOOST_TEST(d.out.vlan_ids[0] == 1);
  BOOST_TEST(d.out.vlan_ids[1] == 2);
  BOOST_TEST(d.count(DecodeCounter::kVlanExtraTags) == 1u);
}

BOOST_AUTO_TEST_CASE(more_tags_than_walked_is_dropped) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  for (uint16_t vid = 1; vid <= PacketDecoder::kMaxVlanTags + 1; ++vid) {
    spec.link.vlans.push_back({0x8100, vid});
  }
  BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((d.counted() == std::set<std::string>{"vlan_too_many_tags"}));
}

BOOST_AUTO_TEST_CASE(ipv4_with_options) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  spec.ip.ipv4_options = {0x07, 0x07, 0x04, 0, 0, 0, 0};  // record route, padded to 8
  spec.tcp.options = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07};  // MSS, NOP, window scale
  const Bytes frame = build_tcp_frame(spec);
  BOOST_TEST(frame[14] == 0x47);  // IHL 7 words
  BOOST_TEST(static_cast<int>(d.decode(frame)) == static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 4);
  BOOST_TEST(d.out.ip_bytes == 28u + 28u + 21u);
}

BOOST_AUTO_TEST_CASE(ipv6_each_extension_header) {
  const std::vector<std::pair<std::string, Ipv6ExtHeader>> headers = {
      {"hop-by-hop", {0, {1, 4, 0, 0, 0, 0}, {}}},
      {"routing", {43, Bytes(14, 0), {}}},
      {"destination options", {60, {1, 2, 0, 0}, {}}},
      {"atomic fragment", test_support::ipv6_fragment_header(0, false, 99)},
      {"authentication header", {51, Bytes(14, 0xaa), {}}},
  };
  for (const auto& [name, header] : headers) {
    BOOST_TEST_CONTEXT(name) {
      Decoder d;
      TcpFrameSpec spec = smtp_segment(6);
      spec.ip.ipv6_ext_headers = {header};
      BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec))) ==
                 static_cast<int>(DecodeResult::kTcp));
      check_smtp_segment(d, 6);
      BOOST_TEST((d.counted() == std::set<std::string>{"ipv6", "tcp"}));
    }
  }
}

BOOST_AUTO_TEST_CASE(ipv6_chain_of_extension_headers) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment(6);
  spec.ip.ipv6_ext_headers = {{0, {}, {}}, {60, Bytes(20, 1), {}}, {43, {}, {}}, {51, Bytes(10, 0), {}},
                              {60, {}, {}}};
  BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec))) == static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 6);
  BOOST_TEST(d.out.ip_bytes == 40u + 8u + 24u + 8u + 16u + 8u + 20u + 21u);
}

BOOST_AUTO_TEST_CASE(ipv6_esp_and_no_next_header_are_other_ip) {
  for (uint8_t protocol : {uint8_t{50}, uint8_t{59}}) {
    Decoder d;
    test_support::IpSpec ip;
    ip.version = 6;
    ip.ipv6_ext_headers = {{60, {}, {}}};
    BOOST_TEST(static_cast<int>(d.decode(build_frame({}, ip, protocol, Bytes(16, 0x55)))) ==
               static_cast<int>(DecodeResult::kOtherIp));
    BOOST_TEST(d.out.ip_protocol == protocol);
    BOOST_TEST((d.counted() == std::set<std::string>{"ipv6", "other_ip_protocol"}));
  }
}

BOOST_AUTO_TEST_CASE(linux_cooked_sll_and_sll2) {
  for (LinkType type : {LinkType::kLinuxSll, LinkType::kLinuxSll2}) {
    for (uint8_t version : {uint8_t{4}, uint8_t{6}}) {
      BOOST_TEST_CONTEXT("link " << static_cast<int>(type) << " IPv" << int{version}) {
        Decoder d;
        TcpFrameSpec spec = smtp_segment(version);
        spec.link.type = type;
        const Bytes frame = build_tcp_frame(spec);
        BOOST_TEST(frame.size() == (type == LinkType::kLinuxSll ? 16u : 20u) +
                                       (version == 4 ? 20u : 40u) + 20u + 21u);
        BOOST_TEST(static_cast<int>(d.decode(frame, type)) == static_cast<int>(DecodeResult::kTcp));
        check_smtp_segment(d, version);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(sll_with_a_vlan_tag) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  spec.link.type = LinkType::kLinuxSll2;
  spec.link.vlans = {{0x8100, 42}};
  BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec), LinkType::kLinuxSll2)) ==
             static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 4);
  BOOST_TEST(d.out.vlan_ids[0] == 42);
}

BOOST_AUTO_TEST_CASE(raw_ip_and_dlt_ipv4_ipv6) {
  for (uint8_t version : {uint8_t{4}, uint8_t{6}}) {
    const LinkType dedicated = version == 4 ? LinkType::kIpv4 : LinkType::kIpv6;
    for (LinkType type : {LinkType::kRawIp, dedicated}) {
      BOOST_TEST_CONTEXT("link " << static_cast<int>(type) << " IPv" << int{version}) {
        Decoder d;
        TcpFrameSpec spec = smtp_segment(version);
        spec.link.type = type;
        const Bytes frame = build_tcp_frame(spec);
        BOOST_TEST(frame[0] >> 4 == version);
        BOOST_TEST(static_cast<int>(d.decode(frame, type)) == static_cast<int>(DecodeResult::kTcp));
        check_smtp_segment(d, version);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(dlt_null_families_in_either_byte_order) {
  // {family as stored little-endian, IP version}: 2 little-endian, 0x02000000 is 2 big-endian,
  // 30 (macOS AF_INET6), 0x18000000 is 24 big-endian (OpenBSD AF_INET6).
  const std::vector<std::pair<uint32_t, uint8_t>> cases = {
      {2, 4}, {0x02000000, 4}, {30, 6}, {28, 6}, {0x18000000, 6}, {10, 6}};
  for (const auto& [family, version] : cases) {
    BOOST_TEST_CONTEXT("family " << family) {
      Decoder d;
      TcpFrameSpec spec = smtp_segment(version);
      spec.link.type = LinkType::kNull;
      spec.link.null_family = family;
      BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec), LinkType::kNull)) ==
                 static_cast<int>(DecodeResult::kTcp));
      check_smtp_segment(d, version);
    }
  }
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  spec.link.type = LinkType::kNull;
  spec.link.null_family = 7;  // AF_IPX or the like
  BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec), LinkType::kNull)) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((d.counted() == std::set<std::string>{"not_ip"}));
}

BOOST_AUTO_TEST_CASE(ethernet_padding_is_ignored) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  spec.tcp.payload.clear();
  spec.tcp.flags = kTcpAck;
  spec.link.min_frame_bytes = 60;
  const Bytes frame = build_tcp_frame(spec);
  BOOST_TEST(frame.size() == 60u);  // 14 + 40 + 6 bytes of padding
  BOOST_TEST(static_cast<int>(d.decode(frame)) == static_cast<int>(DecodeResult::kTcp));
  BOOST_TEST(d.out.ip_bytes == 40u);
  BOOST_TEST(d.out.payload_length == 0u);
  BOOST_TEST(d.out.captured_payload_length == 0u);
  BOOST_TEST(d.count(DecodeCounter::kTruncatedPayload) == 0u);

  // Two bytes of payload, padded: the padding is not payload.
  Decoder d2;
  spec.tcp.payload = bytes_of("OK");
  const Bytes padded = build_tcp_frame(spec);
  BOOST_TEST(padded.size() == 60u);
  BOOST_TEST(static_cast<int>(d2.decode(padded)) == static_cast<int>(DecodeResult::kTcp));
  BOOST_TEST(d2.out.payload_length == 2u);
  BOOST_TEST(d2.payload() == "OK");
}

BOOST_AUTO_TEST_CASE(the_ethernet_ipv4_tcp_fast_path_agrees_with_the_general_path) {
  // The same segment as an Ethernet frame (fast path) and as a DLT_IPV4 packet (general path),
  // across the cases the fast path must take or refuse: DF set, padding, TCP options, data
  // offsets too small or too large, IP options, fragments, and every capture length.
  std::vector<TcpFrameSpec> specs;
  for (int variant = 0; variant < 8; ++variant) {
    TcpFrameSpec spec = smtp_segment();
    spec.link.min_frame_bytes = 60;
    switch (variant) {
      case 1: spec.ip.dont_fragment = true; break;
      case 2: spec.tcp.options = {2, 4, 0x05, 0xb4}; break;
      case 3: spec.tcp.payload = bytes_of("OK"); break;  // padded
      case 4: spec.tcp.data_offset_words = 4; break;     // malformed
      case 5: spec.tcp.data_offset_words = 15; break;    // past the IP payload
      case 6: spec.ip.ihl_words = 6; break;              // an option
      case 7: spec.ip.more_fragments = true; break;
      default: break;
    }
    specs.push_back(spec);
  }
  for (const TcpFrameSpec& spec : specs) {
    const Bytes frame = build_tcp_frame(spec);
    const Bytes packet(frame.begin() + 14, frame.end());
    for (uint32_t cut = 1; cut <= frame.size(); ++cut) {
      Decoder fast;
      Decoder general;
      const auto fast_result = fast.decode(frame, LinkType::kEthernet, cut);
      const auto general_result =
          cut > 14 ? general.decode(packet, LinkType::kIpv4, cut - 14) : DecodeResult::kDropped;
      if (cut <= 14) {
        BOOST_TEST(static_cast<int>(fast_result) == static_cast<int>(DecodeResult::kDropped));
        continue;
      }
      BOOST_TEST_CONTEXT("cut " << cut << " of " << frame.size()) {
        BOOST_TEST(static_cast<int>(fast_result) == static_cast<int>(general_result));
        BOOST_TEST((fast.counted() == general.counted()));
        if (fast_result == DecodeResult::kTcp && general_result == DecodeResult::kTcp) {
          BOOST_TEST(fast.out.src == general.out.src);
          BOOST_TEST(fast.out.dst == general.out.dst);
          BOOST_TEST(fast.out.ip_bytes == general.out.ip_bytes);
          BOOST_TEST(fast.out.src_port == general.out.src_port);
          BOOST_TEST(fast.out.dst_port == general.out.dst_port);
          BOOST_TEST(fast.out.seq == general.out.seq);
          BOOST_TEST(fast.out.ack == general.out.ack);
          BOOST_TEST(fast.out.tcp_flags == general.out.tcp_flags);
          BOOST_TEST(fast.out.payload_length == general.out.payload_length);
          BOOST_TEST(fast.out.captured_payload_length == general.out.captured_payload_length);
          BOOST_TEST(fast.payload() == general.payload());
          BOOST_TEST(fast.out.vlan_count == 0u);
          BOOST_TEST(!fast.out.reassembled);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(ipv4_total_length_zero_takes_the_frame_length) {
  // Captures taken on a host with TCP segmentation offload show total length 0.
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  spec.ip.total_length = 0;
  BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec))) == static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 4);
  BOOST_TEST(d.out.ip_bytes == 61u);
  BOOST_TEST((d.counted() == std::set<std::string>{"ipv4", "tcp", "ipv4_zero_total_length"}));
}

BOOST_AUTO_TEST_CASE(udp_and_icmp_are_other_ip) {
  Decoder d;
  UdpFrameSpec udp;
  udp.src_port = 1234;
  udp.dst_port = 53;
  udp.payload = bytes_of("query");
  BOOST_TEST(static_cast<int>(d.decode(build_udp_frame(udp))) ==
             static_cast<int>(DecodeResult::kOtherIp));
  BOOST_TEST(d.out.ip_protocol == 17);
  BOOST_TEST(d.out.src_port == 1234);
  BOOST_TEST(d.out.dst_port == 53);
  BOOST_TEST(d.out.src == ip_address("192.0.2.1"));
  BOOST_TEST(d.payload() == "query");

  test_support::IpSpec ip;
  BOOST_TEST(static_cast<int>(d.decode(build_frame({}, ip, 1, Bytes{8, 0, 0, 0, 0, 0, 0, 0}))) ==
             static_cast<int>(DecodeResult::kOtherIp));
  BOOST_TEST(d.out.ip_protocol == 1);
  BOOST_TEST(d.out.dst == ip_address("198.51.100.2"));
  BOOST_TEST(d.out.src_port == 0);
  BOOST_TEST((d.counted() == std::set<std::string>{"ipv4", "udp", "other_ip_protocol"}));
}

BOOST_AUTO_TEST_CASE(not_ip_frames_are_counted) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  spec.link.ethertype = 0x0806;  // ARP
  BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec))) == static_cast<int>(DecodeResult::kDropped));
  spec.link.ethertype = 0x88cc;  // LLDP
  BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec))) == static_cast<int>(DecodeResult::kDropped));
  spec.link.ethertype = 0x0030;  // 802.3 length field
  BOOST_TEST(static_cast<int>(d.decode(build_tcp_frame(spec))) == static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST(d.count(DecodeCounter::kNotIp) == 3u);
  BOOST_TEST((d.counted() == std::set<std::string>{"not_ip"}));
}

BOOST_AUTO_TEST_CASE(truncated_capture_keeps_what_it_has) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  spec.tcp.payload = Bytes(100, 'x');
  const Bytes frame = build_tcp_frame(spec);
  const uint32_t headers = 14 + 20 + 20;
  BOOST_TEST(static_cast<int>(d.decode(frame, LinkType::kEthernet, headers + 30)) ==
             static_cast<int>(DecodeResult::kTcp));
  BOOST_TEST(d.out.payload_length == 100u);
  BOOST_TEST(d.out.captured_payload_length == 30u);
  BOOST_TEST(d.out.ip_bytes == 140u);
  BOOST_TEST(d.payload() == std::string(30, 'x'));
  BOOST_TEST(d.count(DecodeCounter::kTruncatedPayload) == 1u);

  // Cut exactly after the TCP header: every field, no payload bytes.
  BOOST_TEST(static_cast<int>(d.decode(frame, LinkType::kEthernet, headers)) ==
             static_cast<int>(DecodeResult::kTcp));
  BOOST_TEST(d.out.payload_length == 100u);
  BOOST_TEST(d.out.captured_payload_length == 0u);
  BOOST_TEST(d.out.seq == 0xfffffff0u);
  BOOST_TEST(d.count(DecodeCounter::kTruncatedPayload) == 2u);
}

BOOST_AUTO_TEST_CASE(capture_cut_inside_headers) {
  TcpFrameSpec spec = smtp_segment();
  spec.tcp.options = Bytes(12, 1);
  const Bytes frame = build_tcp_frame(spec);
  // Inside Ethernet, IPv4, the fixed TCP header, and the TCP options.
  // The IP layer is counted once its header is whole.
  const std::vector<std::pair<uint32_t, std::set<std::string>>> cuts = {
      {10u, {"truncated_headers"}},
      {14u + 12u, {"truncated_headers"}},
      {14u + 20u + 10u, {"ipv4", "truncated_headers"}},
      {14u + 20u + 24u, {"ipv4", "truncated_headers"}}};
  for (const auto& [captured, counters] : cuts) {
    BOOST_TEST_CONTEXT("captured " << captured) {
      Decoder d;
      BOOST_TEST(static_cast<int>(d.decode(frame, LinkType::kEthernet, captured)) ==
                 static_cast<int>(DecodeResult::kDropped));
      BOOST_TEST((d.counted() == counters));
    }
  }
  TcpFrameSpec v6 = smtp_segment(6);
  v6.ip.ipv6_ext_headers = {{60, Bytes(14, 0), {}}};
  const Bytes frame6 = build_tcp_frame(v6);
  for (uint32_t captured : {14u + 30u, 14u + 40u + 8u}) {
    BOOST_TEST_CONTEXT("IPv6 captured " << captured) {
      Decoder d;
      BOOST_TEST(static_cast<int>(d.decode(frame6, LinkType::kEthernet, captured)) ==
                 static_cast<int>(DecodeResult::kDropped));
      BOOST_TEST((d.counted() == std::set<std::string>{"truncated_headers"}));
    }
  }
}

BOOST_AUTO_TEST_CASE(every_capture_length_is_safe) {
  // Every cut of a frame rich in headers decodes without reading past the captured bytes (the
  // copy is exactly as long as the cut, so a sanitizer or valgrind would see an overread) and
  // without claiming more captured payload than the capture holds.
  TcpFrameSpec spec = smtp_segment(6);
  spec.link.vlans = {{0x88a8, 1}, {0x8100, 2}};
  spec.ip.ipv6_ext_headers = {{0, {}, {}}, {60, Bytes(6, 0), {}}};
  spec.tcp.options = Bytes(8, 1);
  const Bytes frame = build_tcp_frame(spec);
  Decoder d;
  for (uint32_t captured = 1; captured <= frame.size(); ++captured) {
    Bytes cut(frame.begin(), frame.begin() + captured);
    DecodedPacket out;
    PacketView view = view_of(cut);
    view.wire_length = static_cast<uint32_t>(frame.size());
    const DecodeResult result = d.decoder.decode(view, out);
    if (result == DecodeResult::kTcp) {
      BOOST_TEST(out.captured_payload_length <= out.payload_length);
      BOOST_TEST(out.payload + out.captured_payload_length == cut.data() + cut.size());
    }
  }
  BOOST_TEST(d.count(DecodeCounter::kTcp) == 22u);  // the cuts holding 0..21 payload bytes
  BOOST_TEST(d.count(DecodeCounter::kTruncatedHeaders) == frame.size() - 22u);
}

BOOST_AUTO_TEST_CASE(mutated_frames_never_overread) {
  // Deterministic random corruption of header bytes: whatever the decoder makes of them, what it
  // reports stays inside the frame.
  TcpFrameSpec spec = smtp_segment(4);
  spec.link.vlans = {{0x8100, 7}};
  spec.ip.ipv4_options = Bytes(4, 1);
  const Bytes original = build_tcp_frame(spec);
  TcpFrameSpec spec6 = smtp_segment(6);
  spec6.ip.ipv6_ext_headers = {{0, {}, {}}, test_support::ipv6_fragment_header(8, true, 5)};
  const Bytes original6 = build_tcp_frame(spec6);
  std::mt19937 random(12345);
  Decoder d;
  for (int round = 0; round < 20000; ++round) {
    Bytes frame = round % 2 == 0 ? original : original6;
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < flips; ++i) {
      frame[random() % 80] = static_cast<uint8_t>(random());
    }
    frame.resize(random() % (frame.size() + 1));
    DecodedPacket out;
    const DecodeResult result = d.decoder.decode(view_of(frame, LinkType::kEthernet), out);
    if (result == DecodeResult::kTcp && out.captured_payload_length > 0 && !out.reassembled) {
      BOOST_TEST(out.payload >= frame.data());
      BOOST_TEST(out.payload + out.captured_payload_length <= frame.data() + frame.size());
    }
  }
  BOOST_TEST(d.count(DecodeCounter::kPackets) == 20000u);
}

// Malformed packets: each lands on its own counter and nothing else.
struct MalformedCase {
  std::string name;
  Bytes frame;
  std::set<std::string> counters;  // every counter the frame moves, "packets" left out
  LinkType link_type = LinkType::kEthernet;
};

std::vector<MalformedCase> malformed_cases() {
  std::vector<MalformedCase> cases;
  auto tcp = [](auto edit) {
    TcpFrameSpec spec = smtp_segment();
    edit(spec);
    return build_tcp_frame(spec);
  };
  cases.push_back({"ethernet short", Bytes(10, 0), {"link_short"}});
  cases.push_back({"sll short", Bytes(15, 0), {"link_short"}, LinkType::kLinuxSll});
  cases.push_back({"sll2 short", Bytes(19, 0), {"link_short"}, LinkType::kLinuxSll2});
  cases.push_back({"null short", Bytes(3, 0), {"link_short"}, LinkType::kNull});
  cases.push_back({"raw bad version", Bytes(40, 0x50), {"raw_ip_bad_version"}, LinkType::kRawIp});
  {
    Bytes frame = tcp([](TcpFrameSpec&) {});
    frame.resize(14 + 12);
    cases.push_back({"ipv4 short header", frame, {"ipv4_short_header"}});
  }
  cases.push_back({"ipv4 bad version", tcp([](TcpFrameSpec& s) { s.ip.version_field = 5; }),
                   {"ipv4_bad_version"}});
  cases.push_back({"ipv4 IHL 4", tcp([](TcpFrameSpec& s) { s.ip.ihl_words = 4; }), {"ipv4_bad_ihl"}});
  cases.push_back({"ipv4 IHL past total length", tcp([](TcpFrameSpec& s) {
                     s.ip.ihl_words = 15;
                     s.ip.total_length = 40;
                   }),
                   {"ipv4_bad_total_length"}});
  cases.push_back({"ipv4 total length 10", tcp([](TcpFrameSpec& s) { s.ip.total_length = 10; }),
                   {"ipv4_bad_total_length"}});
  cases.push_back({"ipv4 total length beyond frame",
                   tcp([](TcpFrameSpec& s) { s.ip.total_length = 1500; }), {"ipv4_length_beyond_frame"}});
  {
    Bytes frame = tcp([](TcpFrameSpec& s) { s.ip.version = 6; });
    frame.resize(14 + 30);
    cases.push_back({"ipv6 short header", frame, {"ipv6_short_header"}});
  }
  cases.push_back({"ipv6 bad version", tcp([](TcpFrameSpec& s) {
                     s.ip.version = 6;
                     s.ip.version_field = 4;
                   }),
                   {"ipv6_bad_version"}});
  cases.push_back({"ipv6 payload length beyond frame", tcp([](TcpFrameSpec& s) {
                     s.ip.version = 6;
                     s.ip.payload_length = 1000;
                   }),
                   {"ipv6_length_beyond_frame"}});
  cases.push_back({"ipv6 jumbogram", tcp([](TcpFrameSpec& s) {
                     s.ip.version = 6;
                     s.ip.ipv6_ext_headers = {{0, {}, {}}};
                     s.ip.payload_length = 0;
                   }),
                   {"ipv6_jumbogram"}});
  cases.push_back({"ipv6 ext header past payload", tcp([](TcpFrameSpec& s) {
                     s.ip.version = 6;
                     s.ip.ipv6_ext_headers = {{60, {}, uint8_t{200}}};
                   }),
                   {"ipv6_bad_ext_header"}});
  cases.push_back({"ipv6 too many ext headers", tcp([](TcpFrameSpec& s) {
                     s.ip.version = 6;
                     s.ip.ipv6_ext_headers.assign(9, Ipv6ExtHeader{60, {}, {}});
                   }),
                   {"ipv6_too_many_ext_headers"}});
  cases.push_back({"tcp data offset 4", tcp([](TcpFrameSpec& s) { s.tcp.data_offset_words = 4; }),
                   {"ipv4", "tcp_bad_data_offset"}});
  cases.push_back({"tcp data offset past segment", tcp([](TcpFrameSpec& s) {
                     s.tcp.payload.clear();
                     s.tcp.data_offset_words = 15;
                   }),
                   {"ipv4", "tcp_bad_data_offset"}});
  {
    test_support::IpSpec ip;
    cases.push_back({"tcp short header", build_frame({}, ip, 6, Bytes(12, 0)), {"ipv4", "tcp_short_header"}});
    cases.push_back({"udp short header", build_frame({}, ip, 17, Bytes(6, 0)), {"ipv4", "udp_short_header"}});
    ip.version = 6;
    cases.push_back({"tcp short header v6", build_frame({}, ip, 6, Bytes(19, 0)),
                     {"ipv6", "tcp_short_header"}});
  }
  {
    // A VLAN tag cut by the end of a frame that was not truncated.
    Bytes frame = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0x00, 0x00};
    cases.push_back({"vlan tag short", frame, {"link_short"}});
  }
  return cases;
}

BOOST_AUTO_TEST_CASE(each_malformed_case_has_its_counter) {
  for (const MalformedCase& c : malformed_cases()) {
    BOOST_TEST_CONTEXT(c.name) {
      Decoder d;
      BOOST_TEST(static_cast<int>(d.decode(c.frame, c.link_type)) ==
                 static_cast<int>(DecodeResult::kDropped));
      BOOST_TEST((d.counted() == c.counters));
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_link_type_is_counted) {
  Decoder d;
  const Bytes frame = build_tcp_frame(smtp_segment());
  BOOST_TEST(static_cast<int>(d.decode(frame, static_cast<LinkType>(200))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((d.counted() == std::set<std::string>{"unknown_link_type"}));
}

BOOST_AUTO_TEST_CASE(ipv4_fragments_out_of_order_decode_as_one_segment) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  spec.tcp.payload = Bytes(3000, 0);
  for (std::size_t i = 0; i < spec.tcp.payload.size(); ++i) {
    spec.tcp.payload[i] = static_cast<uint8_t>('a' + i % 26);
  }
  spec.ip.id = 777;
  const Bytes segment = build_tcp_segment(spec.ip, spec.tcp);
  std::vector<Bytes> fragments = test_support::build_ipv4_fragments({}, spec.ip, 6, segment, 1480);
  BOOST_REQUIRE(fragments.size() == 3u);
  BOOST_TEST(static_cast<int>(d.decode(fragments[2], LinkType::kEthernet, 0, 1)) ==
             static_cast<int>(DecodeResult::kFragmentHeld));
  BOOST_TEST(static_cast<int>(d.decode(fragments[0], LinkType::kEthernet, 0, 2)) ==
             static_cast<int>(DecodeResult::kFragmentHeld));
  BOOST_TEST(static_cast<int>(d.decode(fragments[1], LinkType::kEthernet, 0, 3)) ==
             static_cast<int>(DecodeResult::kTcp));
  BOOST_TEST(d.out.reassembled);
  BOOST_TEST(d.out.timestamp_ns == 3u);
  BOOST_TEST(d.out.src_port == 40001);
  BOOST_TEST(d.out.seq == 0xfffffff0u);
  BOOST_TEST(d.out.ip_bytes == 20u + 20u + 3000u);
  BOOST_TEST(d.out.payload_length == 3000u);
  BOOST_TEST(d.out.captured_payload_length == 3000u);
  BOOST_TEST(std::memcmp(d.out.payload, spec.tcp.payload.data(), 3000) == 0);
  BOOST_TEST(d.count(DecodeCounter::kIpv4) == 1u);
  BOOST_TEST(d.decoder.reassembler_counters().get(IpReassemblerCounter::kFragments) == 3u);
  BOOST_TEST(d.decoder.reassembler_counters().get(IpReassemblerCounter::kReassembled) == 1u);
}

BOOST_AUTO_TEST_CASE(ipv6_fragments_decode_as_one_segment) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment(6);
  spec.tcp.payload = Bytes(2000, 'm');
  spec.ip.ipv6_ext_headers = {{0, {}, {}}};  // unfragmentable part before the fragment header
  const Bytes segment = build_tcp_segment(spec.ip, spec.tcp);
  std::vector<Bytes> fragments =
      test_support::build_ipv6_fragments({}, spec.ip, 6, segment, 1232, 0xdeadbeef);
  BOOST_REQUIRE(fragments.size() == 2u);
  BOOST_TEST(static_cast<int>(d.decode(fragments[1])) == static_cast<int>(DecodeResult::kFragmentHeld));
  BOOST_TEST(static_cast<int>(d.decode(fragments[0])) == static_cast<int>(DecodeResult::kTcp));
  BOOST_TEST(d.out.reassembled);
  BOOST_TEST(d.out.src == ip_address("2001:db8::1"));
  BOOST_TEST(d.out.dst_port == 25);
  BOOST_TEST(d.out.payload_length == 2000u);
  BOOST_TEST(d.out.ip_bytes == 40u + 8u + 2020u);
  BOOST_TEST(std::string(reinterpret_cast<const char*>(d.out.payload), 2000) == std::string(2000, 'm'));
  BOOST_TEST((d.counted() == std::set<std::string>{"ipv6", "tcp"}));
}

BOOST_AUTO_TEST_CASE(ipv6_fragments_with_headers_after_the_fragment_header) {
  // A destination options header after the fragment header is part of the fragmentable part.
  Decoder d;
  TcpFrameSpec spec = smtp_segment(6);
  Bytes fragmentable = {6, 0, 1, 4, 0, 0, 0, 0};  // destination options: next TCP, 8 bytes
  const Bytes segment = build_tcp_segment(spec.ip, spec.tcp);
  fragmentable.insert(fragmentable.end(), segment.begin(), segment.end());
  test_support::IpSpec first = spec.ip;
  first.ipv6_ext_headers = {test_support::ipv6_fragment_header(0, true, 1)};
  test_support::IpSpec second = spec.ip;
  second.ipv6_ext_headers = {test_support::ipv6_fragment_header(16, false, 1)};
  // build_frame names the protocol after the last extension header: the fragment header's next
  // header is destination options (60) in every fragment.
  const Bytes a = build_frame({}, first, 60, Bytes(fragmentable.begin(), fragmentable.begin() + 16));
  const Bytes b = build_frame({}, second, 60, Bytes(fragmentable.begin() + 16, fragmentable.end()));
  BOOST_TEST(static_cast<int>(d.decode(a)) == static_cast<int>(DecodeResult::kFragmentHeld));
  BOOST_TEST(static_cast<int>(d.decode(b)) == static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 6);
}

BOOST_AUTO_TEST_CASE(nested_ipv6_fragment_header_is_malformed) {
  Decoder d;
  test_support::IpSpec ip;
  ip.version = 6;
  // Inside the fragmentable part: another (non-atomic) fragment header, then 8 bytes.
  Bytes fragmentable = {6, 0, 0, 1, 0, 0, 0, 9};
  fragmentable.resize(16, 0);
  ip.ipv6_ext_headers = {test_support::ipv6_fragment_header(0, true, 2)};
  const Bytes a = build_frame({}, ip, 44, Bytes(fragmentable.begin(), fragmentable.begin() + 8));
  ip.ipv6_ext_headers = {test_support::ipv6_fragment_header(8, false, 2)};
  const Bytes b = build_frame({}, ip, 44, Bytes(fragmentable.begin() + 8, fragmentable.end()));
  BOOST_TEST(static_cast<int>(d.decode(a)) == static_cast<int>(DecodeResult::kFragmentHeld));
  BOOST_TEST(static_cast<int>(d.decode(b)) == static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((d.counted() == std::set<std::string>{"ipv6_bad_ext_header"}));
}

BOOST_AUTO_TEST_CASE(truncated_fragment_cannot_be_reassembled) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  spec.tcp.payload = Bytes(100, 'z');
  const Bytes segment = build_tcp_segment(spec.ip, spec.tcp);
  std::vector<Bytes> fragments = test_support::build_ipv4_fragments({}, spec.ip, 6, segment, 64);
  BOOST_TEST(static_cast<int>(d.decode(fragments[0], LinkType::kEthernet, 14 + 20 + 40)) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((d.counted() == std::set<std::string>{"fragment_truncated"}));
  BOOST_TEST(d.decoder.reassembler().datagrams_in_progress() == 0u);
}

BOOST_AUTO_TEST_CASE(reassembler_drops_show_on_the_decoder) {
  Decoder d;
  test_support::IpSpec ip;
  ip.more_fragments = true;
  // A non-last fragment whose length is not a multiple of 8.
  BOOST_TEST(static_cast<int>(d.decode(build_frame({}, ip, 6, Bytes(13, 0)))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((d.counted() == std::set<std::string>{"fragment_dropped"}));
  BOOST_TEST(d.decoder.reassembler_counters().get(IpReassemblerCounter::kBadFragment) == 1u);
}

BOOST_AUTO_TEST_CASE(expire_drops_incomplete_datagrams) {
  Decoder d;
  TcpFrameSpec spec = smtp_segment();
  spec.tcp.payload = Bytes(100, 'z');
  const Bytes segment = build_tcp_segment(spec.ip, spec.tcp);
  std::vector<Bytes> fragments = test_support::build_ipv4_fragments({}, spec.ip, 6, segment, 64);
  const uint64_t timeout_ns = DecoderConfig{}.reassembly.timeout_ns;
  BOOST_TEST(static_cast<int>(d.decode(fragments[0], LinkType::kEthernet, 0, 1000)) ==
             static_cast<int>(DecodeResult::kFragmentHeld));
  d.decoder.expire(1000 + timeout_ns - 1);
  BOOST_TEST(d.decoder.reassembler().datagrams_in_progress() == 1u);
  d.decoder.expire(1000 + timeout_ns);
  BOOST_TEST(d.decoder.reassembler().datagrams_in_progress() == 0u);
  BOOST_TEST(d.decoder.reassembler_counters().get(IpReassemblerCounter::kTimeouts) == 1u);
  // The rest alone no longer completes anything.
  BOOST_TEST(static_cast<int>(d.decode(fragments[1], LinkType::kEthernet, 0, 1000 + timeout_ns)) ==
             static_cast<int>(DecodeResult::kFragmentHeld));
}

BOOST_AUTO_TEST_CASE(bad_configuration_is_refused) {
  DecoderConfig config;
  config.max_ipv6_ext_headers = 0;
  BOOST_CHECK_THROW(PacketDecoder{config}, std::invalid_argument);
  config = DecoderConfig{};
  config.reassembly.memcap_bytes = 1000;
  BOOST_CHECK_THROW(PacketDecoder{config}, std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(counter_names_are_unique_snake_case) {
  std::set<std::string_view> names;
  for (const CounterInfo& info : kDecodeCounterInfo) {
    BOOST_TEST(names.insert(info.name).second);
    BOOST_TEST(!info.help.empty());
    for (char c : info.name) {
      BOOST_TEST(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'));
    }
  }
  for (const CounterInfo& info : kIpReassemblerCounterInfo) {
    BOOST_TEST(names.insert(info.name).second);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::dataplane
