// DnsRecordWriter: DNS flows' `alert` and `dns` EVE records — what they look like (Suricata's
// `dns` version 3 layout, misdirect's fields under `misdirect`) and where they go (the worker's
// RecordSink), counted.
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/app/dns_counters.h"
#include "dataplane/app/dns_record_output.h"
#include "dataplane/counter_table.h"
#include "dataplane/output/eve_writer.h"
#include "dataplane/output/lookalike_alert.h"
#include "dataplane/output/record_sink.h"

namespace misdirect::dataplane {

class DnsRecordWriter final : public DnsRecordOutput {
 public:
  // All four are the worker's and outlive the writer. `eve` is the buffer alerts are written in
  // (shared with SMTP); `dns_eve` a second one for the dns record, which stays open while its
  // message is read (a question can raise an alert meanwhile). `counters` gets alerts,
  // dns_records, records_too_large and records_dropped.
  DnsRecordWriter(EveWriter& eve, EveWriter& dns_eve, RecordSink& sink, CounterArray<DnsCounter>& counters) noexcept
      : eve_(eve), dns_eve_(dns_eve), sink_(sink), counters_(counters) {}

  // Replay: the capture being read, written as `pcap_filename` (empty: field omitted). The text
  // must stay valid until the next call.
  void set_pcap_filename(std::string_view name) noexcept { pcap_filename_ = name; }
  // Where alerts written are counted by kind (null: not counted).
  void set_alert_kind_counts(AlertKindCounts* counts) noexcept { alert_kinds_ = counts; }

  void alert(const FlowIdentity& flow, uint64_t timestamp_ns, const DnsAlertFacts& facts) noexcept override;
  void message_begin(const FlowIdentity& flow, uint64_t timestamp_ns,
                     const inspect::DnsMessageBegin& message) noexcept override;
  void message_question(const inspect::DnsQuestion& question) noexcept override;
  void message_record(const inspect::DnsRecord& record) noexcept override;
  void message_end() noexcept override;

 private:
  // True when the sink took the record.
  bool emit(RecordType type, std::string_view line, DnsCounter written) noexcept;

  EveWriter& eve_;
  EveWriter& dns_eve_;
  RecordSink& sink_;
  CounterArray<DnsCounter>& counters_;
  std::string_view pcap_filename_;
  AlertKindCounts* alert_kinds_ = nullptr;
  // Which array of the open dns record is open: "queries" until the first resource record, then
  // the section of the record written last.
  bool queries_open_ = false;
  bool section_open_ = false;
  inspect::DnsSection open_section_ = inspect::DnsSection::kAnswer;
};

}  // namespace misdirect::dataplane
