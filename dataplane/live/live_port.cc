// LivePort: probing, configuring and reading one ethdev (see live_port.h).
#include "dataplane/live/live_port.h"

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_kvargs.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace misdirect::dataplane {
namespace {

constexpr uint64_t kWantedRss = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
// The Toeplitz key 0x6d5a repeated gives the same hash with source and destination swapped
// (Woo and Park, "Scalable TCP Session Monitoring with Symmetric Receive-side Scaling").
constexpr std::size_t kDefaultRssKeyBytes = 40;

std::string describe(int code) { return std::strerror(code < 0 ? -code : code); }

// The kernel interface a vdev reads, from its device arguments (net_af_packet's and net_pcap's
// `iface=`, net_pcap's `rx_iface=` and `rx_iface_in=`); empty when it names none (a PCI device,
// a vdev reading a file).
std::string kernel_interface_of(const rte_device* device) {
  if (device == nullptr) {
    return {};
  }
  const rte_devargs* devargs = rte_dev_devargs(device);
  if (devargs == nullptr || devargs->args == nullptr || devargs->args[0] == '\0') {
    return {};
  }
  rte_kvargs* arguments = rte_kvargs_parse(devargs->args, nullptr);
  if (arguments == nullptr) {
    return {};
  }
  std::string interface;
  for (const char* key : {"iface", "rx_iface", "rx_iface_in"}) {
    if (const char* value = rte_kvargs_get(arguments, key); value != nullptr && value[0] != '\0') {
      interface = value;
      break;
    }
  }
  rte_kvargs_free(arguments);
  return interface;
}

}  // namespace

std::string_view port_mode_name(PortMode mode) noexcept {
  switch (mode) {
    case PortMode::kDirect:
      return "direct";
    case PortMode::kSymmetricRss:
      return "symmetric-rss";
    case PortMode::kSoftwareFanout:
      return "software-fanout";
  }
  return "unknown";
}

std::string LivePort::probe(uint16_t port_id, uint32_t workers, bool software_fanout) {
  port_id_ = port_id;
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  if (rte_eth_dev_get_name_by_port(port_id, name) == 0) {
    name_ = name;
  } else {
    name_ = "port" + std::to_string(port_id);
  }
  rte_eth_dev_info info;
  if (const int rc = rte_eth_dev_info_get(port_id, &info); rc != 0) {
    return "port " + std::to_string(port_id) + " (" + name_ + "): cannot read device info: " +
           describe(rc);
  }
  driver_ = info.driver_name != nullptr ? info.driver_name : "unknown";
  input_name_ = kernel_interface_of(info.device);
  if (input_name_.empty()) {
    input_name_ = name_;
  }
  // net_pcap stamps every frame it reads from a file with the capture time (in the mbuf
  // timestamp field, flagged per frame) without advertising the timestamp offload.
  replays_capture_time_ = driver_ == "net_pcap";
  const int socket = rte_eth_dev_socket_id(port_id);
  socket_id_ = socket < 0 ? 0 : socket;
  if (workers == 1) {
    mode_ = PortMode::kDirect;
    rx_queues_ = 1;
  } else if (!software_fanout && info.max_rx_queues >= workers &&
             (info.flow_type_rss_offloads & kWantedRss) != 0) {
    mode_ = PortMode::kSymmetricRss;
    rx_queues_ = static_cast<uint16_t>(workers);
  } else {
    mode_ = PortMode::kSoftwareFanout;
    rx_queues_ = 1;
  }
  return {};
}

std::string LivePort::configure_and_start(rte_mempool* pool, uint16_t rx_descriptors,
                                          uint32_t max_frame_bytes, bool rx_timestamps,
                                          std::string& notes) {
  const std::string label = "port " + std::to_string(port_id_) + " (" + name_ + ")";
  rte_eth_dev_info info;
  if (const int rc = rte_eth_dev_info_get(port_id_, &info); rc != 0) {
    return label + ": cannot read device info: " + describe(rc);
  }

  rte_eth_conf conf;
  std::memset(&conf, 0, sizeof(conf));
  // The MTU that lets the largest frame the mbufs hold arrive in one segment, allowing for two
  // VLAN tags: a span port carries whatever the mirrored links carry.
  const uint32_t overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 2 * RTE_VLAN_HLEN;
  uint32_t mtu = max_frame_bytes > overhead ? max_frame_bytes - overhead : RTE_ETHER_MTU;
  mtu = std::min<uint32_t>(mtu, info.max_mtu);
  if (info.max_rx_pktlen > overhead) {
    mtu = std::min<uint32_t>(mtu, info.max_rx_pktlen - overhead);
  }
  mtu = std::max<uint32_t>(mtu, info.min_mtu);
  conf.rxmode.mtu = mtu;
  if (rx_timestamps && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) != 0) {
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
  }
  mtu_ = static_cast<uint16_t>(mtu);

  std::vector<uint8_t> key;
  if (mode_ == PortMode::kSymmetricRss) {
    key.resize(info.hash_key_size != 0 ? info.hash_key_size : kDefaultRssKeyBytes);
    for (std::size_t i = 0; i < key.size(); ++i) {
      key[i] = (i % 2 == 0) ? 0x6d : 0x5a;
    }
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = key.data();
    conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<uint8_t>(key.size());
    conf.rx_adv_conf.rss_conf.rss_hf = kWantedRss & info.flow_type_rss_offloads;
  }

  // Receive only. Some drivers refuse a configuration without a TX queue; give those one, unused.
  uint16_t tx_queues = 0;
  int rc = rte_eth_dev_configure(port_id_, rx_queues_, tx_queues, &conf);
  if (rc != 0 && info.max_tx_queues > 0) {
    tx_queues = 1;
    rc = rte_eth_dev_configure(port_id_, rx_queues_, tx_queues, &conf);
  }
  if (rc != 0) {
    return label + ": cannot configure " + std::to_string(rx_queues_) + " RX queue(s) with MTU " +
           std::to_string(mtu) + ": " + describe(rc);
  }
  uint16_t rx_ring = rx_descriptors;
  uint16_t tx_ring = 64;
  if (rte_eth_dev_adjust_nb_rx_tx_desc(port_id_, &rx_ring, &tx_ring) != 0) {
    rx_ring = rx_descriptors;
  }
  rte_eth_rxconf rxconf = info.default_rxconf;
  rxconf.offloads = conf.rxmode.offloads;
  for (uint16_t queue = 0; queue < rx_queues_; ++queue) {
    rc = rte_eth_rx_queue_setup(port_id_, queue, rx_ring, static_cast<unsigned>(socket_id_),
                                &rxconf, pool);
    if (rc != 0) {
      return label + ": cannot set up RX queue " + std::to_string(queue) + " with " +
             std::to_string(rx_ring) + " descriptors: " + describe(rc);
    }
  }
  for (uint16_t queue = 0; queue < tx_queues; ++queue) {
    rc = rte_eth_tx_queue_setup(port_id_, queue, tx_ring, static_cast<unsigned>(socket_id_), nullptr);
    if (rc != 0) {
      return label + ": cannot set up its (unused) TX queue: " + describe(rc);
    }
  }
  rc = rte_eth_dev_start(port_id_);
  if (rc != 0) {
    return label + ": cannot start: " + describe(rc);
  }
  started_ = true;
  rc = rte_eth_promiscuous_enable(port_id_);
  promiscuous_ = rc == 0 && rte_eth_promiscuous_get(port_id_) == 1;
  if (!promiscuous_) {
    notes += "promiscuous mode not available (" + describe(rc) + "); ";
  }
  if (mode_ == PortMode::kSymmetricRss) {
    rte_eth_rss_conf applied;
    std::memset(&applied, 0, sizeof(applied));
    std::vector<uint8_t> readback(key.size());
    applied.rss_key = readback.data();
    applied.rss_key_len = static_cast<uint8_t>(readback.size());
    if (rte_eth_dev_rss_hash_conf_get(port_id_, &applied) == 0 && applied.rss_key_len != 0 &&
        readback != key) {
      notes += "driver did not keep the symmetric RSS key; ";
    }
  }
  return {};
}

void LivePort::stop() noexcept {
  if (started_) {
    rte_eth_dev_stop(port_id_);
    started_ = false;
  }
}

PortStats LivePort::stats() const noexcept {
  PortStats out;
  rte_eth_stats stats;
  if (rte_eth_stats_get(port_id_, &stats) == 0) {
    out.ipackets = stats.ipackets;
    out.ibytes = stats.ibytes;
    out.imissed = stats.imissed;
    out.ierrors = stats.ierrors;
    out.rx_nombuf = stats.rx_nombuf;
  }
  return out;
}

}  // namespace misdirect::dataplane
