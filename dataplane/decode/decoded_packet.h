// DecodedPacket: the L2–L4 facts the packet path needs from one frame, in host order. For a
// tunnelled packet the addresses, ports and VLAN ids are the inner flow's; `tunnel` says what was
// around it.
#pragma once

#include <cstdint>

#include "dataplane/decode/ip_address.h"
#include "dataplane/decode/tunnel.h"

namespace misdirect::dataplane {

inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;

struct DecodedPacket {
  uint64_t timestamp_ns = 0;
  IpAddress src;
  IpAddress dst;
  uint8_t ip_protocol = 0;   // 6 TCP, 17 UDP, ...
  uint32_t ip_bytes = 0;     // L3 length from the IP header(s), never from the frame
  bool reassembled = false;  // this frame completed an IP datagram from fragments
  // The tags of the Ethernet header that carried the (inner) IP packet: those of the outer frame
  // outside tunnels, of the tunnelled frame inside one (none when the tunnel carried IP directly).
  uint16_t vlan_ids[2] = {0, 0};
  uint8_t vlan_count = 0;    // 0, 1 (802.1Q) or 2 (QinQ); outer first
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  // TCP only.
  uint8_t tcp_flags = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  // The TCP payload as the IP header describes it; `captured_payload_length` of it are present at
  // `payload` (less when the capture cut the frame short). Points into the frame or, for a
  // reassembled IP datagram, into the reassembler's buffer until the next decode call.
  const uint8_t* payload = nullptr;
  uint32_t payload_length = 0;
  uint32_t captured_payload_length = 0;
  // Encapsulations around the inner packet (tunnel.layer_count 0: none).
  TunnelInfo tunnel;
};

}  // namespace misdirect::dataplane
