// PacketView: one captured frame as the packet path sees it, from a DPDK mbuf or a libpcap buffer.
// No copy is made; the bytes belong to the source and live until the burst is processed.
#pragma once

#include <cstdint>

namespace misdirect::dataplane {

// What the first byte of a frame is. Live ports are always Ethernet.
enum class LinkType : uint8_t {
  kEthernet,
  kLinuxSll,   // DLT_LINUX_SLL (113)
  kLinuxSll2,  // DLT_LINUX_SLL2 (276)
  kRawIp,      // DLT_RAW (12 or 101): version nibble decides
  kIpv4,       // DLT_IPV4 (228)
  kIpv6,       // DLT_IPV6 (229)
  kNull,       // DLT_NULL (0): 4-byte host-order address family (BSD loopback)
};

// PacketView::input when the packet came from no live port (replay's captures).
inline constexpr uint8_t kNoInput = 0xff;

struct PacketView {
  const uint8_t* data = nullptr;
  uint32_t captured_length = 0;  // bytes present at `data`
  uint32_t wire_length = 0;      // bytes on the wire (>= captured_length when the capture was cut)
  uint64_t timestamp_ns = 0;     // capture time, nanoseconds since the Unix epoch
  LinkType link_type = LinkType::kEthernet;
  // The live port the frame arrived on, as an index into the sensor's port list
  // (WorkerConfig::input_names: what records write as `in_iface`); kNoInput in replay. It fits in
  // the padding.
  uint8_t input = kNoInput;
  // How many packets just before this one in the input cannot teach the shared learned book
  // (they are not DNS, see control/replay_book_teachers.h), capped at 65535; set with `order` by
  // a reader that fans packets out, 0 (nothing known) elsewhere. A worker about to read the book
  // waits only until the others have passed the last packet that can teach (LearnedBookGate).
  uint16_t quiet_before = 0;
  // The packet's place in the input, counted by a reader that fans packets out to several workers
  // (replay --workers), modulo 2^32; 0 elsewhere. Workers that share what they learn from DNS use
  // it to read the shared book in input order (LearnedBookGate). It fits in the padding.
  uint32_t order = 0;
};
// input, quiet_before and order live in what would be padding: bursts stay two views a cache line.
static_assert(sizeof(PacketView) == 32);

}  // namespace misdirect::dataplane
