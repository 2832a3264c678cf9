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

}  // namespace

DecoderConfig FanoutClassifier::looking_config(DecoderConfig config) noexcept {
  config.reassemble_fragments = false;
  // Never used (nothing is held): the smallest reassembler the decoder accepts.
  config.reassembly.max_datagrams = 1;
  config.reassembly.max_datagram_bytes = 1024;
  config.reassembly.memcap_bytes = 1024;
  config.reassembly.max_fragments_per_datagram = 1;
  return config;
}

FanoutClassifier::FanoutClassifier(const DecoderConfig& config, uint64_t seed)
    : decoder_(looking_config(config)), seed_(seed) {}

uint64_t FanoutClassifier::flow_hash(const DecodedPacket& packet, uint64_t seed) noexcept {
  const uint64_t a = address_hash(packet.src, seed);
  const uint64_t b = address_hash(packet.dst, seed);
  // The VLAN ids as the flow key takes them (FlowKey::from_packet).
  const uint64_t vlans = (packet.vlan_count > 0 ? uint64_t{packet.vlan_ids[0]} << 16 : 0) |
                         (packet.vlan_count > 1 ? packet.vlan_ids[1] : 0);
  const uint64_t pair = mix(a + b, (a ^ b) + vlans);
  const uint64_t hash = mix(pair, packet.tunnel.identity() + 0x9e3779b97f4a7c15ull);
  return hash == 0 ? 1 : hash;
}

FanoutPlacement FanoutClassifier::place(const PacketView& packet) noexcept {
  switch (decoder_.decode(packet, decoded_)) {
    case DecodeResult::kTcp:
    case DecodeResult::kOtherIp:
      return FanoutPlacement{flow_hash(decoded_, seed_), decoded_.tunnel.layer_count > 0
                                                             ? FanoutBasis::kTunnelledFlow
                                                             : FanoutBasis::kFlow};
    case DecodeResult::kFragmentHeld:
      return FanoutPlacement{flow_hash(decoded_, seed_), FanoutBasis::kFragment};
    case DecodeResult::kDropped:
      break;
  }
  return FanoutPlacement{};
}

}  // namespace misdirect::dataplane
