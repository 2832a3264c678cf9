// Tests for FanoutClassifier: the fan-out's placement is the inner flow's — symmetric, keyed by
// the tunnel identity, blind to outer addresses — every fragment meets the rest of its datagram,
// an outer-fragmented tunnel packet goes with its inner flow (its first fragment decides, the
// others follow or wait for it), and frames it cannot place go to worker 0.
#include "dataplane/decode/fanout_classifier.h"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/worker.h"
#include "tests/support/packet_builder.h"

using misdirect::dataplane::DecoderConfig;
using misdirect::dataplane::FanoutBasis;
using misdirect::dataplane::FanoutClassifier;
using misdirect::dataplane::FanoutFragmentConfig;
using misdirect::dataplane::FanoutFragmentCounter;
using misdirect::dataplane::FanoutPlacement;
using misdirect::dataplane::LinkType;
using misdirect::test_support::Bytes;
using misdirect::test_support::build_frame;
using misdirect::test_support::build_ipv4_fragments;
using misdirect::test_support::build_ipv6_fragments;
using misdirect::test_support::build_tcp_frame;
using misdirect::test_support::build_tcp_segment;
using misdirect::test_support::build_udp_datagram;
using misdirect::test_support::bytes_of;
using misdirect::test_support::erspan_type2;
using misdirect::test_support::gre;
using misdirect::test_support::GreSpec;
using misdirect::test_support::IpSpec;
using misdirect::test_support::LinkSpec;
using misdirect::test_support::TcpFrameSpec;
using misdirect::test_support::view_of;
using misdirect::test_support::VlanTag;
using misdirect::test_support::vxlan;

namespace {

constexpr uint64_t kSeed = 0x5eed;

TcpFrameSpec segment_spec(const std::string& client, uint16_t port, const std::string& server, bool from_client,
                          std::vector<VlanTag> vlans = {}) {
  TcpFrameSpec spec;
  spec.ip.version = client.find(':') != std::string::npos ? 6 : 4;
  spec.ip.src = from_client ? client : server;
  spec.ip.dst = from_client ? server : client;
  spec.tcp.src_port = from_client ? port : 25;
  spec.tcp.dst_port = from_client ? 25 : port;
  spec.tcp.payload = bytes_of(from_client ? "RCPT TO:<x@army.ml>\r\n" : "250 ok\r\n");
  spec.link.vlans = std::move(vlans);
  return spec;
}

// One TCP segment of `client`:`port` ↔ `server`:25, client → server or the reverse.
Bytes segment(const std::string& client, uint16_t port, const std::string& server, bool from_client = true,
              std::vector<VlanTag> vlans = {}) {
  return build_tcp_frame(segment_spec(client, port, server, from_client, std::move(vlans)));
}

IpSpec outer_ip(const std::string& src, const std::string& dst = "192.0.2.99") {
  IpSpec outer;
  outer.src = src;
  outer.dst = dst;
  return outer;
}

// `frame` in VXLAN `vni`, sent by `outer_src` to the collector.
Bytes in_vxlan(const Bytes& frame, uint32_t vni, const std::string& outer_src = "192.0.2.10",
               uint16_t port = 4789) {
  const IpSpec outer = outer_ip(outer_src);
  return build_frame({}, outer, 17, build_udp_datagram(outer, 49320, port, vxlan(vni, frame)));
}

struct Classifier {
  explicit Classifier(uint64_t seed = kSeed, const DecoderConfig& config = DecoderConfig{})
      : classifier(config, seed) {}
  FanoutPlacement place(const Bytes& frame, LinkType link = LinkType::kEthernet, uint32_t captured = 0) {
    return classifier.place(view_of(frame, link, 1, captured), 0);
  }
  FanoutPlacement place(const Bytes& frame, uint64_t now_ns) {
    return classifier.place(view_of(frame, LinkType::kEthernet, 1, 0), now_ns);
  }
  uint64_t operator()(const Bytes& frame, LinkType link = LinkType::kEthernet) { return place(frame, link).hash; }
  FanoutClassifier classifier;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(fanout_classifier)

BOOST_AUTO_TEST_CASE(both_directions_hash_alike_over_ipv4_ipv6_and_vlans) {
  Classifier hash;
  for (const auto& [client, server] :
       {std::pair<std::string, std::string>{"10.0.0.5", "10.0.0.25"}, {"2001:db8::5", "2001:db8::25"}}) {
    BOOST_TEST_CONTEXT(client) {
      const FanoutPlacement forward = hash.place(segment(client, 40001, server, true, {{0x8100, 100, 0}}));
      BOOST_TEST(forward.hash != 0u);
      BOOST_TEST((forward.basis == FanoutBasis::kFlow));
      BOOST_TEST(forward.hash == hash(segment(client, 40001, server, false, {{0x8100, 100, 0}})));
      // The VLAN is part of the flow, as in the flow key.
      BOOST_TEST(forward.hash != hash(segment(client, 40001, server, true, {{0x8100, 101, 0}})));
      // Ports are not hashed (fragments after the first have none): another connection of the
      // same two hosts goes to the same worker.
      BOOST_TEST(forward.hash == hash(segment(client, 40002, server, true, {{0x8100, 100, 0}})));
    }
  }
}

BOOST_AUTO_TEST_CASE(every_link_type_replay_reads_places_a_flow_alike) {
  // Replay's captures come in other link types; the flow is the same flow.
  Classifier hash;
  const TcpFrameSpec spec = segment_spec("10.0.0.5", 40001, "10.0.0.25", true);
  const uint64_t ethernet = hash(build_tcp_frame(spec));
  for (const LinkType link : {LinkType::kLinuxSll, LinkType::kLinuxSll2, LinkType::kRawIp, LinkType::kNull}) {
    LinkSpec other;
    other.type = link;
    BOOST_TEST(hash(build_frame(other, spec.ip, 6, build_tcp_segment(spec.ip, spec.tcp)), link) == ethernet);
  }
}

BOOST_AUTO_TEST_CASE(a_tunnelled_flow_is_placed_by_its_inner_flow_not_by_the_mirror) {
  Classifier hash;
  const FanoutPlacement inner = hash.place(in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25"), 7));
  BOOST_TEST((inner.basis == FanoutBasis::kTunnelledFlow));
  // Both directions meet, and so does a direction another mirror delivers, or the mirror sends
  // to another collector address: outer addresses do not matter.
  BOOST_TEST(inner.hash == hash(in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25", false), 7)));
  BOOST_TEST(inner.hash == hash(in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25", false), 7, "198.51.100.7")));
  const IpSpec elsewhere = outer_ip("203.0.113.1", "203.0.113.2");
  BOOST_TEST(inner.hash == hash(build_frame({}, elsewhere, 17,
                                            build_udp_datagram(elsewhere, 1, 4789,
                                                               vxlan(7, segment("10.0.0.5", 40001, "10.0.0.25"))))));
  // Another tenant's identical 5-tuple is another flow; so is another inner flow behind the
  // same outer pair. Neither is the outer pair's own hash.
  BOOST_TEST(inner.hash != hash(in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25"), 8)));
  BOOST_TEST(inner.hash != hash(in_vxlan(segment("10.0.0.6", 40001, "10.0.0.25"), 7)));
  BOOST_TEST(inner.hash != hash(segment("192.0.2.10", 49320, "192.0.2.99")));
}

BOOST_AUTO_TEST_CASE(tenants_with_one_inner_tuple_can_go_to_different_workers) {
  // VNI 1..32 all carry 10.0.0.5:40001 → 10.0.0.25:25: both of two workers get some.
  Classifier hash;
  std::set<uint32_t> workers;
  for (uint32_t vni = 1; vni <= 32; ++vni) {
    workers.insert(FanoutClassifier::pick(hash(in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25"), vni)), 2));
  }
  BOOST_TEST(workers.size() == 2u);
}

BOOST_AUTO_TEST_CASE(one_mirrors_flows_spread_over_the_workers) {
  // What a hash of the outer header cannot do: 64 tenant flows behind one outer address pair
  // reach every one of two, and of four, workers, each with a fair share.
  Classifier hash;
  for (const uint32_t workers : {2u, 4u}) {
    std::vector<int> per_worker(workers, 0);
    for (int host = 1; host <= 64; ++host) {
      const Bytes frame = in_vxlan(segment("10.0.1." + std::to_string(host), 40001, "10.0.0.25"), 7);
      ++per_worker[FanoutClassifier::pick(hash(frame), workers)];
    }
    for (uint32_t w = 0; w < workers; ++w) {
      BOOST_TEST_CONTEXT("workers " << workers << ", worker " << w) {
        BOOST_TEST(per_worker[w] >= static_cast<int>(64 / workers / 2));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(every_fragment_of_a_plain_or_inner_datagram_meets_its_flow) {
  Classifier hash;
  TcpFrameSpec spec = segment_spec("10.0.0.5", 40001, "10.0.0.25", true);
  spec.ip.id = 77;
  spec.tcp.payload = bytes_of("RCPT TO:<a-long-recipient-name@army.ml>\r\n");
  const Bytes l4 = build_tcp_segment(spec.ip, spec.tcp);
  const auto fragments = build_ipv4_fragments({}, spec.ip, 6, l4, 16);
  BOOST_REQUIRE(fragments.size() >= 3u);
  // Untunnelled: the first (with ports), the middle and the last (without) go with the flow.
  const uint64_t plain = hash(segment("10.0.0.5", 40001, "10.0.0.25", false));
  for (const Bytes& fragment : fragments) {
    const FanoutPlacement placed = hash.place(fragment);
    BOOST_TEST((placed.basis == FanoutBasis::kFragment));
    BOOST_TEST(placed.hash == plain);
  }
  // Inside VXLAN: with the inner flow, the tunnel identity kept.
  const uint64_t inner = hash(in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25", false), 7));
  for (const Bytes& fragment : fragments) {
    BOOST_TEST(hash(in_vxlan(fragment, 7, "198.51.100.7")) == inner);
  }
  // IPv6 fragments too.
  TcpFrameSpec v6 = segment_spec("2001:db8::5", 40001, "2001:db8::25", true);
  const auto v6_fragments = build_ipv6_fragments({}, v6.ip, 6, build_tcp_segment(v6.ip, v6.tcp), 16, 9);
  BOOST_REQUIRE(v6_fragments.size() >= 2u);
  for (const Bytes& fragment : v6_fragments) {
    BOOST_TEST(hash(fragment) == hash(segment("2001:db8::5", 40001, "2001:db8::25", false)));
  }
}

BOOST_AUTO_TEST_CASE(a_tunnel_packet_cut_in_tiny_fragments_stays_together_by_its_outer_pair) {
  // A tunnel packet cut on the way to the sensor into pieces so small that the first does not
  // hold the inner headers: all of them go by the outer pair — together, to one worker, which
  // reassembles them — and the case is counted. Copies place alike.
  Classifier hash;
  IpSpec outer = outer_ip("192.0.2.10");
  outer.id = 9;
  const Bytes datagram = build_udp_datagram(outer, 49320, 4789, vxlan(7, segment("10.0.0.5", 40001, "10.0.0.25")));
  const auto fragments = build_ipv4_fragments({}, outer, 17, datagram, 32);
  BOOST_REQUIRE(fragments.size() >= 3u);
  std::set<uint64_t> hashes;
  for (const Bytes& fragment : fragments) {
    const FanoutPlacement placed = hash.place(fragment);
    BOOST_TEST((placed.basis == FanoutBasis::kFragment));
    hashes.insert(placed.hash);
    // Cut short by the capture (or in a chained mbuf): placed all the same.
    BOOST_TEST(hash.place(fragment, LinkType::kEthernet, 14 + 20).hash == placed.hash);
  }
  BOOST_TEST(hashes.size() == 1u);
  BOOST_TEST(*hashes.begin() != 0u);
  BOOST_TEST(hash(fragments.back()) == *hashes.begin());
  BOOST_TEST(hash.classifier.fragment_counters().get(FanoutFragmentCounter::kFirstFragmentShort) == 2u);
}

namespace {

// An inner SMTP segment from `client` with a long payload, in VXLAN `vni` from the mirror
// 192.0.2.10, as the IPv4 fragments of `fragment_bytes` the path to the sensor cut it into.
std::vector<Bytes> fragmented_vxlan(const std::string& client, uint32_t vni, uint16_t id,
                                    uint32_t fragment_bytes) {
  TcpFrameSpec spec = segment_spec(client, 40001, "10.0.0.25", true);
  spec.tcp.payload = Bytes(900, 'x');
  IpSpec outer = outer_ip("192.0.2.10");
  outer.id = id;
  const Bytes datagram = build_udp_datagram(outer, 49320, 4789, vxlan(vni, build_tcp_frame(spec)));
  return build_ipv4_fragments({}, outer, 17, datagram, fragment_bytes);
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_outer_fragmented_tunnel_packet_goes_with_its_inner_flow) {
  // The mirror cut this packet (and not the flow's others): every fragment must reach the
  // worker of the inner flow, not the outer pair's.
  Classifier hash;
  const uint64_t inner = hash(in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25", false), 7));
  const uint64_t outer_pair = hash.place(fragmented_vxlan("10.0.0.5", 7, 5, 64)[0]).hash;  // tiny first
  BOOST_REQUIRE(inner != outer_pair);
  const auto fragments = fragmented_vxlan("10.0.0.5", 7, 9, 512);
  BOOST_REQUIRE(fragments.size() == 2u);
  for (const Bytes& fragment : fragments) {
    const FanoutPlacement placed = hash.place(fragment);
    BOOST_TEST((placed.basis == FanoutBasis::kFragmentByInnerFlow));
    BOOST_TEST(placed.hash == inner);
    BOOST_TEST(hash.classifier.released().empty());
  }
  BOOST_TEST(hash.classifier.fragment_counters().get(FanoutFragmentCounter::kByInnerFlow) == 2u);
}

BOOST_AUTO_TEST_CASE(fragments_before_their_first_wait_and_leave_with_it_in_arrival_order) {
  Classifier hash;
  const uint64_t inner = hash(in_vxlan(segment("10.0.0.6", 40001, "10.0.0.25", false), 7));
  const auto fragments = fragmented_vxlan("10.0.0.6", 7, 11, 256);
  BOOST_REQUIRE(fragments.size() == 4u);
  std::vector<uint16_t> held;
  for (const std::size_t index : {3u, 1u, 2u}) {
    const FanoutPlacement placed = hash.place(fragments[index]);
    BOOST_TEST((placed.basis == FanoutBasis::kHeld));
    held.push_back(placed.held_slot);
  }
  BOOST_TEST(hash.classifier.holding());
  // A frame of another flow meanwhile releases nothing.
  BOOST_TEST(hash(segment("10.0.0.5", 40001, "10.0.0.25")) != 0u);
  BOOST_TEST(hash.classifier.released().empty());
  const FanoutPlacement first = hash.place(fragments[0]);
  BOOST_TEST((first.basis == FanoutBasis::kFragmentByInnerFlow));
  BOOST_TEST(first.hash == inner);
  std::vector<uint16_t> released;
  for (const auto& release : hash.classifier.released()) {
    BOOST_TEST(release.hash == inner);
    released.push_back(release.slot);
  }
  BOOST_TEST(released == held, boost::test_tools::per_element());
  BOOST_TEST(!hash.classifier.holding());
}

BOOST_AUTO_TEST_CASE(held_fragments_whose_first_never_comes_go_by_the_outer_pair_in_time) {
  Classifier hash;
  const auto fragments = fragmented_vxlan("10.0.0.7", 7, 12, 256);
  const uint64_t outer_pair = hash.place(fragmented_vxlan("10.0.0.7", 7, 13, 64)[0]).hash;  // tiny first
  const FanoutPlacement held = hash.place(fragments[2], 0);
  BOOST_TEST((held.basis == FanoutBasis::kHeld));
  hash.classifier.expire(FanoutFragmentConfig{}.hold_timeout_ns - 1);
  BOOST_TEST(hash.classifier.released().empty());
  hash.classifier.expire(FanoutFragmentConfig{}.hold_timeout_ns);
  BOOST_REQUIRE(hash.classifier.released().size() == 1u);
  BOOST_TEST(hash.classifier.released()[0].slot == held.held_slot);
  BOOST_TEST(hash.classifier.released()[0].hash == outer_pair);
  // The rest of that datagram follows it, the late first fragment too.
  BOOST_TEST(hash.place(fragments[0], FanoutFragmentConfig{}.hold_timeout_ns + 1).hash == outer_pair);
  BOOST_TEST(hash.place(fragments[1], FanoutFragmentConfig{}.hold_timeout_ns + 1).hash == outer_pair);
}

BOOST_AUTO_TEST_CASE(an_erspan_packet_over_ipv6_cut_in_two_goes_with_its_inner_flow) {
  // ERSPAN type II over GRE over IPv6, fragmented (IPv6 fragment header): the same rule.
  Classifier hash;
  const Bytes inner_frame = segment("10.0.0.8", 40001, "10.0.0.25");
  IpSpec outer;
  outer.version = 6;
  outer.src = "2001:db8:ff::1";
  outer.dst = "2001:db8:ff::2";
  GreSpec spec;
  spec.protocol = 0x88be;
  spec.sequence = 1;
  TcpFrameSpec big = segment_spec("10.0.0.8", 40001, "10.0.0.25", true);
  big.tcp.payload = Bytes(700, 'y');
  const Bytes whole = build_frame({}, outer, 47, gre(spec, erspan_type2(33, inner_frame)));
  const uint64_t inner = hash(whole);
  const auto fragments = build_ipv6_fragments({}, outer, 47, gre(spec, erspan_type2(33, build_tcp_frame(big))), 512, 77);
  BOOST_REQUIRE(fragments.size() == 2u);
  BOOST_TEST((hash.place(fragments[1]).basis == FanoutBasis::kHeld));
  const FanoutPlacement first = hash.place(fragments[0]);
  BOOST_TEST(first.hash == inner);
  BOOST_REQUIRE(hash.classifier.released().size() == 1u);
  BOOST_TEST(hash.classifier.released()[0].hash == inner);
}

BOOST_AUTO_TEST_CASE(frames_it_cannot_place_hash_to_zero) {
  Classifier hash;
  Bytes arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  const FanoutPlacement placed = hash.place(arp);
  BOOST_TEST(placed.hash == 0u);
  BOOST_TEST((placed.basis == FanoutBasis::kUnplaced));
  BOOST_TEST(FanoutClassifier::pick(0, 7) == 0u);
  const Bytes whole = segment("10.0.0.5", 40001, "10.0.0.25");
  for (std::size_t length = 0; length < 14 + 20; ++length) {
    BOOST_TEST_CONTEXT("length " << length) {
      BOOST_TEST(hash(Bytes(whole.begin(), whole.begin() + static_cast<long>(length))) == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(nesting_past_the_depth_bound_is_not_placed) {
  // The classifier walks as deep as the workers' bound and no deeper: a crafted loop ends there.
  DecoderConfig shallow;
  shallow.max_encapsulation_depth = 1;
  Classifier hash(kSeed, shallow);
  const Bytes once = in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25"), 7);
  BOOST_TEST(hash(once) != 0u);
  BOOST_TEST(hash(in_vxlan(once, 8)) == 0u);
  Classifier deep;
  BOOST_TEST(deep(in_vxlan(once, 8)) != 0u);
}

BOOST_AUTO_TEST_CASE(the_tunnel_ports_are_the_workers) {
  // The classifier opens what the workers' decoder opens: VXLAN on 8472 only when configured.
  misdirect::dataplane::WorkerConfig config;
  config.vxlan_ports = {8472};
  Classifier custom(kSeed, misdirect::dataplane::decoder_config(config, 1));
  Classifier standard;
  const auto on_port = [](uint16_t port, const std::string& client) {
    return in_vxlan(segment(client, 40001, "10.0.0.25"), 7, "192.0.2.10", port);
  };
  BOOST_TEST(custom(on_port(8472, "10.0.0.5")) != custom(on_port(8472, "10.0.0.6")));
  BOOST_TEST(custom(on_port(4789, "10.0.0.5")) == custom(on_port(4789, "10.0.0.6")));  // plain UDP now
  BOOST_TEST(standard(on_port(8472, "10.0.0.5")) == standard(on_port(8472, "10.0.0.6")));
}

BOOST_AUTO_TEST_CASE(the_seed_changes_placement_not_symmetry) {
  Classifier one(1);
  Classifier other(0x5eed);
  const Bytes forward = in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25"), 7);
  const Bytes reverse = in_vxlan(segment("10.0.0.5", 40001, "10.0.0.25", false), 7, "198.51.100.7");
  BOOST_TEST(one(forward) != other(forward));
  BOOST_TEST(one(forward) == one(reverse));
  BOOST_TEST(other(forward) == other(reverse));
}

BOOST_AUTO_TEST_SUITE_END()
