// SmtpLogMode: which smtp records are written (`--smtp-log`).
#pragma once

#include <cstdint>

namespace misdirect::dataplane {

// Every transaction, only those with a look-alike recipient, or none. Alerts are always written.
enum class SmtpLogMode : uint8_t { kAll, kLookalike, kNone };

}  // namespace misdirect::dataplane
