// CommunityId: the Community ID v1 flow hash ("1:" + base64 of a SHA-1 over the ordered
// 5-tuple and a seed, github.com/corelight/community-id-spec), so one flow's records in
// misdirect, Suricata, Zeek, Arkime and Elastic join by one string.
//
// Computed once per inspected flow (when it becomes SMTP), never per packet.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "dataplane/decode/decoded_packet.h"

namespace misdirect::dataplane {

struct CommunityId {
  // "1:" and 28 base64 characters (a 20-byte digest, one '=' of padding).
  static constexpr std::size_t kTextBytes = 30;
  std::array<char, kTextBytes> text{};
  bool present = false;

  std::string_view view() const noexcept {
    return present ? std::string_view(text.data(), text.size()) : std::string_view();
  }
};

// One endpoint of a flow as the hash sees it.
struct CommunityEndpoint {
  IpAddress address;
  uint16_t port = 0;
};

// Community ID v1 of a flow between `a` and `b` (either order gives the same id). `has_ports`:
// TCP, UDP and SCTP hash their ports; other protocols hash the addresses and protocol only (for
// ICMP the caller passes Zeek's type/code port equivalents as ports). `seed` is the
// deployment's seed (0 unless operators chose one, `--community-id-seed`).
CommunityId community_id_v1(const CommunityEndpoint& a, const CommunityEndpoint& b, uint8_t protocol,
                            uint16_t seed, bool has_ports = true) noexcept;

}  // namespace misdirect::dataplane
