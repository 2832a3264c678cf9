// LiveSensor's worker lcores: each reads its own queues and its fan-out rings, hands the frames
// to its Worker in bursts, answers the control thread's stats requests and reports quiescent
// states between bursts; at shutdown it empties its rings and finishes its flows.
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include <algorithm>
#include <span>

#include "dataplane/clock.h"
#include "dataplane/live/live_lcore_context.h"

namespace misdirect::dataplane {
namespace {

// A worker with nothing to do still moves its clock on (idle flows expire) this often.
constexpr uint64_t kAdvanceIntervalNs = 1'000'000;

}  // namespace

int LiveSensor::worker_main(void* context) {
  auto* worker = static_cast<WorkerContext*>(context);
  worker->sensor->run_worker(*worker);
  return 0;
}

void LiveSensor::inspect_mbufs(WorkerContext& w, rte_mbuf** mbufs, uint16_t count,
                               uint64_t now_ns) noexcept {
  for (uint16_t i = 0; i < count && i < kPrefetchAhead; ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(mbufs[i], void*));
  }
  PacketView* views = w.views.data();
  uint16_t pending = 0;
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < count; ++i) {
    if (i + kPrefetchAhead < count) {
      rte_prefetch0(rte_pktmbuf_mtod(mbufs[i + kPrefetchAhead], void*));
    }
    rte_mbuf* mbuf = mbufs[i];
    bytes += mbuf->pkt_len;
    const uint8_t input = mbuf->port < input_of_port_.size() ? input_of_port_[mbuf->port] : kNoInput;
    uint64_t timestamp_ns = now_ns;
    if (capture_time_ && (mbuf->ol_flags & timestamp_flag_) != 0) {
      // net_pcap stamps microseconds since the epoch (libpcap's offline precision), wrapped
      // below zero past January 2038: capture_micros_to_ns puts that right.
      timestamp_ns = capture_micros_to_ns(*RTE_MBUF_DYNFIELD(mbuf, timestamp_offset_, rte_mbuf_timestamp_t*));
      w.latest_capture_ns = std::max(w.latest_capture_ns, timestamp_ns);
    }
    if (mbuf->nb_segs == 1) [[likely]] {
      views[pending++] = PacketView{rte_pktmbuf_mtod(mbuf, const uint8_t*), mbuf->data_len,
                                    mbuf->pkt_len, timestamp_ns, LinkType::kEthernet, input};
      continue;
    }
    // A chained frame: inspect what came before it, then the frame alone from the copy buffer.
    if (pending != 0) {
      w.worker->process_burst(std::span<const PacketView>(views, pending));
      pending = 0;
    }
    const uint32_t length = std::min<uint32_t>(mbuf->pkt_len, kLinearBytes);
    const void* data = rte_pktmbuf_read(mbuf, 0, length, w.linear.get());
    w.counters.add(LiveWorkerCounter::kChainedCopied);
    if (length < mbuf->pkt_len) {
      w.counters.add(LiveWorkerCounter::kChainedTruncated);
    }
    const PacketView view{static_cast<const uint8_t*>(data), data == nullptr ? 0 : length,
                          mbuf->pkt_len, timestamp_ns, LinkType::kEthernet, input};
    w.worker->process_burst(std::span<const PacketView>(&view, 1));
  }
  if (pending != 0) {
    w.worker->process_burst(std::span<const PacketView>(views, pending));
  }
  rte_pktmbuf_free_bulk(mbufs, count);
  w.counters.add(LiveWorkerCounter::kPackets, count);
  w.counters.add(LiveWorkerCounter::kBytes, bytes);
  w.counters.add(LiveWorkerCounter::kBursts);
}

void LiveSensor::run_worker(WorkerContext& w) {
  matchers_->online(w.id);
  const MatcherGeneration* bound = nullptr;
  uint64_t now_ns = 0;
  uint64_t last_advance_ns = 0;
  bool draining = false;
  const uint16_t burst = static_cast<uint16_t>(config_.burst);
  for (;;) {
    // Read before the rings are emptied: once RX is known to be done, an empty ring is final.
    const bool stopping = stop_.load(std::memory_order_acquire);
    const bool rx_done = stopping && rx_lcores_done();
    if (MatcherBinding binding; matchers_->refresh(w.id, bound, binding)) {
      w.worker->bind_matcher(binding);
    }
    w.stats.answer([&w](StatsNode& tree) { w.worker->collect_stats(tree); });
    now_ns = std::max(now_ns, wall_clock_ns());

    uint32_t from_queues = 0;
    if (!stopping) {
      for (const auto& [port, queue] : w.queues) {
        const uint16_t count = rte_eth_rx_burst(port, queue, w.mbufs.data(), burst);
        if (count != 0) {
          // Arrivals are counted before inspection so that a stats snapshot never shows more
          // frames inspected than received.
          w.counters.add(LiveWorkerCounter::kFromQueue, count);
          inspect_mbufs(w, w.mbufs.data(), count, now_ns);
          from_queues += count;
        }
      }
    }
    uint32_t from_rings = 0;
    for (rte_ring* ring : w.rings) {
      const unsigned count = rte_ring_dequeue_burst(ring, reinterpret_cast<void**>(w.mbufs.data()),
                                                    burst, nullptr);
      if (count != 0) {
        w.counters.add(LiveWorkerCounter::kFromRing, count);
        inspect_mbufs(w, w.mbufs.data(), static_cast<uint16_t>(count), now_ns);
        from_rings += count;
      }
    }

    if (stopping) {
      if (!draining) {
        // From here the records this worker still writes are the last ones: wait for room.
        w.records->set_draining(true);
        draining = true;
      }
      if (rx_done && from_rings == 0) {
        break;
      }
    } else if (!w.queues.empty()) {
      if (from_queues == 0) {
        w.empty_polls.store(w.empty_polls.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
      } else {
        w.empty_polls.store(0, std::memory_order_relaxed);
        w.last_packet_ns.store(now_ns, std::memory_order_relaxed);
        if (w.first_packet_ns.load(std::memory_order_relaxed) == 0) {
          w.first_packet_ns.store(now_ns, std::memory_order_relaxed);
        }
      }
    }
    // In capture time only the frames move the clock, as in replay.
    if (!capture_time_ && from_queues + from_rings == 0 &&
        now_ns - last_advance_ns >= kAdvanceIntervalNs) {
      w.worker->advance_time(now_ns);
      last_advance_ns = now_ns;
    }
    matchers_->quiescent(w.id);
  }
  w.worker->finish(capture_time_ ? w.latest_capture_ns : std::max(now_ns, wall_clock_ns()));
  matchers_->offline(w.id);
  w.finished.store(true, std::memory_order_release);
}

}  // namespace misdirect::dataplane
