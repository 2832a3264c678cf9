// PacketDecoder tests: every encapsulation, padding, truncated captures, each malformed case's
// counter, and fragments decoded end to end.
#include "dataplane/decode/packet_decoder.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
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
  Decoder() = default;
  explicit Decoder(const DecoderConfig& config) : decoder(config) {}

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
  // The names of every non-zero encapsulation counter.
  std::set<std::string> encapsulations() const {
    std::set<std::string> names;
    for (std::size_t i = 0; i < std::size(kEncapsulationCounterInfo); ++i) {
      if (decoder.encapsulation_counters().values()[i] != 0) {
        names.insert(std::string(kEncapsulationCounterInfo[i].name));
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
  std::set<std::string_view> encapsulation_names;
  for (const CounterInfo& info : kEncapsulationCounterInfo) {
    BOOST_TEST(encapsulation_names.insert(info.name).second);
    BOOST_TEST(!info.help.empty());
    for (char c : info.name) {
      BOOST_TEST(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'));
    }
  }
}

// --- Encapsulations ------------------------------------------------------------------------------

namespace {

using test_support::build_ethertype_frame;
using test_support::build_ip_packet;
using test_support::build_link_frame;
using test_support::build_udp_datagram;
using test_support::erspan_type2;
using test_support::erspan_type3;
using test_support::geneve;
using test_support::geneve_option;
using test_support::gre;
using test_support::GreSpec;
using test_support::IpSpec;
using test_support::LinkSpec;
using test_support::mpls;
using test_support::pppoe_session;
using test_support::pseudowire_control_word;
using test_support::vxlan;

// The mirror's side: the outer IPv4 (or IPv6) header that carries the tunnel.
IpSpec outer_ip(uint8_t version = 4) {
  IpSpec ip;
  ip.version = version;
  ip.src = version == 4 ? "10.200.0.1" : "fd00::a";
  ip.dst = version == 4 ? "10.200.0.2" : "fd00::b";
  return ip;
}

// The tenant's SMTP segment as an Ethernet frame (inner VLAN tags optional).
Bytes inner_frame(uint8_t ip_version = 4, std::vector<test_support::VlanTag> vlans = {}) {
  TcpFrameSpec spec = smtp_segment(ip_version);
  spec.link.vlans = std::move(vlans);
  return build_tcp_frame(spec);
}

// The tenant's SMTP segment as an IP packet.
Bytes inner_packet(uint8_t ip_version = 4) {
  const TcpFrameSpec spec = smtp_segment(ip_version);
  return build_ip_packet(spec.ip, 6, build_tcp_segment(spec.ip, spec.tcp));
}

// `payload` in an outer IP packet of `protocol` on an Ethernet frame with `link`'s tags.
Bytes outer_frame(uint8_t protocol, const Bytes& payload, LinkSpec link = {}, uint8_t version = 4) {
  return build_frame(link, outer_ip(version), protocol, payload);
}

Bytes udp_tunnel_frame(uint16_t port, const Bytes& tunnel, LinkSpec link = {}, uint8_t version = 4) {
  return outer_frame(17, build_udp_datagram(outer_ip(version), 49152, port, tunnel), std::move(link), version);
}

void check_tunnel(const Decoder& d, std::vector<Encapsulation> layers, Encapsulation id_kind, uint32_t id,
                  uint8_t depth, uint8_t outer_protocol) {
  const TunnelInfo& tunnel = d.out.tunnel;
  BOOST_TEST(tunnel.layer_count == layers.size());
  for (std::size_t i = 0; i < layers.size() && i < TunnelInfo::kMaxLayers; ++i) {
    BOOST_TEST(encapsulation_name(tunnel.layers[i]) == encapsulation_name(layers[i]));
  }
  BOOST_TEST(encapsulation_name(tunnel.id_kind) == encapsulation_name(id_kind));
  BOOST_TEST(tunnel.id == id);
  BOOST_TEST(tunnel.depth == depth);
  if (depth > 0) {
    BOOST_TEST(tunnel.outer_protocol == outer_protocol);
    const uint8_t version = tunnel.outer_src.version;
    BOOST_TEST(tunnel.outer_src == ip_address(version == 4 ? "10.200.0.1" : "fd00::a"));
    BOOST_TEST(tunnel.outer_dst == ip_address(version == 4 ? "10.200.0.2" : "fd00::b"));
  }
}

DecodeResult decode_as(Decoder& d, const Bytes& frame) { return d.decode(frame); }

}  // namespace

BOOST_AUTO_TEST_CASE(vxlan_opens_to_the_inner_flow) {
  // Untagged outer (the fast path) and VLAN-tagged outer (the general path) give the same facts;
  // the outer tag is the mirror's, not the flow's.
  for (const bool tagged : {false, true}) {
    BOOST_TEST_CONTEXT("outer tagged " << tagged) {
      LinkSpec link;
      if (tagged) {
        link.vlans = {{0x8100, 300}};
      }
      Decoder d;
      BOOST_TEST(static_cast<int>(decode_as(d, udp_tunnel_frame(4789, vxlan(5001, inner_frame()), link))) ==
                 static_cast<int>(DecodeResult::kTcp));
      check_smtp_segment(d, 4);
      BOOST_TEST(d.out.vlan_count == 0u);
      check_tunnel(d, {Encapsulation::kVxlan}, Encapsulation::kVxlan, 5001, 1, 17);
      BOOST_TEST(d.out.tunnel.outer_src_port == 49152);
      BOOST_TEST(d.out.tunnel.outer_dst_port == 4789);
      BOOST_TEST(d.count(DecodeCounter::kIpv4) == 2u);
      BOOST_TEST(d.count(DecodeCounter::kUdp) == 1u);
      BOOST_TEST(d.count(DecodeCounter::kTcp) == 1u);
      BOOST_TEST((d.encapsulations() == std::set<std::string>{"vxlan"}));
    }
  }
  // The inner frame's own tags are the flow's; an IPv6 inner flow over an IPv6 outer.
  Decoder d;
  BOOST_TEST(static_cast<int>(decode_as(d, udp_tunnel_frame(4789, vxlan(7, inner_frame(6, {{0x8100, 42}})), {}, 6))) ==
             static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 6);
  BOOST_TEST(d.out.vlan_count == 1u);
  BOOST_TEST(d.out.vlan_ids[0] == 42);
  check_tunnel(d, {Encapsulation::kVxlan}, Encapsulation::kVxlan, 7, 1, 17);
}

BOOST_AUTO_TEST_CASE(vxlan_fast_path_agrees_with_the_general_path) {
  // The same VXLAN frame on Ethernet (fast path) and as a DLT_IPV4 packet (general path), at
  // every capture length, with inner variants the fast path must take or refuse.
  for (int variant = 0; variant < 5; ++variant) {
    TcpFrameSpec spec = smtp_segment();
    spec.link.min_frame_bytes = 0;
    switch (variant) {
      case 1: spec.tcp.options = {2, 4, 0x05, 0xb4}; break;
      case 2: spec.ip.ihl_words = 6; break;  // inner IP options: general path
      case 3: spec.tcp.data_offset_words = 4; break;
      case 4: spec.link.vlans = {{0x8100, 9}}; break;
      default: break;
    }
    const Bytes frame = udp_tunnel_frame(4789, vxlan(99, build_tcp_frame(spec)));
    const Bytes packet(frame.begin() + 14, frame.end());
    for (uint32_t cut = 15; cut <= frame.size(); ++cut) {
      Decoder fast;
      Decoder general;
      const auto fast_result = fast.decode(frame, LinkType::kEthernet, cut);
      const auto general_result = general.decode(packet, LinkType::kIpv4, cut - 14);
      BOOST_TEST_CONTEXT("variant " << variant << " cut " << cut << " of " << frame.size()) {
        BOOST_TEST(static_cast<int>(fast_result) == static_cast<int>(general_result));
        BOOST_TEST((fast.counted() == general.counted()));
        BOOST_TEST((fast.encapsulations() == general.encapsulations()));
        if (fast_result == DecodeResult::kTcp && general_result == DecodeResult::kTcp) {
          BOOST_TEST(fast.out.src == general.out.src);
          BOOST_TEST(fast.out.dst == general.out.dst);
          BOOST_TEST(fast.out.ip_bytes == general.out.ip_bytes);
          BOOST_TEST(fast.out.seq == general.out.seq);
          BOOST_TEST(fast.out.payload_length == general.out.payload_length);
          BOOST_TEST(fast.out.captured_payload_length == general.out.captured_payload_length);
          BOOST_TEST(fast.payload() == general.payload());
          BOOST_TEST(fast.out.vlan_count == general.out.vlan_count);
          BOOST_TEST(fast.out.tunnel.identity() == general.out.tunnel.identity());
          BOOST_TEST(fast.out.tunnel.depth == general.out.tunnel.depth);
          BOOST_TEST(fast.out.tunnel.layer_count == general.out.tunnel.layer_count);
          BOOST_TEST(fast.out.tunnel.outer_src == general.out.tunnel.outer_src);
          BOOST_TEST(fast.out.tunnel.outer_dst == general.out.tunnel.outer_dst);
          BOOST_TEST(fast.out.tunnel.outer_src_port == general.out.tunnel.outer_src_port);
          BOOST_TEST(fast.out.tunnel.outer_dst_port == general.out.tunnel.outer_dst_port);
          BOOST_TEST(fast.out.tunnel.outer_protocol == general.out.tunnel.outer_protocol);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(vxlan_and_geneve_ports_are_configurable) {
  DecoderConfig config;
  config.vxlan_ports = {8472};
  config.geneve_ports = {};
  Decoder d(config);
  BOOST_TEST(static_cast<int>(decode_as(d, udp_tunnel_frame(4789, vxlan(1, inner_frame())))) ==
             static_cast<int>(DecodeResult::kOtherIp));
  BOOST_TEST(static_cast<int>(decode_as(d, udp_tunnel_frame(6081, geneve(1, 0x6558, {}, inner_frame())))) ==
             static_cast<int>(DecodeResult::kOtherIp));
  BOOST_TEST(static_cast<int>(decode_as(d, udp_tunnel_frame(8472, vxlan(1, inner_frame())))) ==
             static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 4);
  BOOST_TEST(d.decoder.encapsulation_counters().get(EncapsulationCounter::kVxlan) == 1u);
}

BOOST_AUTO_TEST_CASE(vxlan_without_the_vni_flag_is_malformed) {
  Decoder d;
  BOOST_TEST(static_cast<int>(decode_as(d, udp_tunnel_frame(4789, vxlan(1, inner_frame(), 0x00)))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((d.encapsulations() == std::set<std::string>{"vxlan_malformed"}));
}

BOOST_AUTO_TEST_CASE(geneve_with_options_carrying_ethernet_ipv4_or_ipv6) {
  const Bytes options = [] {
    Bytes bytes = geneve_option(0x0103, 0x80, 2);
    const Bytes second = geneve_option(0xffff, 1, 0);
    bytes.insert(bytes.end(), second.begin(), second.end());
    return bytes;
  }();
  struct Case {
    std::string name;
    Bytes tunnel;
    uint8_t inner_version;
  };
  const std::vector<Case> cases = {
      {"ethernet", geneve(0x123456, 0x6558, options, inner_frame()), 4},
      {"ipv4", geneve(0x123456, 0x0800, options, inner_packet(4)), 4},
      {"ipv6", geneve(0x123456, 0x86dd, {}, inner_packet(6)), 6},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Decoder d;
      BOOST_TEST(static_cast<int>(decode_as(d, udp_tunnel_frame(6081, c.tunnel))) ==
                 static_cast<int>(DecodeResult::kTcp));
      check_smtp_segment(d, c.inner_version);
      check_tunnel(d, {Encapsulation::kGeneve}, Encapsulation::kGeneve, 0x123456, 1, 17);
      BOOST_TEST((d.encapsulations() == std::set<std::string>{"geneve"}));
    }
  }
  Decoder oam;
  BOOST_TEST(static_cast<int>(decode_as(oam, udp_tunnel_frame(6081, geneve(1, 0x6558, {}, inner_frame(), true)))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((oam.encapsulations() == std::set<std::string>{"geneve_oam"}));
  Decoder other;
  BOOST_TEST(static_cast<int>(decode_as(other, udp_tunnel_frame(6081, geneve(1, 0x894f, {}, inner_frame())))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((other.encapsulations() == std::set<std::string>{"unsupported_geneve_protocol"}));
  // Options reaching past the datagram.
  Bytes cut = geneve(1, 0x6558, options, {});
  cut[0] = 0x3f;
  Decoder past;
  BOOST_TEST(static_cast<int>(decode_as(past, udp_tunnel_frame(6081, cut))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((past.encapsulations() == std::set<std::string>{"geneve_malformed"}));
}

BOOST_AUTO_TEST_CASE(gre_with_key_and_sequence_carrying_ethernet_ipv4_or_ipv6) {
  struct Case {
    std::string name;
    GreSpec spec;
    Bytes payload;
    uint8_t inner_version;
    uint8_t outer_version;
  };
  GreSpec ethernet;
  ethernet.protocol = 0x6558;
  ethernet.key = 0xdeadbeef;
  ethernet.sequence = 7;
  GreSpec ipv4;
  ipv4.protocol = 0x0800;
  ipv4.checksum = true;
  ipv4.key = 12;
  GreSpec ipv6;
  ipv6.protocol = 0x86dd;
  ipv6.sequence = 1;
  const std::vector<Case> cases = {
      {"ethernet, key and sequence", ethernet, inner_frame(), 4, 4},
      {"ipv4, checksum and key", ipv4, inner_packet(4), 4, 6},
      {"ipv6, sequence only", ipv6, inner_packet(6), 6, 4},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Decoder d;
      BOOST_TEST(static_cast<int>(decode_as(d, outer_frame(47, gre(c.spec, c.payload), {}, c.outer_version))) ==
                 static_cast<int>(DecodeResult::kTcp));
      check_smtp_segment(d, c.inner_version);
      const Encapsulation id_kind = c.spec.key ? Encapsulation::kGre : Encapsulation::kNone;
      check_tunnel(d, {Encapsulation::kGre}, id_kind, c.spec.key.value_or(0), 1, 47);
      BOOST_TEST((d.encapsulations() == std::set<std::string>{"gre"}));
    }
  }
  GreSpec pptp;
  pptp.version = 1;
  pptp.protocol = 0x880b;
  Decoder d;
  BOOST_TEST(static_cast<int>(decode_as(d, outer_frame(47, gre(pptp, inner_packet())))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((d.encapsulations() == std::set<std::string>{"unsupported_gre_version"}));
  GreSpec wccp;
  wccp.protocol = 0x883e;
  Decoder w;
  BOOST_TEST(static_cast<int>(decode_as(w, outer_frame(47, gre(wccp, inner_packet())))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((w.encapsulations() == std::set<std::string>{"unsupported_gre_protocol"}));
}

BOOST_AUTO_TEST_CASE(erspan_types_one_two_and_three_on_vlan_tagged_outer_frames) {
  LinkSpec tagged;
  tagged.vlans = {{0x8100, 100}};
  GreSpec type1;
  type1.protocol = 0x88be;
  GreSpec type2;
  type2.protocol = 0x88be;
  type2.sequence = 42;
  GreSpec type3;
  type3.protocol = 0x22eb;
  type3.sequence = 43;
  struct Case {
    std::string name;
    Bytes frame;
    uint32_t session;
    Encapsulation id_kind;
    std::string counter;
  };
  const std::vector<Case> cases = {
      {"type I", outer_frame(47, gre(type1, inner_frame()), tagged), 0, Encapsulation::kNone, "erspan_type_i"},
      {"type II", outer_frame(47, gre(type2, erspan_type2(301, inner_frame(), 55, 9)), tagged), 301,
       Encapsulation::kErspan, "erspan_type_ii"},
      {"type III", outer_frame(47, gre(type3, erspan_type3(1023, inner_frame(), false)), tagged), 1023,
       Encapsulation::kErspan, "erspan_type_iii"},
      {"type III with the platform sub-header",
       outer_frame(47, gre(type3, erspan_type3(2, inner_frame(6), true)), tagged), 2, Encapsulation::kErspan,
       "erspan_type_iii"},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Decoder d;
      BOOST_TEST(static_cast<int>(decode_as(d, c.frame)) == static_cast<int>(DecodeResult::kTcp));
      check_smtp_segment(d, c.name.find("sub-header") != std::string::npos ? 6 : 4);
      BOOST_TEST(d.out.vlan_count == 0u);
      check_tunnel(d, {Encapsulation::kErspan}, c.id_kind, c.session, 1, 47);
      BOOST_TEST((d.encapsulations() == std::set<std::string>{"gre", c.counter}));
    }
  }
  Decoder ip_frame;
  BOOST_TEST(static_cast<int>(decode_as(ip_frame, outer_frame(47, gre(type3, erspan_type3(2, inner_packet(), false, 2))))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((ip_frame.encapsulations() == std::set<std::string>{"gre", "unsupported_erspan_frame_type"}));
  Bytes bad_version = erspan_type2(1, inner_frame());
  bad_version[0] = 0x20;
  Decoder bad;
  BOOST_TEST(static_cast<int>(decode_as(bad, outer_frame(47, gre(type2, bad_version)))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((bad.encapsulations() == std::set<std::string>{"gre", "erspan_malformed"}));
}

BOOST_AUTO_TEST_CASE(mpls_stacks_carrying_ipv4_ipv6_or_ethernet) {
  struct Case {
    std::string name;
    Bytes frame;
    uint8_t inner_version;
    std::set<std::string> counters;
  };
  // Ethernet frames whose destination MAC starts with 4 and 6: told from IP by their length.
  TcpFrameSpec mac4 = smtp_segment();
  mac4.link.dst_mac = {0x46, 0x00, 0xff, 0xff, 0, 1};
  TcpFrameSpec mac6 = smtp_segment(6);
  mac6.link.dst_mac = {0x62, 0x00, 0xff, 0xff, 0, 1};
  GreSpec over_gre;
  over_gre.protocol = 0x8847;
  const std::vector<Case> cases = {
      {"two labels, IPv4", build_ethertype_frame({}, 0x8847, mpls({16, 1000}, inner_packet(4))), 4, {"mpls"}},
      {"one label, IPv6, padded", build_ethertype_frame({}, 0x8847, mpls({2000}, inner_packet(6))), 6, {"mpls"}},
      {"IPv6 explicit null", build_ethertype_frame({}, 0x8848, mpls({2}, inner_packet(6))), 6, {"mpls"}},
      {"pseudowire with control word",
       build_ethertype_frame({}, 0x8847, mpls({17, 3000}, pseudowire_control_word(inner_frame()))), 4,
       {"mpls", "mpls_pseudowire"}},
      {"pseudowire without control word", build_ethertype_frame({}, 0x8847, mpls({3001}, inner_frame(6))), 6,
       {"mpls", "mpls_pseudowire"}},
      {"pseudowire without control word, MAC starting with 4",
       build_ethertype_frame({}, 0x8847, mpls({3002}, build_tcp_frame(mac4))), 4, {"mpls", "mpls_pseudowire"}},
      {"pseudowire without control word, MAC starting with 6",
       build_ethertype_frame({}, 0x8847, mpls({3003}, build_tcp_frame(mac6))), 6, {"mpls", "mpls_pseudowire"}},
      {"over GRE", outer_frame(47, gre(over_gre, mpls({100}, inner_packet(4)))), 4, {"gre", "mpls"}},
      {"MPLS in IP", outer_frame(137, mpls({100, 200}, inner_packet(6))), 6, {"mpls"}},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Decoder d;
      Bytes frame = c.frame;
      while (frame.size() < 60) {
        frame.push_back(0);  // Ethernet padding after a short labelled packet is not payload
      }
      BOOST_TEST(static_cast<int>(decode_as(d, frame)) == static_cast<int>(DecodeResult::kTcp));
      check_smtp_segment(d, c.inner_version);
      BOOST_TEST((d.encapsulations() == c.counters));
      // MPLS labels are never the identity: they differ per direction.
      BOOST_TEST(d.out.tunnel.identity() == 0u);
    }
  }
  Decoder no_bottom;
  Bytes endless = build_ethertype_frame({}, 0x8847, Bytes(80, 0));  // 20 labels, none the bottom
  BOOST_TEST(static_cast<int>(decode_as(no_bottom, endless)) == static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((no_bottom.encapsulations() == std::set<std::string>{"mpls_malformed"}));
  Decoder channel;
  Bytes ach = {0x10, 0, 0, 0x07};
  ach.resize(40, 0);
  BOOST_TEST(static_cast<int>(decode_as(channel, build_ethertype_frame({}, 0x8847, mpls({13}, ach)))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((channel.encapsulations() == std::set<std::string>{"mpls", "unsupported_mpls_payload"}));
}

BOOST_AUTO_TEST_CASE(pppoe_sessions_behind_8021q) {
  LinkSpec tagged;
  tagged.vlans = {{0x8100, 20}};
  for (const uint8_t version : {4, 6}) {
    BOOST_TEST_CONTEXT("IPv" << int{version}) {
      Decoder d;
      const Bytes frame = build_ethertype_frame(
          tagged, 0x8864, pppoe_session(0x1234, version == 4 ? 0x0021 : 0x0057, inner_packet(version)));
      BOOST_TEST(static_cast<int>(decode_as(d, frame)) == static_cast<int>(DecodeResult::kTcp));
      check_smtp_segment(d, version);
      // PPPoE is no IP tunnel: the frame's own tag stays the flow's, and there is no outer IP.
      BOOST_TEST(d.out.vlan_count == 1u);
      BOOST_TEST(d.out.vlan_ids[0] == 20);
      check_tunnel(d, {Encapsulation::kPppoe}, Encapsulation::kNone, 0, 0, 0);
      BOOST_TEST((d.encapsulations() == std::set<std::string>{"pppoe_session"}));
    }
  }
  Decoder lcp;
  BOOST_TEST(static_cast<int>(decode_as(lcp, build_ethertype_frame(tagged, 0x8864, pppoe_session(1, 0xc021, Bytes(20, 1))))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((lcp.encapsulations() == std::set<std::string>{"pppoe_control"}));
  Decoder discovery;
  BOOST_TEST(static_cast<int>(decode_as(discovery, build_ethertype_frame(tagged, 0x8863, Bytes(40, 0)))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((discovery.encapsulations() == std::set<std::string>{"pppoe_discovery"}));
  BOOST_TEST(discovery.count(DecodeCounter::kNotIp) == 1u);
  Bytes bad = pppoe_session(1, 0x0021, inner_packet());
  bad[0] = 0x12;
  Decoder malformed;
  BOOST_TEST(static_cast<int>(decode_as(malformed, build_ethertype_frame(tagged, 0x8864, bad))) ==
             static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST((malformed.encapsulations() == std::set<std::string>{"pppoe_malformed"}));
}

BOOST_AUTO_TEST_CASE(ip_in_ip_4in4_6in4_4in6_6in6) {
  struct Case {
    uint8_t outer;
    uint8_t inner;
    std::string counter;
  };
  for (const Case& c : {Case{4, 4, "ipv4_in_ipv4"}, Case{4, 6, "ipv6_in_ipv4"}, Case{6, 4, "ipv4_in_ipv6"},
                        Case{6, 6, "ipv6_in_ipv6"}}) {
    BOOST_TEST_CONTEXT(c.counter) {
      LinkSpec link;
      link.vlans = {{0x8100, 5}};
      link.ethertype = c.outer == 4 ? 0x0800 : 0x86dd;
      Decoder d;
      const Bytes frame = outer_frame(c.inner == 4 ? 4 : 41, inner_packet(c.inner), link, c.outer);
      BOOST_TEST(static_cast<int>(decode_as(d, frame)) == static_cast<int>(DecodeResult::kTcp));
      check_smtp_segment(d, c.inner);
      BOOST_TEST(d.out.vlan_count == 0u);
      check_tunnel(d, {Encapsulation::kIpInIp}, Encapsulation::kNone, 0, 1, c.inner == 4 ? 4 : 41);
      BOOST_TEST((d.encapsulations() == std::set<std::string>{c.counter}));
    }
  }
}

BOOST_AUTO_TEST_CASE(nested_tunnels_keep_the_outermost_header_and_the_innermost_id) {
  // ERSPAN (session 7) carrying a mirrored frame that is itself VXLAN (VNI 900) from a host.
  GreSpec type2;
  type2.protocol = 0x88be;
  type2.sequence = 1;
  IpSpec host_outer;
  host_outer.src = "172.16.0.1";
  host_outer.dst = "172.16.0.2";
  const Bytes vxlan_frame =
      build_frame({}, host_outer, 17, build_udp_datagram(host_outer, 40000, 4789, vxlan(900, inner_frame())));
  Decoder d;
  BOOST_TEST(static_cast<int>(decode_as(d, outer_frame(47, gre(type2, erspan_type2(7, vxlan_frame))))) ==
             static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 4);
  check_tunnel(d, {Encapsulation::kErspan, Encapsulation::kVxlan}, Encapsulation::kVxlan, 900, 2, 47);
  BOOST_TEST((d.encapsulations() == std::set<std::string>{"gre", "erspan_type_ii", "vxlan"}));
}

BOOST_AUTO_TEST_CASE(nesting_deeper_than_the_bound_is_dropped_and_counted) {
  // VXLAN in VXLAN in ...: depth 4 decodes, depth 5 is dropped; a lower bound is honoured.
  auto nest = [](int depth) {
    Bytes frame = inner_frame();
    for (int i = 0; i < depth; ++i) {
      IpSpec ip;
      frame = build_frame({}, ip, 17, build_udp_datagram(ip, 1000, 4789, vxlan(static_cast<uint32_t>(i + 1), frame)));
    }
    return frame;
  };
  Decoder four;
  BOOST_TEST(static_cast<int>(decode_as(four, nest(4))) == static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(four, 4);
  BOOST_TEST(four.out.tunnel.layer_count == 4u);
  BOOST_TEST(four.out.tunnel.id == 1u);  // the innermost VXLAN's VNI
  Decoder five;
  BOOST_TEST(static_cast<int>(decode_as(five, nest(5))) == static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST(five.decoder.encapsulation_counters().get(EncapsulationCounter::kDepthExceeded) == 1u);
  DecoderConfig config;
  config.max_encapsulation_depth = 1;
  Decoder one(config);
  BOOST_TEST(static_cast<int>(decode_as(one, nest(1))) == static_cast<int>(DecodeResult::kTcp));
  BOOST_TEST(static_cast<int>(decode_as(one, nest(2))) == static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST(one.decoder.encapsulation_counters().get(EncapsulationCounter::kDepthExceeded) == 1u);
  // A crafted loop: IPv4 in IPv4 in IPv4 ... 40 deep ends at the bound.
  Bytes loop = inner_packet();
  for (int i = 0; i < 40; ++i) {
    loop = build_ip_packet(IpSpec{}, 4, loop);
  }
  Decoder crafted;
  BOOST_TEST(static_cast<int>(crafted.decode(loop, LinkType::kIpv4)) == static_cast<int>(DecodeResult::kDropped));
  BOOST_TEST(crafted.decoder.encapsulation_counters().get(EncapsulationCounter::kDepthExceeded) == 1u);
  BOOST_TEST(crafted.decoder.encapsulation_counters().get(EncapsulationCounter::kIpv4InIpv4) == 4u);
}

BOOST_AUTO_TEST_CASE(outer_ipv4_fragments_are_reassembled_before_the_tunnel_is_opened) {
  // An ERSPAN packet on a VLAN-tagged frame whose outer IPv4 datagram was fragmented in three.
  GreSpec type2;
  type2.protocol = 0x88be;
  type2.sequence = 9;
  const Bytes tunnel = gre(type2, erspan_type2(12, inner_frame()));
  LinkSpec tagged;
  tagged.vlans = {{0x8100, 100}};
  const std::vector<Bytes> fragments = test_support::build_ipv4_fragments(tagged, outer_ip(), 47, tunnel, 32);
  BOOST_TEST(fragments.size() == 3u);
  Decoder d;
  BOOST_TEST(static_cast<int>(d.decode(fragments[2])) == static_cast<int>(DecodeResult::kFragmentHeld));
  BOOST_TEST(static_cast<int>(d.decode(fragments[0])) == static_cast<int>(DecodeResult::kFragmentHeld));
  BOOST_TEST(static_cast<int>(d.decode(fragments[1])) == static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 4);
  BOOST_TEST(d.out.reassembled);
  check_tunnel(d, {Encapsulation::kErspan}, Encapsulation::kErspan, 12, 1, 47);
}

BOOST_AUTO_TEST_CASE(inner_fragments_of_two_tenants_are_two_datagrams) {
  // The same inner addresses and IP id in VNI 1 and VNI 2: each tenant's fragments complete its
  // own datagram.
  const TcpFrameSpec spec = smtp_segment();
  const Bytes segment = build_tcp_segment(spec.ip, spec.tcp);
  const std::vector<Bytes> inner = test_support::build_ipv4_fragments({}, spec.ip, 6, segment, 24);
  BOOST_TEST(inner.size() == 2u);
  Decoder d;
  BOOST_TEST(static_cast<int>(decode_as(d, udp_tunnel_frame(4789, vxlan(1, inner[0])))) ==
             static_cast<int>(DecodeResult::kFragmentHeld));
  BOOST_TEST(static_cast<int>(decode_as(d, udp_tunnel_frame(4789, vxlan(2, inner[1])))) ==
             static_cast<int>(DecodeResult::kFragmentHeld));
  BOOST_TEST(static_cast<int>(decode_as(d, udp_tunnel_frame(4789, vxlan(1, inner[1])))) ==
             static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 4);
  BOOST_TEST(d.out.tunnel.id == 1u);
  BOOST_TEST(static_cast<int>(decode_as(d, udp_tunnel_frame(4789, vxlan(2, inner[0])))) ==
             static_cast<int>(DecodeResult::kTcp));
  check_smtp_segment(d, 4);
  BOOST_TEST(d.out.tunnel.id == 2u);
}

BOOST_AUTO_TEST_CASE(unsupported_encapsulations_are_counted_by_kind) {
  struct Case {
    std::string name;
    Bytes frame;
    std::string counter;
  };
  const std::vector<Case> cases = {
      {"VXLAN-GPE", udp_tunnel_frame(4790, Bytes(30, 0)), "unsupported_vxlan_gpe"},
      {"GTP-U", udp_tunnel_frame(2152, Bytes(30, 0)), "unsupported_gtp_u"},
      {"L2TP over UDP", udp_tunnel_frame(1701, Bytes(30, 0)), "unsupported_l2tp"},
      {"L2TPv3 over IP", outer_frame(115, Bytes(30, 0)), "unsupported_l2tp"},
      {"Teredo", udp_tunnel_frame(3544, Bytes(30, 0)), "unsupported_teredo"},
      {"EtherIP", outer_frame(97, Bytes(30, 0)), "unsupported_etherip"},
      {"802.1ah", build_ethertype_frame({}, 0x88e7, Bytes(50, 0)), "unsupported_pbb"},
      {"MACsec", build_ethertype_frame({}, 0x88e5, Bytes(50, 0)), "unsupported_macsec"},
      {"NSH", build_ethertype_frame({}, 0x894f, Bytes(50, 0)), "unsupported_nsh"},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Decoder d;
      d.decode(c.frame);
      BOOST_TEST((d.encapsulations() == std::set<std::string>{c.counter}));
    }
  }
}

BOOST_AUTO_TEST_CASE(every_capture_length_of_every_tunnel_is_safe) {
  // Each encapsulation cut at every length decodes without reading past the captured bytes, and
  // a cut inside the headers counts as truncated, never as malformed.
  GreSpec type3;
  type3.protocol = 0x22eb;
  type3.sequence = 1;
  GreSpec keyed;
  keyed.protocol = 0x6558;
  keyed.key = 5;
  LinkSpec tagged;
  tagged.vlans = {{0x8100, 20}};
  const std::vector<Bytes> frames = {
      udp_tunnel_frame(4789, vxlan(1, inner_frame())),
      udp_tunnel_frame(6081, geneve(1, 0x6558, geneve_option(1, 1, 1), inner_frame())),
      outer_frame(47, gre(keyed, inner_frame())),
      outer_frame(47, gre(type3, erspan_type3(3, inner_frame(), true)), tagged),
      build_ethertype_frame({}, 0x8847, mpls({16, 17}, pseudowire_control_word(inner_frame()))),
      build_ethertype_frame(tagged, 0x8864, pppoe_session(1, 0x0057, inner_packet(6))),
      outer_frame(41, inner_packet(6), {}, 6),
  };
  for (std::size_t index = 0; index < frames.size(); ++index) {
    BOOST_TEST_CONTEXT("frame " << index) {
    const Bytes& frame = frames[index];
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
    std::set<std::string> malformed;
    for (const std::string& name : d.encapsulations()) {
      if (name.find("malformed") != std::string::npos || name.find("unsupported") != std::string::npos) {
        malformed.insert(name);
      }
    }
    BOOST_TEST(malformed.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(mutated_tunnel_frames_never_overread) {
  GreSpec type2;
  type2.protocol = 0x88be;
  type2.sequence = 1;
  const std::vector<Bytes> originals = {
      udp_tunnel_frame(4789, vxlan(1, inner_frame())),
      udp_tunnel_frame(6081, geneve(1, 0x6558, geneve_option(1, 1, 2), inner_frame())),
      outer_frame(47, gre(type2, erspan_type2(3, inner_frame()))),
      build_ethertype_frame({}, 0x8847, mpls({1, 2}, inner_frame())),
      build_ethertype_frame({}, 0x8864, pppoe_session(1, 0x0021, inner_packet())),
  };
  std::mt19937 random(777);
  Decoder d;
  for (int round = 0; round < 20000; ++round) {
    Bytes frame = originals[static_cast<std::size_t>(round) % originals.size()];
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < flips; ++i) {
      frame[random() % std::min<std::size_t>(110, frame.size())] = static_cast<uint8_t>(random());
    }
    frame.resize(random() % (frame.size() + 1));
    DecodedPacket out;
    const DecodeResult result = d.decoder.decode(view_of(frame, LinkType::kEthernet), out);
    if (result == DecodeResult::kTcp && out.captured_payload_length > 0 && !out.reassembled) {
      BOOST_TEST(out.payload >= frame.data());
      BOOST_TEST(out.payload + out.captured_payload_length <= frame.data() + frame.size());
    }
    BOOST_TEST(out.tunnel.layer_count <= DecoderConfig{}.max_encapsulation_depth);
  }
  BOOST_TEST(d.count(DecodeCounter::kPackets) == 20000u);
}

BOOST_AUTO_TEST_CASE(bad_tunnel_configuration_is_refused) {
  DecoderConfig config;
  config.max_encapsulation_depth = 0;
  BOOST_CHECK_THROW(PacketDecoder{config}, std::invalid_argument);
  config = DecoderConfig{};
  config.max_encapsulation_depth = 17;
  BOOST_CHECK_THROW(PacketDecoder{config}, std::invalid_argument);
  config = DecoderConfig{};
  config.vxlan_ports = {0};
  BOOST_CHECK_THROW(PacketDecoder{config}, std::invalid_argument);
  config = DecoderConfig{};
  config.geneve_ports = {4789};
  BOOST_CHECK_THROW(PacketDecoder{config}, std::invalid_argument);
  config = DecoderConfig{};
  config.vxlan_ports.assign(9, 1000);
  BOOST_CHECK_THROW(PacketDecoder{config}, std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(look_only_mode_names_the_fragment_and_decodes_a_first_one_on_through) {
  // The fan-out's decoder (reassemble_fragments false) keeps nothing: it says which fragment a
  // frame is, and reads a first fragment's tunnel and inner headers as a capture cut short.
  DecoderConfig config;
  config.reassemble_fragments = false;
  Decoder d(config);
  LinkSpec tagged;
  tagged.vlans = {{0x8100, 901, 0}};
  TcpFrameSpec spec = smtp_segment();
  spec.tcp.payload = Bytes(600, 'x');
  IpSpec outer = outer_ip();
  outer.id = 0x4242;
  const Bytes tunnel = gre(GreSpec{0x88be, false, std::nullopt, 1}, erspan_type2(300, build_tcp_frame(spec)));
  const std::vector<Bytes> fragments = test_support::build_ipv4_fragments(tagged, outer, 47, tunnel, 256);
  BOOST_REQUIRE(fragments.size() == 3u);
  const LookedFragment* looked = nullptr;
  const auto look = [&](const Bytes& frame, uint32_t captured = 0) {
    d.frame = frame;
    return d.decoder.decode_looking(view_of(d.frame, LinkType::kEthernet, 0, captured), d.out, looked);
  };

  // The first: the inner segment's facts, inside ERSPAN session 300; the fragment named.
  BOOST_TEST((look(fragments[0]) == DecodeResult::kTcp));
  BOOST_REQUIRE(looked != nullptr);
  BOOST_TEST(d.out.src == ip_address("192.0.2.1"));
  BOOST_TEST(d.out.dst_port == 25);
  BOOST_TEST(d.out.tunnel.id == 300u);
  BOOST_TEST(d.out.payload_length == 600u);  // from the inner IP header
  BOOST_TEST(d.out.captured_payload_length < 600u);  // what the fragment holds
  BOOST_TEST(looked->key.src == ip_address("10.200.0.1"));
  BOOST_TEST(looked->key.dst == ip_address("10.200.0.2"));
  BOOST_TEST(looked->key.id == 0x4242u);
  BOOST_TEST(looked->key.protocol == 47);
  BOOST_TEST(looked->key.scope == 0u);
  BOOST_TEST(looked->offset_bytes == 0u);
  BOOST_TEST(looked->length == 256u);
  BOOST_TEST(looked->more_fragments);
  BOOST_TEST(looked->vlan_count == 1);
  BOOST_TEST(looked->vlan_ids[0] == 901);

  // A later one: held (nothing kept), named, the outer header's addresses in `out`.
  BOOST_TEST((look(fragments[2]) == DecodeResult::kFragmentHeld));
  BOOST_REQUIRE(looked != nullptr);
  BOOST_TEST(looked->offset_bytes == 512u);
  BOOST_TEST(!looked->more_fragments);
  BOOST_TEST(looked->length == tunnel.size() - 512u);
  BOOST_TEST(d.out.src == ip_address("10.200.0.1"));
  BOOST_TEST(d.decoder.reassembler().datagrams_in_progress() == 0u);

  // A first fragment too short for the inner headers: dropped, still named.
  const std::vector<Bytes> tiny = test_support::build_ipv4_fragments(tagged, outer, 47, tunnel, 32);
  BOOST_TEST((look(tiny[0]) == DecodeResult::kDropped));
  BOOST_TEST(looked != nullptr);

  // Not a fragment: nothing named.
  BOOST_TEST((look(inner_frame()) == DecodeResult::kTcp));
  BOOST_TEST(looked == nullptr);

  // IPv6: the fragment header's id and next header.
  const IpSpec outer6 = outer_ip(6);
  const std::vector<Bytes> v6 = test_support::build_ipv6_fragments({}, outer6, 47, tunnel, 512, 0x01020304);
  BOOST_REQUIRE(v6.size() == 2u);
  BOOST_TEST((look(v6[0]) == DecodeResult::kTcp));
  BOOST_REQUIRE(looked != nullptr);
  BOOST_TEST(looked->key.id == 0x01020304u);
  BOOST_TEST(looked->key.protocol == 47);
  BOOST_TEST(d.out.tunnel.id == 300u);
  BOOST_TEST((look(v6[1]) == DecodeResult::kFragmentHeld));
  BOOST_REQUIRE(looked != nullptr);
  BOOST_TEST(looked->offset_bytes == 512u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::dataplane
