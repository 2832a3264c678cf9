// PacketDecoder's fast path against its layer loop: generated frames — bare and in VXLAN, TCP and
// UDP, with the cases either side of the line between the two paths (IP options, fragments, total
// lengths 0, short or past the frame, bad TCP data offsets, tunnel ports configured or not, the
// VXLAN I flag, inner VLAN tags, IPv6 inside and out, tunnels inside the tunnel) — at every capture
// length, and thousands of random corruptions of them, go through decode() and through
// decode_layer_loop() on two decoders of the same configuration. Every DecodedPacket field (the
// tunnel's too, and `out` filled with garbage before the fast path runs) and every counter must
// be the same; a frame the fast path declines must have counted nothing. The shapes the fast path
// exists for must be taken by it, or the comparison would prove nothing.
#include "dataplane/decode/packet_decoder.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "tests/support/packet_builder.h"

namespace misdirect::dataplane {

// Declared a friend by PacketDecoder: the fast path on its own.
struct PacketDecoderFastPathPeer {
  static DecodeResult decode_fast(PacketDecoder& decoder, const PacketView& packet, DecodedPacket& out) {
    return decoder.decode_fast(packet, out);
  }
};

namespace {

using test_support::Bytes;
using test_support::build_frame;
using test_support::build_tcp_segment;
using test_support::build_udp_datagram;
using test_support::bytes_of;
using test_support::IpSpec;
using test_support::LinkSpec;
using test_support::TcpSpec;
using test_support::VlanTag;

static_assert(std::is_trivially_copyable_v<DecodedPacket>, "the garbage fill below needs memset");

// The first field that differs, named, or "" when every field is the same. Payload pointers are
// compared as pointers (both decoders read the same frame) unless the datagram was reassembled
// (each decoder's own buffer): then by content.
std::string difference(const DecodedPacket& a, const DecodedPacket& b) {
  std::ostringstream out;
  const auto field = [&out](const char* name, auto x, auto y) {
    if (x != y && out.tellp() == 0) {
      out << name << ": " << +x << " vs " << +y;
    }
  };
  const auto address = [&out](const char* name, const IpAddress& x, const IpAddress& y) {
    if (!(x == y) && out.tellp() == 0) {
      out << name << " differs";
    }
  };
  field("timestamp_ns", a.timestamp_ns, b.timestamp_ns);
  address("src", a.src, b.src);
  address("dst", a.dst, b.dst);
  field("ip_protocol", a.ip_protocol, b.ip_protocol);
  field("ip_bytes", a.ip_bytes, b.ip_bytes);
  field("reassembled", a.reassembled, b.reassembled);
  field("vlan_ids[0]", a.vlan_ids[0], b.vlan_ids[0]);
  field("vlan_ids[1]", a.vlan_ids[1], b.vlan_ids[1]);
  field("vlan_count", a.vlan_count, b.vlan_count);
  field("src_port", a.src_port, b.src_port);
  field("dst_port", a.dst_port, b.dst_port);
  field("tcp_flags", a.tcp_flags, b.tcp_flags);
  field("seq", a.seq, b.seq);
  field("ack", a.ack, b.ack);
  field("payload_length", a.payload_length, b.payload_length);
  field("captured_payload_length", a.captured_payload_length, b.captured_payload_length);
  if (out.tellp() == 0) {
    const bool same_payload =
        a.reassembled ? (a.payload == nullptr) == (b.payload == nullptr) &&
                            (a.payload == nullptr ||
                             std::memcmp(a.payload, b.payload, a.captured_payload_length) == 0)
                      : a.payload == b.payload;
    if (!same_payload) {
      out << "payload differs";
    }
  }
  const TunnelInfo& x = a.tunnel;
  const TunnelInfo& y = b.tunnel;
  for (std::size_t i = 0; i < TunnelInfo::kMaxLayers; ++i) {
    field("tunnel.layers[i]", static_cast<int>(x.layers[i]), static_cast<int>(y.layers[i]));
  }
  field("tunnel.layer_count", x.layer_count, y.layer_count);
  field("tunnel.depth", x.depth, y.depth);
  field("tunnel.id_kind", static_cast<int>(x.id_kind), static_cast<int>(y.id_kind));
  field("tunnel.id", x.id, y.id);
  field("tunnel.outer_protocol", x.outer_protocol, y.outer_protocol);
  field("tunnel.outer_src_port", x.outer_src_port, y.outer_src_port);
  field("tunnel.outer_dst_port", x.outer_dst_port, y.outer_dst_port);
  address("tunnel.outer_src", x.outer_src, y.outer_src);
  address("tunnel.outer_dst", x.outer_dst, y.outer_dst);
  return out.str();
}

// A decoder's three counter tables at one moment, as one array (names looked up on a difference).
struct Counters {
  static constexpr std::size_t kDecode = std::size(kDecodeCounterInfo);
  static constexpr std::size_t kEncapsulation = std::size(kEncapsulationCounterInfo);
  static constexpr std::size_t kSize = kDecode + kEncapsulation + std::size(kIpReassemblerCounterInfo);

  explicit Counters(const PacketDecoder& decoder) {
    std::size_t at = 0;
    for (const uint64_t value : decoder.counters().values()) {
      values[at++] = value;
    }
    for (const uint64_t value : decoder.encapsulation_counters().values()) {
      values[at++] = value;
    }
    for (const uint64_t value : decoder.reassembler_counters().values()) {
      values[at++] = value;
    }
  }
  static std::string_view name(std::size_t i) {
    if (i < kDecode) {
      return kDecodeCounterInfo[i].name;
    }
    if (i < kDecode + kEncapsulation) {
      return kEncapsulationCounterInfo[i - kDecode].name;
    }
    return kIpReassemblerCounterInfo[i - kDecode - kEncapsulation].name;
  }
  // What was counted since `before`.
  Counters since(const Counters& before) const {
    Counters delta = *this;
    for (std::size_t i = 0; i < kSize; ++i) {
      delta.values[i] -= before.values[i];
    }
    return delta;
  }
  std::array<uint64_t, kSize> values{};
};

// The first counter that differs, or "".
std::string counter_difference(const Counters& a, const Counters& b) {
  for (std::size_t i = 0; i < Counters::kSize; ++i) {
    if (a.values[i] != b.values[i]) {
      return std::string(Counters::name(i)) + ": " + std::to_string(a.values[i]) + " vs " +
             std::to_string(b.values[i]);
    }
  }
  return "";
}

// One frame as a source hands it over, with what it is for the messages.
struct Case {
  std::string name;
  Bytes frame;
  bool fast_shape = false;  // whole and untouched, the fast path must take it
};

// Feeds frames to three decoders of one configuration: `fast` (decode_fast, then the loop when
// it declines: what decode() does, observed step by step), `entry` (decode() itself) and
// `loop` (decode_layer_loop only), and compares after every frame.
class Comparison {
 public:
  explicit Comparison(const DecoderConfig& config) : fast_(config), entry_(config), loop_(config) {}

  // Returns whether the fast path took the frame.
  bool feed(const std::string& name, const Bytes& frame, uint32_t captured, uint32_t wire,
            uint64_t timestamp_ns) {
    // Only the captured bytes, in a buffer of exactly that size: under AddressSanitizer (the ASan
    // build runs this suite too) a read past the capture is an error, not a read of the rest.
    const std::size_t length = std::min<std::size_t>(captured, frame.size());
    const std::unique_ptr<uint8_t[]> bytes(new uint8_t[std::max<std::size_t>(length, 1)]);
    std::memcpy(bytes.get(), frame.data(), length);
    PacketView view;
    view.data = bytes.get();
    view.captured_length = captured;
    view.wire_length = wire;
    view.timestamp_ns = timestamp_ns;
    view.link_type = LinkType::kEthernet;
    ++fed_;

    DecodedPacket fast_out;
    DecodedPacket entry_out;
    DecodedPacket loop_out;
    std::memset(static_cast<void*>(&fast_out), 0xa5, sizeof(fast_out));
    std::memset(static_cast<void*>(&entry_out), 0x5a, sizeof(entry_out));
    const Counters fast_before(fast_);
    const Counters entry_before(entry_);
    const Counters loop_before(loop_);
    DecodeResult fast_result = PacketDecoderFastPathPeer::decode_fast(fast_, view, fast_out);
    const bool taken = fast_result != DecodeResult::kDropped;
    if (!taken) {
      if (const std::string diff = counter_difference(Counters(fast_), fast_before); !diff.empty()) {
        fail(name, captured, wire, "declined but counted " + diff);
      }
      fast_result = fast_.decode_layer_loop(view, fast_out);
    }
    const DecodeResult entry_result = entry_.decode(view, entry_out);
    const DecodeResult loop_result = loop_.decode_layer_loop(view, loop_out);

    if (fast_result != loop_result || entry_result != loop_result) {
      fail(name, captured, wire,
           "result " + std::to_string(static_cast<int>(fast_result)) + " / " +
               std::to_string(static_cast<int>(entry_result)) + " vs loop " +
               std::to_string(static_cast<int>(loop_result)));
    } else if (loop_result == DecodeResult::kTcp || loop_result == DecodeResult::kOtherIp) {
      // Only these two hand `out` on; for the others the loop's partial facts are its own.
      if (const std::string diff = difference(fast_out, loop_out); !diff.empty()) {
        fail(name, captured, wire, (taken ? "fast path: " : "declined: ") + diff);
      }
      if (const std::string diff = difference(entry_out, loop_out); !diff.empty()) {
        fail(name, captured, wire, "decode(): " + diff);
      }
    }
    // What this frame counted, so that one divergence is reported once, at its frame.
    const Counters loop_counted = Counters(loop_).since(loop_before);
    if (const std::string diff = counter_difference(Counters(fast_).since(fast_before), loop_counted);
        !diff.empty()) {
      fail(name, captured, wire, (taken ? "fast path counters: " : "counters: ") + diff);
    }
    if (const std::string diff = counter_difference(Counters(entry_).since(entry_before), loop_counted);
        !diff.empty()) {
      fail(name, captured, wire, "decode() counters: " + diff);
    }
    taken_ += taken ? 1 : 0;
    return taken;
  }

  uint64_t fed() const { return fed_; }
  uint64_t taken() const { return taken_; }
  uint64_t failures() const { return failures_; }
  const PacketDecoder& loop_decoder() const { return loop_; }

 private:
  // Reports the first few differences in full; the count says how many there were.
  void fail(const std::string& name, uint32_t captured, uint32_t wire, const std::string& what) {
    if (++failures_ <= 10) {
      BOOST_ERROR(name << " (captured " << captured << ", wire " << wire << "): " << what);
    }
  }

  PacketDecoder fast_;
  PacketDecoder entry_;
  PacketDecoder loop_;
  uint64_t fed_ = 0;
  uint64_t taken_ = 0;
  uint64_t failures_ = 0;
};

// ---- The frames ----------------------------------------------------------------------------------

// The transport inside (or without) a tunnel: TCP or UDP variants, and one other protocol.
struct Transport {
  std::string name;
  uint8_t protocol = 6;
  TcpSpec tcp;
  uint16_t src_port = 0;  // UDP
  uint16_t dst_port = 0;
  Bytes udp_payload;
  bool fast_shape = true;  // a shape the fast path takes
};

std::vector<Transport> transports() {
  std::vector<Transport> list;
  const auto tcp = [&list](std::string name, auto change, bool fast = true) {
    Transport t;
    t.name = "tcp " + std::move(name);
    t.tcp.src_port = 40001;
    t.tcp.dst_port = 25;
    t.tcp.seq = 0xfffffff0u;
    t.tcp.ack = 77;
    t.tcp.payload = bytes_of("RCPT TO:<a@army.ml>\r\n");
    change(t.tcp);
    t.fast_shape = fast;
    list.push_back(t);
  };
  tcp("smtp", [](TcpSpec&) {});
  tcp("syn", [](TcpSpec& s) { s.payload.clear(); s.flags = kTcpSyn; s.options = {2, 4, 0x05, 0xb4}; });
  tcp("options", [](TcpSpec& s) { s.options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}; });
  tcp("data offset 4", [](TcpSpec& s) { s.data_offset_words = 4; }, false);
  tcp("data offset 15", [](TcpSpec& s) { s.data_offset_words = 15; }, false);
  tcp("data offset 15 with options", [](TcpSpec& s) { s.data_offset_words = 15; s.options = Bytes(40, 1); });
  const auto udp = [&list](std::string name, uint16_t src, uint16_t dst, Bytes payload, bool fast = true) {
    Transport t;
    t.name = "udp " + std::move(name);
    t.protocol = 17;
    t.src_port = src;
    t.dst_port = dst;
    t.udp_payload = std::move(payload);
    t.fast_shape = fast;
    list.push_back(t);
  };
  Bytes dns_query = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 4, 'm', 'a', 'i', 'l', 2, 'm', 'l', 0, 0, 15, 0, 1};
  udp("dns query", 53001, 53, dns_query);
  udp("dns answer", 53, 53001, dns_query);
  udp("quic", 50000, 443, Bytes(64, 0xc3));
  udp("empty", 1234, 5678, {});
  udp("vxlan-gpe", 1234, 4790, Bytes(16, 0));
  udp("gtp-u from", 2152, 9999, Bytes(16, 0));
  udp("l2tp to", 9999, 1701, Bytes(16, 0));
  udp("teredo", 3544, 9999, Bytes(16, 0));
  udp("to 8472", 1234, 8472, Bytes(16, 0));
  udp("to 6081 (geneve)", 1234, 6081, Bytes(16, 0), false);
  Transport icmp;
  icmp.name = "icmp";
  icmp.protocol = 1;
  icmp.fast_shape = false;
  list.push_back(icmp);
  return list;
}

// The IP header variants around a transport.
struct IpVariant {
  std::string name;
  void (*change)(IpSpec&);
  bool fast_shape;
};

const std::vector<IpVariant>& ip_variants() {
  static const std::vector<IpVariant> list = {
      {"ipv4", [](IpSpec&) {}, true},
      {"ipv4 df", [](IpSpec& ip) { ip.dont_fragment = true; }, true},
      {"ipv4 options", [](IpSpec& ip) { ip.ipv4_options = {1, 1, 1, 0}; }, false},
      {"ipv4 ihl 4", [](IpSpec& ip) { ip.ihl_words = 4; }, false},
      {"ipv4 version 5", [](IpSpec& ip) { ip.version_field = 5; }, false},
      {"ipv4 first fragment", [](IpSpec& ip) { ip.more_fragments = true; }, false},
      {"ipv4 later fragment", [](IpSpec& ip) { ip.fragment_offset_bytes = 8; }, false},
      {"ipv4 total length 0", [](IpSpec& ip) { ip.total_length = 0; }, false},
      {"ipv4 total length 20", [](IpSpec& ip) { ip.total_length = 20; }, false},
      {"ipv4 total length 27", [](IpSpec& ip) { ip.total_length = 27; }, false},
      {"ipv4 total length 35", [](IpSpec& ip) { ip.total_length = 35; }, false},
      {"ipv4 total length 1500", [](IpSpec& ip) { ip.total_length = 1500; }, false},
      {"ipv6", [](IpSpec& ip) { ip.version = 6; }, false},
  };
  return list;
}

Bytes transport_bytes(const Transport& t, const IpSpec& ip) {
  if (t.protocol == 6) {
    return build_tcp_segment(ip, t.tcp);
  }
  if (t.protocol == 17) {
    return build_udp_datagram(ip, t.src_port, t.dst_port, t.udp_payload);
  }
  return {8, 0, 0xf7, 0xff, 0, 0, 0, 0};  // ICMP echo request
}

// The ways a frame is wrapped: bare, or in VXLAN with outer and tunnel variants.
struct Wrapping {
  std::string name;
  bool vxlan = false;
  uint16_t port = 4789;
  uint8_t flags = 0x08;
  std::vector<VlanTag> outer_vlans;
  std::vector<VlanTag> inner_vlans;  // bare: the frame's own tags
  void (*outer_change)(IpSpec&) = [](IpSpec&) {};
  uint32_t min_frame_bytes = 0;
  bool fast_shape = true;
};

std::vector<Wrapping> wrappings() {
  std::vector<Wrapping> list;
  const auto add = [&list](std::string name, bool vxlan, auto change) {
    Wrapping w;
    w.name = std::move(name);
    w.vxlan = vxlan;
    change(w);
    list.push_back(w);
  };
  add("bare", false, [](Wrapping&) {});
  add("bare padded", false, [](Wrapping& w) { w.min_frame_bytes = 60; });
  add("bare vlan", false, [](Wrapping& w) { w.inner_vlans = {{0x8100, 10}}; w.fast_shape = false; });
  add("vxlan", true, [](Wrapping&) {});
  add("vxlan padded", true, [](Wrapping& w) { w.min_frame_bytes = 128; });
  add("vxlan port 8472", true, [](Wrapping& w) { w.port = 8472; });
  add("vxlan no i flag", true, [](Wrapping& w) { w.flags = 0x00; w.fast_shape = false; });
  add("vxlan gbp flags", true, [](Wrapping& w) { w.flags = 0x88; });
  add("vxlan outer vlan", true, [](Wrapping& w) { w.outer_vlans = {{0x8100, 300}}; w.fast_shape = false; });
  add("vxlan inner vlan", true, [](Wrapping& w) { w.inner_vlans = {{0x8100, 42}}; w.fast_shape = false; });
  add("vxlan inner qinq", true, [](Wrapping& w) {
    w.inner_vlans = {{0x88a8, 1}, {0x8100, 2}};
    w.fast_shape = false;
  });
  add("vxlan outer df", true, [](Wrapping& w) { w.outer_change = [](IpSpec& ip) { ip.dont_fragment = true; }; });
  add("vxlan outer options", true, [](Wrapping& w) {
    w.outer_change = [](IpSpec& ip) { ip.ipv4_options = {1, 1, 1, 0}; };
    w.fast_shape = false;
  });
  add("vxlan outer fragment", true, [](Wrapping& w) {
    w.outer_change = [](IpSpec& ip) { ip.more_fragments = true; };
    w.fast_shape = false;
  });
  add("vxlan outer total length 0", true, [](Wrapping& w) {
    w.outer_change = [](IpSpec& ip) { ip.total_length = 0; };
    w.fast_shape = false;
  });
  add("vxlan outer ipv6", true, [](Wrapping& w) {
    w.outer_change = [](IpSpec& ip) { ip.version = 6; };
    w.fast_shape = false;
  });
  return list;
}

Bytes wrap(const Wrapping& w, const Bytes& l3, uint8_t version) {
  LinkSpec inner_link;
  inner_link.vlans = w.inner_vlans;
  if (!w.vxlan) {
    inner_link.min_frame_bytes = w.min_frame_bytes;
    return test_support::build_link_frame(inner_link, l3, version);
  }
  const Bytes inner = test_support::build_link_frame(inner_link, l3, version);
  IpSpec outer;
  outer.src = "10.200.0.1";
  outer.dst = "10.200.0.2";
  w.outer_change(outer);
  if (outer.version == 6) {
    outer.src = "fd00::a";
    outer.dst = "fd00::b";
  }
  LinkSpec outer_link;
  outer_link.vlans = w.outer_vlans;
  outer_link.min_frame_bytes = w.min_frame_bytes;
  return build_frame(outer_link, outer, 17, build_udp_datagram(outer, 49152, w.port, test_support::vxlan(5001, inner, w.flags)));
}

std::vector<Case> cases() {
  std::vector<Case> list;
  for (const Wrapping& w : wrappings()) {
    for (const Transport& t : transports()) {
      for (const IpVariant& v : ip_variants()) {
        IpSpec ip;
        v.change(ip);
        const Bytes l3 = test_support::build_ip_packet(ip, t.protocol, transport_bytes(t, ip));
        Case c;
        c.name = w.name + " / " + v.name + " / " + t.name;
        c.frame = wrap(w, l3, ip.version);
        c.fast_shape = w.fast_shape && t.fast_shape && v.fast_shape;
        list.push_back(std::move(c));
      }
    }
  }
  // A tunnel in the tunnel: the inner datagram goes to a VXLAN port again (the loop's, and with
  // a depth bound of 1 dropped and counted).
  Wrapping vxlan;
  vxlan.name = "vxlan";
  vxlan.vxlan = true;
  IpSpec ip;
  TcpSpec tcp;
  tcp.payload = bytes_of("EHLO x\r\n");
  const Bytes innermost = test_support::build_link_frame({}, test_support::build_ip_packet(ip, 6, build_tcp_segment(ip, tcp)), 4);
  const Bytes middle = test_support::build_ip_packet(ip, 17, build_udp_datagram(ip, 1234, 4789, test_support::vxlan(9, innermost)));
  list.push_back({"vxlan in vxlan", wrap(vxlan, middle, 4), false});
  return list;
}

// Every case whole, at every capture length (the wire length the frame's), and whole with a
// wire length the source did not know (0) or longer than captured.
void compare_all(Comparison& comparison, bool check_shapes) {
  for (const Case& c : cases()) {
    const auto size = static_cast<uint32_t>(c.frame.size());
    const bool whole = comparison.feed(c.name, c.frame, size, size, 1'000 + size);
    if (check_shapes && c.fast_shape && !whole) {
      BOOST_ERROR(c.name << ": not taken by the fast path");
    }
    comparison.feed(c.name + " (wire 0)", c.frame, size, 0, 7);
    comparison.feed(c.name + " (wire +100)", c.frame, size, size + 100, 7);
    for (uint32_t cut = 1; cut < size; ++cut) {
      comparison.feed(c.name, c.frame, cut, size, cut);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(packet_decoder_fast_path)

BOOST_AUTO_TEST_CASE(every_generated_frame_decodes_the_same_both_ways) {
  Comparison comparison{DecoderConfig{}};
  compare_all(comparison, true);
  BOOST_TEST(comparison.failures() == 0u);
  // The comparison covers both paths in earnest: many frames taken, many declined.
  BOOST_TEST(comparison.taken() > 5'000u);
  BOOST_TEST(comparison.fed() - comparison.taken() > 5'000u);
  BOOST_TEST(comparison.loop_decoder().encapsulation_counters().get(EncapsulationCounter::kVxlan) > 1'000u);
}

BOOST_AUTO_TEST_CASE(tunnel_port_configurations_decode_the_same_both_ways) {
  // 8472 as a second VXLAN port; VXLAN off (4789 is then plain UDP); GENEVE off and VXLAN on
  // 6081; a depth bound of 1 (a second tunnel is then dropped, counted, by the loop).
  std::vector<DecoderConfig> configs(4);
  configs[0].vxlan_ports = {4789, 8472};
  configs[1].vxlan_ports = {};
  configs[2].geneve_ports = {};
  configs[2].vxlan_ports = {6081};
  configs[3].max_encapsulation_depth = 1;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    BOOST_TEST_CONTEXT("configuration " << i) {
      Comparison comparison{configs[i]};
      compare_all(comparison, false);
      BOOST_TEST(comparison.failures() == 0u);
      BOOST_TEST(comparison.taken() > 1'000u);
    }
  }
}

BOOST_AUTO_TEST_CASE(random_corruptions_decode_the_same_both_ways) {
  // Each of the fast path's shapes with a few bytes of its headers overwritten at random, cut at
  // a random length: what a fuzzer would try at the line between the paths.
  std::mt19937 random(20261202);
  std::vector<Case> shapes;
  for (Case& c : cases()) {
    if (c.fast_shape) {
      shapes.push_back(std::move(c));
    }
  }
  BOOST_TEST_REQUIRE(shapes.size() > 10u);
  Comparison comparison{DecoderConfig{}};
  for (int round = 0; round < 60'000; ++round) {
    Bytes frame = shapes[random() % shapes.size()].frame;
    const int changes = 1 + static_cast<int>(random() % 3);
    for (int i = 0; i < changes; ++i) {
      // Mostly the headers (the first 104 bytes hold every header the fast path reads).
      const std::size_t at = random() % std::min<std::size_t>(frame.size(), 104);
      frame[at] = random() % 4 == 0 ? static_cast<uint8_t>(frame[at] ^ (1u << (random() % 8)))
                                    : static_cast<uint8_t>(random());
    }
    const auto size = static_cast<uint32_t>(frame.size());
    const uint32_t captured = random() % 4 == 0 ? 1 + random() % size : size;
    comparison.feed("corruption " + std::to_string(round), frame, captured, size, round);
  }
  BOOST_TEST(comparison.failures() == 0u);
  BOOST_TEST(comparison.taken() > 10'000u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::dataplane
