// TcpReassembler tests: ordering, duplicates, overlaps, wrap-around, gaps, memcaps, FIN/RST.
#include "dataplane/flow/tcp_stream.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/flow/flow_table.h"

namespace misdirect::dataplane {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kStart = 1'700'000'000 * kSecond;
constexpr FlowEnd kAB = FlowEnd::kA;
constexpr FlowEnd kBA = FlowEnd::kB;

// Writes what each end sends as text: data as is, a gap as "[gap N]", the end as "[end]".
class TextSink final : public StreamSink {
 public:
  void on_stream_data(Flow& flow, inspect::Direction direction, std::span<const uint8_t> bytes) noexcept override {
    text[index_of(flow.sender_of(direction))].append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  void on_stream_gap(Flow& flow, inspect::Direction direction, uint64_t missing_bytes) noexcept override {
    text[index_of(flow.sender_of(direction))] += "[gap " + std::to_string(missing_bytes) + "]";
  }
  void on_stream_end(Flow& flow, inspect::Direction direction) noexcept override {
    text[index_of(flow.sender_of(direction))] += "[end]";
  }
  std::string text[2];  // by FlowEnd
};

TcpReassemblerConfig small_config() {
  TcpReassemblerConfig config;
  config.stream_memcap_bytes = 64 * 1024;
  config.memcap_bytes = 256 * 1024;
  config.gap_wait_ns = 5 * kSecond;
  return config;
}

// One test's reassembler, sink and flows; packets' payloads stay alive in `payloads_`.
class Harness {
 public:
  explicit Harness(const TcpReassemblerConfig& config = small_config()) : reassembler(config) {}

  void send(Flow& flow, FlowEnd direction, uint32_t seq, std::string_view payload,
            uint8_t flags = kTcpAck, uint64_t now_ns = kStart, uint32_t captured = UINT32_MAX) {
    payloads_.emplace_back(payload);
    DecodedPacket packet;
    packet.ip_protocol = 6;
    packet.tcp_flags = flags;
    packet.seq = seq;
    packet.payload = reinterpret_cast<const uint8_t*>(payloads_.back().data());
    packet.payload_length = static_cast<uint32_t>(payload.size());
    packet.captured_payload_length = std::min<uint32_t>(captured, packet.payload_length);
    reassembler.on_segment(flow, direction, packet, now_ns, sink);
  }
  void send(uint32_t seq, std::string_view payload, uint8_t flags = kTcpAck, uint64_t now_ns = kStart) {
    send(flow, kAB, seq, payload, flags, now_ns);
  }
  // A client SYN with ISN `isn`: data starts at isn + 1.
  void syn(uint32_t isn, uint64_t now_ns = kStart) { send(isn, "", kTcpSyn, now_ns); }

  uint64_t counter(ReassemblyCounter counter) const { return reassembler.counters().get(counter); }
  const std::string& text(FlowEnd sender = kAB) const { return sink.text[index_of(sender)]; }

  TcpReassembler reassembler;
  TextSink sink;
  Flow flow;

 private:
  std::deque<std::string> payloads_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(tcp_stream)

// Records each delivery's direction, its bytes and the stream's next_seq as the call sees it, and
// swaps the flow's client on the second delivery, as the worker's app detection does when the end
// it took for the server answers a greeting.
class SwappingSink final : public StreamSink {
 public:
  struct Call {
    inspect::Direction direction;
    std::string bytes;
    uint32_t next_seq;
  };
  void on_stream_data(Flow& flow, inspect::Direction direction, std::span<const uint8_t> bytes) noexcept override {
    calls.push_back({direction, std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                     flow.stream(direction).next_seq.value()});
    if (calls.size() == 2) {
      flow.swap_client();
    }
  }
  void on_stream_gap(Flow&, inspect::Direction, uint64_t) noexcept override {}
  void on_stream_end(Flow&, inspect::Direction) noexcept override {}
  std::vector<Call> calls;
};

BOOST_AUTO_TEST_CASE(each_delivery_names_its_direction_as_the_client_is_at_that_call) {
  // A's held bytes are delivered in the same on_segment as the byte that fills the hole; the
  // sink swaps the client on that byte, so the held bytes after it travel server → client, and
  // flow.stream(direction) is still A's stream.
  TcpReassembler reassembler(small_config());
  SwappingSink sink;
  Flow flow;  // client: A
  std::deque<std::string> payloads;
  const auto send = [&](uint32_t seq, std::string_view payload, uint8_t flags) {
    payloads.emplace_back(payload);
    DecodedPacket packet;
    packet.ip_protocol = 6;
    packet.tcp_flags = flags;
    packet.seq = seq;
    packet.payload = reinterpret_cast<const uint8_t*>(payloads.back().data());
    packet.payload_length = static_cast<uint32_t>(payload.size());
    packet.captured_payload_length = packet.payload_length;
    reassembler.on_segment(flow, FlowEnd::kA, packet, kStart, sink);
  };
  send(1000, "", kTcpSyn);
  send(1006, "mx\r\n", kTcpAck);  // held: 1001..1005 missing
  send(1001, "220 ", kTcpAck);     // fills most of the hole
  send(1005, "x", kTcpAck);        // fills the rest: "x", then the held bytes
  BOOST_REQUIRE_EQUAL(sink.calls.size(), 3u);
  BOOST_TEST((sink.calls[0].direction == inspect::Direction::kClientToServer));
  BOOST_TEST(sink.calls[0].bytes == "220 ");
  BOOST_TEST(sink.calls[0].next_seq == 1005u);
  BOOST_TEST((sink.calls[1].direction == inspect::Direction::kClientToServer));
  BOOST_TEST(sink.calls[1].bytes == "x");
  BOOST_TEST(sink.calls[1].next_seq == 1006u);
  BOOST_TEST((sink.calls[2].direction == inspect::Direction::kServerToClient));
  BOOST_TEST(sink.calls[2].bytes == "mx\r\n");
  BOOST_TEST(sink.calls[2].next_seq == 1010u);
  BOOST_TEST(&flow.stream(inspect::Direction::kServerToClient) == &flow.stream(FlowEnd::kA));
}

BOOST_AUTO_TEST_CASE(in_order_bytes_are_delivered_from_the_packet) {
  Harness h;
  h.syn(1000);
  h.send(1001, "EHLO ");
  h.send(1006, "mx.example\r\n");
  BOOST_TEST(h.text() == "EHLO mx.example\r\n");
  BOOST_TEST(h.counter(ReassemblyCounter::kBytesInOrder) == 17u);
  BOOST_TEST(h.counter(ReassemblyCounter::kSegmentsHeld) == 0u);
  BOOST_TEST(h.reassembler.pieces_in_use() == 0u);
  BOOST_TEST(h.flow.stream(kAB).syn_seen());
  BOOST_TEST(!h.flow.stream(kAB).midstream());
}

BOOST_AUTO_TEST_CASE(syn_ack_synchronises_the_server_direction) {
  Harness h;
  h.syn(1000);
  h.send(h.flow, kBA, 5000, "", kTcpSyn | kTcpAck);
  h.send(h.flow, kBA, 5001, "220 mx ESMTP\r\n");
  BOOST_TEST(h.text(kBA) == "220 mx ESMTP\r\n");
  BOOST_TEST(h.counter(ReassemblyCounter::kMidstreamPickups) == 0u);
}

BOOST_AUTO_TEST_CASE(reordered_segments_are_delivered_in_order) {
  Harness h;
  h.syn(1000);
  h.send(1012, "!");
  h.send(1007, "world");
  BOOST_TEST(h.text().empty());
  BOOST_TEST(h.flow.stream(kAB).held_bytes == 6u);
  h.send(1001, "hello ");
  BOOST_TEST(h.text() == "hello world!");
  BOOST_TEST(h.counter(ReassemblyCounter::kSegmentsHeld) == 2u);
  BOOST_TEST(h.counter(ReassemblyCounter::kBytesFromHeld) == 6u);
  BOOST_TEST(h.counter(ReassemblyCounter::kBytesInOrder) == 6u);
  BOOST_TEST(h.flow.stream(kAB).held_bytes == 0u);
  BOOST_TEST(h.reassembler.pieces_in_use() == 0u);
  BOOST_TEST(h.reassembler.bytes_held() == 0u);
}

BOOST_AUTO_TEST_CASE(duplicates_are_delivered_once) {
  Harness h;
  h.syn(1000);
  h.send(1001, "abc");
  h.send(1001, "abc");  // duplicate of delivered bytes
  h.send(1007, "ghi");
  h.send(1007, "ghi");  // duplicate of held bytes
  h.send(1004, "def");
  BOOST_TEST(h.text() == "abcdefghi");
  BOOST_TEST(h.counter(ReassemblyCounter::kRetransmissions) == 1u);
  BOOST_TEST(h.counter(ReassemblyCounter::kRetransmittedBytes) == 3u);
  BOOST_TEST(h.counter(ReassemblyCounter::kOverlaps) == 1u);
  BOOST_TEST(h.counter(ReassemblyCounter::kOverlapsDiffer) == 0u);
  BOOST_TEST(h.counter(ReassemblyCounter::kSegmentsHeld) == 1u);
}

BOOST_AUTO_TEST_CASE(retransmission_overlapping_delivered_bytes_is_trimmed) {
  Harness h;
  h.syn(1000);
  h.send(1001, "hello");
  h.send(1003, "llo world");
  BOOST_TEST(h.text() == "hello world");
  BOOST_TEST(h.counter(ReassemblyCounter::kPartialRetransmissions) == 1u);
  BOOST_TEST(h.counter(ReassemblyCounter::kRetransmittedBytes) == 3u);
}

BOOST_AUTO_TEST_CASE(overlap_with_same_bytes_is_not_an_anomaly) {
  Harness h;
  h.syn(1000);
  h.send(1007, "world");
  h.send(1005, "o wor");   // overlaps the held "wor"
  h.send(1001, "hello");   // overlaps the held "o"
  BOOST_TEST(h.text() == "hello world");
  BOOST_TEST(h.counter(ReassemblyCounter::kOverlaps) == 2u);
  BOOST_TEST(h.counter(ReassemblyCounter::kOverlapsDiffer) == 0u);
}

BOOST_AUTO_TEST_CASE(overlap_with_differing_bytes_keeps_the_first_and_counts) {
  Harness h;
  h.syn(1000);
  h.send(1007, "WORLD");
  h.send(1001, "hello world");  // in order, but its last five bytes were held first
  BOOST_TEST(h.text() == "hello WORLD");
  BOOST_TEST(h.counter(ReassemblyCounter::kOverlapsDiffer) == 1u);

  // Between held segments too: the second only fills what the first did not hold.
  Harness g;
  g.syn(1000);
  g.send(1004, "def");
  g.send(1004, "XYZghi");
  g.send(1001, "abc");
  BOOST_TEST(g.text() == "abcdefghi");
  BOOST_TEST(g.counter(ReassemblyCounter::kOverlapsDiffer) == 1u);
  BOOST_TEST(g.counter(ReassemblyCounter::kOverlaps) == 1u);
}

BOOST_AUTO_TEST_CASE(sequence_numbers_wrap_at_2_pow_32) {
  Harness h;
  h.syn(0xfffffff0u);  // data starts at 0xfffffff1; 15 bytes before the wrap
  h.send(0xfffffff1u + 10, "abcdefghij");  // crosses the wrap, held
  h.send(0x00000005u, "KLM");              // after the wrap, held
  h.send(0xfffffff1u, "0123456789");
  BOOST_TEST(h.text() == "0123456789abcdefghijKLM");
  BOOST_TEST(h.flow.stream(kAB).next_seq.value() == 0x00000008u);
  h.send(0x00000008u, "n");
  h.send(0xfffffff1u, "0123");  // an old retransmission from before the wrap
  BOOST_TEST(h.text() == "0123456789abcdefghijKLMn");
  BOOST_TEST(h.counter(ReassemblyCounter::kRetransmissions) == 1u);
}

BOOST_AUTO_TEST_CASE(hole_becomes_a_gap_after_the_wait) {
  Harness h;
  h.syn(1000, kStart);
  h.send(1001, "aaaa", kTcpAck, kStart + kSecond);
  h.send(1009, "cccc", kTcpAck, kStart + 2 * kSecond);  // 1005..1009 missing
  h.reassembler.advance(kStart + 7 * kSecond - 1, h.sink);
  BOOST_TEST(h.text() == "aaaa");
  h.reassembler.advance(kStart + 7 * kSecond, h.sink);
  BOOST_TEST(h.text() == "aaaa[gap 4]cccc");
  BOOST_TEST(h.counter(ReassemblyCounter::kGaps) == 1u);
  BOOST_TEST(h.counter(ReassemblyCounter::kGapBytes) == 4u);
  BOOST_TEST(h.counter(ReassemblyCounter::kGapsTimeout) == 1u);
  BOOST_TEST(h.flow.stream(kAB).backlog == TcpStream::kNone);
  // Later data flows on; the missing bytes arriving late are old now.
  h.send(1013, "dd", kTcpAck, kStart + 8 * kSecond);
  h.send(1005, "bbbb", kTcpAck, kStart + 8 * kSecond);
  BOOST_TEST(h.text() == "aaaa[gap 4]ccccdd");
  BOOST_TEST(h.counter(ReassemblyCounter::kRetransmissions) == 1u);
}

BOOST_AUTO_TEST_CASE(gap_wait_restarts_when_the_stream_moves) {
  Harness h;
  h.syn(1000, kStart);
  h.send(1005, "b", kTcpAck, kStart);   // hole 1001..1005
  h.send(1010, "d", kTcpAck, kStart);   // hole 1006..1010
  h.send(1001, "aaaa", kTcpAck, kStart + 4 * kSecond);  // fills the first hole
  BOOST_TEST(h.text() == "aaaab");
  // The second hole's wait started when the stream moved, at +4 s.
  h.reassembler.advance(kStart + 8 * kSecond, h.sink);
  BOOST_TEST(h.text() == "aaaab");
  h.reassembler.advance(kStart + 9 * kSecond, h.sink);
  BOOST_TEST(h.text() == "aaaab[gap 4]d");
}

BOOST_AUTO_TEST_CASE(due_hole_is_given_up_on_the_next_segment_too) {
  Harness h;
  h.syn(1000, kStart);
  h.send(1003, "cd", kTcpAck, kStart);
  h.send(1005, "ef", kTcpAck, kStart + 6 * kSecond);  // no advance() call in between
  BOOST_TEST(h.text() == "[gap 2]cdef");
}

BOOST_AUTO_TEST_CASE(stream_memcap_gives_up_the_first_hole) {
  TcpReassemblerConfig config = small_config();
  config.stream_memcap_bytes = 10;
  Harness h(config);
  h.syn(1000);
  h.send(1011, "0123456789");  // 10 held, hole 1001..1011
  h.send(1030, "abcdef");      // does not fit: the hole is given up, then this is held
  BOOST_TEST(h.text() == "[gap 10]0123456789");
  BOOST_TEST(h.counter(ReassemblyCounter::kGapsMemcap) == 1u);
  BOOST_TEST(h.flow.stream(kAB).held_bytes == 6u);
  // Holding nothing, a segment larger than the cap keeps what fits and drops the rest.
  Harness g(config);
  g.syn(1000);
  g.send(1101, "0123456789ABCDE");
  BOOST_TEST(g.flow.stream(kAB).held_bytes == 10u);
  BOOST_TEST(g.counter(ReassemblyCounter::kStreamMemcapDrops) == 1u);
  BOOST_TEST(g.counter(ReassemblyCounter::kStreamMemcapBytesDropped) == 5u);
  g.reassembler.finish(g.flow, g.sink);
  BOOST_TEST(g.text() == "[gap 100]0123456789[end]");
}

BOOST_AUTO_TEST_CASE(global_memcap_drops_and_counts) {
  TcpReassemblerConfig config = small_config();
  config.memcap_bytes = 2 * TcpReassembler::kPieceBytes;  // two pieces for the whole worker
  Harness h(config);
  h.syn(1000);
  h.send(1011, "x");  // piece 1
  h.send(1021, "y");  // piece 2 (not adjacent)
  BOOST_TEST(h.reassembler.pieces_in_use() == 2u);
  // An adjacent byte extends a piece and needs no new one.
  h.send(1012, "x");
  BOOST_TEST(h.reassembler.pieces_in_use() == 2u);
  // The pool is full and this direction holds the most: it gives up its own first hole.
  h.send(1031, "z");
  BOOST_TEST(h.text() == "[gap 10]xx");
  BOOST_TEST(h.counter(ReassemblyCounter::kGapsMemcap) == 1u);
  BOOST_TEST(h.counter(ReassemblyCounter::kMemcapDrops) == 0u);
  h.send(1013, "________");  // in order: fills the hole before "y"
  BOOST_TEST(h.text() == "[gap 10]xx________y");
  h.reassembler.release(h.flow);
  BOOST_TEST(h.reassembler.pieces_in_use() == 0u);

  // Nobody else holds anything and the direction holds nothing: the bytes that do not fit are
  // dropped and counted.
  TcpReassemblerConfig one = small_config();
  one.memcap_bytes = TcpReassembler::kPieceBytes;
  Harness g(one);
  g.syn(1000);
  std::string big(2 * TcpReassembler::kPieceBytes, 'b');
  g.send(1011, big);
  BOOST_TEST(g.counter(ReassemblyCounter::kMemcapDrops) == 1u);
  BOOST_TEST(g.counter(ReassemblyCounter::kMemcapBytesDropped) == TcpReassembler::kPieceBytes);
  BOOST_TEST(g.flow.stream(kAB).held_bytes == TcpReassembler::kPieceBytes);
  g.reassembler.release(g.flow);
}

BOOST_AUTO_TEST_CASE(short_pool_cuts_the_direction_holding_the_most) {
  // A flow holding many pieces cannot starve one that needs a single piece: the heavy one's last
  // pieces are cut (counted), and it sees them as a hole later.
  TcpReassemblerConfig config = small_config();
  config.memcap_bytes = 8 * TcpReassembler::kPieceBytes;
  Harness h(config);
  Flow victim;
  h.syn(1000);
  for (uint32_t i = 0; i < 8; ++i) {
    h.send(1003 + 2 * i, "h");  // eight pieces with one-byte holes between
  }
  BOOST_TEST(h.reassembler.pieces_in_use() == 8u);
  h.send(victim, kAB, 5000, "", kTcpSyn);
  h.send(victim, kAB, 5011, "later\r\n");
  BOOST_TEST(victim.stream(kAB).held_bytes == 7u);
  BOOST_TEST(h.counter(ReassemblyCounter::kMemcapDrops) == 0u);
  BOOST_TEST(h.counter(ReassemblyCounter::kPoolEvictions) == 1u);
  BOOST_TEST(h.counter(ReassemblyCounter::kPoolEvictedBytes) == 1u);
  BOOST_TEST(h.reassembler.pieces_held(h.flow.stream(kAB)) == 7u);
  h.send(victim, kAB, 5001, "0123456789");
  h.reassembler.finish(victim, h.sink);
  BOOST_TEST(h.text(kAB) == "0123456789later\r\n[end]");
  // The cut piece (the last, 1017) is part of the heavy flow's hole now.
  h.reassembler.finish(h.flow, h.sink);
  h.reassembler.release(victim);
  BOOST_TEST(h.reassembler.pieces_in_use() == 0u);
}

BOOST_AUTO_TEST_CASE(held_segments_per_direction_are_bounded_in_number) {
  // One-byte segments with one-byte holes between: each would take a piece. The direction holds
  // at most stream_max_pieces; past it, it gives up its first hole (a gap, counted).
  TcpReassemblerConfig config = small_config();
  config.memcap_bytes = 8u << 20;  // the pool is not what bounds it here
  Harness h(config);
  h.syn(1000);
  constexpr uint32_t kSegments = 5000;
  constexpr uint32_t kDefaultMaxPieces = 2048;  // TcpReassemblerConfig::stream_max_pieces
  for (uint32_t i = 0; i < kSegments; ++i) {
    h.send(1002 + 2 * i, "x");
  }
  BOOST_TEST(h.reassembler.pieces_in_use() == kDefaultMaxPieces);
  BOOST_TEST(h.counter(ReassemblyCounter::kGapsMemcap) == kSegments - kDefaultMaxPieces);
  BOOST_TEST(h.text().size() > 0u);
  h.reassembler.release(h.flow);
}

BOOST_AUTO_TEST_CASE(adjacent_tiny_segments_coalesce_into_one_piece) {
  Harness h;
  h.syn(1000);
  // Backwards, one byte at a time: each new byte reaches the piece after it.
  const std::string text = "RCPT TO:<bob@army.ml>\r\n";
  for (uint32_t i = static_cast<uint32_t>(text.size()); i-- > 1;) {
    h.send(1001 + i, text.substr(i, 1));
  }
  BOOST_TEST(h.reassembler.pieces_in_use() == 1u);
  BOOST_TEST(h.counter(ReassemblyCounter::kPiecesCoalesced) == text.size() - 2);
  // Forwards with a hole in front: each byte extends the piece before it.
  Flow second;
  h.send(second, kAB, 7000, "", kTcpSyn);
  for (uint32_t i = 1; i < text.size(); ++i) {
    h.send(second, kAB, 7001 + i, text.substr(i, 1));
  }
  BOOST_TEST(h.reassembler.pieces_held(second.stream(kAB)) == 1u);
  h.send(1001, text.substr(0, 1));
  BOOST_TEST(h.text() == text);
  h.reassembler.release(second);
  BOOST_TEST(h.reassembler.pieces_in_use() == 0u);
}

BOOST_AUTO_TEST_CASE(segments_landing_between_held_ones_keep_the_order) {
  // Insertion in the middle of many held pieces (the treap), in a shuffled order, then the
  // first hole filled: everything comes out in sequence order.
  TcpReassemblerConfig config = small_config();
  config.memcap_bytes = 8u << 20;  // room for every byte in its own piece
  Harness h(config);
  h.syn(0);
  std::vector<uint32_t> order;
  for (uint32_t i = 1; i < 1500; ++i) {
    order.push_back(i);
  }
  std::mt19937 random(99);
  std::shuffle(order.begin(), order.end(), random);
  std::string expected;
  for (uint32_t i = 0; i < 1500; ++i) {
    expected += static_cast<char>('a' + i % 26);
  }
  for (const uint32_t i : order) {
    // One byte each: a byte extends the piece before it, or starts one that later ones reach.
    h.send(1 + i, expected.substr(i, 1));
  }
  BOOST_TEST(h.text().empty());
  h.send(1, expected.substr(0, 1));
  BOOST_TEST(h.text() == expected);
  BOOST_TEST(h.reassembler.pieces_in_use() == 0u);
}

BOOST_AUTO_TEST_CASE(midstream_pickup_synchronises_on_data) {
  Harness h;
  h.send(50000, "RCPT TO:<a@b.example>\r\n");
  h.send(50023, "DATA\r\n");
  BOOST_TEST(h.text() == "RCPT TO:<a@b.example>\r\nDATA\r\n");
  BOOST_TEST(h.counter(ReassemblyCounter::kMidstreamPickups) == 1u);
  BOOST_TEST(h.flow.stream(kAB).midstream());

  TcpReassemblerConfig config = small_config();
  config.midstream_pickup = false;
  Harness off(config);
  off.send(50000, "RCPT TO:<a@b.example>\r\n");
  BOOST_TEST(off.text().empty());
  BOOST_TEST(off.counter(ReassemblyCounter::kNotSynchronised) == 1u);
  // A bare ACK does not synchronise either way.
  Harness ack;
  ack.send(7000, "");
  BOOST_TEST(!ack.flow.stream(kAB).synchronised());
}

BOOST_AUTO_TEST_CASE(fin_ends_the_direction_once_every_byte_is_in) {
  Harness h;
  h.syn(1000);
  h.send(1006, "", kTcpFin | kTcpAck);  // FIN overtook the data before it
  BOOST_TEST(h.text().empty());
  h.send(1001, "QUIT\r");
  BOOST_TEST(h.text() == "QUIT\r[end]");
  BOOST_TEST(h.flow.stream(kAB).ended());
  h.send(1006, "late");
  BOOST_TEST(h.text() == "QUIT\r[end]");
  BOOST_TEST(h.counter(ReassemblyCounter::kSegmentsAfterEnd) == 1u);
  BOOST_TEST(h.counter(ReassemblyCounter::kFins) == 1u);
  // The other direction is not ended by this FIN.
  BOOST_TEST(!h.flow.stream(kBA).ended());
}

BOOST_AUTO_TEST_CASE(fin_with_missing_bytes_before_it_is_a_gap_after_the_wait) {
  Harness h;
  h.syn(1000, kStart);
  h.send(1001, "ab", kTcpAck, kStart);
  h.send(1005, "ef", kTcpFin | kTcpAck, kStart);
  h.send(1010, "zz", kTcpAck, kStart);  // past the FIN
  BOOST_TEST(h.counter(ReassemblyCounter::kDataAfterFin) == 1u);
  h.reassembler.advance(kStart + 5 * kSecond, h.sink);
  BOOST_TEST(h.text() == "ab[gap 2]ef[end]");
}

BOOST_AUTO_TEST_CASE(rst_ends_both_directions_after_what_they_hold) {
  Harness h;
  h.syn(1000);
  h.send(1001, "ab");
  h.send(1005, "ef");
  h.send(h.flow, kBA, 9000, "250 ok\r\n");
  h.send(h.flow, kBA, 9008, "", kTcpRst);
  BOOST_TEST(h.text(kAB) == "ab[gap 2]ef[end]");
  BOOST_TEST(h.text(kBA) == "250 ok\r\n[end]");
  BOOST_TEST(h.flow.stream(kBA).rst_seen());
  BOOST_TEST(h.counter(ReassemblyCounter::kResets) == 1u);
  BOOST_TEST(h.counter(ReassemblyCounter::kGapsAtEnd) == 1u);
  BOOST_TEST(h.reassembler.pieces_in_use() == 0u);
}

BOOST_AUTO_TEST_CASE(rst_after_fin_still_ends_the_other_direction) {
  Harness h;
  h.syn(1000);
  h.send(1001, "QUIT\r\n", kTcpFin | kTcpAck);
  BOOST_TEST(h.text(kAB) == "QUIT\r\n[end]");
  h.send(h.flow, kBA, 7000, "221 bye");
  h.send(1008, "", kTcpRst);
  BOOST_TEST(h.text(kBA) == "221 bye[end]");
  BOOST_TEST(h.text(kAB) == "QUIT\r\n[end]");
  BOOST_TEST(h.counter(ReassemblyCounter::kStreamsEnded) == 2u);
}

BOOST_AUTO_TEST_CASE(truncated_segment_delivers_captured_bytes_then_a_gap) {
  Harness h;
  h.syn(1000);
  h.send(h.flow, kAB, 1001, "abcdefghij", kTcpAck, kStart, 4);
  BOOST_TEST(h.text() == "abcd[gap 6]");
  h.send(1011, "KL");
  BOOST_TEST(h.text() == "abcd[gap 6]KL");
  BOOST_TEST(h.counter(ReassemblyCounter::kTruncatedSegments) == 1u);
  BOOST_TEST(h.counter(ReassemblyCounter::kGapsTruncated) == 1u);
  // Out of order, only the captured part is held; the rest is a hole like any other.
  h.send(h.flow, kAB, 1017, "qrst", kTcpAck, kStart, 2);
  h.send(1013, "mnop");
  BOOST_TEST(h.text() == "abcd[gap 6]KLmnopqr");
  h.reassembler.finish(h.flow, h.sink);
  BOOST_TEST(h.text() == "abcd[gap 6]KLmnopqr[end]");
}

BOOST_AUTO_TEST_CASE(finish_gives_up_holes_and_ends_both_directions) {
  Harness h;
  h.syn(1000);
  h.send(1001, "a");
  h.send(1003, "c");
  h.send(1006, "f");
  h.reassembler.finish(h.flow, h.sink);
  BOOST_TEST(h.text(kAB) == "a[gap 1]c[gap 2]f[end]");
  BOOST_TEST(h.text(kBA) == "[end]");
  BOOST_TEST(h.counter(ReassemblyCounter::kGapsAtEnd) == 2u);
  BOOST_TEST(h.reassembler.pieces_in_use() == 0u);
  BOOST_TEST(h.flow.stream(kAB).backlog == TcpStream::kNone);
  // Finishing again adds nothing.
  h.reassembler.finish(h.flow, h.sink);
  BOOST_TEST(h.text(kAB) == "a[gap 1]c[gap 2]f[end]");
}

BOOST_AUTO_TEST_CASE(any_segmentation_and_order_gives_the_same_stream) {
  std::string message;
  for (int i = 0; i < 300; ++i) {
    message += "RCPT TO:<user" + std::to_string(i) + "@example.org>\r\n";
  }
  std::mt19937 random(20261129);  // fixed seed: the same cases every run
  for (int round = 0; round < 20; ++round) {
    // Cut into segments of 1..1500 bytes, shuffle, and repeat some (retransmissions).
    std::vector<std::pair<uint32_t, uint32_t>> segments;  // offset, length
    for (uint32_t offset = 0; offset < message.size();) {
      const uint32_t length = std::min<uint32_t>(1 + random() % 1500, static_cast<uint32_t>(message.size()) - offset);
      segments.emplace_back(offset, length);
      offset += length;
    }
    const std::size_t original = segments.size();
    for (std::size_t i = 0; i < original / 4; ++i) {
      segments.push_back(segments[random() % original]);
    }
    std::shuffle(segments.begin(), segments.end(), random);
    Harness h;
    const uint32_t isn = 0xffffffffu - static_cast<uint32_t>(random() % 20000);  // most wrap
    h.syn(isn);
    for (const auto& [offset, length] : segments) {
      h.send(isn + 1 + offset, std::string_view(message).substr(offset, length));
    }
    BOOST_TEST(h.text() == message);
    BOOST_TEST(h.reassembler.pieces_in_use() == 0u);
    BOOST_TEST(h.counter(ReassemblyCounter::kGaps) == 0u);
    BOOST_TEST(h.counter(ReassemblyCounter::kOverlapsDiffer) == 0u);
  }
}

// Checks the A → B direction of one flow against the message it carries: every data byte is the
// message's byte at its position, gaps skip positions, and the end comes last. Other flows'
// events (the sink is the worker's, shared by all flows) are ignored.
class CheckingSink final : public StreamSink {
 public:
  CheckingSink(const Flow& flow, std::string_view message) : flow_(flow), message_(message) {}
  void on_stream_data(Flow& flow, inspect::Direction direction, std::span<const uint8_t> bytes) noexcept override {
    if (&flow != &flow_ || flow.sender_of(direction) != kAB) {
      return;
    }
    if (ended || offset + bytes.size() > message_.size() ||
        std::memcmp(bytes.data(), message_.data() + offset, bytes.size()) != 0) {
      ++errors;
    }
    offset += bytes.size();
  }
  void on_stream_gap(Flow& flow, inspect::Direction direction, uint64_t missing_bytes) noexcept override {
    if (&flow != &flow_ || flow.sender_of(direction) != kAB) {
      return;
    }
    if (ended || missing_bytes == 0) {
      ++errors;
    }
    offset += missing_bytes;
    gap_bytes += missing_bytes;
  }
  void on_stream_end(Flow& flow, inspect::Direction direction) noexcept override {
    if (&flow != &flow_ || flow.sender_of(direction) != kAB) {
      return;
    }
    errors += ended ? 1 : 0;
    ended = true;
  }
  uint64_t offset = 0;
  uint64_t gap_bytes = 0;
  uint32_t errors = 0;
  bool ended = false;

 private:
  const Flow& flow_;
  std::string_view message_;
};

BOOST_AUTO_TEST_CASE(bounds_and_losses_never_misplace_a_byte) {
  // Random losses, truncation, duplicates, reordering, tight memcaps and time passing: whatever
  // is delivered sits at its true position, and data plus gaps account for every byte to the FIN.
  std::string message;
  for (int i = 0; i < 4000; ++i) {
    message += static_cast<char>('a' + (i * 7 + i / 26) % 26);
  }
  std::mt19937 random(4242);
  CounterArray<ReassemblyCounter> totals;
  for (int round = 0; round < 200; ++round) {
    TcpReassemblerConfig config;
    config.stream_memcap_bytes = 256 + random() % 4096;
    config.memcap_bytes = TcpReassembler::kPieceBytes * (1 + random() % 8);
    config.gap_wait_ns = (1 + random() % 5) * kSecond;
    TcpReassembler reassembler(config);
    Flow flow;
    CheckingSink sink(flow, message);

    std::vector<std::pair<uint32_t, uint32_t>> segments;
    for (uint32_t offset = 0; offset < message.size();) {
      const uint32_t length = std::min<uint32_t>(1 + random() % 900, static_cast<uint32_t>(message.size()) - offset);
      segments.emplace_back(offset, length);
      offset += length;
    }
    const std::size_t original = segments.size();
    for (std::size_t i = 0; i < original / 3; ++i) {
      segments.push_back(segments[random() % original]);
    }
    std::shuffle(segments.begin(), segments.end(), random);

    const uint32_t isn = static_cast<uint32_t>(random());
    uint64_t now = kStart;
    DecodedPacket packet;
    packet.ip_protocol = 6;
    packet.tcp_flags = kTcpSyn;
    packet.seq = isn;
    reassembler.on_segment(flow, kAB, packet, now, sink);
    // Another flow holds part of the pool, so this one sometimes finds it empty while holding
    // nothing itself.
    Flow hog;
    const uint32_t hog_pieces = static_cast<uint32_t>(random() % (reassembler.piece_capacity() + 1));
    packet.seq = 0;  // the hog's SYN: its segments below are all out of order
    reassembler.on_segment(hog, kAB, packet, now, sink);
    for (uint32_t i = 0; i < hog_pieces; ++i) {
      DecodedPacket held;
      held.ip_protocol = 6;
      held.tcp_flags = kTcpAck;
      held.seq = 1000 + 2000 * i;
      held.payload = reinterpret_cast<const uint8_t*>(message.data());
      held.payload_length = held.captured_payload_length = 1;
      reassembler.on_segment(hog, kAB, held, now, sink);
    }
    for (const auto& [offset, length] : segments) {
      now += random() % (kSecond / 2);
      if (random() % 10 == 0) {
        continue;  // lost
      }
      packet.tcp_flags = kTcpAck;
      packet.seq = isn + 1 + offset;
      packet.payload = reinterpret_cast<const uint8_t*>(message.data()) + offset;
      packet.payload_length = length;
      packet.captured_payload_length = random() % 8 == 0 ? static_cast<uint32_t>(random() % (length + 1)) : length;
      reassembler.on_segment(flow, kAB, packet, now, sink);
      if (random() % 4 == 0) {
        reassembler.advance(now, sink);
      }
      BOOST_REQUIRE(flow.stream(kAB).held_bytes <= config.stream_memcap_bytes);
      BOOST_REQUIRE(reassembler.pieces_in_use() <= reassembler.piece_capacity());
    }
    packet.tcp_flags = kTcpFin | kTcpAck;
    packet.seq = isn + 1 + static_cast<uint32_t>(message.size());
    packet.payload_length = 0;
    packet.captured_payload_length = 0;
    reassembler.on_segment(flow, kAB, packet, now, sink);
    reassembler.finish(flow, sink);
    reassembler.release(hog);

    BOOST_TEST(sink.errors == 0u);
    BOOST_TEST(sink.ended);
    BOOST_TEST(sink.offset == message.size());
    BOOST_TEST(sink.gap_bytes <= reassembler.counters().get(ReassemblyCounter::kGapBytes));
    BOOST_TEST(reassembler.pieces_in_use() == 0u);
    BOOST_TEST(reassembler.bytes_held() == 0u);
    totals.merge(reassembler.counters());
  }
  // The rounds did reach every path this test is about.
  for (const ReassemblyCounter counter :
       {ReassemblyCounter::kGapsTimeout, ReassemblyCounter::kGapsMemcap, ReassemblyCounter::kGapsAtEnd,
        ReassemblyCounter::kGapsTruncated, ReassemblyCounter::kPoolEvictions,
        ReassemblyCounter::kStreamMemcapDrops, ReassemblyCounter::kOverlaps,
        ReassemblyCounter::kPartialRetransmissions, ReassemblyCounter::kBytesFromHeld}) {
    BOOST_TEST(totals.get(counter) > 0u, kReassemblyCounterInfo[static_cast<std::size_t>(counter)].name);
  }
}

BOOST_AUTO_TEST_CASE(bad_configuration_is_refused) {
  TcpReassemblerConfig config = small_config();
  config.gap_wait_ns = 0;
  BOOST_CHECK_THROW(TcpReassembler{config}, std::invalid_argument);
  config = small_config();
  config.memcap_bytes = 100;
  BOOST_CHECK_THROW(TcpReassembler{config}, std::invalid_argument);
  config = small_config();
  config.stream_max_pieces = 0;
  BOOST_CHECK_THROW(TcpReassembler{config}, std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::dataplane
