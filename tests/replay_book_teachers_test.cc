// Tests for ReplayBookTeachers: which frames replay's reader takes to be unable to teach the
// learned book (a whole TCP segment off the DNS ports, as the fan-out's decoder sees it, on every
// link type replay reads and inside tunnels), everything else taken to be able to, and the quiet
// run it stamps on each packet.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <vector>

#include "control/replay_book_teachers.h"
#include "dataplane/decode/fanout_classifier.h"
#include "tests/support/packet_builder.h"

using misdirect::control::ReplayBookTeachers;
using misdirect::dataplane::DecoderConfig;
using misdirect::dataplane::FanoutClassifier;
using misdirect::dataplane::PacketView;
using misdirect::dataplane::LinkType;
using misdirect::test_support::Bytes;
using misdirect::test_support::TcpFrameSpec;
using misdirect::test_support::UdpFrameSpec;
using misdirect::test_support::view_of;

namespace {

const std::vector<uint16_t> kDnsPorts = {53};

Bytes tcp_frame(uint16_t src_port, uint16_t dst_port, uint8_t version = 4,
                LinkType link = LinkType::kEthernet) {
  TcpFrameSpec spec;
  spec.link.type = link;
  spec.ip.version = version;
  spec.tcp.src_port = src_port;
  spec.tcp.dst_port = dst_port;
  spec.tcp.payload = misdirect::test_support::bytes_of("RCPT TO:<bob@army.ml>\r\n");
  return build_tcp_frame(spec);
}

// As replay's reader asks: place the frame, then judge from that decode.
bool may_teach(FanoutClassifier& classifier, const ReplayBookTeachers& teachers, const PacketView& frame) {
  const auto placement = classifier.place(frame, 0);
  return teachers.may_teach(placement, classifier.decoded());
}

bool teaches(const Bytes& frame, LinkType link = LinkType::kEthernet, uint32_t captured = 0,
             const std::vector<uint16_t>& dns_ports = kDnsPorts) {
  FanoutClassifier classifier(DecoderConfig{}, 1);
  const ReplayBookTeachers teachers(dns_ports);
  return may_teach(classifier, teachers, view_of(frame, link, 0, captured));
}

// A tenant's frame inside VXLAN, as a cloud mirror delivers it.
Bytes in_vxlan(const Bytes& inner) {
  misdirect::test_support::IpSpec outer;
  return build_frame({}, outer, 17,
                     build_udp_datagram(outer, 50000, 4789, misdirect::test_support::vxlan(7, inner)));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replay_book_teachers)

BOOST_AUTO_TEST_CASE(a_tcp_segment_off_the_dns_ports_cannot_teach) {
  BOOST_TEST(!teaches(tcp_frame(40000, 25)));
  BOOST_TEST(!teaches(tcp_frame(25, 40000, 6)));
  for (const LinkType link : {LinkType::kLinuxSll, LinkType::kLinuxSll2, LinkType::kNull, LinkType::kRawIp}) {
    BOOST_TEST(!teaches(tcp_frame(40000, 25, 4, link), link));
    BOOST_TEST(!teaches(tcp_frame(40000, 25, 6, link), link));
  }
}

BOOST_AUTO_TEST_CASE(dns_over_tcp_teaches_either_way_on_the_configured_ports) {
  BOOST_TEST(teaches(tcp_frame(40000, 53)));
  BOOST_TEST(teaches(tcp_frame(53, 40000, 6)));
  BOOST_TEST(teaches(tcp_frame(53, 40000, 4, LinkType::kLinuxSll2), LinkType::kLinuxSll2));
  BOOST_TEST(teaches(tcp_frame(40000, 5353), LinkType::kEthernet, 0, {53, 5353}));
  BOOST_TEST(!teaches(tcp_frame(40000, 53), LinkType::kEthernet, 0, {5353}));
}

BOOST_AUTO_TEST_CASE(every_datagram_teaches) {
  UdpFrameSpec dns;
  BOOST_TEST(teaches(build_udp_frame(dns)));
  UdpFrameSpec other;
  other.src_port = 50000;
  other.dst_port = 443;
  BOOST_TEST(teaches(build_udp_frame(other)));
}

BOOST_AUTO_TEST_CASE(a_tunnel_is_judged_by_what_it_carries) {
  BOOST_TEST(!teaches(in_vxlan(tcp_frame(40000, 25))));
  BOOST_TEST(teaches(in_vxlan(tcp_frame(40000, 53))));
  UdpFrameSpec dns;
  BOOST_TEST(teaches(in_vxlan(build_udp_frame(dns))));
}

BOOST_AUTO_TEST_CASE(fragments_teach_they_may_complete_a_dns_datagram) {
  TcpFrameSpec spec;
  spec.ip.more_fragments = true;
  BOOST_TEST(teaches(build_tcp_frame(spec)));
  spec.ip.more_fragments = false;
  spec.ip.fragment_offset_bytes = 64;
  BOOST_TEST(teaches(build_tcp_frame(spec)));
  spec.ip.fragment_offset_bytes = 0;
  spec.ip.dont_fragment = true;
  BOOST_TEST(!teaches(build_tcp_frame(spec)));
  TcpFrameSpec six;
  six.ip.version = 6;
  six.ip.ipv6_ext_headers = {misdirect::test_support::ipv6_fragment_header(0, true, 7)};
  BOOST_TEST(teaches(build_tcp_frame(six)));
}

BOOST_AUTO_TEST_CASE(ports_are_read_after_ipv4_options_and_vlan_tags) {
  TcpFrameSpec options;
  options.ip.ipv4_options = {1, 1, 1, 1};  // one word of no-ops
  options.tcp.dst_port = 53;
  BOOST_TEST(teaches(build_tcp_frame(options)));
  options.tcp.dst_port = 25;
  BOOST_TEST(!teaches(build_tcp_frame(options)));
  TcpFrameSpec tagged;
  tagged.link.vlans = {{0x88a8, 100, 0}, {0x8100, 200, 0}};
  BOOST_TEST(!teaches(build_tcp_frame(tagged)));
  tagged.tcp.src_port = 53;
  BOOST_TEST(teaches(build_tcp_frame(tagged)));
}

BOOST_AUTO_TEST_CASE(what_cannot_be_read_is_taken_to_teach) {
  const Bytes frame = tcp_frame(40000, 25);
  BOOST_TEST(teaches(frame, LinkType::kEthernet, 14 + 20 + 3));  // cut inside the TCP header
  BOOST_TEST(teaches(frame, LinkType::kEthernet, 13));
  BOOST_TEST(teaches(misdirect::test_support::build_ethertype_frame({}, 0x0806, Bytes(28, 0))));  // ARP
  TcpFrameSpec other;
  other.ip.version_field = 5;
  BOOST_TEST(teaches(build_tcp_frame(other)));
}

BOOST_AUTO_TEST_CASE(ipv6_extension_headers_are_read_through) {
  TcpFrameSpec extension;
  extension.ip.version = 6;
  extension.ip.ipv6_ext_headers = {misdirect::test_support::Ipv6ExtHeader{}};  // destination options
  BOOST_TEST(!teaches(build_tcp_frame(extension)));
  extension.tcp.dst_port = 53;
  BOOST_TEST(teaches(build_tcp_frame(extension)));
}

BOOST_AUTO_TEST_CASE(each_packet_is_stamped_with_the_quiet_run_before_it) {
  FanoutClassifier classifier(DecoderConfig{}, 1);
  ReplayBookTeachers teachers(kDnsPorts);
  const Bytes smtp = tcp_frame(40000, 25);
  const Bytes dns = tcp_frame(40001, 53);
  const auto stamp = [&](const Bytes& frame) {
    return teachers.stamp(may_teach(classifier, teachers, view_of(frame)));
  };
  std::vector<uint16_t> stamps;
  for (const Bytes* frame : {&smtp, &smtp, &dns, &smtp, &smtp, &smtp, &dns, &dns}) {
    stamps.push_back(stamp(*frame));
  }
  BOOST_TEST(stamps == (std::vector<uint16_t>{0, 1, 2, 0, 1, 2, 3, 0}), boost::test_tools::per_element());
  for (int i = 0; i < 70000; ++i) {
    stamp(smtp);
  }
  BOOST_TEST(stamp(smtp) == 65535);  // capped: a lane then waits a little more
}

BOOST_AUTO_TEST_SUITE_END()
