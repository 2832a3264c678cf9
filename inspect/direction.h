// Direction: which way bytes travel on a connection, for every protocol parser in inspect/.
#pragma once

#include <cstddef>
#include <cstdint>

namespace misdirect::inspect {

// The client is the side that opened the connection (SMTP) or asked the question (DNS).
// It is the one direction type of the project: the flow layer turns each end's bytes into it
// (dataplane/flow/flow.h, Flow::client) before anything above the flow table sees them.
enum class Direction : uint8_t { kClientToServer = 0, kServerToClient = 1 };

constexpr Direction opposite(Direction direction) noexcept {
  return direction == Direction::kClientToServer ? Direction::kServerToClient : Direction::kClientToServer;
}

// For state kept per direction: [0] client → server, [1] server → client.
constexpr std::size_t index_of(Direction direction) noexcept { return static_cast<std::size_t>(direction); }

}  // namespace misdirect::inspect
