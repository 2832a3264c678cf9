// Which packets can teach the shared learned-address book, as replay's reader sees them before
// fanning them out (`replay --workers N`): the reader stamps each packet with how many packets
// just before it cannot (PacketView::quiet_before), and a lane about to read the book waits only
// for the others to pass the last one that can (ReplayOrderGate).
//
// Only a DNS flow's answer teaches (dataplane/app/dns_flow.cc), and a flow is DNS when one of its
// ports is a DNS port. So a packet cannot teach when it is, on its face, a TCP segment between
// two ports that are not DNS ports, whole (not an IP fragment: a fragment may complete a DNS
// datagram) and not in a tunnel: Ethernet with at most two VLAN tags, Linux cooked, raw IP or
// BSD loopback; IPv4 (any header length, no fragment bits) or IPv6 with TCP as the first next
// header. Everything else — UDP (DNS, or a tunnel that may carry DNS), other protocols, IPv6
// extension headers, frames too short to show both ports — is taken to be able to teach. Erring
// that way only makes a lane wait as it did before; the other way would change what is found.
// (A DNS-over-TCP flow a worker already holds may teach at any packet: the gate handles that.)
// A few header reads per packet on the reader thread, no allocation.
#pragma once

#include <bitset>
#include <cstdint>
#include <span>

#include "dataplane/decode/packet_view.h"

namespace misdirect::control {

class ReplayBookTeachers {
 public:
  explicit ReplayBookTeachers(std::span<const uint16_t> dns_ports);

  // Whether a worker processing `packet` might learn a fact from it.
  bool may_teach(const dataplane::PacketView& packet) const noexcept;

  // The reader, for each packet in input order: how many packets just before this one cannot
  // teach (capped at 65535), and counts this one.
  uint16_t stamp(const dataplane::PacketView& packet) noexcept {
    const uint16_t quiet = quiet_;
    if (may_teach(packet)) {
      quiet_ = 0;
    } else if (quiet_ < UINT16_MAX) {
      ++quiet_;
    }
    return quiet;
  }

 private:
  std::bitset<65536> dns_ports_;
  uint16_t quiet_ = 0;  // nothing is known before the first packet
};

}  // namespace misdirect::control
