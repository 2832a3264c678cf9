// CommunityId: the v1 hash input, in network byte order and aligned to 32 bits —
//   seed(2) . lower address(4|16) . higher address(4|16) . protocol(1) . 0(1) . ports(2+2)
// where "lower" is the smaller (address bytes, then port) endpoint.
#include "dataplane/flow/community_id.h"

#include <cstring>

#include "dataplane/flow/sha1.h"

namespace misdirect::dataplane {
namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::size_t address_bytes(const IpAddress& address) noexcept { return address.version == 6 ? 16 : 4; }

// True when `x` sorts before or equal to `y`: address bytes first, then the port.
bool endpoint_first(const CommunityEndpoint& x, const CommunityEndpoint& y) noexcept {
  const int order = std::memcmp(x.address.bytes.data(), y.address.bytes.data(), address_bytes(x.address));
  if (order != 0) {
    return order < 0;
  }
  return x.port <= y.port;
}

uint8_t* put_16(uint8_t* out, uint16_t value) noexcept {
  out[0] = static_cast<uint8_t>(value >> 8);
  out[1] = static_cast<uint8_t>(value);
  return out + 2;
}

}  // namespace

CommunityId community_id_v1(const CommunityEndpoint& a, const CommunityEndpoint& b, uint8_t protocol,
                            uint16_t seed, bool has_ports) noexcept {
  const bool a_first = endpoint_first(a, b);
  const CommunityEndpoint& first = a_first ? a : b;
  const CommunityEndpoint& second = a_first ? b : a;
  const std::size_t length = address_bytes(a.address);

  uint8_t input[2 + 16 + 16 + 2 + 4];
  uint8_t* out = put_16(input, seed);
  std::memcpy(out, first.address.bytes.data(), length);
  out += length;
  std::memcpy(out, second.address.bytes.data(), length);
  out += length;
  *out++ = protocol;
  *out++ = 0;
  if (has_ports) {
    out = put_16(out, first.port);
    out = put_16(out, second.port);
  }
  const Sha1::Digest digest = Sha1::of({input, static_cast<std::size_t>(out - input)});

  CommunityId id;
  id.text[0] = '1';
  id.text[1] = ':';
  char* text = id.text.data() + 2;
  // 20 bytes: six whole 3-byte groups, then 2 bytes that end in one '='.
  std::size_t i = 0;
  for (; i + 3 <= digest.size(); i += 3) {
    const uint32_t group = (uint32_t{digest[i]} << 16) | (uint32_t{digest[i + 1]} << 8) | digest[i + 2];
    *text++ = kBase64[(group >> 18) & 63];
    *text++ = kBase64[(group >> 12) & 63];
    *text++ = kBase64[(group >> 6) & 63];
    *text++ = kBase64[group & 63];
  }
  const uint32_t tail = (uint32_t{digest[i]} << 16) | (uint32_t{digest[i + 1]} << 8);
  *text++ = kBase64[(tail >> 18) & 63];
  *text++ = kBase64[(tail >> 12) & 63];
  *text++ = kBase64[(tail >> 6) & 63];
  *text++ = '=';
  id.present = true;
  return id;
}

}  // namespace misdirect::dataplane
