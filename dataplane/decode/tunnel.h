// TunnelInfo: what the decoder learned about the encapsulations around a packet's inner flow —
// the outermost IP packet that carried a tunnel (Suricata's `tunnel` object), the tunnel identity
// that separates address spaces (part of the flow key), and the encapsulations walked, in order.
//
// The identity is the id of the innermost encapsulation that carries one: the VXLAN or GENEVE VNI,
// the GRE key (when the K bit is set) or the ERSPAN session id. MPLS labels are not used: a label
// is chosen by the router that receives it, so the two directions of one flow carry different
// labels (and labels change hop by hop); keying by them would split every MPLS flow in two.
// Outer addresses are not part of the identity either: a mirror may deliver the two directions of
// one inner flow from different sources, and they must meet in one flow.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/decode/ip_address.h"

namespace misdirect::dataplane {

// One encapsulation the decoder walks through. kNone marks "no tunnel identity".
enum class Encapsulation : uint8_t {
  kNone = 0,
  kVxlan,
  kGeneve,
  kGre,      // GRE carrying Ethernet, IPv4, IPv6 or MPLS (not ERSPAN)
  kErspan,   // ERSPAN type I, II or III (over GRE)
  kIpInIp,   // 4in4, 6in4, 4in6 (DS-Lite), 6in6
  kMpls,     // a label stack (over Ethernet, GRE or IP)
  kPppoe,    // a PPPoE session
};
inline constexpr std::size_t kEncapsulationKinds = 8;

// The names records and stats use.
constexpr std::string_view encapsulation_name(Encapsulation kind) noexcept {
  constexpr std::string_view kNames[kEncapsulationKinds] = {"none", "vxlan", "geneve", "gre",
                                                            "erspan", "ipip", "mpls", "pppoe"};
  const auto index = static_cast<std::size_t>(kind);
  return index < kEncapsulationKinds ? kNames[index] : std::string_view("none");
}

struct TunnelInfo {
  // The encapsulations walked, outermost first (up to kMaxLayers are recorded; `layer_count`
  // counts them all and is what the depth bound applies to).
  static constexpr std::size_t kMaxLayers = 8;
  std::array<Encapsulation, kMaxLayers> layers{};
  uint8_t layer_count = 0;
  // IP tunnels opened (encapsulations found in an IP packet's payload: VXLAN, GENEVE, GRE,
  // ERSPAN, IP-in-IP, MPLS-in-IP); Suricata's `tunnel.depth`. 0: no outer IP packet, so no
  // `tunnel` object (MPLS or PPPoE directly on Ethernet).
  uint8_t depth = 0;
  // The identity (see the file comment); kNone with id 0 when no encapsulation carried an id.
  Encapsulation id_kind = Encapsulation::kNone;
  uint32_t id = 0;
  // The outermost IP packet that carried a tunnel (valid when depth > 0).
  uint8_t outer_protocol = 0;  // 17 UDP, 47 GRE, 4 / 41 IP-in-IP, 137 MPLS-in-IP
  uint16_t outer_src_port = 0;  // UDP tunnels only
  uint16_t outer_dst_port = 0;
  IpAddress outer_src;
  IpAddress outer_dst;

  // The identity as one number for flow keys and hashes: 0 outside tunnels.
  constexpr uint64_t identity() const noexcept {
    return id_kind == Encapsulation::kNone ? 0 : (uint64_t{static_cast<uint8_t>(id_kind)} << 32) | id;
  }
};

}  // namespace misdirect::dataplane
