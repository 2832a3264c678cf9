// Worker: its counters as the stats tree (docs/records.md lists every name) and the totals the
// commands check and summarise. Cold: read between bursts or after the last one.
#include <cstddef>
#include <string_view>

#include "dataplane/output/stats_tree.h"
#include "dataplane/worker.h"
#include "dataplane/worker_impl.h"
#include "inspect/lookalike_kind.h"
#include "inspect/matcher.h"

namespace misdirect::dataplane {
namespace {

// Where the worker's counters stand in a stats tree (see docs/records.md for the full list):
// every table is gathered under `misdirect.<unit>`, and the counters whose meaning is the same as
// one of Suricata's are placed under `stats` with Suricata's name. Only those: Suricata's stats
// schema allows no other name there, so a counter added to a table later lands under
// `misdirect` until someone decides it means what a Suricata counter means.
constexpr StatsPlacement kWorkerPlacements[] = {
    {"bytes", "stats.decoder.bytes"},
    {"decode_drops", "stats.decoder.invalid"},
};
constexpr StatsPlacement kDecoderPlacements[] = {
    {"packets", "stats.decoder.pkts"},
    {"ipv4", "stats.decoder.ipv4"},
    {"ipv6", "stats.decoder.ipv6"},
    {"tcp", "stats.decoder.tcp"},
    {"udp", "stats.decoder.udp"},
    {"vlan_tagged", "stats.decoder.vlan"},
};
// Every encapsulation counter stays in misdirect.encapsulation; those Suricata's decoder also
// counts are shown again under its names (its erspan is all three types, summed).
constexpr StatsPlacement kEncapsulationPlacements[] = {
    {"vxlan", "stats.decoder.vxlan"},
    {"vxlan", "misdirect.encapsulation.vxlan"},
    {"geneve", "stats.decoder.geneve"},
    {"geneve", "misdirect.encapsulation.geneve"},
    {"gre", "stats.decoder.gre"},
    {"gre", "misdirect.encapsulation.gre"},
    {"erspan_type_i", "stats.decoder.erspan"},
    {"erspan_type_i", "misdirect.encapsulation.erspan_type_i"},
    {"erspan_type_ii", "stats.decoder.erspan"},
    {"erspan_type_ii", "misdirect.encapsulation.erspan_type_ii"},
    {"erspan_type_iii", "stats.decoder.erspan"},
    {"erspan_type_iii", "misdirect.encapsulation.erspan_type_iii"},
    {"ipv4_in_ipv4", "stats.decoder.ipv4_in_ipv4"},
    {"ipv4_in_ipv4", "misdirect.encapsulation.ipv4_in_ipv4"},
    {"ipv6_in_ipv4", "stats.decoder.ipv6_in_ipv4"},
    {"ipv6_in_ipv4", "misdirect.encapsulation.ipv6_in_ipv4"},
    {"ipv4_in_ipv6", "stats.decoder.ipv4_in_ipv6"},
    {"ipv4_in_ipv6", "misdirect.encapsulation.ipv4_in_ipv6"},
    {"ipv6_in_ipv6", "stats.decoder.ipv6_in_ipv6"},
    {"ipv6_in_ipv6", "misdirect.encapsulation.ipv6_in_ipv6"},
    {"mpls", "stats.decoder.mpls"},
    {"mpls", "misdirect.encapsulation.mpls"},
    {"depth_exceeded", "stats.decoder.too_many_layers"},
    {"depth_exceeded", "misdirect.encapsulation.depth_exceeded"},
};
constexpr StatsPlacement kFlowPlacements[] = {
    {"flows_created_tcp", "stats.flow.tcp"},
    {"flows_created_tcp", "stats.tcp.sessions"},
    {"flows_created_udp", "stats.flow.udp"},
};
constexpr StatsPlacement kReassemblyPlacements[] = {
    {"tcp_gaps", "stats.tcp.reassembly_gap"},
    {"tcp_memcap_drops", "stats.tcp.segment_memcap_drop"},
    {"tcp_overlaps", "stats.tcp.overlap"},
    {"tcp_overlaps_differ", "stats.tcp.overlap_diff_data"},
    {"tcp_resets", "stats.tcp.rst"},
};
constexpr StatsPlacement kSmtpPlacements[] = {
    {"sessions", "stats.app_layer.flow.smtp"},
    {"transactions", "stats.app_layer.tx.smtp"},
};

}  // namespace

void Worker::collect_stats(StatsNode& record) const {
  const Impl& impl = *impl_;
  add_counter_table(record, "misdirect.decoder", impl.decoder.counters(), kDecodeCounterInfo, kDecoderPlacements);
  add_counter_table(record, "misdirect.worker", impl.counters, kWorkerCounterInfo, kWorkerPlacements);
  add_counter_table(record, "misdirect.encapsulation", impl.decoder.encapsulation_counters(),
                    kEncapsulationCounterInfo, kEncapsulationPlacements);
  // Suricata counts fragments per IP version (defrag.ipv4.*, defrag.ipv6.*); the reassembler
  // counts both together, so its figures are misdirect's own.
  add_counter_table(record, "misdirect.defrag", impl.decoder.reassembler_counters(), kIpReassemblerCounterInfo);
  add_counter_table(record, "misdirect.flow", impl.flows.counters(), kFlowCounterInfo, kFlowPlacements);
  StatsNode& flow = record.at_path("stats.flow");
  flow.add("active", impl.flows.active());
  flow.add("memuse", impl.flows.memory_bytes());
  add_counter_table(record, "misdirect.tcp", impl.reassembler.counters(), kReassemblyCounterInfo,
                    kReassemblyPlacements);
  add_counter_table(record, "misdirect.smtp", impl.smtp_counters, kSmtpCounterInfo, kSmtpPlacements);
  StatsNode& anomalies = record.at_path("misdirect.smtp_anomalies");
  for (int i = 0; i < kSmtpAnomalyKindCount; ++i) {
    anomalies.add(inspect::anomaly_name(static_cast<inspect::SmtpAnomalyKind>(i)),
                  impl.smtp_anomalies[static_cast<std::size_t>(i)]);
  }
  StatsNode& own = record.child("misdirect");
  // Every alert record of every role (smtp.alerts + dns.alerts).
  own.add("alerts", totals().alerts);
  StatsNode& by_kind = own.child("alerts_by_kind");
  for (int kind = 0; kind < inspect::kLookalikeKindCount; ++kind) {
    const std::string_view name = inspect::kind_name(static_cast<inspect::LookalikeKind>(kind));
    by_kind.add(name, impl.alert_kinds[static_cast<std::size_t>(kind)]);
    by_kind.child(name).set_help(kAlertKindHelp);
  }
  add_counter_table(record, "misdirect.dns", impl.dns_counters, kDnsCounterInfo);
  StatsNode& dns_anomalies = record.at_path("misdirect.dns_anomalies");
  for (int i = 0; i < inspect::kDnsAnomalyKindCount; ++i) {
    dns_anomalies.add(inspect::dns_anomaly_name(static_cast<inspect::DnsAnomalyKind>(i)),
                      impl.dns_anomalies[static_cast<std::size_t>(i)]);
  }
  add_counter_table(record, "misdirect.learned", impl.learned_counters, kLearnedCounterInfo);
  if (impl.evidence != nullptr) {
    add_counter_table(record, "misdirect.evidence", impl.evidence->counters(), kEvidenceCounterInfo);
  }
  // The current matcher's verdict cache (a list push starts a new one, so these restart too).
  const inspect::VerdictCacheStats* cache =
      impl.binding.scratch != nullptr ? impl.binding.scratch->cache_stats() : nullptr;
  if (cache != nullptr) {
    StatsNode& node = record.at_path("misdirect.verdict_cache");
    node.add("hits", cache->hits);
    node.add("misses", cache->misses);
    node.add("bypassed", cache->bypassed);
  }
}

Worker::Totals Worker::totals() const noexcept {
  const Impl& impl = *impl_;
  Totals totals;
  totals.packets = impl.counters.get(WorkerCounter::kPackets);
  totals.bytes = impl.counters.get(WorkerCounter::kBytes);
  totals.alerts = impl.smtp_counters.get(SmtpCounter::kAlerts) + impl.dns_counters.get(DnsCounter::kAlerts);
  totals.records_dropped = impl.smtp_counters.get(SmtpCounter::kRecordsDropped) +
                           impl.dns_counters.get(DnsCounter::kRecordsDropped);
  totals.smtp_sessions = impl.smtp_counters.get(SmtpCounter::kSessions);
  totals.recipients = impl.smtp_counters.get(SmtpCounter::kRecipients);
  return totals;
}

}  // namespace misdirect::dataplane
