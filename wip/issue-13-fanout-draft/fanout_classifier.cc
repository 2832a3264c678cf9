// FanoutClassifier (fanout_classifier.h): the inner flow's symmetric hash for the software fan-out.
#include "dataplane/decode/fanout_classifier.h"

#include <cstring>

namespace misdirect::dataplane {

namespace {

uint64_t mix(uint64_t x, uint64_t y) noexcept {
  const unsigned __int128 product =
      static_cast<unsigned __int128>(x ^ 0xa0761d6478bd642full) * (y ^ 0xe7037ed1a0b428dbull);
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

uint64_t address_hash(const IpAddress& address) noexcept {
  uint64_t halves[2];
  std::memcpy(halves, address.bytes.data(), sizeof(halves));
  return mix(halves[0], halves[1] ^ address.version);
}

}  // namespace

DecoderConfig FanoutClassifier::classify_config(DecoderConfig config) noexcept {
  config.reassemble_fragments = false;
  // No datagram is ever held: the smallest reassembler the decoder accepts.
  config.reassembly.max_datagrams = 1;
  config.reassembly.memcap_bytes = 64 << 10;
  return config;
}

FanoutClassifier::FanoutClassifier(const DecoderConfig& config, uint64_t seed)
    : decoder_(classify_config(config)), seed_(seed) {}

uint64_t FanoutClassifier::flow_hash(const DecodedPacket& packet, uint64_t seed) noexcept {
  const uint64_t a = address_hash(packet.src);
  const uint64_t b = address_hash(packet.dst);
  // Order-independent: each address mixed alone, combined with commutative operations.
  const uint64_t vlans = (uint64_t{packet.vlan_ids[0]} << 16) | packet.vlan_ids[1];
  const uint64_t pair = mix(a + b, (a ^ b) + vlans);
  const uint64_t hash = mix(pair ^ seed, packet.tunnel.identity() + 0x9e3779b97f4a7c15ull);
  return hash == 0 ? 1 : hash;
}

uint64_t FanoutClassifier::hash(const PacketView& packet) noexcept {
  switch (decoder_.decode(packet, decoded_)) {
    case DecodeResult::kTcp:
    case DecodeResult::kOtherIp:
    case DecodeResult::kFragmentHeld:  // a fragment: placed by the header it is a fragment of
      return flow_hash(decoded_, seed_);
    case DecodeResult::kDropped:
      break;
  }
  return 0;
}

}  // namespace misdirect::dataplane
