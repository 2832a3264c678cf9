// FanoutClassifier (fanout_classifier.h): the inner flow's symmetric hash for the fan-out.
#include "dataplane/decode/fanout_classifier.h"

#include <cstring>

namespace misdirect::dataplane {

namespace {

// A 64x64→128 multiply folded to 64 bits: cheap and mixes every input bit into every output bit.
uint64_t mix(uint64_t x, uint64_t y) noexcept {
  const unsigned __int128 product =
      static_cast<unsigned __int128>(x ^ 0xa0761d6478bd642full) * (y ^ 0xe7037ed1a0b428dbull);
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

// One address alone, with the run's seed: combined afterwards with commutative operations, so
// that the pair hashes alike in either order.
uint64_t address_hash(const IpAddress& address, uint64_t seed) noexcept {
  uint64_t halves[2];
  std::memcpy(halves, address.bytes.data(), sizeof(halves));
  return mix(halves[0] ^ seed, halves[1] ^ address.version);
}

// The VLAN ids as the flow key takes them (FlowKey::from_packet).
uint32_t vlan_pair(const uint16_t (&ids)[2], uint8_t count) noexcept {
  return (count > 0 ? uint32_t{ids[0]} << 16 : 0) | (count > 1 ? ids[1] : 0);
}

uint64_t pair_hash(const IpAddress& src, const IpAddress& dst, uint32_t vlans, uint64_t identity,
                   uint64_t seed) noexcept {
  const uint64_t a = address_hash(src, seed);
  const uint64_t b = address_hash(dst, seed);
  const uint64_t pair = mix(a + b, (a ^ b) + vlans);
  const uint64_t hash = mix(pair, identity + 0x9e3779b97f4a7c15ull);
  return hash == 0 ? 1 : hash;
}

// Datagrams whose payload may open a tunnel: their first fragment decides where they go.
bool may_carry_tunnel(uint8_t protocol) noexcept {
  constexpr uint8_t kIpv4InIp = 4, kUdp = 17, kIpv6InIp = 41, kGre = 47, kMplsInIp = 137;
  return protocol == kUdp || protocol == kGre || protocol == kIpv4InIp || protocol == kIpv6InIp ||
         protocol == kMplsInIp;
}

}  // namespace

DecoderConfig FanoutClassifier::looking_config(DecoderConfig config) noexcept {
  config.reassemble_fragments = false;
  // Never used (look-only mode keeps nothing): the smallest reassembler the decoder accepts.
  config.reassembly.max_datagrams = 1;
  config.reassembly.max_datagram_bytes = 1024;
  config.reassembly.memcap_bytes = 1024;
  config.reassembly.max_fragments_per_datagram = 1;
  return config;
}

FanoutClassifier::FanoutClassifier(const DecoderConfig& config, uint64_t seed,
                                   const FanoutFragmentConfig& fragments)
    : decoder_(looking_config(config)), seed_(seed), fragments_(remembering(fragments, config)) {}

FanoutFragmentConfig FanoutClassifier::remembering(FanoutFragmentConfig fragments,
                                                   const DecoderConfig& config) noexcept {
  // A datagram is remembered as long as the workers' reassemblers wait for its fragments.
  fragments.datagram_timeout_ns = config.reassembly.timeout_ns;
  return fragments;
}

uint64_t FanoutClassifier::flow_hash(const DecodedPacket& packet, uint64_t seed) noexcept {
  return pair_hash(packet.src, packet.dst, vlan_pair(packet.vlan_ids, packet.vlan_count),
                   packet.tunnel.identity(), seed);
}

FanoutPlacement FanoutClassifier::place_fragment(const LookedFragment& looked, DecodeResult result,
                                                 const PacketView& packet, uint64_t now_ns) noexcept {
  FanoutFragment fragment;
  fragment.key.fragment = looked.key;
  fragment.key.vlans = vlan_pair(looked.vlan_ids, looked.vlan_count);
  fragment.outer_hash = pair_hash(looked.key.src, looked.key.dst, fragment.key.vlans, looked.key.scope, seed_);
  if (!may_carry_tunnel(looked.key.protocol)) {
    return FanoutPlacement{fragment.outer_hash, FanoutBasis::kFragment, 0};
  }
  fragment.key_hash = mix(fragment.outer_hash, (uint64_t{looked.key.id} << 8) | looked.key.protocol);
  fragment.offset_bytes = looked.offset_bytes;
  fragment.length = looked.length;
  fragment.more_fragments = looked.more_fragments;
  fragment.frame_bytes = packet.captured_length;
  FanoutFragmentTable::Decision decision;
  if (looked.offset_bytes == 0) {
    // Decoded on through (PacketDecoder's look-only mode): the inner flow, when the fragment
    // holds its headers — an inner fragment's header counts, it places its own flow alike.
    const bool short_first = result == DecodeResult::kDropped;
    const uint64_t first_hash = short_first ? fragment.outer_hash : flow_hash(decoded_, seed_);
    decision = fragments_.first(fragment, first_hash, short_first, now_ns);
  } else {
    decision = fragments_.later(fragment, now_ns);
  }
  if (decision.kind == FanoutFragmentTable::Decision::Kind::kHold) {
    return FanoutPlacement{0, FanoutBasis::kHeld, decision.slot};
  }
  return FanoutPlacement{decision.hash,
                         decision.hash == fragment.outer_hash ? FanoutBasis::kFragment
                                                              : FanoutBasis::kFragmentByInnerFlow,
                         0};
}

FanoutPlacement FanoutClassifier::place(const PacketView& packet, uint64_t now_ns) noexcept {
  fragments_.clear_released();
  const LookedFragment* fragment = nullptr;
  const DecodeResult result = decoder_.decode_looking(packet, decoded_, fragment);
  if (fragment != nullptr) {
    return place_fragment(*fragment, result, packet, now_ns);
  }
  switch (result) {
    case DecodeResult::kTcp:
    case DecodeResult::kOtherIp:
      return FanoutPlacement{flow_hash(decoded_, seed_), decoded_.tunnel.layer_count > 0
                                                             ? FanoutBasis::kTunnelledFlow
                                                             : FanoutBasis::kFlow};
    case DecodeResult::kFragmentHeld:  // only with a fragment, handled above
    case DecodeResult::kDropped:
      break;
  }
  return FanoutPlacement{};
}

}  // namespace misdirect::dataplane
