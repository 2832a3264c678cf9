// Which packets can teach the shared learned-address book, as replay's reader sees them before
// fanning them out (`replay --workers N`): the reader stamps each packet with how many packets
// just before it cannot (PacketView::quiet_before), and a lane about to read the book waits only
// for the others to pass the last one that can (ReplayOrderGate).
//
// Only a DNS flow's answer teaches (dataplane/app/dns_flow.cc), and a flow is DNS when one of its
// ports is a DNS port. The judgement reads the decode the reader has already done to place the
// packet (FanoutClassifier, with the workers' decoder settings), so nothing is parsed twice and
// it sees what a worker will see, through VLANs, IPv6 extension headers and tunnels: a packet
// cannot teach when it decoded whole (not a fragment: one may complete a DNS datagram) to a TCP
// segment between two ports that are not DNS ports. Everything else — UDP, other protocols,
// fragments, frames the decoder refuses — is taken to be able to teach. Erring that way only
// makes a lane wait; the other way would change what is found. (A DNS-over-TCP flow a worker
// already holds may teach at any packet: the gate handles that.)
#pragma once

#include <bitset>
#include <cstdint>
#include <span>

#include "dataplane/decode/decoded_packet.h"
#include "dataplane/decode/fanout_classifier.h"

namespace misdirect::control {

class ReplayBookTeachers {
 public:
  explicit ReplayBookTeachers(std::span<const uint16_t> dns_ports);

  // Whether a worker processing a packet might learn a fact from it, given how the fan-out placed
  // it and what it decoded to.
  bool may_teach(const dataplane::FanoutPlacement& placement,
                 const dataplane::DecodedPacket& decoded) const noexcept;

  // The reader, for each packet in input order: how many packets just before this one cannot
  // teach (capped at 65535), and counts this one.
  uint16_t stamp(bool packet_may_teach) noexcept {
    const uint16_t quiet = quiet_;
    if (packet_may_teach) {
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
