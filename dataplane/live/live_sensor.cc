// LiveSensor: ports, lcores, fan-out and shutdown of the DPDK sensor (see live_sensor.h).
#include "dataplane/live/live_sensor.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "dataplane/app/learned_address_book.h"
#include "dataplane/output/eve_writer.h"
#include "dataplane/output/stats_record.h"
#include "dataplane/live/live_counters.h"
#include "dataplane/live/live_fanout.h"

namespace misdirect::dataplane {
namespace {

// Frames that arrive in several segments (net_pcap splits captures longer than one mbuf) are
// copied into a buffer this large before inspection; longer ones are inspected cut short.
constexpr uint32_t kLinearBytes = 65536 + 256;
constexpr uint16_t kPrefetchAhead = 4;
constexpr uint64_t kCaptureTimeUnitNs = 1000;
constexpr uint64_t kPcapSecondsWrapUnits = (uint64_t{1} << 32) * 1'000'000;  // 2^32 s in microseconds
// A worker with nothing to do still moves its clock on (idle flows expire) this often.
constexpr uint64_t kAdvanceIntervalNs = 1'000'000;
// How long stats_json waits for a running worker to report its own counters.
constexpr uint64_t kStatsWaitNs = 250'000'000;

uint64_t wall_clock_ns() noexcept {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(now.tv_nsec);
}

// misdirect.threads.<name>: where a thread's lcore number goes (per thread only: summed it means
// nothing).
StatsNode& thread_node(StatsNode& record, const std::string& thread_name) {
  return record.child("misdirect").child("threads").child(thread_name);
}

}  // namespace

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
  // Stats hand-over: the control thread raises `stats_request`; the worker refills `stats` between
  // bursts (primed at set-up, so refilling allocates nothing) and then sets `stats_done` to the
  // request it answered.
  alignas(64) std::atomic<uint64_t> stats_request{0};
  std::atomic<uint64_t> stats_done{0};
  StatsNode stats;
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
  alignas(64) std::atomic<uint64_t> empty_polls{0};
  std::atomic<uint64_t> last_packet_ns{0};
  std::atomic<uint64_t> first_packet_ns{0};  // 0: none read yet
  std::atomic<bool> finished{false};
};

LiveSensor::LiveSensor(const LiveSensorConfig& config)
    : config_(config),
      fanout_seed_(config.worker.hash_seed != 0
                       ? config.worker.hash_seed
                       : (uint64_t{std::random_device{}()} << 32 | std::random_device{}())) {}

LiveSensor::~LiveSensor() {
  if (launched_ && !joined_) {
    request_stop();
    // Nobody drains the record rings any more: let the workers give records up rather than wait.
    for (auto& worker : workers_) {
      worker->records->set_draining(false);
    }
    join();
  }
  workers_.clear();
  rx_lcores_.clear();
  for (rte_ring* ring : rings_) {
    rte_ring_free(ring);
  }
  for (LivePort& port : ports_) {
    port.stop();
    rte_eth_dev_close(port.port_id());
  }
  matchers_.reset();
  if (pool_ != nullptr) {
    rte_mempool_free(pool_);
  }
}

std::string LiveSensor::prepare(std::vector<std::string>& log) {
  if (config_.workers == 0 || config_.workers > kMaxWorkers) {
    return "--workers must be between 1 and " + std::to_string(kMaxWorkers);
  }
  if (config_.burst == 0 || config_.burst > kMaxBurst) {
    return "--burst must be between 1 and " + std::to_string(kMaxBurst);
  }

  // Ports.
  std::vector<uint16_t> port_ids = config_.port_ids;
  if (port_ids.empty()) {
    uint16_t port_id;
    RTE_ETH_FOREACH_DEV(port_id) { port_ids.push_back(port_id); }
  }
  if (port_ids.empty()) {
    return "no ports: give EAL a device (-a PCI-ADDRESS, or --vdev net_pcap0,rx_pcap=FILE, or "
           "--vdev net_af_packet0,iface=IFACE)";
  }
  std::size_t fanout_ports = 0;
  for (const uint16_t port_id : port_ids) {
    if (!rte_eth_dev_is_valid_port(port_id)) {
      return "--port-ids: port " + std::to_string(port_id) + " does not exist (" +
             std::to_string(rte_eth_dev_count_avail()) + " port(s) probed)";
    }
    LivePort port;
    if (std::string error = port.probe(port_id, config_.workers); !error.empty()) {
      return error;
    }
    fanout_ports += port.mode() == PortMode::kSoftwareFanout ? 1 : 0;
    ports_.push_back(std::move(port));
  }

  // Lcores: the main lcore is the control thread; the others are workers first, then RX.
  std::vector<unsigned> lcores;
  unsigned lcore_id;
  RTE_LCORE_FOREACH_WORKER(lcore_id) { lcores.push_back(lcore_id); }
  const std::size_t needed = config_.workers + (fanout_ports > 0 ? 1 : 0);
  if (lcores.size() < needed) {
    return "--workers " + std::to_string(config_.workers) + " needs " + std::to_string(needed) +
           " lcore(s) besides the main lcore" +
           (fanout_ports > 0 ? " (one RX lcore for the software fan-out)" : std::string()) +
           "; EAL has " + std::to_string(lcores.size()) +
           " (give more with -l or --lcores, e.g. --lcores '(0-3)@(0-1)')";
  }
  const std::size_t rx_count =
      fanout_ports == 0 ? 0 : std::min(fanout_ports, lcores.size() - config_.workers);

  // The mbuf pool: enough for every descriptor, every ring slot and every burst in flight.
  std::size_t descriptors = 0;
  for (const LivePort& port : ports_) {
    descriptors += static_cast<std::size_t>(port.rx_queues()) * config_.rx_descriptors;
  }
  const std::size_t ring_slots = rx_count * config_.workers * config_.fanout_ring_size;
  const std::size_t lcore_count = config_.workers + rx_count + 1;
  constexpr unsigned kCacheSize = 256;
  const std::size_t wanted = descriptors + ring_slots + lcore_count * (config_.burst + kCacheSize) + 1024;
  std::size_t mbufs = config_.mbufs != 0 ? config_.mbufs : wanted;
  if (config_.mbufs != 0 && config_.mbufs < wanted) {
    log.push_back("note: --mbufs " + std::to_string(config_.mbufs) + " is below the " +
                  std::to_string(wanted) +
                  " the RX descriptors, fan-out rings and bursts can hold; expect rx_nombuf");
  }
  if (config_.max_frame_bytes < 1518 || config_.max_frame_bytes > 65535 - RTE_PKTMBUF_HEADROOM) {
    return "--max-frame must be between 1518 and " + std::to_string(65535 - RTE_PKTMBUF_HEADROOM);
  }
  const uint16_t data_room = static_cast<uint16_t>(RTE_PKTMBUF_HEADROOM + config_.max_frame_bytes);
  const unsigned cache = mbufs >= kCacheSize * 2 ? kCacheSize : 0;
  pool_ = rte_pktmbuf_pool_create("misdirect_mbufs", static_cast<unsigned>(mbufs), cache, 0,
                                  data_room, static_cast<int>(rte_socket_id()));
  if (pool_ == nullptr) {
    const double mib = static_cast<double>(mbufs) * (sizeof(rte_mbuf) + data_room + 64) / (1 << 20);
    char line[320];
    std::snprintf(line, sizeof(line),
                  "cannot create the mbuf pool: %zu mbufs of %u bytes (about %.0f MiB) asked for: "
                  "%s; give EAL more memory (-m MB, or hugepages) or lower --mbufs/--max-frame",
                  mbufs, static_cast<unsigned>(sizeof(rte_mbuf) + data_room), mib,
                  rte_strerror(rte_errno));
    return line;
  }

  try {
    matchers_ = std::make_unique<MatcherSlot>(config_.workers);
    LearnedBookConfig book;
    book.workers = config_.workers;
    book.facts_per_worker = config_.worker.learned_facts;
    book.max_age_ns = config_.worker.learned_max_age_ns;
    learned_ = std::make_unique<LearnedAddressBook>(book);
    for (uint32_t id = 0; id < config_.workers; ++id) {
      auto context = std::make_unique<WorkerContext>();
      context->sensor = this;
      context->id = id;
      context->lcore = lcores[id];
      context->records = std::make_unique<RecordRing>(config_.record_ring_bytes);
      WorkerConfig worker_config = config_.worker;
      worker_config.worker_id = id;
      worker_config.learned_book = learned_.get();
      context->worker = std::make_unique<Worker>(worker_config, *context->records);
      context->mbufs.resize(config_.burst);
      context->views.resize(config_.burst);
      context->linear = std::make_unique<uint8_t[]>(kLinearBytes);
      context->worker->collect_stats(context->stats);
      workers_.push_back(std::move(context));
    }
    for (std::size_t index = 0; index < rx_count; ++index) {
      auto context = std::make_unique<RxContext>();
      context->sensor = this;
      context->index = static_cast<uint32_t>(index);
      context->lcore = lcores[config_.workers + index];
      context->ring_full = std::make_unique<std::atomic<uint64_t>[]>(config_.workers);
      context->mbufs.resize(config_.burst);
      context->batches.assign(config_.workers, std::vector<rte_mbuf*>(config_.burst));
      context->batch_sizes.assign(config_.workers, 0);
      for (uint32_t id = 0; id < config_.workers; ++id) {
        char name[RTE_RING_NAMESIZE];
        std::snprintf(name, sizeof(name), "mdr_fo_%u_%u", static_cast<unsigned>(index), id);
        rte_ring* ring = rte_ring_create(name, config_.fanout_ring_size,
                                         static_cast<int>(rte_socket_id()),
                                         RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (ring == nullptr) {
          return std::string("cannot create fan-out ring ") + name + " (" +
                 std::to_string(config_.fanout_ring_size) + " slots): " + rte_strerror(rte_errno);
        }
        rings_.push_back(ring);
        context->rings.push_back(ring);
        workers_[id]->rings.push_back(ring);
      }
      rx_lcores_.push_back(std::move(context));
    }
  } catch (const std::exception& error) {
    return std::string("cannot set up the workers: ") + error.what();
  }

  // Packet time: capture timestamps only when every port replays a file that has them.
  capture_time_ = !config_.wall_clock &&
                  std::all_of(ports_.begin(), ports_.end(),
                              [](const LivePort& port) { return port.replays_capture_time(); });
  if (capture_time_ && rte_mbuf_dyn_rx_timestamp_register(&timestamp_offset_, &timestamp_flag_) != 0) {
    log.push_back(std::string("note: cannot register the mbuf timestamp field (") +
                  rte_strerror(rte_errno) + "); packet time falls back to the wall clock");
    capture_time_ = false;
  }

  // Queues to readers, then start the ports.
  std::size_t next_rx = 0;
  for (LivePort& port : ports_) {
    std::string where;
    switch (port.mode()) {
      case PortMode::kDirect:
        workers_[0]->queues.emplace_back(port.port_id(), 0);
        where = "worker lcore " + std::to_string(workers_[0]->lcore);
        break;
      case PortMode::kSymmetricRss:
        for (uint32_t id = 0; id < config_.workers; ++id) {
          workers_[id]->queues.emplace_back(port.port_id(), static_cast<uint16_t>(id));
        }
        where = "queue w to worker w";
        break;
      case PortMode::kSoftwareFanout: {
        RxContext& rx = *rx_lcores_[next_rx++ % rx_lcores_.size()];
        rx.ports.push_back(port.port_id());
        where = "RX lcore " + std::to_string(rx.lcore) + " → " + std::to_string(config_.workers) +
                " worker rings";
        break;
      }
    }
    std::string notes;
    if (std::string error =
            port.configure_and_start(pool_, config_.rx_descriptors, config_.max_frame_bytes,
                                     capture_time_, notes);
        !error.empty()) {
      return error;
    }
    log.push_back("port " + std::to_string(port.port_id()) + " " + port.name() + " (driver " +
                  port.driver() + "): mode " + std::string(port_mode_name(port.mode())) + ", " +
                  std::to_string(port.rx_queues()) + " RX queue(s), MTU " +
                  std::to_string(port.mtu()) + ", promiscuous " +
                  (port.promiscuous() ? "on" : "off") + ", " + where +
                  (notes.empty() ? std::string() : "; " + notes.substr(0, notes.size() - 2)));
  }
  std::string layout = "lcores: control " + std::to_string(rte_get_main_lcore()) + ", workers";
  for (const auto& worker : workers_) {
    layout += " " + std::to_string(worker->lcore);
  }
  if (!rx_lcores_.empty()) {
    layout += ", RX";
    for (const auto& rx : rx_lcores_) {
      layout += " " + std::to_string(rx->lcore);
    }
  }
  layout += "; " + std::to_string(mbufs) + " mbufs of " + std::to_string(data_room) + " bytes";
  layout += capture_time_ ? "; packet time: capture timestamps (net_pcap)" : "; packet time: wall clock";
  log.push_back(layout);
  return {};
}

void LiveSensor::start() {
  start_ns_ = wall_clock_ns();
  for (auto& worker : workers_) {
    worker->last_packet_ns.store(start_ns_, std::memory_order_relaxed);
    rte_eal_remote_launch(&LiveSensor::worker_main, worker.get(), worker->lcore);
  }
  for (auto& rx : rx_lcores_) {
    rx->last_packet_ns.store(start_ns_, std::memory_order_relaxed);
    rte_eal_remote_launch(&LiveSensor::rx_main, rx.get(), rx->lcore);
  }
  launched_ = true;
}

RecordRing& LiveSensor::record_ring(uint32_t worker_id) noexcept {
  return *workers_[worker_id]->records;
}

int LiveSensor::worker_main(void* context) {
  auto* worker = static_cast<WorkerContext*>(context);
  worker->sensor->run_worker(*worker);
  return 0;
}

int LiveSensor::rx_main(void* context) {
  auto* rx = static_cast<RxContext*>(context);
  rx->sensor->run_rx(*rx);
  return 0;
}

bool LiveSensor::rx_lcores_done() const noexcept {
  return rx_finished_.load(std::memory_order_acquire) == rx_lcores_.size();
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
    uint64_t timestamp_ns = now_ns;
    if (capture_time_ && (mbuf->ol_flags & timestamp_flag_) != 0) {
      // net_pcap stamps microseconds since the epoch (libpcap's offline precision), computed
      // from libpcap's sign-extended 32-bit seconds: past January 2038 the value wraps below
      // zero. The file's field is unsigned (to 2106), so a negative value is put back 2^32 s on.
      uint64_t units = *RTE_MBUF_DYNFIELD(mbuf, timestamp_offset_, rte_mbuf_timestamp_t*);
      if (static_cast<int64_t>(units) < 0) {
        units += kPcapSecondsWrapUnits;
      }
      timestamp_ns = units * kCaptureTimeUnitNs;
      w.latest_capture_ns = std::max(w.latest_capture_ns, timestamp_ns);
    }
    if (mbuf->nb_segs == 1) [[likely]] {
      views[pending++] = PacketView{rte_pktmbuf_mtod(mbuf, const uint8_t*), mbuf->data_len,
                                    mbuf->pkt_len, timestamp_ns, LinkType::kEthernet};
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
                          mbuf->pkt_len, timestamp_ns, LinkType::kEthernet};
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
  uint64_t answered = 0;
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
    const uint64_t request = w.stats_request.load(std::memory_order_acquire);
    if (request != answered) {
      w.stats.zero();
      w.worker->collect_stats(w.stats);
      answered = request;
      w.stats_done.store(request, std::memory_order_release);
    }
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
      for (uint16_t i = 0; i < count && i < kPrefetchAhead; ++i) {
        rte_prefetch0(rte_pktmbuf_mtod(rx.mbufs[i], void*));
      }
      for (uint16_t i = 0; i < count; ++i) {
        if (i + kPrefetchAhead < count) {
          rte_prefetch0(rte_pktmbuf_mtod(rx.mbufs[i + kPrefetchAhead], void*));
        }
        rte_mbuf* mbuf = rx.mbufs[i];
        bytes += mbuf->pkt_len;
        const uint64_t hash =
            fanout_hash(rte_pktmbuf_mtod(mbuf, const uint8_t*), mbuf->data_len, fanout_seed_);
        unplaced += hash == 0 ? 1 : 0;
        // Multiply-shift instead of a division: the high bits pick the worker evenly.
        const uint32_t id = static_cast<uint32_t>(((hash >> 32) * workers) >> 32);
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

uint64_t LiveSensor::input_span_ns() const noexcept {
  uint64_t first = UINT64_MAX;
  uint64_t last = 0;
  const auto widen = [&](const std::atomic<uint64_t>& first_ns, const std::atomic<uint64_t>& last_ns) {
    const uint64_t started = first_ns.load(std::memory_order_relaxed);
    if (started != 0) {
      first = std::min(first, started);
      last = std::max(last, last_ns.load(std::memory_order_relaxed));
    }
  };
  for (const auto& worker : workers_) {
    widen(worker->first_packet_ns, worker->last_packet_ns);
  }
  for (const auto& rx : rx_lcores_) {
    widen(rx->first_packet_ns, rx->last_packet_ns);
  }
  return last > first ? last - first : 0;
}

bool LiveSensor::input_ended() const noexcept {
  const uint64_t now_ns = wall_clock_ns();
  const auto idle = [&](const std::atomic<uint64_t>& empty_polls,
                        const std::atomic<uint64_t>& last_packet_ns) {
    const uint64_t last = last_packet_ns.load(std::memory_order_relaxed);
    return empty_polls.load(std::memory_order_relaxed) >= kEofMinEmptyPolls && now_ns > last &&
           now_ns - last >= config_.eof_idle_ns;
  };
  for (const auto& worker : workers_) {
    if (!worker->queues.empty() && !idle(worker->empty_polls, worker->last_packet_ns)) {
      return false;
    }
  }
  for (const auto& rx : rx_lcores_) {
    if (!idle(rx->empty_polls, rx->last_packet_ns)) {
      return false;
    }
  }
  return true;
}

uint64_t LiveSensor::packets_inspected() const noexcept {
  uint64_t packets = 0;
  for (const auto& worker : workers_) {
    packets += worker->counters.get(LiveWorkerCounter::kPackets);
  }
  return packets;
}

void LiveSensor::request_stop() noexcept { stop_.store(true, std::memory_order_release); }

bool LiveSensor::lcores_finished() const noexcept {
  for (const auto& worker : workers_) {
    if (!worker->finished.load(std::memory_order_acquire)) {
      return false;
    }
  }
  return rx_lcores_done();
}

void LiveSensor::join() {
  if (launched_ && !joined_) {
    rte_eal_mp_wait_lcore();
    joined_ = true;
  }
  for (LivePort& port : ports_) {
    port.stop();
  }
}

void LiveSensor::collect_stats(StatsNode& record, uint64_t now_ns, bool final_record) const {
  // Ask the running workers for their own counters first; they answer between bursts.
  const uint64_t sequence = stats_sequence_.fetch_add(1, std::memory_order_relaxed) + 1;
  for (const auto& worker : workers_) {
    if (!worker->finished.load(std::memory_order_acquire)) {
      worker->stats_request.store(sequence, std::memory_order_release);
    }
  }
  const uint64_t deadline_ns = wall_clock_ns() + kStatsWaitNs;
  for (;;) {
    bool waiting = false;
    for (const auto& worker : workers_) {
      if (launched_ && !worker->finished.load(std::memory_order_acquire) &&
          worker->stats_done.load(std::memory_order_acquire) != sequence) {
        waiting = true;
      }
    }
    if (!waiting || wall_clock_ns() > deadline_ns) {
      break;
    }
    usleep(100);
  }

  const uint64_t uptime_s =
      start_ns_ != 0 && now_ns > start_ns_ ? (now_ns - start_ns_) / 1'000'000'000ull : 0;
  start_stats_record(record, now_ns, uptime_s);
  StatsNode& misdirect = record.child("misdirect");
  const MatcherGeneration* generation = matchers_ ? matchers_->current() : nullptr;
  StatsNode& matcher = misdirect.child("matcher");
  matcher.add("generation", generation != nullptr ? generation->generation : 0);
  if (generation != nullptr) {
    // The judging generation's size and how long its compile took (a push's cost, for metrics).
    matcher.add("patterns", generation->matcher->pattern_count());
    matcher.add("compile_microseconds",
                static_cast<uint64_t>(generation->matcher->compile_milliseconds() * 1000.0));
  }
  StatsNode& sensor = misdirect.child("sensor");
  sensor.add("workers", config_.workers);
  sensor.add("rx_lcores", rx_lcores_.size());
  sensor.add("input_span_ns", input_span_ns());
  sensor.set_flag("final", final_record);

  // Workers before RX lcores and ports: every count read later can only be larger, so
  // received >= inspected + dropped holds in every record, with equality in the final one.
  uint64_t inspected = 0;
  uint64_t from_queues = 0;
  uint64_t records_refused = 0;
  for (const auto& worker : workers_) {
    const bool finished = worker->finished.load(std::memory_order_acquire);
    StatsNode thread;
    StatsNode& live = thread.at_path("misdirect.live");
    const auto live_values = worker->counters.snapshot();
    add_counter_table(thread, "misdirect.live", live_values, kLiveWorkerCounterInfo);
    inspected += worker->counters.get(LiveWorkerCounter::kPackets);
    from_queues += worker->counters.get(LiveWorkerCounter::kFromQueue);
    uint64_t ring_full = 0;
    for (const auto& rx : rx_lcores_) {
      ring_full += rx->ring_full[worker->id].load(std::memory_order_acquire);
    }
    live.add("fanout_ring_full", ring_full);
    const uint64_t refused = worker->records->refused();
    thread.at_path("misdirect.records").add("refused", refused);
    records_refused += refused;
    if (finished || !launched_) {
      worker->worker->collect_stats(thread);
    } else if (worker->stats_done.load(std::memory_order_acquire) == sequence) {
      thread.merge(worker->stats);
    } else {
      thread.child("misdirect").set_flag("stale", true);
    }
    add_thread_stats(record, worker_thread_name(worker->id), thread);
    thread_node(record, worker_thread_name(worker->id)).add("lcore", worker->lcore);
  }

  uint64_t from_rx = 0;
  uint64_t ring_full = 0;
  for (const auto& rx : rx_lcores_) {
    StatsNode thread;
    const auto rx_values = rx->counters.snapshot();
    add_counter_table(thread, "misdirect.fanout", rx_values, kLiveRxCounterInfo);
    ring_full += rx->counters.get(LiveRxCounter::kRingFull);
    from_rx += rx->counters.get(LiveRxCounter::kPackets);
    add_thread_stats(record, rx_thread_name(rx->index), thread);
    thread_node(record, rx_thread_name(rx->index)).add("lcore", rx->lcore);
  }

  // Capture: Suricata's kernel_packets / kernel_drops, per port and in total.
  StatsNode& capture = record.child("stats").child("capture");
  PortStats port_totals;
  for (const LivePort& port : ports_) {
    const PortStats stats = port.stats();
    port_totals.ipackets += stats.ipackets;
    port_totals.imissed += stats.imissed;
    port_totals.ierrors += stats.ierrors;
    port_totals.rx_nombuf += stats.rx_nombuf;
  }
  capture.add("kernel_packets", port_totals.ipackets);
  capture.add("kernel_drops", port_totals.imissed + port_totals.rx_nombuf);
  capture.add("errors", port_totals.ierrors);
  for (const LivePort& port : ports_) {
    const PortStats stats = port.stats();
    StatsNode& node = capture.child("ports").child(std::to_string(port.port_id()));
    node.set_text("name", port.name());
    node.set_text("driver", port.driver());
    node.set_text("mode", port_mode_name(port.mode()));
    node.add("rx_queues", port.rx_queues());
    node.add("kernel_packets", stats.ipackets);
    node.add("kernel_bytes", stats.ibytes);
    node.add("kernel_drops", stats.imissed + stats.rx_nombuf);
    node.add("imissed", stats.imissed);
    node.add("ierrors", stats.ierrors);
    node.add("rx_nombuf", stats.rx_nombuf);
  }

  // received = inspected + dropped (by reason) + in flight; in flight is 0 in the final record.
  const uint64_t received = from_queues + from_rx;
  StatsNode& totals = misdirect.child("totals");
  totals.add("received", received);
  totals.add("inspected", inspected);
  totals.add("dropped_fanout_ring_full", ring_full);
  const uint64_t accounted = inspected + ring_full;
  totals.add("in_flight", received > accounted ? received - accounted : 0);
  totals.add("port_ipackets", port_totals.ipackets);
  totals.add("port_imissed", port_totals.imissed);
  totals.add("port_ierrors", port_totals.ierrors);
  totals.add("port_rx_nombuf", port_totals.rx_nombuf);
  totals.add("records_refused", records_refused);
}

}  // namespace misdirect::dataplane
