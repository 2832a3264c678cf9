// The per-lcore state of LiveSensor (private to dataplane/live/): what each worker and RX lcore
// owns, and the few atomics the control thread reads while they run (end-of-input evidence,
// counters, the stats hand-over). Included only by the files that implement LiveSensor.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "dataplane/clock.h"
#include "dataplane/decode/fanout_classifier.h"
#include "dataplane/live/live_counters.h"
#include "dataplane/live/live_sensor.h"
#include "dataplane/live/worker_stats_exchange.h"

struct rte_mbuf;
struct rte_ring;

namespace misdirect::dataplane {

// Frames that arrive in several segments (net_pcap splits captures longer than one mbuf) are
// copied into a buffer this large before inspection; longer ones are inspected cut short.
constexpr uint32_t kLinearBytes = 65536 + 256;
constexpr uint16_t kPrefetchAhead = 4;

struct alignas(64) LiveSensor::WorkerContext {
  LiveSensor* sensor = nullptr;
  uint32_t id = 0;
  unsigned lcore = 0;
  std::unique_ptr<RecordRing> records;
  std::unique_ptr<Worker> worker;
  std::vector<std::pair<uint16_t, uint16_t>> queues;  // (port, queue) this worker reads itself
  std::vector<rte_ring*> rings;                       // one from each RX lcore
  SharedCounters<LiveWorkerCounter> counters;
  std::vector<rte_mbuf*> mbufs;
  std::vector<PacketView> views;
  std::unique_ptr<uint8_t[]> linear;
  uint64_t latest_capture_ns = 0;  // capture time: the latest frame timestamp inspected
  // The worker's own stats tree, handed to the control thread without waiting.
  WorkerStatsExchange stats;
  // End-of-input evidence (only meaningful when `queues` is not empty).
  alignas(64) std::atomic<uint64_t> empty_polls{0};
  std::atomic<uint64_t> last_packet_ns{0};
  std::atomic<uint64_t> first_packet_ns{0};  // 0: none read yet
  std::atomic<bool> finished{false};
};

struct alignas(64) LiveSensor::RxContext {
  LiveSensor* sensor = nullptr;
  uint32_t index = 0;
  unsigned lcore = 0;
  std::vector<uint16_t> ports;
  std::vector<rte_ring*> rings;  // index: worker id
  SharedCounters<LiveRxCounter> counters;
  std::unique_ptr<std::atomic<uint64_t>[]> ring_full;  // index: worker id
  std::vector<rte_mbuf*> mbufs;
  std::vector<std::vector<rte_mbuf*>> batches;  // index: worker id
  std::vector<uint16_t> batch_sizes;
  // Places each frame by its inner flow (this lcore's own decoder; see fanout_classifier.h).
  std::unique_ptr<FanoutClassifier> classifier;
  // The fragments it holds, by hold slot (FanoutPlacement::held_slot), until released.
  std::vector<rte_mbuf*> held;
  SharedCounters<FanoutFragmentCounter> fragment_counters;
  alignas(64) std::atomic<uint64_t> empty_polls{0};
  std::atomic<uint64_t> last_packet_ns{0};
  std::atomic<uint64_t> first_packet_ns{0};  // 0: none read yet
  std::atomic<bool> finished{false};
};

}  // namespace misdirect::dataplane
