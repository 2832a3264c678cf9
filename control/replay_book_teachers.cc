// ReplayBookTeachers: which packets can teach the shared learned book (replay_book_teachers.h).
#include "control/replay_book_teachers.h"

namespace misdirect::control {
namespace {

using dataplane::LinkType;
using dataplane::PacketView;

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint8_t kProtoTcp = 6;

uint16_t be16(const uint8_t* at) noexcept { return static_cast<uint16_t>(at[0] << 8 | at[1]); }

// Where the IP header starts, or -1 when the frame is not plainly IP.
int ip_offset(const PacketView& packet) noexcept {
  const uint8_t* data = packet.data;
  const uint32_t length = packet.captured_length;
  switch (packet.link_type) {
    case LinkType::kEthernet: {
      uint32_t at = 12;
      for (int tags = 0; tags <= 2; ++tags) {
        if (at + 2 > length) {
          return -1;
        }
        const uint16_t type = be16(data + at);
        if (type == kEtherIpv4 || type == kEtherIpv6) {
          return static_cast<int>(at + 2);
        }
        if (type != 0x8100 && type != 0x88a8 && type != 0x9100) {
          return -1;
        }
        at += 4;
      }
      return -1;
    }
    case LinkType::kLinuxSll:
      return length >= 16 && (be16(data + 14) == kEtherIpv4 || be16(data + 14) == kEtherIpv6) ? 16 : -1;
    case LinkType::kLinuxSll2:
      return length >= 20 && (be16(data) == kEtherIpv4 || be16(data) == kEtherIpv6) ? 20 : -1;
    case LinkType::kNull: return 4;
    case LinkType::kRawIp:
    case LinkType::kIpv4:
    case LinkType::kIpv6: return 0;
  }
  return -1;
}

}  // namespace

ReplayBookTeachers::ReplayBookTeachers(std::span<const uint16_t> dns_ports) {
  for (const uint16_t port : dns_ports) {
    dns_ports_.set(port);
  }
}

bool ReplayBookTeachers::may_teach(const PacketView& packet) const noexcept {
  const int offset = ip_offset(packet);
  if (offset < 0 || packet.data == nullptr) {
    return true;
  }
  if (packet.captured_length <= static_cast<uint32_t>(offset)) {
    return true;
  }
  const uint8_t* ip = packet.data + offset;
  const uint32_t length = packet.captured_length - static_cast<uint32_t>(offset);
  uint32_t tcp = 0;
  switch (ip[0] >> 4) {
    case 4: {
      const uint32_t header = (ip[0] & 0x0fu) * 4;
      if (header < 20 || length < header + 4 || ip[9] != kProtoTcp) {
        return true;
      }
      if ((be16(ip + 6) & 0x3fff) != 0) {
        return true;  // more fragments, or a fragment offset: may complete a DNS datagram
      }
      tcp = header;
      break;
    }
    case 6:
      if (length < 40 + 4 || ip[6] != kProtoTcp) {
        return true;
      }
      tcp = 40;
      break;
    default:
      return true;
  }
  return dns_ports_.test(be16(ip + tcp)) || dns_ports_.test(be16(ip + tcp + 2));
}

}  // namespace misdirect::control
