// FanoutHash: which worker a frame from a single-queue port goes to, for the software fan-out.
//
// Symmetric: the hash covers the sorted pair of IP addresses (and the VLAN ids), so both
// directions of a flow reach one worker. Ports are left out on purpose: the fragments of an IP
// datagram carry no ports after the first, and every fragment must meet the rest of its flow in
// the one worker whose reassembler and flow table hold it. Ethernet only (live ports are), with up
// to two 802.1Q/802.1ad/0x9100 tags; anything that is not IPv4/IPv6 goes to worker 0, where the
// decoder counts it.
#pragma once

#include <cstdint>
#include <cstring>

namespace misdirect::dataplane {

inline uint64_t fanout_mix(uint64_t x, uint64_t y) noexcept {
  const unsigned __int128 product = static_cast<unsigned __int128>(x ^ 0xa0761d6478bd642full) *
                                    (y ^ 0xe7037ed1a0b428dbull);
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

// The pair of addresses at `address_offset` (each `address_bytes` long), in either order. `seed` is
// the run's secret (the sensor picks one at random, or --hash-seed's): mixed into each address
// alone, it keeps the hash symmetric while senders cannot aim flows at one worker.
inline uint64_t fanout_hash_addresses(const uint8_t* frame, uint32_t length, uint32_t address_offset,
                                      uint32_t address_bytes, uint32_t vlans, uint64_t seed = 0) noexcept {
  if (address_offset + 2 * address_bytes > length) {
    return 0;
  }
  uint64_t a[2] = {0, 0};
  uint64_t b[2] = {0, 0};
  std::memcpy(a, frame + address_offset, address_bytes);
  std::memcpy(b, frame + address_offset + address_bytes, address_bytes);
  // Order-independent: mix each address alone, then combine with a commutative operation.
  const uint64_t ha = fanout_mix(a[0] ^ seed, a[1] ^ address_bytes);
  const uint64_t hb = fanout_mix(b[0] ^ seed, b[1] ^ address_bytes);
  return fanout_mix(ha + hb, (ha ^ hb) + vlans);
}

// From an IP header (version 4 or 6 by its first nibble), for links without Ethernet (replay's
// Linux cooked, raw IP and loopback captures). Returns 0 for anything else.
inline uint64_t fanout_hash_ip(const uint8_t* ip, uint32_t length, uint32_t vlans, uint64_t seed = 0) noexcept {
  if (length == 0) {
    return 0;
  }
  switch (ip[0] >> 4) {
    case 4: return fanout_hash_addresses(ip, length, 12, 4, vlans, seed);
    case 6: return fanout_hash_addresses(ip, length, 8, 16, vlans, seed);
    default: return 0;
  }
}

// Reads only what it needs, never past `length`. Returns 0 for frames it cannot place. `seed`: as
// for fanout_hash_addresses.
inline uint64_t fanout_hash(const uint8_t* frame, uint32_t length, uint64_t seed = 0) noexcept {
  uint32_t offset = 12;
  uint32_t vlans = 0;
  for (int tag = 0; tag < 3; ++tag) {
    if (offset + 2 > length) {
      return 0;
    }
    const uint16_t ether_type = static_cast<uint16_t>(frame[offset] << 8 | frame[offset + 1]);
    if (ether_type == 0x8100 || ether_type == 0x88a8 || ether_type == 0x9100) {
      if (offset + 4 > length) {
        return 0;
      }
      vlans = vlans << 12 | ((frame[offset + 2] & 0x0f) << 8 | frame[offset + 3]);
      offset += 4;
      continue;
    }
    offset += 2;
    uint32_t address_offset = 0;
    uint32_t address_bytes = 0;
    if (ether_type == 0x0800) {
      address_offset = offset + 12;
      address_bytes = 4;
    } else if (ether_type == 0x86dd) {
      address_offset = offset + 8;
      address_bytes = 16;
    } else {
      return 0;
    }
    return fanout_hash_addresses(frame, length, address_offset, address_bytes, vlans, seed);
  }
  return 0;
}

}  // namespace misdirect::dataplane
