// SmtpRecordWriter: SMTP flows' `alert` and `smtp` EVE records — what they look like, which
// `--smtp-log` mode keeps, and where they go (the worker's RecordSink), counted.
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/app/smtp_counters.h"
#include "dataplane/app/smtp_envelope.h"
#include "dataplane/counter_table.h"
#include "dataplane/output/eve_writer.h"
#include "dataplane/output/lookalike_alert.h"
#include "dataplane/output/record_sink.h"
#include "dataplane/output/smtp_log_mode.h"

namespace misdirect::dataplane {

class SmtpRecordWriter final : public SmtpRecordOutput {
 public:
  // All four are the worker's and outlive the writer. `counters` gets alerts, smtp_records,
  // records_too_large and records_dropped.
  SmtpRecordWriter(EveWriter& eve, RecordSink& sink, CounterArray<SmtpCounter>& counters,
                   SmtpLogMode smtp_log) noexcept
      : eve_(eve), sink_(sink), counters_(counters), smtp_log_(smtp_log) {}

  // Replay: the capture being read, written as `pcap_filename` (empty: field omitted). The text
  // must stay valid until the next call.
  void set_pcap_filename(std::string_view name) noexcept { pcap_filename_ = name; }
  // Where alerts written are counted by kind (null: not counted).
  void set_alert_kind_counts(AlertKindCounts* counts) noexcept { alert_kinds_ = counts; }
  // --evidence-dir: every alert names its flow's evidence pcap, `<dir>/<flow_id>.pcap`, as
  // `capture_file` (Suricata's field for the pcap an alert's packets were logged to). Empty: none.
  // The text must outlive the writer.
  void set_evidence_dir(std::string_view directory) noexcept { evidence_dir_ = directory; }

  void keep_recipient(SmtpRecipient& recipient, std::string_view address) noexcept override;
  void alert(const SmtpEnvelope& envelope, const SmtpTransaction* transaction,
             const SmtpAlertFacts& facts, const SmtpRecipient* kept) noexcept override;
  void transaction(const SmtpEnvelope& envelope, const SmtpTransaction& transaction) noexcept override;
  void role_alert(const SmtpEnvelope& envelope, const SmtpRoleAlertFacts& facts) noexcept override;
  void encrypted_session(const SmtpEnvelope& envelope, const SmtpEncryptedSession& session) noexcept override;
  // An EVE `anomaly` record (ALERT_CAP_REACHED), sent the alerts' way (not counted as an alert).
  void alert_cap_reached(const SmtpEnvelope& envelope, uint64_t cap) noexcept override;

 private:
  // True when the sink took the record.
  bool emit(RecordType type, std::string_view line) noexcept;
  void emit_alert(std::string_view line, inspect::LookalikeKind kind) noexcept;
  void write_capture_file(JsonLineWriter& json, const SmtpEnvelope& envelope) noexcept;

  EveWriter& eve_;
  RecordSink& sink_;
  CounterArray<SmtpCounter>& counters_;
  SmtpLogMode smtp_log_;
  std::string_view pcap_filename_;
  AlertKindCounts* alert_kinds_ = nullptr;
  std::string_view evidence_dir_;
};

}  // namespace misdirect::dataplane
