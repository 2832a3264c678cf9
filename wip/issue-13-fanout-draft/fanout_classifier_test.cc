// Tests for FanoutClassifier: the software fan-out's hash is the inner flow's — symmetric, keyed
// by the tunnel identity, blind to outer addresses — and every fragment meets its flow.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "dataplane/decode/fanout_classifier.h"
#include "dataplane/worker.h"
#include "tests/support/packet_builder.h"

using misdirect::dataplane::DecoderConfig;
using misdirect::dataplane::FanoutClassifier;
using misdirect::dataplane::LinkType;
using misdirect::test_support::Bytes;
using misdirect::test_support::IpSpec;
using misdirect::test_support::TcpFrameSpec;
using misdirect::test_support::build_frame;
using misdirect::test_support::build_tcp_frame;
using misdirect::test_support::build_udp_datagram;
using misdirect::test_support::bytes_of;
using misdirect::test_support::view_of;
using misdirect::test_support::vxlan;

namespace {

// One TCP segment of `client`:`port` ↔ `server`:25, client → server or the reverse.
Bytes segment(const std::string& client, uint16_t port, const std::string& server, bool from_client = true,
              std::vector<misdirect::test_support::VlanTag> vlans = {}) {
  TcpFrameSpec spec;
  spec.ip.version = client.find(':') != std::string::npos ? 6 : 4;
  spec.ip.src = from_client ? client : server;
  spec.ip.dst = from_client ? server : client;
  spec.tcp.src_port = from_client ? port : 25;
  spec.tcp.dst_port = from_client ? 25 : port;
  spec.tcp.payload = bytes_of("RCPT TO:<x@army.ml>\r\n");
  spec.link.vlans = std::move(vlans);
  return build_tcp_frame(spec);
}

// `frame` in VXLAN `vni` from `outer_src` to the collector.
Bytes in_vxlan(const Bytes& frame, uint32_t vni, const std::string& outer_src = "192.0.2.10") {
  IpSpec outer;
  outer.src = outer_src;
  outer.dst = "192.0.2.99";
  return build_frame({}, outer, 17, build_udp_datagram(outer, 49320, 4789, vxlan(vni, frame)));
}

struct Classifier {
  explicit Classifier(uint64_t seed = 0) : classifier(DecoderConfig{}, seed) {}
  uint64_t operator()(const Bytes& frame, LinkType link = LinkType::kEthernet) {
    return classifier.hash(view_of(frame, link, 1));
  }
  FanoutClassifier classifier;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(fanout_classifier)

BOOST_AUTO_TEST_CASE(both_directions_hash_alike_over_ipv4_and_ipv6_and_vlans) {
  Classifier hash;
  for (const auto& [client, server] : {std::pair<std::string, std::string>{"10.0.0.5", "10.0.0.25"},
                                       {"2001:db8::5", "2001:db8::25"}}) {
    BOOST_TEST_CONTEXT(client) {
      const uint64_t forward = hash(segment(client, 40001, server, true, {{0x8100, 100, 0}}));
      BOOST_TEST(forward != 0u);
      BOOST_TEST(forward == hash(segment(client, 40001, server, false, {{0x8100, 100, 0}})));
      // The VLAN is part of the flow, as in the flow key.
      BOOST_TEST(forward != hash(segment(client, 40001, server, true, {{0x8100, 101, 0}})));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_tunnelled_flow_hashes_by_its_inner_flow_not_by_the_mirror) {
  Classifier hash;
  const uint64_t inner = hash(in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25"), 7));
  // Both directions, and a direction another mirror delivers, meet.
  BOOST_TEST(inner == hash(in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25", false), 7)));
  BOOST_TEST(inner == hash(in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25", false), 7, "198.51.100.7")));
  // Another tenant's identical 5-tuple is another flow; so is another inner flow behind the same
  // outer pair.
  BOOST_TEST(inner != hash(in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25"), 8)));
  BOOST_TEST(inner != hash(in_vxlan(segment("10.0.0.6", 40001, "10.0.0.25"), 7)));
}

BOOST_AUTO_TEST_CASE(one_mirrors_flows_spread_over_workers) {
  // What a hash of the outer header cannot do: 64 tenant flows behind one outer address pair
  // reach both of two workers, and each of four.
  Classifier hash;
  for (const uint32_t workers : {2u, 4u}) {
    std::vector<int> per_worker(workers, 0);
    for (int host = 1; host <= 64; ++host) {
      const Bytes frame = in_vxlan(segment("10.0.1." + std::to_string(host), 40001, "10.0.0.25"), 7);
      ++per_worker[FanoutClassifier::pick(hash(frame), workers)];
    }
    for (uint32_t w = 0; w < workers; ++w) {
      BOOST_TEST_CONTEXT("workers " << workers << ", worker " << w) { BOOST_TEST(per_worker[w] >= 64 / workers / 2); }
    }
  }
}

BOOST_AUTO_TEST_CASE(every_fragment_of_an_inner_datagram_meets_its_flow) {
  Classifier hash;
  const uint64_t flow = hash(in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25"), 7));
  TcpFrameSpec spec;
  spec.ip.src = "10.0.0.5";
  spec.ip.dst = "10.0.0.25";
  spec.ip.id = 77;
  spec.tcp.src_port = 40001;
  spec.tcp.payload = bytes_of("RCPT TO:<a-long-recipient-name@army.ml>\r\n");
  const Bytes l4 = misdirect::test_support::build_tcp_segment(spec.ip, spec.tcp);
  const auto fragments = misdirect::test_support::build_ipv4_fragments({}, spec.ip, 6, l4, 16);
  BOOST_REQUIRE(fragments.size() >= 3u);
  for (const Bytes& fragment : fragments) {
    BOOST_TEST(hash(in_vxlan(fragment, 7)) == flow);
  }
  // Plain (untunnelled) fragments meet their flow too, the first, the middle and the last.
  const uint64_t plain = hash(segment("10.0.0.5", 40001, "10.0.0.25"));
  for (const Bytes& fragment : fragments) {
    BOOST_TEST(hash(fragment) == plain);
  }
}

BOOST_AUTO_TEST_CASE(outer_fragments_stay_together) {
  // A tunnel packet cut on the way: its fragments carry no inner header after the first, so all
  // go by the outer pair, and together.
  Classifier hash;
  IpSpec outer;
  outer.src = "192.0.2.10";
  outer.dst = "192.0.2.99";
  outer.id = 9;
  const Bytes datagram = build_udp_datagram(outer, 49320, 4789, vxlan(7, segment("10.0.0.5", 40001, "10.0.0.25")));
  const auto fragments = misdirect::test_support::build_ipv4_fragments({}, outer, 17, datagram, 32);
  BOOST_REQUIRE(fragments.size() >= 3u);
  std::set<uint64_t> hashes;
  for (const Bytes& fragment : fragments) {
    hashes.insert(hash(fragment));
  }
  BOOST_TEST(hashes.size() == 1u);
  BOOST_TEST(*hashes.begin() != 0u);
}

BOOST_AUTO_TEST_CASE(frames_it_cannot_place_hash_to_zero) {
  Classifier hash;
  Bytes arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  BOOST_TEST(hash(arp) == 0u);
  const Bytes whole = segment("10.0.0.5", 40001, "10.0.0.25");
  for (std::size_t length = 0; length < 14 + 20; ++length) {
    BOOST_TEST(hash(Bytes(whole.begin(), whole.begin() + static_cast<long>(length))) == 0u);
  }
}

BOOST_AUTO_TEST_CASE(the_tunnel_ports_are_the_workers) {
  // The classifier opens what the workers' decoder opens: VXLAN on 8472 only when configured.
  misdirect::dataplane::WorkerConfig config;
  config.vxlan_ports = {8472};
  FanoutClassifier custom(misdirect::dataplane::decoder_config(config));
  Classifier standard;
  IpSpec outer;
  outer.src = "192.0.2.10";
  outer.dst = "192.0.2.99";
  const auto on_port = [&](uint16_t port, const std::string& client) {
    return build_frame({}, outer, 17, build_udp_datagram(outer, 49320, port, vxlan(7, segment(client, 40001, "10.0.0.25"))));
  };
  const auto custom_hash = [&](const Bytes& frame) { return custom.hash(view_of(frame, LinkType::kEthernet, 1)); };
  BOOST_TEST(custom_hash(on_port(8472, "10.0.0.5")) != custom_hash(on_port(8472, "10.0.0.6")));
  BOOST_TEST(standard(on_port(8472, "10.0.0.5")) == standard(on_port(8472, "10.0.0.6")));  // plain UDP
}

BOOST_AUTO_TEST_CASE(the_seed_changes_placement_not_symmetry) {
  Classifier zero(0);
  Classifier seeded(0x5eed);
  const Bytes forward = in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25"), 7);
  const Bytes reverse = in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25", false), 7);
  BOOST_TEST(zero(forward) != seeded(forward));
  BOOST_TEST(seeded(forward) == seeded(reverse));
}

BOOST_AUTO_TEST_SUITE_END()
