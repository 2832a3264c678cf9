// Flow: one flow's record — its key, which end is the client, its per-end accounting and TCP
// streams, and the fields its owner (the worker) attaches. FlowTable keeps a pool of them;
// TcpReassembler works on their streams.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "dataplane/flow/flow_key.h"
#include "dataplane/flow/tcp_stream.h"
#include "inspect/direction.h"

namespace misdirect::dataplane {

enum class FlowEndReason : uint8_t {
  kEvicted,      // the table was full and this flow was nearest to expiry
  kIdleTimeout,  // no packet for idle_timeout_ns
  kClosed,       // closed_timeout_ns after FIN both ways or a RST
  kShutdown,     // drain(): end of input or shutdown
  kPortReuse,    // closed or closing, and a SYN opened a new connection on the same ports
};

// One flow, 192 bytes in three cache lines, laid out by when they are touched: the first line
// holds what every packet reads or writes (the key the lookup compares, the worker's app fields,
// last_seen_ns and the close state), the second the per-end accounting, the third the TCP
// streams (only for flows still inspected) and the wheel links (only on timer work). The worker
// owns app_slot/app_state and may read everything; the table owns the rest (write it only
// through the table and reassembler).
struct alignas(64) Flow {
  static constexpr uint32_t kNoApp = UINT32_MAX;

  static constexpr uint8_t kFinFromA = 0x01;  // FIN flag sent by A
  static constexpr uint8_t kFinFromB = 0x02;
  static constexpr uint8_t kReset = 0x04;    // RST seen either way
  static constexpr uint8_t kClosed = 0x08;   // FIN both ways or RST: closed_timeout_ns applies

  // First cache line.
  FlowKey key;                    // as built from the first packet (its `sender` is that packet's)
  uint64_t last_seen_ns = 0;
  uint32_t app_slot = kNoApp;     // the worker's application context for this flow, if any
  uint8_t app_state = 0;          // the worker's own use
  // Which end is the client: the one fact that turns an end's bytes into a direction
  // (client → server or back). FlowTable::account sets it from the flow's first packet — its
  // sender, or its receiver when it is a SYN/ACK — so a handshake seen from its start names the
  // client and a midstream pickup takes the first sender. The worker corrects it by port (the
  // server listens on the service port) and app detection by behaviour (the end that answers a
  // "220" greeting with EHLO is the client), both through swap_client().
  FlowEnd client = FlowEnd::kA;
  uint8_t state = 0;              // kFin*, kReset, kClosed
  uint8_t input = 0;              // the worker's: the live port of the first packet (PacketView::input)
  // Second cache line.
  uint64_t packets[2] = {0, 0};        // per FlowEnd: sent by that end
  uint64_t payload_bytes[2] = {0, 0};  // TCP/UDP payload as the IP header says (not captured length)
  uint64_t ip_bytes[2] = {0, 0};       // L3 length
  uint64_t flow_id = 0;           // unique in the run: FlowIds
  uint64_t first_seen_ns = 0;
  // Third cache line.
  TcpStream streams[2];                // per FlowEnd
  // Table-private: timer wheel links and where the hash index holds the flow.
  uint32_t wheel_prev = 0;
  uint32_t wheel_next = 0;
  uint32_t wheel_slot = 0;
  uint32_t index_home = 0;  // the hash index's home bucket (removal needs no re-hash)

  TcpStream& stream(FlowEnd sender) noexcept { return streams[index_of(sender)]; }
  const TcpStream& stream(FlowEnd sender) const noexcept { return streams[index_of(sender)]; }
  bool closed() const noexcept { return (state & kClosed) != 0; }

  // The parsers' direction of the bytes `sender` sends, and back.
  inspect::Direction direction_from(FlowEnd sender) const noexcept {
    return sender == client ? inspect::Direction::kClientToServer : inspect::Direction::kServerToClient;
  }
  FlowEnd sender_of(inspect::Direction direction) const noexcept {
    return direction == inspect::Direction::kClientToServer ? client : opposite(client);
  }
  // The TCP stream of the bytes travelling `direction`.
  TcpStream& stream(inspect::Direction direction) noexcept { return stream(sender_of(direction)); }
  const TcpStream& stream(inspect::Direction direction) const noexcept { return stream(sender_of(direction)); }
  // The other end is the client (a port or the protocol's behaviour said so).
  void swap_client() noexcept { client = opposite(client); }
  uint16_t client_port() const noexcept { return client == FlowEnd::kA ? key.port_a : key.port_b; }
  uint16_t server_port() const noexcept { return client == FlowEnd::kA ? key.port_b : key.port_a; }
  const std::array<uint8_t, 16>& client_address() const noexcept {
    return client == FlowEnd::kA ? key.address_a : key.address_b;
  }
  const std::array<uint8_t, 16>& server_address() const noexcept {
    return client == FlowEnd::kA ? key.address_b : key.address_a;
  }
};
static_assert(sizeof(Flow) <= 192, "Flow must stay within three cache lines (≤ 256 bytes per flow)");
static_assert(offsetof(Flow, state) < 64, "what every packet touches stays in the first cache line");
static_assert(offsetof(Flow, packets) == 64 && offsetof(Flow, streams) == 128);

}  // namespace misdirect::dataplane
