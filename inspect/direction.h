// Direction: which way bytes travel on a connection, for every protocol parser in inspect/.
#pragma once

#include <cstdint>

namespace misdirect::inspect {

// The client is the side that opened the connection (SMTP) or asked the question (DNS).
enum class Direction : uint8_t { kClientToServer = 0, kServerToClient = 1 };

}  // namespace misdirect::inspect
