// LivePort: one DPDK ethdev as the sensor uses it — probed, given a mode, configured for receive
// only (promiscuous, MTU up to the frame size the mbufs hold) and read for its stats.
//
// Modes, decided once at start-up from what the port offers:
//   direct          one worker: it reads the port's single queue itself.
//   symmetric-rss   the port has at least one RX queue per worker and RSS, and the software
//                   fan-out was not asked for (--software-fanout): queue w goes to worker
//                   w, hashed with the repeated 0x6d5a Toeplitz key so that both directions of a
//                   flow land in one queue.
//   software-fanout anything else (single-queue vdevs such as net_pcap and net_af_packet): an RX
//                   lcore reads the port and hands each frame to a worker ring by its inner
//                   flow (FanoutClassifier).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct rte_mempool;

namespace misdirect::dataplane {

enum class PortMode : uint8_t { kDirect, kSymmetricRss, kSoftwareFanout };
std::string_view port_mode_name(PortMode mode) noexcept;

struct PortStats {
  uint64_t ipackets = 0;
  uint64_t ibytes = 0;
  uint64_t imissed = 0;
  uint64_t ierrors = 0;
  uint64_t rx_nombuf = 0;
};

class LivePort {
 public:
  // Reads the port's name, driver and capabilities and picks its mode for `workers`
  // (`software_fanout`: never symmetric-rss). Returns an error line, empty on success.
  std::string probe(uint16_t port_id, uint32_t workers, bool software_fanout = false);
  // Configures RX queues (and the TX queue some drivers insist on), sets the MTU for
  // `max_frame_bytes` where the driver allows it, starts the port and turns promiscuous mode on.
  // Returns an error line, empty on success; `notes` collects what was adjusted.
  // `rx_timestamps`: ask the driver to stamp each frame (only net_pcap's capture timestamps are
  // used; see LiveSensor).
  std::string configure_and_start(rte_mempool* pool, uint16_t rx_descriptors,
                                  uint32_t max_frame_bytes, bool rx_timestamps, std::string& notes);
  void stop() noexcept;

  PortStats stats() const noexcept;

  uint16_t port_id() const noexcept { return port_id_; }
  const std::string& name() const noexcept { return name_; }
  // The name records give the port (`in_iface`), chosen for an analyst to recognise: the kernel
  // interface a net_af_packet or net_pcap vdev reads (its `iface=`, `rx_iface=` or
  // `rx_iface_in=` argument), else the DPDK device name (a PCI address such as 0000:03:00.0, or
  // the vdev's name, e.g. net_pcap0 for one that replays a file).
  const std::string& input_name() const noexcept { return input_name_; }
  const std::string& driver() const noexcept { return driver_; }
  PortMode mode() const noexcept { return mode_; }
  uint16_t rx_queues() const noexcept { return rx_queues_; }
  uint16_t mtu() const noexcept { return mtu_; }
  bool promiscuous() const noexcept { return promiscuous_; }
  // The driver replays a capture file and can hand over each frame's capture timestamp.
  bool replays_capture_time() const noexcept { return replays_capture_time_; }
  int socket_id() const noexcept { return socket_id_; }

 private:
  uint16_t port_id_ = 0;
  std::string name_;
  std::string input_name_;
  std::string driver_;
  PortMode mode_ = PortMode::kDirect;
  uint16_t rx_queues_ = 1;
  uint16_t mtu_ = 0;
  bool promiscuous_ = false;
  bool started_ = false;
  bool replays_capture_time_ = false;
  int socket_id_ = 0;
};

}  // namespace misdirect::dataplane
