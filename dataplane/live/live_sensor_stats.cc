// LiveSensor's stats record: each worker's own tree (handed over by the worker), the live
// counters of workers and RX lcores, the ports' capture counters, and the totals that must add up.
#include <string>

#include "dataplane/live/live_lcore_context.h"
#include "dataplane/output/stats_record.h"

namespace misdirect::dataplane {
namespace {

// misdirect.threads.<name>: where a thread's lcore number goes (per thread only: summed it means
// nothing).
StatsNode& thread_node(StatsNode& record, const std::string& thread_name) {
  return record.child("misdirect").child("threads").child(thread_name);
}

}  // namespace

uint64_t LiveSensor::packets_inspected() const noexcept {
  uint64_t packets = 0;
  for (const auto& worker : workers_) {
    packets += worker->counters.get(LiveWorkerCounter::kPackets);
  }
  return packets;
}

void LiveSensor::request_stats(uint64_t now_mono_ns) noexcept {
  for (const auto& worker : workers_) {
    if (!worker->finished.load(std::memory_order_acquire)) {
      worker->stats.request(now_mono_ns);
    }
  }
  last_stats_request_ns_ = now_mono_ns;
}

void LiveSensor::refresh_stats(uint64_t now_mono_ns) noexcept {
  if (launched_ && stats_answered() && now_mono_ns - last_stats_request_ns_ >= kStatsRefreshNs) {
    request_stats(now_mono_ns);
  }
}

bool LiveSensor::stats_answered() const noexcept {
  for (const auto& worker : workers_) {
    if (launched_ && !worker->finished.load(std::memory_order_acquire) && !worker->stats.answered()) {
      return false;
    }
  }
  return true;
}

bool LiveSensor::stats_overdue(uint64_t now_mono_ns) const noexcept {
  for (const auto& worker : workers_) {
    if (launched_ && !worker->finished.load(std::memory_order_acquire) &&
        worker->stats.overdue(now_mono_ns, kStatsPatienceNs)) {
      return true;
    }
  }
  return false;
}

void LiveSensor::collect_stats(StatsNode& record, uint64_t now_ns, uint64_t now_mono_ns,
                               bool final_record) const {
  const uint64_t uptime_s =
      start_ns_ != 0 && now_ns > start_ns_ ? (now_ns - start_ns_) / 1'000'000'000ull : 0;
  start_stats_record(record, now_ns, uptime_s, config_.worker.sensor_name);
  StatsNode& misdirect = record.child("misdirect");
  const MatcherGeneration* generation = matchers_ ? matchers_->current() : nullptr;
  StatsNode& matcher = misdirect.child("matcher");
  matcher.add("generation", generation != nullptr ? generation->generation : 0);
  if (generation != nullptr) {
    // The judging generation's size and how long its compile took (a push's cost, for metrics).
    matcher.add("patterns", generation->matcher->pattern_count());
    matcher.add("compile_microseconds", generation->compile_ns / 1000);
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
    // A finished worker's counters no longer move: read them here. A running worker's come from
    // its newest answer, unless it has left a request unanswered for too long.
    if (finished || !launched_) {
      worker->worker->collect_stats(thread);
    } else if (!worker->stats.overdue(now_mono_ns, kStatsPatienceNs)) {
      thread.merge(worker->stats.latest());
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
    add_counter_table(thread, "misdirect.fanout", rx->fragment_counters.snapshot(), kFanoutFragmentCounterInfo);
    ring_full += rx->counters.get(LiveRxCounter::kRingFull);
    from_rx += rx->counters.get(LiveRxCounter::kPackets);
    add_thread_stats(record, rx_thread_name(rx->index), thread);
    thread_node(record, rx_thread_name(rx->index)).add("lcore", rx->lcore);
  }

  // Capture: Suricata's kernel_packets / kernel_drops / errors in total; Suricata's capture
  // object has no per-port figures, so each port's are misdirect's own (misdirect.capture.ports).
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
    StatsNode& node = record.at_path("misdirect.capture.ports").child(std::to_string(port.port_id()));
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
