// IpAddress: an IPv4 or IPv6 address as the packet path holds it (network byte order).
#pragma once

#include <array>
#include <cstdint>

namespace misdirect::dataplane {

struct IpAddress {
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes, rest zero
  uint8_t version = 0;              // 4 or 6

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

}  // namespace misdirect::dataplane
