// FlowKey: the identity of one flow — the 5-tuple (plus VLAN ids and the tunnel identity) written
// the same way for both directions, and the end that sent the packet it was built from.
//
// For a tunnelled packet the tuple is the inner packet's and the tunnel identity (VXLAN or GENEVE
// VNI, GRE key, ERSPAN session id: see decode/tunnel.h) keeps overlapping tenant address spaces
// apart; the outer addresses are not part of it, so both directions of an inner flow meet even
// when a mirror delivers them from different sources.
//
// Canonical order: endpoint A is the lower (address bytes, port) of the two, B the other, so both
// directions of a connection produce identical key bytes and one hash. A connection from an
// endpoint to itself (same address and port) has every packet sent by A.
//
// The hashes read the key's bytes as whole words, so the key has no implicit padding and every
// byte is written by the constructors.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "dataplane/decode/decoded_packet.h"

namespace misdirect::dataplane {

// One of a flow's two ends: A, the key's first (lower) endpoint, or B. The flow table and the
// reassembler keep their per-end storage (packets, bytes, TCP streams) by it; which end is the
// client is a fact of the Flow (see flow.h). Nothing above the flow layer keeps an end: parsers,
// detection and the worker speak inspect::Direction (client → server or back).
enum class FlowEnd : uint8_t { kA = 0, kB = 1 };

constexpr FlowEnd opposite(FlowEnd end) noexcept {
  return end == FlowEnd::kA ? FlowEnd::kB : FlowEnd::kA;
}

constexpr std::size_t index_of(FlowEnd end) noexcept { return static_cast<std::size_t>(end); }

struct FlowKey {
  // Identity: bytes [0, kIdentityBytes) — hashed and compared.
  std::array<uint8_t, 16> address_a{};  // IPv4 in the first 4 bytes, rest zero
  std::array<uint8_t, 16> address_b{};
  uint16_t port_a = 0;
  uint16_t port_b = 0;
  uint16_t vlan_ids[2] = {0, 0};  // outer first; 0 when untagged or when VLANs are not tracked
  uint32_t tunnel_id = 0;         // TunnelInfo::id (0 outside tunnels)
  uint8_t ip_version = 0;         // 4 or 6
  uint8_t protocol = 0;           // 6 TCP, 17 UDP, ...
  Encapsulation tunnel_kind = Encapsulation::kNone;  // TunnelInfo::id_kind
  // Not identity: the end that sent the packet this key was built from.
  FlowEnd sender = FlowEnd::kA;

  static constexpr std::size_t kIdentityBytes = 47;

  // The key of a decoded packet. `use_vlan`: VLAN ids are part of the identity (as Suricata's
  // vlan.use-for-tracking), so overlapping address spaces on different VLANs stay apart.
  static FlowKey from_packet(const DecodedPacket& packet, bool use_vlan = true) noexcept {
    FlowKey key;
    const bool src_first = endpoint_less_or_equal(packet.src, packet.src_port, packet.dst,
                                                  packet.dst_port);
    const IpAddress& a = src_first ? packet.src : packet.dst;
    const IpAddress& b = src_first ? packet.dst : packet.src;
    key.address_a = a.bytes;
    key.address_b = b.bytes;
    key.port_a = src_first ? packet.src_port : packet.dst_port;
    key.port_b = src_first ? packet.dst_port : packet.src_port;
    if (use_vlan) {
      key.vlan_ids[0] = packet.vlan_count > 0 ? packet.vlan_ids[0] : 0;
      key.vlan_ids[1] = packet.vlan_count > 1 ? packet.vlan_ids[1] : 0;
    }
    key.tunnel_id = packet.tunnel.id;
    key.ip_version = packet.src.version;
    key.protocol = packet.ip_protocol;
    key.tunnel_kind = packet.tunnel.id_kind;
    key.sender = src_first ? FlowEnd::kA : FlowEnd::kB;
    return key;
  }

  // Same flow, whichever direction either key was built from.
  bool same_flow(const FlowKey& other) const noexcept {
    // Whole words, no branch per word: the lookup compares one key per tag match.
    const auto* x = reinterpret_cast<const uint8_t*>(this);
    const auto* y = reinterpret_cast<const uint8_t*>(&other);
    const uint64_t diff = (load64(x) ^ load64(y)) | (load64(x + 8) ^ load64(y + 8)) |
                          (load64(x + 16) ^ load64(y + 16)) | (load64(x + 24) ^ load64(y + 24)) |
                          (load64(x + 32) ^ load64(y + 32)) |
                          ((load64(x + 40) ^ load64(y + 40)) & kTailMask);
    return diff == 0;
  }

  // 64-bit hash of the identity (so equal for both directions). The flow table mixes it with its
  // secret seed to choose a bucket and keeps its low 32 bits as the entry's tag.
  uint64_t hash() const noexcept { return hash_with(0x243f6a8885a308d3ull); }

  // A second, independent hash of the identity, for spreading flows over workers: independent so
  // that the workers' tables, each seeing only the flows with one value of it, still use every
  // bucket.
  uint64_t spread_hash() const noexcept { return hash_with(0x13198a2e03707344ull); }

 private:
  static bool endpoint_less_or_equal(const IpAddress& x, uint16_t x_port, const IpAddress& y,
                                     uint16_t y_port) noexcept {
    // Byte order of the addresses (memcmp's) as two big-endian 64-bit compares.
    const uint64_t x_high = __builtin_bswap64(load64(x.bytes.data()));
    const uint64_t y_high = __builtin_bswap64(load64(y.bytes.data()));
    if (x_high != y_high) {
      return x_high < y_high;
    }
    const uint64_t x_low = __builtin_bswap64(load64(x.bytes.data() + 8));
    const uint64_t y_low = __builtin_bswap64(load64(y.bytes.data() + 8));
    if (x_low != y_low) {
      return x_low < y_low;
    }
    return x_port <= y_port;
  }

  // Bytes 40..46 of the last word (the sender byte, 47, is not identity); little-endian loads.
  static constexpr uint64_t kTailMask = 0x00ffffffffffffffull;
  static_assert(std::endian::native == std::endian::little, "the key's word loads assume little-endian");

  static uint64_t load64(const uint8_t* bytes) noexcept {
    uint64_t value;
    std::memcpy(&value, bytes, sizeof(value));
    return value;
  }

  // wyhash-style folded 64×64→128 multiply: every input bit reaches every output bit in one step.
  static uint64_t mum(uint64_t x, uint64_t y) noexcept {
    const unsigned __int128 product = static_cast<unsigned __int128>(x) * y;
    return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
  }

  uint64_t hash_with(uint64_t seed) const noexcept {
    constexpr uint64_t kP0 = 0xa0761d6478bd642full;
    constexpr uint64_t kP1 = 0xe7037ed1a0b428dbull;
    constexpr uint64_t kP2 = 0x8ebc6af09c88c6e3ull;
    constexpr uint64_t kP3 = 0x589965cc75374cc3ull;
    const auto* bytes = reinterpret_cast<const uint8_t*>(this);
    const uint64_t tail = load64(bytes + 40) & kTailMask;
    const uint64_t h0 = mum(load64(bytes) ^ seed ^ kP0, load64(bytes + 8) ^ kP1);
    const uint64_t h1 = mum(load64(bytes + 16) ^ seed ^ kP2, load64(bytes + 24) ^ kP3);
    const uint64_t h2 = mum(load64(bytes + 32) ^ seed ^ kP1, tail ^ kP0);
    return mum(h0 ^ h1 ^ h2 ^ kP2, seed ^ kP3);
  }
};

static_assert(sizeof(FlowKey) == 48, "FlowKey must have no implicit padding: hashes read its bytes");
static_assert(offsetof(FlowKey, sender) == FlowKey::kIdentityBytes);
static_assert(std::is_trivially_copyable_v<FlowKey>);

// The same value for both directions of a flow (the inner flow and its tunnel identity, for a
// tunnelled packet): used to split packets over workers so that both directions reach one.
inline uint64_t symmetric_flow_hash(const DecodedPacket& packet, bool use_vlan = true) noexcept {
  return FlowKey::from_packet(packet, use_vlan).spread_hash();
}

}  // namespace misdirect::dataplane
