// FanoutClassifier: which worker a frame goes to when one thread reads for several — a live RX
// lcore in software fan-out, or the replay reader with --workers. It decodes the frame with its
// own PacketDecoder, through every encapsulation, and hashes the *inner* flow: the sorted pair of
// inner addresses, the tunnel identity (VNI, GRE key, ERSPAN session) and the inner VLAN tags.
//
// Why the inner flow: a traffic mirror delivers everything it copies with one outer address pair
// (mirror → collector), so a hash of the outer header — what a NIC's RSS computes — puts every
// tunnelled flow on one worker. The inner flow spreads them. Both directions of a flow, and a flow
// whose directions two mirrors deliver, still meet in one worker, because the hash is made of
// parts of the flow key (FlowKey) and is symmetric in the two addresses.
//
// Ports are left out on purpose: the fragments of an IP datagram carry no ports after the first,
// and every fragment must reach the one worker whose reassembler holds the rest. Fragments are
// not reassembled here: a fragment is placed by the IP header it is a fragment of. For a fragment
// of the inner packet that is the inner flow's own addresses and identity, so it meets its flow.
// For a fragment of the outer packet (a tunnel packet that outgrew a link's MTU) it is the outer
// pair: such packets reach the worker of the outer pair, which may not be their flow's
// (docs/tunnels.md says what to do about it).
//
// Cost: one decode per frame on the reading thread, on the decoder's fast paths for plain and
// VXLAN TCP. Frames it cannot place (not IP, malformed) hash to 0 and go to worker 0, whose own
// decoder counts them.
#pragma once

#include <cstdint>

#include "dataplane/decode/decoded_packet.h"
#include "dataplane/decode/packet_decoder.h"
#include "dataplane/decode/packet_view.h"

namespace misdirect::dataplane {

class FanoutClassifier {
 public:
  // `config`: the workers' decoder settings (tunnel ports, depth bound), so that this decoder opens
  // exactly what theirs do; its reassembly settings are not used. `seed` is mixed into every hash.
  explicit FanoutClassifier(const DecoderConfig& config, uint64_t seed = 0);

  // The frame's flow hash; 0 when the frame cannot be placed.
  uint64_t hash(const PacketView& packet) noexcept;

  // One of `workers` for `hash`, from its high bits (multiply-shift, no division).
  static uint32_t pick(uint64_t hash, uint32_t workers) noexcept {
    return static_cast<uint32_t>(((hash >> 32) * workers) >> 32);
  }

  // The hash of a decoded packet's flow (what hash() computes after decoding): symmetric in the
  // two addresses; never 0.
  static uint64_t flow_hash(const DecodedPacket& packet, uint64_t seed) noexcept;

 private:
  static DecoderConfig classify_config(DecoderConfig config) noexcept;

  PacketDecoder decoder_;
  DecodedPacket decoded_;
  uint64_t seed_;
};

}  // namespace misdirect::dataplane
