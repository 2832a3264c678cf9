// LiveSensor's RX lcores (software fan-out): read the port, place each frame by its inner flow
// (FanoutClassifier: through tunnels, the address pair in either order, the tunnel identity) on
// a worker, and enqueue it on that worker's ring. Outer fragments that come before their first
// fragment are held here (their mbufs, at most FanoutFragmentConfig::held_frames an RX lcore, for
// at most its hold time) and follow it to its worker (fanout_fragment_table.h); at shutdown the
// held ones go to the worker of their outer header, so no mbuf is left behind.
#include <array>

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
  FanoutClassifier& classifier = *rx.classifier;
  const auto to_worker = [&rx, workers](rte_mbuf* mbuf, uint64_t hash) {
    const uint32_t id = FanoutClassifier::pick(hash, workers);
    rx.batches[id][rx.batch_sizes[id]++] = mbuf;
  };
  // Held fragments the classifier lets go (their first fragment came, or their time is up), in
  // order, before the frame just placed.
  const auto send_released = [&] {
    for (const FanoutFragmentTable::Release& release : classifier.released()) {
      to_worker(rx.held[release.slot], release.hash);
      rx.held[release.slot] = nullptr;
    }
  };
  // Each worker's batch onto its ring. `final`: the last batches at shutdown, which a lossless
  // sensor still waits to place (the workers empty the rings until every RX lcore has finished).
  const auto send_batches = [&](bool final) {
    for (uint32_t id = 0; id < workers; ++id) {
      const uint16_t size = rx.batch_sizes[id];
      if (size == 0) {
        continue;
      }
      rx.batch_sizes[id] = 0;
      rte_mbuf** batch = rx.batches[id].data();
      unsigned sent = rte_ring_enqueue_burst(rx.rings[id], reinterpret_cast<void* const*>(batch),
                                             size, nullptr);
      while (config_.lossless && sent < size && (final || !stop_.load(std::memory_order_relaxed))) {
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
  };
  // The classifier's fragment counters, as increments to the shared ones the control thread reads.
  std::array<uint64_t, SharedCounters<FanoutFragmentCounter>::kSize> published{};
  const auto publish_fragment_counters = [&] {
    const auto values = classifier.fragment_counters().values();
    for (std::size_t i = 0; i < published.size(); ++i) {
      if (values[i] != published[i]) {
        rx.fragment_counters.add(static_cast<FanoutFragmentCounter>(i), values[i] - published[i]);
        published[i] = values[i];
      }
    }
  };

  while (!stop_.load(std::memory_order_acquire)) {
    uint32_t received = 0;
    uint64_t now_ns = 0;  // read once a round, when a frame or the hold needs it
    for (const uint16_t port : rx.ports) {
      const uint16_t count = rte_eth_rx_burst(port, 0, rx.mbufs.data(), burst);
      if (count == 0) {
        continue;
      }
      if (now_ns == 0) {
        now_ns = wall_clock_ns();
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
        const FanoutPlacement placed = classifier.place(view, now_ns);
        send_released();
        unplaced += placed.basis == FanoutBasis::kUnplaced ? 1 : 0;
        tunnelled += placed.basis == FanoutBasis::kTunnelledFlow ? 1 : 0;
        fragments += placed.basis == FanoutBasis::kFragment ? 1 : 0;
        if (placed.basis == FanoutBasis::kHeld) {
          rx.held[placed.held_slot] = mbuf;  // until its first fragment comes, or its time is up
          continue;
        }
        to_worker(mbuf, placed.hash);
      }
      send_batches(false);
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
    if (classifier.holding()) {
      if (now_ns == 0) {
        now_ns = wall_clock_ns();
      }
      classifier.expire(now_ns);
      send_released();
      send_batches(false);
      publish_fragment_counters();
    }
    if (received == 0) {
      rx.empty_polls.store(rx.empty_polls.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
    } else {
      publish_fragment_counters();
      rx.empty_polls.store(0, std::memory_order_relaxed);
      rx.last_packet_ns.store(now_ns, std::memory_order_relaxed);
      if (rx.first_packet_ns.load(std::memory_order_relaxed) == 0) {
        rx.first_packet_ns.store(now_ns, std::memory_order_relaxed);
      }
    }
  }
  // Shutdown: fragments still waiting for their first go to the worker of their outer header,
  // which inspects them before it stops (no mbuf is left held).
  classifier.flush();
  send_released();
  send_batches(true);
  publish_fragment_counters();
  rx.finished.store(true, std::memory_order_release);
  rx_finished_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace misdirect::dataplane
