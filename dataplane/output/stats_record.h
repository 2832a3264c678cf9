// StatsRecord: the frame of every EVE `stats` record, the same in replay and live — timestamp,
// event_type, host, `stats` (Suricata's names: uptime, capture, decoder, flow, defrag, tcp, app_layer,
// threads) and `misdirect` (misdirect's own figures, the record's one extension key).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/output/stats_tree.h"

namespace misdirect::dataplane {

// Starts `record` (empty): timestamp, event_type, host (the sensor's name, as on every record),
// stats.uptime, the `misdirect` object.
void start_stats_record(StatsNode& record, uint64_t timestamp_ns, uint64_t uptime_seconds,
                        std::string_view host);

// Adds one thread's figures (a tree with `stats` and `misdirect` halves, as Worker::collect_stats
// makes it): summed into the totals, and kept whole under stats.threads.<name> and
// misdirect.threads.<name>.
void add_thread_stats(StatsNode& record, std::string_view thread_name, const StatsNode& thread);

// "W#01" for worker 0, "RX#01" for RX lcore 0 (Suricata's thread names are 1-based).
std::string worker_thread_name(uint32_t worker_id);
std::string rx_thread_name(uint32_t rx_index);

}  // namespace misdirect::dataplane
