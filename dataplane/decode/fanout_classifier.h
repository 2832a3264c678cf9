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
// reassembled here (the decoder runs in look-only mode, reassemble_fragments off):
//   - a fragment of a plain or of an inner (tunnelled) packet carries the flow's own addresses and
//     identity: it is placed by the IP header it is a fragment of and meets the rest of its flow.
//     So is every fragment of a datagram that cannot carry a tunnel (TCP, ICMP, ...);
//   - the fragments of an outer packet that may carry a tunnel (UDP, GRE, IP-in-IP, MPLS-in-IP:
//     an ERSPAN or VXLAN packet cut on its way to the sensor) follow their first fragment, which
//     carries the tunnel and the inner headers and is placed by the inner flow like an
//     unfragmented packet of that flow. FanoutFragmentTable (fanout_fragment_table.h) remembers
//     the choice for the datagram's other fragments and holds those that come before their first
//     fragment (bounded in frames, bytes and time); when it cannot — no room, the first fragment
//     too short to hold the inner headers, or never coming — the datagram goes by its outer
//     header, all of it together, and the case is counted. So a mirror that fragments only some
//     packets of an inner flow no longer splits the flow over two workers.
// A held frame stays with the caller (an mbuf on the RX lcore, a copy on replay's reader), in the
// slot place() names; released() lists, after each call, the held frames to send — in arrival
// order, before the frame just placed — and where. The caller gives the time (packet time in
// replay, wall time live) and calls expire() while frames are held, and flush() at the end of
// its input.
//
// Cost: one decode per frame on the reading thread, as deep as the innermost IP header and the
// TCP/UDP header after it (a UDP port can open a tunnel), within the decoder's depth bound;
// plain and VXLAN IPv4 TCP take the decoder's fast paths; a fragment that may carry a tunnel
// costs a look-up in the fragment table besides. Nothing is allocated after construction and
// nothing throws. Frames it cannot place (not IP, malformed, too deep) hash to 0
// and go to worker 0, whose own decoder counts them.
#pragma once

#include <cstdint>
#include <span>

#include "dataplane/decode/decoded_packet.h"
#include "dataplane/decode/fanout_fragment_table.h"
#include "dataplane/decode/packet_decoder.h"
#include "dataplane/decode/packet_view.h"

namespace misdirect::dataplane {

// What a frame's placement was based on (the fan-out counts each).
enum class FanoutBasis : uint8_t {
  kUnplaced,       // not IP, malformed or nested too deep: hash 0, worker 0
  kFlow,           // an untunnelled packet's flow
  kTunnelledFlow,  // the inner flow of an encapsulated packet
  kFragment,       // an IP fragment placed by the header it is a fragment of (inner or outer)
  kFragmentByInnerFlow,  // an outer fragment placed by the inner flow its datagram carries
  kHeld,           // a fragment waiting for its first fragment: the caller keeps it in held_slot
};

struct FanoutPlacement {
  uint64_t hash = 0;  // 0 only when unplaced (and when held)
  FanoutBasis basis = FanoutBasis::kUnplaced;
  uint16_t held_slot = 0;  // kHeld: where the caller keeps the frame until released()
};

class FanoutClassifier {
 public:
  // `config`: the workers' decoder settings (tunnel ports, depth bound), so that this decoder
  // opens exactly what theirs do; its reassembly settings are not used. `seed` is mixed into each
  // address alone, so placement stays symmetric while senders cannot aim flows at one worker.
  // Throws std::invalid_argument (cold, at set-up) for a configuration the decoder refuses.
  // `fragments`: the fragment table's bounds (replay's reader lowers held_frame_bytes to what it
  // can copy); its datagram_timeout_ns is taken from `config`'s reassembly timeout.
  FanoutClassifier(const DecoderConfig& config, uint64_t seed,
                   const FanoutFragmentConfig& fragments = FanoutFragmentConfig{});

  // Where `packet` goes; `now_ns` is the caller's clock (never read here). Send what released()
  // lists first.
  FanoutPlacement place(const PacketView& packet, uint64_t now_ns) noexcept;
  // Held frames to send now, in order, with where they go: after place() (before the frame it
  // placed), expire() or flush(). Valid until the next of those calls.
  std::span<const FanoutFragmentTable::Release> released() const noexcept { return fragments_.released(); }
  // While frames are held: releases those whose first fragment is overdue at `now_ns`.
  void expire(uint64_t now_ns) noexcept { fragments_.expire(now_ns); }
  // The end of the input: every held frame is released (by its outer header).
  void flush() noexcept { fragments_.flush(); }
  bool holding() const noexcept { return fragments_.holding(); }
  const CounterArray<FanoutFragmentCounter>& fragment_counters() const noexcept { return fragments_.counters(); }

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
  static FanoutFragmentConfig remembering(FanoutFragmentConfig fragments, const DecoderConfig& config) noexcept;
  FanoutPlacement place_fragment(const LookedFragment& fragment, DecodeResult result,
                                 const PacketView& packet, uint64_t now_ns) noexcept;

  PacketDecoder decoder_;
  DecodedPacket decoded_;
  uint64_t seed_;
  FanoutFragmentTable fragments_;
};

}  // namespace misdirect::dataplane
