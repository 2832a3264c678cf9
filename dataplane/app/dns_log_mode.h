// DnsLogMode: which DNS messages get a `dns` record (--dns-log). Alerts are always written.
#pragma once

#include <cstdint>

namespace misdirect::dataplane {

enum class DnsLogMode : uint8_t { kAll, kLookalike, kNone };

}  // namespace misdirect::dataplane
