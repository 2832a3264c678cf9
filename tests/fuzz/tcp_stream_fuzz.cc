// Flow table + TCP reassembly fuzz target: any sequence of segments, clock steps and expiries on
// a few flows sharing a tiny table and a tiny reassembly pool.
//
// Input: 8-byte operations. Byte 0 picks the operation (segment, reassembler.advance,
// table.advance); byte 1 the flow (of 6, through a 4-flow table, so flows are evicted) and the
// direction; byte 2 the TCP flags; bytes 3–4 the sequence offset from the direction's ISN
// (near 2^32, so streams wrap); byte 5 the payload length / 4; byte 6 the captured length (< 32:
// cut short); byte 7 the clock step in 100 ms.
//
// Payload bytes are a function of their sequence number, so whatever the reassembler delivers
// can be checked exactly: a byte that is delivered at the wrong position, twice after an end, or
// from freed memory traps (AddressSanitizer catches the last). At the end every flow is drained
// and the pool must be empty.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/flow/flow_table.h"
#include "dataplane/flow/tcp_stream.h"

namespace {

using namespace misdirect::dataplane;

constexpr uint32_t kFlowKeys = 6;
constexpr uint64_t kTick = 100'000'000;

uint32_t isn_of(uint32_t flow, uint32_t direction) { return 0xffffff00u + flow * 16 + direction * 8; }

uint8_t byte_at(uint32_t seq) {
  uint32_t x = seq * 2654435761u;
  x ^= x >> 15;
  return static_cast<uint8_t>(x);
}

class Checker final : public StreamSink, public FlowEvictionSink {
 public:
  explicit Checker(TcpReassembler& reassembler) : reassembler_(reassembler) {}

  void on_stream_data(Flow& flow, misdirect::inspect::Direction direction, std::span<const uint8_t> bytes) noexcept override {
    const TcpStream& stream = flow.stream(direction);
    if (stream.ended() || bytes.empty()) {
      __builtin_trap();
    }
    // During the call next_seq is just past these bytes.
    const uint32_t first = stream.next_seq.value() - static_cast<uint32_t>(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (bytes[i] != byte_at(first + static_cast<uint32_t>(i))) {
        __builtin_trap();
      }
    }
    // The worker's app detection may swap the flow's client inside this call; every later call
    // must still name this stream by the direction the client then gives it (checked above
    // through flow.stream(direction)). Swap on some bytes, as detection would on some flows.
    if ((bytes[0] & 0x40) != 0) {
      flow.swap_client();
    }
  }
  void on_stream_gap(Flow& flow, misdirect::inspect::Direction direction, uint64_t missing_bytes) noexcept override {
    if (flow.stream(direction).ended() || missing_bytes == 0) {
      __builtin_trap();
    }
  }
  void on_stream_end(Flow& flow, misdirect::inspect::Direction direction) noexcept override {
    if (!flow.stream(direction).ended()) {
      __builtin_trap();
    }
  }
  void on_flow_end(Flow& flow, FlowEndReason) noexcept override { reassembler_.finish(flow, *this); }

 private:
  TcpReassembler& reassembler_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FlowTableConfig table_config;
  table_config.max_flows = 4;
  table_config.idle_timeout_ns = 30 * kTick;
  table_config.closed_timeout_ns = 10 * kTick;
  table_config.tick_ns = kTick;
  table_config.wheel_slots = 64;
  FlowTable table(table_config);
  TcpReassemblerConfig reassembly_config;
  reassembly_config.stream_memcap_bytes = 3000;
  reassembly_config.memcap_bytes = 4 * TcpReassembler::kPieceBytes;
  reassembly_config.gap_wait_ns = 20 * kTick;
  reassembly_config.max_forward_bytes = 40000;
  TcpReassembler reassembler(reassembly_config);
  Checker checker(reassembler);

  uint64_t now = 1'000'000'000'000;
  uint8_t payload[1024];
  for (std::size_t at = 0; at + 8 <= size; at += 8) {
    const uint8_t* op = data + at;
    now += uint64_t{op[7]} * kTick;
    switch (op[0] % 8) {
      case 6:
        reassembler.advance(now, checker);
        continue;
      case 7:
        table.advance(now, checker);
        continue;
      default:
        break;
    }
    const uint32_t flow = op[1] % kFlowKeys;
    const uint32_t direction = (op[1] >> 4) & 1;
    DecodedPacket packet;
    packet.ip_protocol = 6;
    packet.src.version = packet.dst.version = 4;
    packet.src.bytes[0] = 10;
    packet.src.bytes[3] = static_cast<uint8_t>(flow);
    packet.dst.bytes[0] = 192;
    packet.src_port = 1024;
    packet.dst_port = 25;
    if (direction == 1) {
      std::swap(packet.src, packet.dst);
      std::swap(packet.src_port, packet.dst_port);
    }
    packet.tcp_flags = op[2];
    packet.seq = isn_of(flow, direction) + (uint32_t{op[3]} << 8 | op[4]);
    packet.payload_length = std::min<uint32_t>(uint32_t{op[5]} * 4, sizeof(payload));
    packet.captured_payload_length = op[6] < 32 ? std::min<uint32_t>(op[6] * 8, packet.payload_length)
                                                : packet.payload_length;
    const uint32_t data_seq = packet.seq + ((packet.tcp_flags & kTcpSyn) != 0 ? 1 : 0);
    for (uint32_t i = 0; i < packet.payload_length; ++i) {
      payload[i] = byte_at(data_seq + i);
    }
    packet.payload = payload;
    packet.ip_bytes = 40 + packet.payload_length;

    const FlowLookup lookup = table.find_or_create(FlowKey::from_packet(packet), now, checker);
    table.account(*lookup.flow, lookup.sender, packet);
    reassembler.on_segment(*lookup.flow, lookup.sender, packet, now, checker);
    for (const TcpStream& stream : lookup.flow->streams) {
      if (stream.held_bytes > reassembly_config.stream_memcap_bytes) {
        __builtin_trap();
      }
    }
  }
  table.drain(checker);
  if (table.active() != 0 || reassembler.pieces_in_use() != 0 || reassembler.bytes_held() != 0) {
    __builtin_trap();
  }
  return 0;
}
