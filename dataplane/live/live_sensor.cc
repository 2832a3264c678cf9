// LiveSensor's life: set-up (ports, lcores, mbuf pool, rings, workers, packet time), launch,
// stop and tear-down (see live_sensor.h). The lcore loops are in live_worker_loop.cc and
// live_rx_loop.cc, end-of-input detection in live_input_end.cc, stats in live_sensor_stats.cc.
#include "dataplane/live/live_sensor.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <utility>

#include "dataplane/app/learned_address_book.h"
#include "dataplane/decode/packet_decoder.h"
#include "dataplane/live/live_lcore_context.h"

namespace misdirect::dataplane {

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
    if (std::string error = port.probe(port_id, config_.workers, config_.software_fanout); !error.empty()) {
      return error;
    }
    fanout_ports += port.mode() == PortMode::kSoftwareFanout ? 1 : 0;
    ports_.push_back(std::move(port));
  }
  // Records name the port a flow arrived on (`in_iface`): the names are resolved here, once;
  // each frame carries only the index of its port (PacketView::input), looked up by the mbuf's
  // port id.
  input_of_port_.assign(RTE_MAX_ETHPORTS, kNoInput);
  config_.worker.input_names.clear();
  for (const LivePort& port : ports_) {
    if (config_.worker.input_names.size() < kNoInput) {
      input_of_port_[port.port_id()] = static_cast<uint8_t>(config_.worker.input_names.size());
      config_.worker.input_names.push_back(port.input_name());
    }
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
  // Each RX lcore may hold outer fragments waiting for their first fragment.
  const std::size_t held = rx_count * FanoutFragmentConfig{}.held_frames;
  const std::size_t wanted =
      descriptors + ring_slots + held + lcore_count * (config_.burst + kCacheSize) + 1024;
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
      Worker& worker = *context->worker;
      context->stats.prime([&worker](StatsNode& tree) { worker.collect_stats(tree); });
      workers_.push_back(std::move(context));
    }
    for (std::size_t index = 0; index < rx_count; ++index) {
      auto context = std::make_unique<RxContext>();
      context->sensor = this;
      context->index = static_cast<uint32_t>(index);
      context->lcore = lcores[config_.workers + index];
      context->ring_full = std::make_unique<std::atomic<uint64_t>[]>(config_.workers);
      context->mbufs.resize(config_.burst);
      // A batch takes a burst and the held fragments released with it.
      const uint32_t held_frames = FanoutFragmentConfig{}.held_frames;
      context->batches.assign(config_.workers, std::vector<rte_mbuf*>(config_.burst + held_frames));
      context->held.assign(held_frames, nullptr);
      context->batch_sizes.assign(config_.workers, 0);
      context->classifier =
          std::make_unique<FanoutClassifier>(decoder_config(config_.worker, fanout_seed_), fanout_seed_);
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

EvidenceRing* LiveSensor::evidence_ring(uint32_t worker_id) noexcept {
  return workers_[worker_id]->worker->evidence_ring();
}

bool LiveSensor::rx_lcores_done() const noexcept {
  return rx_finished_.load(std::memory_order_acquire) == rx_lcores_.size();
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

}  // namespace misdirect::dataplane
