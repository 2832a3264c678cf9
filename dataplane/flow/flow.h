// Flow: one flow's record — its key, who started it, its per-direction accounting and TCP
// streams, and the fields its owner (the worker) attaches. FlowTable keeps a pool of them;
// TcpReassembler works on their streams.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/flow/flow_key.h"
#include "dataplane/flow/tcp_stream.h"

namespace misdirect::dataplane {

enum class FlowInitiator : uint8_t {
  kUnknown = 0,  // no SYN seen (midstream pickup, or not TCP)
  kA = 1,        // A sent the SYN (or B the SYN/ACK): A is the client
  kB = 2,
};

enum class FlowEndReason : uint8_t {
  kEvicted,      // the table was full and this flow was nearest to expiry
  kIdleTimeout,  // no packet for idle_timeout_ns
  kClosed,       // closed_timeout_ns after FIN both ways or a RST
  kShutdown,     // drain(): end of input or shutdown
  kPortReuse,    // closed or closing, and a SYN opened a new connection on the same ports
};

// One flow, 192 bytes in three cache lines, laid out by when they are touched: the first line
// holds what every packet reads or writes (the key the lookup compares, the worker's app fields,
// last_seen_ns and the close state), the second the per-direction accounting, the third the TCP
// streams (only for flows still inspected) and the wheel links (only on timer work). The worker
// owns app_slot/app_state and may read everything; the table owns the rest (write it only
// through the table and reassembler).
struct alignas(64) Flow {
  static constexpr uint32_t kNoApp = UINT32_MAX;

  static constexpr uint8_t kFinAToB = 0x01;  // FIN flag seen A → B
  static constexpr uint8_t kFinBToA = 0x02;
  static constexpr uint8_t kReset = 0x04;    // RST seen either way
  static constexpr uint8_t kClosed = 0x08;   // FIN both ways or RST: closed_timeout_ns applies

  // First cache line.
  FlowKey key;                    // as built from the first packet (its `direction` is that packet's)
  uint64_t last_seen_ns = 0;
  uint32_t app_slot = kNoApp;     // the worker's application context for this flow, if any
  uint8_t app_state = 0;          // the worker's own use
  FlowInitiator initiator = FlowInitiator::kUnknown;
  uint8_t state = 0;              // kFin*, kReset, kClosed
  uint8_t input = 0;              // the worker's: the live port of the first packet (PacketView::input)
  // Second cache line.
  uint64_t packets[2] = {0, 0};        // per FlowDirection
  uint64_t payload_bytes[2] = {0, 0};  // TCP/UDP payload as the IP header says (not captured length)
  uint64_t ip_bytes[2] = {0, 0};       // L3 length
  uint64_t flow_id = 0;           // unique in the run: FlowIds
  uint64_t first_seen_ns = 0;
  // Third cache line.
  TcpStream streams[2];                // per FlowDirection
  // Table-private: timer wheel links and where the hash index holds the flow.
  uint32_t wheel_prev = 0;
  uint32_t wheel_next = 0;
  uint32_t wheel_slot = 0;
  uint32_t index_home = 0;  // the hash index's home bucket (removal needs no re-hash)

  TcpStream& stream(FlowDirection direction) noexcept { return streams[index_of(direction)]; }
  const TcpStream& stream(FlowDirection direction) const noexcept { return streams[index_of(direction)]; }
  bool closed() const noexcept { return (state & kClosed) != 0; }
  // The direction client → server when the handshake told who the client is.
  bool client_direction(FlowDirection& out) const noexcept {
    if (initiator == FlowInitiator::kUnknown) {
      return false;
    }
    out = initiator == FlowInitiator::kA ? FlowDirection::kAToB : FlowDirection::kBToA;
    return true;
  }
};
static_assert(sizeof(Flow) <= 192, "Flow must stay within three cache lines (≤ 256 bytes per flow)");
static_assert(offsetof(Flow, state) < 64, "what every packet touches stays in the first cache line");
static_assert(offsetof(Flow, packets) == 64 && offsetof(Flow, streams) == 128);

}  // namespace misdirect::dataplane
