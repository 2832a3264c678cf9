// ReplayBookTeachers: which packets can teach the shared learned book (replay_book_teachers.h).
#include "control/replay_book_teachers.h"

namespace misdirect::control {

using dataplane::FanoutBasis;

namespace {
constexpr uint8_t kProtoTcp = 6;
}  // namespace

ReplayBookTeachers::ReplayBookTeachers(std::span<const uint16_t> dns_ports) {
  for (const uint16_t port : dns_ports) {
    dns_ports_.set(port);
  }
}

bool ReplayBookTeachers::may_teach(const dataplane::FanoutPlacement& placement,
                                   const dataplane::DecodedPacket& decoded) const noexcept {
  const bool whole = placement.basis == FanoutBasis::kFlow || placement.basis == FanoutBasis::kTunnelledFlow;
  if (!whole || decoded.ip_protocol != kProtoTcp) {
    return true;
  }
  return dns_ports_.test(decoded.src_port) || dns_ports_.test(decoded.dst_port);
}

}  // namespace misdirect::control
