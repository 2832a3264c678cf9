// AppDetector: decides which flows carry SMTP when the port does not say so — the server speaks
// first with "220", the client answers EHLO/HELO (or LHLO: LMTP, RFC 2033, the same envelope
// between mail hubs and mailbox stores; the SMTP machine tells the two apart) — including SMTP
// inside an HTTP CONNECT or a SOCKS5 tunnel (spam through open proxies).
//
// It reads only the first bytes of each direction (and the tunnel handshakes, which it skips by
// counting, never buffering), so a flow that is not SMTP costs a few byte compares.
//
// Directions are the flow's (Flow::client), which until detection learns better is the flow
// table's guess: a flow taken up midstream with the server's greeting first has the server for
// its client. Detection tells the two ends apart only by comparing directions with each other
// until something names the client — the EHLO that answers a greeting, a CONNECT or a SOCKS5
// greeting. If the guess had that end as the server, detection turns its own per-direction state
// round and says so (DetectStep::client_swapped): the caller swaps the flow's client, and this
// call's bytes are then the other direction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "inspect/direction.h"

namespace misdirect::dataplane {

enum class AppProtocol : uint8_t { kUndecided, kSmtp, kImplicitTls, kOther };

// Per-flow detection state, kept by the worker beside the flow.
struct AppDetection {
  static constexpr int kPrefixBytes = 8;

  // Stages, each entered when the previous one is complete:
  //   kStart        — nothing decided; collecting each direction's first bytes
  //   kHttpRequest  — a client sent "CONNECT ": skipping its request to the blank line
  //   kHttpResponse — skipping the proxy's response to the blank line (client bytes wait)
  //   kSocks*       — SOCKS5 greeting, method choice, connect request, reply, skipped by count
  //   kTunnelled    — the handshake is over; detection starts again on the tunnelled bytes
  //   kDecided      — `protocol` is final
  enum class Stage : uint8_t {
    kStart,
    kHttpRequest,
    kHttpResponse,
    kSocksGreeting,
    kSocksMethod,
    kSocksRequest,
    kSocksReply,
    kTunnelled,
    kDecided,
  };

  AppProtocol protocol = AppProtocol::kUndecided;
  Stage stage = Stage::kStart;
  bool client_known = false;  // behaviour named the client; until then the caller's is a guess
  std::optional<inspect::Direction> greeting;  // the way a "220" greeting travelled
  bool tunnelled = false;   // decided inside a CONNECT or SOCKS5 tunnel
  // Per direction, by inspect::index_of.
  uint8_t prefix_length[2] = {0, 0};
  uint8_t blank_line_progress[2] = {0, 0};
  uint16_t skip_remaining[2] = {0, 0};
  char prefix[2][kPrefixBytes] = {};
};

struct DetectStep {
  AppProtocol protocol = AppProtocol::kUndecided;
  // When `protocol` became kSmtp on this call: the SMTP stream of this call's direction (after
  // any swap: always client → server) is `replay` then `bytes.subspan(consumed)`. While
  // undecided, everything given was consumed.
  std::size_t consumed = 0;
  std::string_view replay;
  // The end the caller took for the server is the client: swap the flow's client. This call's
  // bytes (and `replay`) then travel the opposite of the direction given.
  bool client_swapped = false;
};

class AppDetector {
 public:
  // `bytes` are the next bytes travelling in `direction` through the flow, in order, with the
  // direction as the flow's client says (see client_swapped).
  static DetectStep on_data(AppDetection& detection, inspect::Direction direction,
                            std::span<const uint8_t> bytes) noexcept;
};

}  // namespace misdirect::dataplane
