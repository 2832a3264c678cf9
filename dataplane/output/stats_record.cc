// StatsRecord: the shared frame of stats records.
#include "dataplane/output/stats_record.h"

#include <cstdio>

#include "dataplane/output/eve_writer.h"

namespace misdirect::dataplane {

void start_stats_record(StatsNode& record, uint64_t timestamp_ns, uint64_t uptime_seconds,
                        std::string_view host) {
  char timestamp[kTimestampBytes];
  record.set_text("timestamp", format_timestamp(timestamp_ns, timestamp));
  record.set_text("event_type", "stats");
  record.set_text("host", host);
  record.child("stats").add("uptime", uptime_seconds);
  record.child("misdirect");
}

void add_thread_stats(StatsNode& record, std::string_view thread_name, const StatsNode& thread) {
  for (const std::string_view half : {std::string_view("stats"), std::string_view("misdirect")}) {
    const StatsNode* part = thread.find(half);
    if (part == nullptr) {
      continue;
    }
    StatsNode& totals = record.child(half);
    totals.merge(*part);
    totals.child("threads").child(thread_name).merge(*part);
  }
}

namespace {

std::string thread_name(const char* prefix, uint32_t index) {
  char name[24];
  std::snprintf(name, sizeof(name), "%s#%02u", prefix, static_cast<unsigned>(index + 1));
  return name;
}

}  // namespace

std::string worker_thread_name(uint32_t worker_id) { return thread_name("W", worker_id); }
std::string rx_thread_name(uint32_t rx_index) { return thread_name("RX", rx_index); }

}  // namespace misdirect::dataplane
