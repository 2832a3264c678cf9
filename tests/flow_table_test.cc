// FlowTable tests: one flow for both directions, expiry by the timer wheel, eviction when full.
#include "dataplane/flow/flow_table.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

namespace misdirect::dataplane {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kStart = 1'700'000'000 * kSecond;  // packet time, as a capture has it

IpAddress ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddress address;
  address.version = 4;
  address.bytes[0] = a;
  address.bytes[1] = b;
  address.bytes[2] = c;
  address.bytes[3] = d;
  return address;
}

DecodedPacket tcp_packet(IpAddress src, uint16_t src_port, IpAddress dst, uint16_t dst_port,
                         uint8_t flags = kTcpAck, uint32_t payload_length = 0) {
  DecodedPacket packet;
  packet.src = src;
  packet.dst = dst;
  packet.src_port = src_port;
  packet.dst_port = dst_port;
  packet.ip_protocol = 6;
  packet.tcp_flags = flags;
  packet.payload_length = payload_length;
  packet.ip_bytes = 40 + payload_length;
  return packet;
}

// Client 10.0.0.<n>:40000+n → server 192.0.2.1:25.
DecodedPacket client_packet(uint32_t n, uint8_t flags = kTcpAck) {
  return tcp_packet(ipv4(10, 0, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)),
                    static_cast<uint16_t>(40000 + n), ipv4(192, 0, 2, 1), 25, flags);
}
DecodedPacket server_packet(uint32_t n, uint8_t flags = kTcpAck) {
  return tcp_packet(ipv4(192, 0, 2, 1), 25, ipv4(10, 0, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)),
                    static_cast<uint16_t>(40000 + n), flags);
}

struct Ended {
  uint64_t flow_id;
  FlowEndReason reason;
};

class RecordingEvictionSink final : public FlowEvictionSink {
 public:
  void on_flow_end(Flow& flow, FlowEndReason reason) noexcept override {
    ended.push_back({flow.flow_id, reason});
  }
  std::vector<Ended> ended;
};

FlowTableConfig small_config(uint32_t max_flows) {
  FlowTableConfig config;
  config.max_flows = max_flows;
  config.idle_timeout_ns = 60 * kSecond;
  config.closed_timeout_ns = 5 * kSecond;
  config.tick_ns = kSecond / 10;
  config.wheel_slots = 1024;
  config.worker_id = 3;
  config.flow_id_salt = 0x5eed;
  return config;
}

// Looks the packet up and accounts it, as the worker does.
FlowLookup see(FlowTable& table, const DecodedPacket& packet, uint64_t now_ns, FlowEvictionSink& sink) {
  const FlowLookup lookup = table.find_or_create(FlowKey::from_packet(packet), now_ns, sink);
  table.account(*lookup.flow, lookup.sender, packet);
  return lookup;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(flow_table)

BOOST_AUTO_TEST_CASE(flow_is_three_cache_lines) {
  BOOST_TEST(sizeof(Flow) == 192u);
  BOOST_TEST(alignof(Flow) == 64u);
}

BOOST_AUTO_TEST_CASE(a_million_flows_cost_at_most_256_bytes_each) {
  FlowTableConfig config = small_config(1u << 20);
  FlowTable table(config);
  BOOST_TEST(table.memory_bytes() / table.capacity() <= 256u);
  // The record plus 16 bytes of index (262144 buckets of 64 bytes, 57% full).
  BOOST_TEST(table.memory_bytes() / table.capacity() == sizeof(Flow) + 16);
}

BOOST_AUTO_TEST_CASE(both_directions_find_one_flow) {
  FlowTable table(small_config(16));
  RecordingEvictionSink sink;
  const DecodedPacket syn = client_packet(7, kTcpSyn);
  const DecodedPacket syn_ack = server_packet(7, kTcpSyn | kTcpAck);

  const FlowLookup first = see(table, syn, kStart, sink);
  const FlowLookup second = see(table, syn_ack, kStart + 1000, sink);
  BOOST_TEST(first.created);
  BOOST_TEST(!second.created);
  BOOST_TEST(first.flow == second.flow);
  BOOST_TEST(index_of(first.sender) != index_of(second.sender));
  // 10.0.0.7 sorts before 192.0.2.1, so the client is endpoint A.
  BOOST_TEST(index_of(first.sender) == index_of(FlowEnd::kA));
  BOOST_TEST(first.flow->packets[0] == 1u);
  BOOST_TEST(first.flow->packets[1] == 1u);
  BOOST_TEST(first.flow->ip_bytes[0] == 40u);
  BOOST_TEST(first.flow->first_seen_ns == kStart);
  BOOST_TEST(first.flow->last_seen_ns == kStart + 1000);
  BOOST_TEST(index_of(first.flow->client) == index_of(FlowEnd::kA));
  BOOST_TEST(table.active() == 1u);
  BOOST_TEST(table.counters().get(FlowCounter::kCreated) == 1u);

  // A SYN/ACK seen first still names the client: the other side.
  FlowTable other(small_config(16));
  const FlowLookup reply_first = see(other, syn_ack, kStart, sink);
  BOOST_TEST(index_of(reply_first.flow->client) == index_of(FlowEnd::kA));
  BOOST_TEST(index_of(reply_first.sender) == index_of(FlowEnd::kB));

  // Another port is another flow; VLANs separate flows too.
  BOOST_TEST(see(table, client_packet(8), kStart, sink).created);
  DecodedPacket tagged = client_packet(7);
  tagged.vlan_count = 1;
  tagged.vlan_ids[0] = 100;
  BOOST_TEST(see(table, tagged, kStart, sink).created);
  BOOST_TEST(table.active() == 3u);
  BOOST_TEST(table.find(FlowKey::from_packet(tagged, true)) != nullptr);
  BOOST_TEST(table.find(FlowKey::from_packet(client_packet(9))) == nullptr);
}

// stats.flow.tcp and stats.tcp.sessions come from kCreatedTcp, stats.flow.udp from kCreatedUdp:
// a DNS-over-UDP flow must not be counted as a TCP one.
BOOST_AUTO_TEST_CASE(created_flows_are_counted_by_protocol) {
  FlowTable table(small_config(16));
  RecordingEvictionSink sink;
  DecodedPacket query = tcp_packet(ipv4(10, 0, 0, 53), 5353, ipv4(192, 0, 2, 53), 53, 0, 30);
  query.ip_protocol = 17;
  DecodedPacket answer = tcp_packet(ipv4(192, 0, 2, 53), 53, ipv4(10, 0, 0, 53), 5353, 0, 60);
  answer.ip_protocol = 17;

  BOOST_TEST(see(table, query, kStart, sink).created);
  BOOST_TEST(!see(table, answer, kStart + 1000, sink).created);
  BOOST_TEST(table.counters().get(FlowCounter::kCreatedUdp) == 1u);
  BOOST_TEST(table.counters().get(FlowCounter::kCreatedTcp) == 0u);

  // A TCP flow on the same addresses and ports is another flow, counted as TCP.
  DecodedPacket same_ports = query;
  same_ports.ip_protocol = 6;
  same_ports.tcp_flags = kTcpSyn;
  BOOST_TEST(see(table, same_ports, kStart + 2000, sink).created);
  BOOST_TEST(see(table, client_packet(1, kTcpSyn), kStart + 3000, sink).created);
  BOOST_TEST(table.counters().get(FlowCounter::kCreatedTcp) == 2u);
  BOOST_TEST(table.counters().get(FlowCounter::kCreatedUdp) == 1u);
  BOOST_TEST(table.counters().get(FlowCounter::kCreated) == 3u);

  // A connection that replaces a closed one on the same ports is a new TCP flow.
  Flow& old = *table.find(FlowKey::from_packet(client_packet(1)));
  table.account(old, FlowEnd::kA, client_packet(1, kTcpRst));
  const FlowKey key = FlowKey::from_packet(client_packet(1, kTcpSyn));
  BOOST_TEST(table.restart(old, key, key.hash(), kStart + 4000, sink).created);
  BOOST_TEST(table.counters().get(FlowCounter::kCreatedTcp) == 3u);
  BOOST_TEST(table.counters().get(FlowCounter::kCreatedUdp) == 1u);
  BOOST_TEST(table.counters().get(FlowCounter::kCreated) == 4u);
}

BOOST_AUTO_TEST_CASE(key_and_spread_hash_are_symmetric) {
  const DecodedPacket out = client_packet(3);
  const DecodedPacket back = server_packet(3);
  const FlowKey a = FlowKey::from_packet(out);
  const FlowKey b = FlowKey::from_packet(back);
  BOOST_TEST(a.same_flow(b));
  BOOST_TEST(a.hash() == b.hash());
  BOOST_TEST(symmetric_flow_hash(out) == symmetric_flow_hash(back));
  BOOST_TEST(symmetric_flow_hash(out) != symmetric_flow_hash(client_packet(4)));
  BOOST_TEST(a.hash() != a.spread_hash());
  // Same address both ways (a connection to itself over loopback): the port orders the ends.
  DecodedPacket self = tcp_packet(ipv4(127, 0, 0, 1), 5000, ipv4(127, 0, 0, 1), 25);
  DecodedPacket self_back = tcp_packet(ipv4(127, 0, 0, 1), 25, ipv4(127, 0, 0, 1), 5000);
  BOOST_TEST(FlowKey::from_packet(self).same_flow(FlowKey::from_packet(self_back)));
  BOOST_TEST(index_of(FlowKey::from_packet(self).sender) == index_of(FlowEnd::kB));
  BOOST_TEST(index_of(FlowKey::from_packet(self_back).sender) == index_of(FlowEnd::kA));
}

BOOST_AUTO_TEST_CASE(the_first_packet_names_the_client) {
  using inspect::Direction;
  const auto is = [](Direction got, Direction want) { return got == want; };
  RecordingEvictionSink sink;
  // The client 10.0.0.<n> is end A (it sorts first); the server 192.0.2.1:25 is end B.
  struct Case {
    const char* what;
    DecodedPacket first;
    FlowEnd client;
  };
  DecodedPacket query = client_packet(5);
  query.ip_protocol = 17;
  DecodedPacket answer = server_packet(6);
  answer.ip_protocol = 17;
  answer.tcp_flags = kTcpSyn | kTcpAck;  // not TCP: flags mean nothing
  const Case cases[] = {
      {"SYN: its sender", client_packet(1, kTcpSyn), FlowEnd::kA},
      {"SYN/ACK (the SYN not captured): its receiver", server_packet(2, kTcpSyn | kTcpAck), FlowEnd::kA},
      {"midstream, the client first: the first sender", client_packet(3), FlowEnd::kA},
      {"midstream, the server first: the first sender (a guess)", server_packet(4), FlowEnd::kB},
      {"a datagram: its sender", query, FlowEnd::kA},
      {"a datagram from the server: its sender", answer, FlowEnd::kB},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      FlowTable table(small_config(16));
      const FlowLookup lookup = see(table, c.first, kStart, sink);
      Flow& flow = *lookup.flow;
      BOOST_TEST(index_of(flow.client) == index_of(c.client));
      BOOST_TEST(is(flow.direction_from(c.client), Direction::kClientToServer));
      BOOST_TEST(is(flow.direction_from(opposite(c.client)), Direction::kServerToClient));
      // Later packets, a SYN among them, leave it alone: only the port rules and app detection
      // correct it (through swap_client).
      see(table, client_packet(1, kTcpSyn), kStart + 1, sink);
      see(table, server_packet(1, kTcpSyn | kTcpAck), kStart + 2, sink);
      BOOST_TEST(index_of(flow.client) == index_of(c.client));
    }
  }
}

BOOST_AUTO_TEST_CASE(swapping_the_client_turns_every_direction_and_endpoint_round) {
  using inspect::Direction;
  const auto is = [](Direction got, Direction want) { return got == want; };
  FlowTable table(small_config(16));
  RecordingEvictionSink sink;
  // Midstream, the server spoke first: the table's guess makes it the client.
  Flow& flow = *see(table, server_packet(9), kStart, sink).flow;
  BOOST_TEST(flow.client_port() == 25u);
  BOOST_TEST(flow.server_port() == 40009u);
  BOOST_TEST(flow.client_address()[0] == 192u);
  BOOST_TEST(is(flow.direction_from(FlowEnd::kB), Direction::kClientToServer));
  flow.swap_client();
  BOOST_TEST(flow.client_port() == 40009u);
  BOOST_TEST(flow.server_port() == 25u);
  BOOST_TEST(flow.client_address()[0] == 10u);
  BOOST_TEST(flow.server_address()[0] == 192u);
  BOOST_TEST(is(flow.direction_from(FlowEnd::kA), Direction::kClientToServer));
  BOOST_TEST(is(flow.direction_from(FlowEnd::kB), Direction::kServerToClient));
}

BOOST_AUTO_TEST_CASE(port_reuse_takes_the_new_syn_sender_as_the_client) {
  FlowTable table(small_config(16));
  RecordingEvictionSink sink;
  // The old connection began midstream with the server's bytes and closed.
  Flow& old_flow = *see(table, server_packet(4), kStart, sink).flow;
  BOOST_TEST(index_of(old_flow.client) == index_of(FlowEnd::kB));
  see(table, server_packet(4, kTcpRst), kStart + 1, sink);
  const DecodedPacket syn = client_packet(4, kTcpSyn);
  BOOST_TEST(FlowTable::opens_new_connection(old_flow, syn));
  const FlowKey key = FlowKey::from_packet(syn);
  const FlowLookup restarted = table.restart(old_flow, key, key.hash(), kStart + 2, sink);
  table.account(*restarted.flow, restarted.sender, syn);
  BOOST_TEST(index_of(restarted.flow->client) == index_of(FlowEnd::kA));
}

BOOST_AUTO_TEST_CASE(flow_ids_are_unique_and_keyed_by_worker_and_salt) {
  FlowTable table(small_config(8));
  RecordingEvictionSink sink;
  std::set<uint64_t> ids;
  // 20 flows through an 8-flow table: records are reused, ids never.
  for (uint32_t n = 0; n < 20; ++n) {
    const FlowLookup lookup = see(table, client_packet(n, kTcpSyn), kStart + n * kSecond, sink);
    BOOST_TEST(lookup.created);
    BOOST_TEST(lookup.flow->flow_id == FlowIds(3, 0x5eed).permute((uint64_t{3} << 40) + n + 1));
    BOOST_TEST(lookup.flow->flow_id <= FlowIds::kIdMask);
    ids.insert(lookup.flow->flow_id);
  }
  BOOST_TEST(ids.size() == 20u);
  // Each creation past eight evicted the oldest flow, in order.
  BOOST_REQUIRE(sink.ended.size() == 12u);
  for (uint64_t i = 0; i < 12; ++i) {
    BOOST_TEST(sink.ended[i].flow_id == FlowIds(3, 0x5eed).permute((uint64_t{3} << 40) + i + 1));
  }
}

BOOST_AUTO_TEST_CASE(idle_flows_expire_after_idle_timeout) {
  FlowTable table(small_config(16));
  RecordingEvictionSink sink;
  const Flow* quiet = see(table, client_packet(1), kStart, sink).flow;
  const uint64_t quiet_id = quiet->flow_id;
  const Flow* busy = see(table, client_packet(2), kStart, sink).flow;
  const uint64_t busy_id = busy->flow_id;
  see(table, server_packet(2), kStart + 30 * kSecond, sink);

  table.advance(kStart + 60 * kSecond - 1, sink);
  BOOST_TEST(sink.ended.empty());
  table.advance(kStart + 60 * kSecond + kSecond / 10, sink);
  BOOST_REQUIRE(sink.ended.size() == 1u);
  BOOST_TEST(sink.ended[0].flow_id == quiet_id);
  BOOST_TEST(static_cast<int>(sink.ended[0].reason) == static_cast<int>(FlowEndReason::kIdleTimeout));
  BOOST_TEST(table.find(FlowKey::from_packet(client_packet(1))) == nullptr);

  // The busy flow's deadline moved with its last packet (lazily, through its old slot).
  table.advance(kStart + 90 * kSecond - 1, sink);
  BOOST_TEST(sink.ended.size() == 1u);
  table.advance(kStart + 90 * kSecond + kSecond / 10, sink);
  BOOST_REQUIRE(sink.ended.size() == 2u);
  BOOST_TEST(sink.ended[1].flow_id == busy_id);
  BOOST_TEST(table.active() == 0u);
  BOOST_TEST(table.counters().get(FlowCounter::kIdleTimeouts) == 2u);
}

BOOST_AUTO_TEST_CASE(long_time_jump_expires_everything_once) {
  FlowTable table(small_config(64));
  RecordingEvictionSink sink;
  for (uint32_t n = 0; n < 40; ++n) {
    see(table, client_packet(n), kStart + n * kSecond, sink);
  }
  // Far more than a wheel revolution (1024 × 0.1 s) later.
  table.advance(kStart + 3600 * kSecond, sink);
  BOOST_TEST(sink.ended.size() == 40u);
  BOOST_TEST(table.active() == 0u);
  // The table is usable afterwards and its index is consistent.
  BOOST_TEST(see(table, client_packet(5), kStart + 3601 * kSecond, sink).created);
  BOOST_TEST(!see(table, server_packet(5), kStart + 3601 * kSecond, sink).created);
}

BOOST_AUTO_TEST_CASE(closed_flows_expire_after_closed_timeout) {
  FlowTable table(small_config(16));
  RecordingEvictionSink sink;
  const uint64_t fin_id = see(table, client_packet(1, kTcpFin | kTcpAck), kStart, sink).flow->flow_id;
  const Flow* half = see(table, client_packet(2, kTcpFin | kTcpAck), kStart, sink).flow;
  const Flow* fin_flow = see(table, server_packet(1, kTcpFin | kTcpAck), kStart + kSecond, sink).flow;
  BOOST_TEST(fin_flow->closed());
  BOOST_TEST(!half->closed());
  const uint64_t rst_id = see(table, server_packet(3, kTcpRst), kStart + kSecond, sink).flow->flow_id;

  // A late reply inside the closed timeout is still seen and moves the deadline.
  BOOST_TEST(!see(table, client_packet(1), kStart + 5 * kSecond, sink).created);
  table.advance(kStart + 6 * kSecond - 1, sink);
  BOOST_TEST(sink.ended.empty());
  table.advance(kStart + 6 * kSecond + kSecond / 10, sink);
  BOOST_REQUIRE(sink.ended.size() == 1u);
  BOOST_TEST(sink.ended[0].flow_id == rst_id);
  table.advance(kStart + 10 * kSecond + kSecond / 10, sink);
  BOOST_REQUIRE(sink.ended.size() == 2u);
  BOOST_TEST(sink.ended[1].flow_id == fin_id);
  BOOST_TEST(static_cast<int>(sink.ended[1].reason) == static_cast<int>(FlowEndReason::kClosed));
  BOOST_TEST(table.counters().get(FlowCounter::kClosedTimeouts) == 2u);
  BOOST_TEST(table.counters().get(FlowCounter::kClosed) == 2u);
  BOOST_TEST(table.counters().get(FlowCounter::kResets) == 1u);
  BOOST_TEST(table.active() == 1u);  // the half-closed flow waits for its idle timeout
}

BOOST_AUTO_TEST_CASE(full_table_evicts_the_oldest_idle_flow) {
  FlowTable table(small_config(4));
  RecordingEvictionSink sink;
  std::vector<uint64_t> ids;
  for (uint32_t n = 0; n < 4; ++n) {
    ids.push_back(see(table, client_packet(n), kStart + n * kSecond, sink).flow->flow_id);
  }
  // Flow 0 is active again: flow 1 is now the oldest idle one.
  see(table, server_packet(0), kStart + 4 * kSecond, sink);
  const FlowLookup fifth = see(table, client_packet(4), kStart + 5 * kSecond, sink);
  BOOST_TEST(fifth.created);
  BOOST_REQUIRE(sink.ended.size() == 1u);
  BOOST_TEST(sink.ended[0].flow_id == ids[1]);
  BOOST_TEST(static_cast<int>(sink.ended[0].reason) == static_cast<int>(FlowEndReason::kEvicted));
  BOOST_TEST(table.counters().get(FlowCounter::kEvicted) == 1u);
  BOOST_TEST(table.counters().get(FlowCounter::kEvictedOpen) == 1u);
  BOOST_TEST(table.find(FlowKey::from_packet(client_packet(1))) == nullptr);
  BOOST_TEST(table.find(FlowKey::from_packet(client_packet(0))) != nullptr);
  BOOST_TEST(table.active() == 4u);

  // A closed flow goes before any open one, however recent.
  see(table, client_packet(3, kTcpRst), kStart + 6 * kSecond, sink);
  see(table, client_packet(5), kStart + 7 * kSecond, sink);
  BOOST_REQUIRE(sink.ended.size() == 2u);
  BOOST_TEST(sink.ended[1].flow_id == ids[3]);
  BOOST_TEST(table.counters().get(FlowCounter::kEvictedOpen) == 1u);
}

BOOST_AUTO_TEST_CASE(drain_ends_every_flow) {
  FlowTable table(small_config(32));
  RecordingEvictionSink sink;
  for (uint32_t n = 0; n < 10; ++n) {
    see(table, client_packet(n), kStart, sink);
  }
  see(table, client_packet(0, kTcpRst), kStart, sink);
  table.drain(sink);
  BOOST_TEST(sink.ended.size() == 10u);
  for (const Ended& ended : sink.ended) {
    BOOST_TEST(static_cast<int>(ended.reason) == static_cast<int>(FlowEndReason::kShutdown));
  }
  BOOST_TEST(table.active() == 0u);
  BOOST_TEST(table.counters().get(FlowCounter::kShutdown) == 10u);
  BOOST_TEST(table.find(FlowKey::from_packet(client_packet(4))) == nullptr);
}

BOOST_AUTO_TEST_CASE(time_going_backwards_counts_as_latest) {
  FlowTable table(small_config(8));
  RecordingEvictionSink sink;
  see(table, client_packet(1), kStart + 10 * kSecond, sink);
  const FlowLookup earlier = see(table, client_packet(2), kStart, sink);
  BOOST_TEST(earlier.flow->first_seen_ns == kStart + 10 * kSecond);
  BOOST_TEST(table.counters().get(FlowCounter::kTimeBackwards) == 1u);
  BOOST_TEST(table.now_ns() == kStart + 10 * kSecond);
}

BOOST_AUTO_TEST_CASE(index_stays_consistent_under_churn) {
  // Many flows through a table at its full size: every live flow is found, every ended one is not.
  constexpr uint32_t kFlows = 2000;
  FlowTable table(small_config(kFlows));
  RecordingEvictionSink sink;
  for (uint32_t round = 0; round < 3; ++round) {
    // In bursts of 32, with the two prefetch stages the worker uses.
    for (uint32_t burst = 0; burst < kFlows; burst += 32) {
      std::vector<FlowKey> keys;
      std::vector<uint64_t> hashes;
      for (uint32_t n = burst; n < std::min(burst + 32, kFlows); ++n) {
        keys.push_back(FlowKey::from_packet(client_packet(round * kFlows + n)));
        hashes.push_back(keys.back().hash());
        table.prefetch_bucket(hashes.back());
      }
      for (const uint64_t hash : hashes) {
        table.prefetch_flow(hash);
      }
      for (std::size_t i = 0; i < keys.size(); ++i) {
        BOOST_TEST(table.find_or_create(keys[i], hashes[i], kStart + round * 100 * kSecond, sink).created);
      }
    }
    BOOST_TEST(table.active() == kFlows);
    uint32_t found = 0;
    for (uint32_t n = 0; n < kFlows; ++n) {
      found += table.find(FlowKey::from_packet(server_packet(round * kFlows + n))) != nullptr ? 1 : 0;
    }
    BOOST_TEST(found == kFlows);
    if (round > 0) {
      BOOST_TEST(table.find(FlowKey::from_packet(client_packet((round - 1) * kFlows))) == nullptr);
    }
    // Round 0 ends by idle timeout, round 1 by eviction in round 2.
    if (round == 0) {
      table.advance(kStart + 99 * kSecond, sink);
      BOOST_TEST(table.active() == 0u);
    }
  }
  BOOST_TEST(table.counters().get(FlowCounter::kIdleTimeouts) == kFlows);
  BOOST_TEST(table.counters().get(FlowCounter::kEvicted) == kFlows);
}

BOOST_AUTO_TEST_CASE(bad_configuration_is_refused) {
  FlowTableConfig config = small_config(0);
  BOOST_CHECK_THROW(FlowTable{config}, std::invalid_argument);
  config = small_config(8);
  config.wheel_slots = 1000;
  BOOST_CHECK_THROW(FlowTable{config}, std::invalid_argument);
  config = small_config(8);
  config.idle_timeout_ns = 0;
  BOOST_CHECK_THROW(FlowTable{config}, std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::dataplane
