// FanoutClassifier: which worker a frame goes to when one thread reads for several — a live RX
// lcore in software fan-out, or the replay reader with --workers. It decodes the frame with its
// own PacketDecoder (the workers' tunnel ports and depth bound), through every encapsulation, and
// hashes the *inner* flow the way the flow table keys it (FlowKey), less the ports: the inner pair
// of addresses in either order, the inner VLAN tags and the tunnel identity (VXLAN/GENEVE VNI,
// GRE key, ERSPAN session id; docs/tunnels.md).
//
// Why the inner flow: a traffic mirror delivers everything it copies with one outer address pair
// (mirror → collector), so a hash of the outer header — what a NIC's RSS computes, and what the
// fan-out hashed before — puts every tunnelled flow on one worker. The inner flow spreads them.
// Both directions of a flow still meet in one worker, even when two mirrors deliver them from
// different outer sources, because outer addresses are not hashed and the address pair is
// combined symmetrically. Two tenants' identical inner 5-tuples differ by the identity and may go
// to different workers, as they are different flows.
//
// Ports are left out on purpose: the fragments of an IP datagram carry no ports after the first,
// and every fragment must reach the one worker whose reassembler holds the rest. Fragments are not
// reassembled here (the decoder runs with reassemble_fragments off, so nothing is held): a
// fragment is placed by the IP header it is a fragment of, with the tunnel identity and VLAN tags
// around that header. So:
//   - a fragment of a plain or of an inner (tunnelled) packet carries the flow's own addresses and
//     identity and meets the rest of its flow;
//   - the fragments of an outer tunnel packet (an ERSPAN packet cut on its way to the sensor) all
//     carry the outer pair, so they all reach one worker — the outer pair's — which reassembles
//     them and inspects the inner packet there. When only some packets of an inner flow were
//     fragmented outside, those and the flow's others may reach different workers
//     (docs/tunnels.md, "Live mode"; replay and live behave alike).
//
// Cost: one decode per frame on the reading thread, as deep as the innermost IP header and the
// TCP/UDP header after it (a UDP port can open a tunnel), within the decoder's depth bound;
// plain and VXLAN IPv4 TCP take the decoder's fast paths. Nothing is allocated after
// construction and nothing throws. Frames it cannot place (not IP, malformed, too deep) hash to 0
// and go to worker 0, whose own decoder counts them.
#pragma once

#include <cstdint>

#include "dataplane/decode/decoded_packet.h"
#include "dataplane/decode/packet_decoder.h"
#include "dataplane/decode/packet_view.h"

namespace misdirect::dataplane {

// What a frame's placement was based on (the fan-out counts each).
enum class FanoutBasis : uint8_t {
  kUnplaced,       // not IP, malformed or nested too deep: hash 0, worker 0
  kFlow,           // an untunnelled packet's flow
  kTunnelledFlow,  // the inner flow of an encapsulated packet
  kFragment,       // an IP fragment: the header it is a fragment of (inner or outer)
};

struct FanoutPlacement {
  uint64_t hash = 0;  // 0 only when unplaced
  FanoutBasis basis = FanoutBasis::kUnplaced;
};

class FanoutClassifier {
 public:
  // `config`: the workers' decoder settings (tunnel ports, depth bound), so that this decoder
  // opens exactly what theirs do; its reassembly settings are not used. `seed` is mixed into each
  // address alone, so placement stays symmetric while senders cannot aim flows at one worker.
  // Throws std::invalid_argument (cold, at set-up) for a configuration the decoder refuses.
  FanoutClassifier(const DecoderConfig& config, uint64_t seed);

  FanoutPlacement place(const PacketView& packet) noexcept;
  // What the last place() decoded; meaningful when its basis was kFlow or kTunnelledFlow (replay's
  // reader asks it which packets may teach the learned book: replay_book_teachers.h).
  const DecodedPacket& decoded() const noexcept { return decoded_; }

  // One of `workers` for `hash`, from its high bits (multiply-shift, no division).
  static uint32_t pick(uint64_t hash, uint32_t workers) noexcept {
    return static_cast<uint32_t>(((hash >> 32) * workers) >> 32);
  }

  // The hash of a decoded packet's flow: symmetric in the two addresses; never 0.
  static uint64_t flow_hash(const DecodedPacket& packet, uint64_t seed) noexcept;

 private:
  static DecoderConfig looking_config(DecoderConfig config) noexcept;

  PacketDecoder decoder_;
  DecodedPacket decoded_;
  uint64_t seed_;
};

}  // namespace misdirect::dataplane
