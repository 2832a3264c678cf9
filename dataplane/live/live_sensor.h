// LiveSensor: the DPDK poll-mode sensor — ports, lcores, fan-out rings, one Worker per worker
// lcore, the record rings back to the control thread, and the matcher slot the control thread
// publishes into. docs/live.md describes the threading model.
//
// Roles (decided once, at prepare()):
//   main lcore     the control thread: the caller of every public method here.
//   worker lcores  one Worker each; each reads its queue of every direct/RSS port and its ring
//                  from every RX lcore, inspects the frames and frees them.
//   RX lcores      only when a port needs software fan-out: read those ports, hash each frame to a
//                  worker, enqueue it on that worker's single-producer/single-consumer ring.
//
// Shutdown (request_stop): RX stops; each worker empties its fan-out rings once every RX lcore
// has finished, calls Worker::finish (flushing alerts for open flows) and goes offline.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/live/live_matcher_slot.h"
#include "dataplane/live/live_port.h"
#include "dataplane/output/live_record_ring.h"
#include "dataplane/output/stats_tree.h"
#include "dataplane/worker.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace misdirect::dataplane {

class LearnedAddressBook;

struct LiveSensorConfig {
  WorkerConfig worker;  // worker_id is set per worker
  uint32_t workers = 1;
  uint32_t burst = 32;
  uint32_t mbufs = 0;                  // 0: sized from ports, queues and rings
  uint16_t rx_descriptors = 1024;
  uint32_t fanout_ring_size = 1024;    // per (RX lcore, worker) pair; power of two
  std::size_t record_ring_bytes = 8u << 20;
  uint32_t max_frame_bytes = 9216;     // mbuf data room beyond the headroom
  std::vector<uint16_t> port_ids;      // empty: every probed ethdev
  // A full fan-out ring makes the RX lcore wait for room instead of dropping the frame. For
  // finite sources (net_pcap files), where every frame should be inspected; on a live port the
  // port itself then drops (imissed) when the workers fall behind.
  bool lossless = false;
  // Packet time is the wall clock, except when every port replays a capture file (net_pcap) and
  // can hand over each frame's capture timestamp: then it is the capture's own time, so timeouts
  // (gap waits, idle expiry) fire as they do in `misdirect replay`. `wall_clock` forces the clock.
  bool wall_clock = false;
  // Every port read by 2 or more workers takes the software fan-out, even one whose RSS could
  // spread its queues: RSS hashes the outer header, which a traffic mirror's tunnels share, where
  // the fan-out places frames by their inner flow (docs/live.md, "When to pick software fan-out").
  bool software_fanout = false;
  // End of input: every polling lcore has seen at least kEofMinEmptyPolls empty polls in a row
  // and no frame for eof_idle_ns (docs/live.md, "--exit-on-eof").
  uint64_t eof_idle_ns = 500'000'000;
};

class LiveSensor {
 public:
  static constexpr uint32_t kMaxWorkers = 64;
  static constexpr uint32_t kMaxBurst = 512;
  static constexpr uint64_t kEofMinEmptyPolls = 64;
  // A running worker that leaves a stats request unanswered this long is reported stale.
  static constexpr uint64_t kStatsPatienceNs = 250'000'000;
  static constexpr uint64_t kStatsRefreshNs = 100'000'000;

  explicit LiveSensor(const LiveSensorConfig& config);
  ~LiveSensor();
  LiveSensor(const LiveSensor&) = delete;
  LiveSensor& operator=(const LiveSensor&) = delete;

  // After rte_eal_init: probes ports, assigns lcores, creates the mbuf pool, rings, workers and
  // the matcher slot, configures and starts the ports. Returns one error line, empty on success.
  // `log` receives one line per port and one for the lcore layout.
  std::string prepare(std::vector<std::string>& log);

  // Publish at least one matcher before start().
  MatcherSlot& matchers() noexcept { return *matchers_; }
  const MatcherSlot& matchers() const noexcept { return *matchers_; }

  // Launches the worker and RX lcores.
  void start();

  // Control thread: hands every waiting record to `handle(RecordType, std::string_view)`.
  template <typename Handler>
  std::size_t drain_records(Handler&& handle) {
    std::size_t handled = 0;
    for (uint32_t id = 0; id < config_.workers; ++id) {
      handled += record_ring(id).drain(handle, kMaxRecordsPerDrain);
    }
    return handled;
  }

  // Control thread: worker `worker_id`'s ring of evidence frames (--evidence-dir; null without
  // it). The control thread is each ring's one consumer; a full ring makes the worker drop and
  // count (misdirect.evidence.frames_ring_full), never wait.
  EvidenceRing* evidence_ring(uint32_t worker_id) noexcept;

  // True once every polling lcore has been idle long enough to call the input ended.
  bool input_ended() const noexcept;
  // Wall-clock time from the first packet any port gave to the last (0 before two reads): how
  // long the input took to flow through, without EAL start-up and shutdown.
  uint64_t input_span_ns() const noexcept;
  void request_stop() noexcept;
  bool stopped() const noexcept { return stop_.load(std::memory_order_relaxed); }
  // Every lcore has left its loop (workers have finished their flows).
  bool lcores_finished() const noexcept;
  // Waits for the lcores and stops the ports. Call after lcores_finished() and a last drain.
  void join();

  // Stats, without waiting (docs/live.md, "Stats"). Only a worker reads its own counters: the
  // control thread asks (request_stats), each running worker hands over a fresh tree between
  // bursts (WorkerStatsExchange), and collect_stats takes the newest trees there are.
  // `now_mono_ns` is monotonic time (dataplane/clock.h).
  //
  // Asks every running worker for a fresh tree; returns at once.
  void request_stats(uint64_t now_mono_ns) noexcept;
  // Called every control-loop round: asks again once the last request has been answered and
  // kStatsRefreshNs have passed, so that the trees a stats answer uses are at most that old.
  void refresh_stats(uint64_t now_mono_ns) noexcept;
  // Every running worker has answered the newest request.
  bool stats_answered() const noexcept;
  // Some running worker has left a request unanswered for kStatsPatienceNs.
  bool stats_overdue(uint64_t now_mono_ns) const noexcept;
  // One EVE stats record's tree (docs/records.md), now. Never waits: each running worker's part is
  // its newest answered tree; a worker overdue with an answer is reported stale
  // (misdirect.threads.<name>.stale) and left out of the totals.
  void collect_stats(StatsNode& record, uint64_t now_ns, uint64_t now_mono_ns, bool final_record) const;

  uint32_t worker_count() const noexcept { return config_.workers; }
  // Frames the workers have inspected so far, from their published counters (no worker is asked).
  uint64_t packets_inspected() const noexcept;

 private:
  static constexpr std::size_t kMaxRecordsPerDrain = 4096;

  struct WorkerContext;
  struct RxContext;

  RecordRing& record_ring(uint32_t worker_id) noexcept;
  static int worker_main(void* context);
  static int rx_main(void* context);
  void run_worker(WorkerContext& worker);
  void run_rx(RxContext& rx);
  void inspect_mbufs(WorkerContext& worker, rte_mbuf** mbufs, uint16_t count,
                     uint64_t now_ns) noexcept;
  bool rx_lcores_done() const noexcept;

  LiveSensorConfig config_;
  uint64_t fanout_seed_;  // worker.hash_seed, or random when it is 0
  std::vector<LivePort> ports_;
  // PacketView::input of a frame, by the DPDK port id it came from (kNoInput: not a sensor port).
  std::vector<uint8_t> input_of_port_;
  rte_mempool* pool_ = nullptr;
  std::unique_ptr<MatcherSlot> matchers_;
  // What DNS answers taught, shared by the workers (each writes its own table, all read every
  // table): a DNS answer and the SMTP connection it leads to may land on different workers.
  // Declared before workers_ so that it outlives them.
  std::unique_ptr<LearnedAddressBook> learned_;
  std::vector<std::unique_ptr<WorkerContext>> workers_;
  std::vector<std::unique_ptr<RxContext>> rx_lcores_;
  std::vector<rte_ring*> rings_;
  uint64_t start_ns_ = 0;
  bool capture_time_ = false;
  int timestamp_offset_ = -1;
  uint64_t timestamp_flag_ = 0;
  bool launched_ = false;
  bool joined_ = false;
  alignas(64) std::atomic<bool> stop_{false};
  std::atomic<uint32_t> rx_finished_{0};
  uint64_t last_stats_request_ns_ = 0;  // control thread only
};

}  // namespace misdirect::dataplane
