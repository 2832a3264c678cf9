// PacketDecoder fuzz target: any bytes, as any link type, cut anywhere, through one decoder.
//
// Input: byte 0 picks the link type, byte 1 how many bytes the "wire" had beyond the capture;
// the rest is a sequence of frames, each prefixed by a 2-byte big-endian length, all decoded by one
// decoder with a small reassembler so fragments of different frames meet. Each frame is copied
// into a buffer of exactly its length so AddressSanitizer sees any read past it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/decode/packet_decoder.h"

namespace {

using misdirect::dataplane::DecodedPacket;
using misdirect::dataplane::DecodeResult;
using misdirect::dataplane::DecoderConfig;
using misdirect::dataplane::LinkType;
using misdirect::dataplane::PacketDecoder;
using misdirect::dataplane::PacketView;

PacketDecoder& decoder() {
  static PacketDecoder instance = [] {
    DecoderConfig config;
    config.reassembly.max_datagrams = 8;
    config.reassembly.memcap_bytes = 256 * 1024;
    config.reassembly.max_fragments_per_datagram = 16;
    config.reassembly.timeout_ns = 1000;
    return PacketDecoder(config);
  }();
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const LinkType link_type = static_cast<LinkType>(data[0] % 8);  // 7: an unknown link type
  const uint32_t extra_wire = data[1];
  std::size_t offset = 2;
  static uint64_t now_ns = 0;
  while (offset + 2 <= size) {
    const std::size_t length = std::min<std::size_t>((data[offset] << 8) | data[offset + 1],
                                                     size - offset - 2);
    offset += 2;
    std::vector<uint8_t> frame(data + offset, data + offset + length);
    offset += length;
    PacketView view;
    view.data = frame.data();
    view.captured_length = static_cast<uint32_t>(frame.size());
    view.wire_length = view.captured_length + extra_wire;
    view.timestamp_ns = now_ns++;
    view.link_type = link_type;
    DecodedPacket out;
    const DecodeResult result = decoder().decode(view, out);
    if (result == DecodeResult::kTcp || result == DecodeResult::kOtherIp) {
      if (out.captured_payload_length > out.payload_length) {
        __builtin_trap();
      }
      // Touch every payload byte the decoder vouches for.
      volatile uint8_t sink = 0;
      for (uint32_t i = 0; i < out.captured_payload_length; ++i) {
        sink = sink ^ out.payload[i];
      }
    }
  }
  return 0;
}
