// LiveSensor's RX lcores (software fan-out): read the port, place each frame by its inner flow
// (FanoutClassifier: through tunnels, the address pair in either order, the tunnel identity) on
// a worker, and enqueue it on that worker's ring.
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "dataplane/live/live_lcore_context.h"

namespace misdirect::dataplane {

int LiveSensor::rx_main(void* context) {
  auto* rx = static_cast<RxContext*>(context);
  rx->sensor->run_rx(*rx);
  return 0;
}

void LiveSensor::run_rx(RxContext& rx) {
  const uint32_t workers = config_.workers;
  const uint16_t burst = static_cast<uint16_t>(config_.burst);
  while (!stop_.load(std::memory_order_acquire)) {
    uint32_t received = 0;
    for (const uint16_t port : rx.ports) {
      const uint16_t count = rte_eth_rx_burst(port, 0, rx.mbufs.data(), burst);
      if (count == 0) {
        continue;
      }
      received += count;
      rx.counters.add(LiveRxCounter::kPackets, count);
      uint64_t bytes = 0;
      uint64_t unplaced = 0;
      uint64_t tunnelled = 0;
      uint64_t fragments = 0;
      for (uint16_t i = 0; i < count && i < kPrefetchAhead; ++i) {
        rte_prefetch0(rte_pktmbuf_mtod(rx.mbufs[i], void*));
      }
      for (uint16_t i = 0; i < count; ++i) {
        if (i + kPrefetchAhead < count) {
          rte_prefetch0(rte_pktmbuf_mtod(rx.mbufs[i + kPrefetchAhead], void*));
        }
        rte_mbuf* mbuf = rx.mbufs[i];
        bytes += mbuf->pkt_len;
        // The first segment holds the headers; a longer frame is a capture cut short to it.
        const PacketView view{rte_pktmbuf_mtod(mbuf, const uint8_t*), mbuf->data_len, mbuf->pkt_len,
                              0, LinkType::kEthernet, 0};
        const FanoutPlacement placed = rx.classifier->place(view);
        unplaced += placed.basis == FanoutBasis::kUnplaced ? 1 : 0;
        tunnelled += placed.basis == FanoutBasis::kTunnelledFlow ? 1 : 0;
        fragments += placed.basis == FanoutBasis::kFragment ? 1 : 0;
        const uint32_t id = FanoutClassifier::pick(placed.hash, workers);
        rx.batches[id][rx.batch_sizes[id]++] = mbuf;
      }
      for (uint32_t id = 0; id < workers; ++id) {
        const uint16_t size = rx.batch_sizes[id];
        if (size == 0) {
          continue;
        }
        rx.batch_sizes[id] = 0;
        rte_mbuf** batch = rx.batches[id].data();
        unsigned sent = rte_ring_enqueue_burst(rx.rings[id], reinterpret_cast<void* const*>(batch),
                                               size, nullptr);
        while (config_.lossless && sent < size && !stop_.load(std::memory_order_relaxed)) {
          rte_pause();
          sent += rte_ring_enqueue_burst(rx.rings[id], reinterpret_cast<void* const*>(batch + sent),
                                         size - sent, nullptr);
        }
        if (sent < size) {
          rte_pktmbuf_free_bulk(rx.batches[id].data() + sent, size - sent);
          std::atomic<uint64_t>& full = rx.ring_full[id];
          full.store(full.load(std::memory_order_relaxed) + (size - sent), std::memory_order_release);
          rx.counters.add(LiveRxCounter::kRingFull, size - sent);
        }
      }
      rx.counters.add(LiveRxCounter::kBytes, bytes);
      if (unplaced != 0) {
        rx.counters.add(LiveRxCounter::kNotIp, unplaced);
      }
      if (tunnelled != 0) {
        rx.counters.add(LiveRxCounter::kTunnelled, tunnelled);
      }
      if (fragments != 0) {
        rx.counters.add(LiveRxCounter::kFragments, fragments);
      }
    }
    if (received == 0) {
      rx.empty_polls.store(rx.empty_polls.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
    } else {
      rx.empty_polls.store(0, std::memory_order_relaxed);
      const uint64_t now_ns = wall_clock_ns();
      rx.last_packet_ns.store(now_ns, std::memory_order_relaxed);
      if (rx.first_packet_ns.load(std::memory_order_relaxed) == 0) {
        rx.first_packet_ns.store(now_ns, std::memory_order_relaxed);
      }
    }
  }
  rx.finished.store(true, std::memory_order_release);
  rx_finished_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace misdirect::dataplane
