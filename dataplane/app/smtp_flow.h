// SmtpFlow: one SMTP connection's consumer — it feeds the SmtpSession, keeps each transaction's
// envelope in bounded storage, judges every recipient domain, and writes `alert` and `smtp` records.
//
// When records are written:
//   alert — per look-alike recipient, when the server's reply to its RCPT arrives; or, without a
//           reply, when its transaction's record is written at the end of the session (flow end,
//           expiry, TLS) — then `accepted` is null.
//   smtp  — per transaction, once the machine has ended it and every RCPT in it has its reply
//           (pipelined replies may arrive after the end is known), or at the end of the session.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/counter_table.h"
#include "dataplane/output/eve_writer.h"
#include "dataplane/flow/flow_identity.h"
#include "dataplane/output/record_sink.h"
#include "dataplane/worker.h"
#include "inspect/lookalike_kind.h"
#include "inspect/smtp_event.h"
#include "inspect/smtp_session.h"

namespace misdirect::dataplane {

enum class SmtpCounter : uint16_t {
  kSessions,
  kCommands,
  kTransactions,
  kDelivered,
  kRecipients,
  kRecipientsAccepted,
  kRecipientsRejected,
  kRecipientsUnanswered,
  kRecipientDomainsInvalid,
  kLookalikeRecipients,
  kAlerts,
  kSmtpRecords,
  kTlsSessions,
  kRecipientsUntracked,
  kTransactionsForced,
  kFieldsTruncated,
  kRepeatAlertsSuppressed,
  kAlertMemoryFull,
  kRecordsTooLarge,
  kRecordsDropped,
  kCount,
};

inline constexpr CounterInfo kSmtpCounterInfo[] = {
    {"sessions", "SMTP sessions inspected"},
    {"commands", "client command lines"},
    {"transactions", "mail transactions ended"},
    {"delivered", "transactions whose message the server accepted"},
    {"recipients", "RCPT TO commands"},
    {"recipients_accepted", "RCPT TO answered 2xx"},
    {"recipients_rejected", "RCPT TO answered 4xx/5xx"},
    {"recipients_unanswered", "RCPT TO with no reply seen"},
    {"recipient_domains_invalid", "recipient domains that failed normalisation"},
    {"lookalike_recipients", "recipients at a look-alike domain"},
    {"alerts", "alert records written"},
    {"smtp_records", "smtp records written"},
    {"tls_sessions", "sessions that turned to TLS after STARTTLS"},
    {"recipients_untracked", "recipients beyond the per-session storage bound (alerted at once, not in smtp records)"},
    {"transactions_forced", "transactions written early because too many were open at once"},
    {"fields_truncated", "HELO or MAIL FROM values cut at their storage bound"},
    {"repeat_alerts_suppressed", "look-alike recipients sent again in the same flow (one alert per flow and recipient)"},
    {"alert_memory_full", "alerts written without repeat suppression because the per-session memory was full"},
    {"records_too_large", "records that did not fit the record buffer"},
    {"records_dropped", "records the output refused (ring full)"},
};
static_assert(std::size(kSmtpCounterInfo) == static_cast<std::size_t>(SmtpCounter::kCount));

inline constexpr int kSmtpAnomalyKindCount = static_cast<int>(inspect::SmtpAnomalyKind::kCommandOutOfSequence) + 1;

// What all SMTP flows of one worker share.
struct SmtpFlowEnvironment {
  const MatcherBinding* matcher = nullptr;  // the worker's current binding
  EveWriter* eve = nullptr;
  RecordSink* sink = nullptr;
  CounterArray<SmtpCounter>* counters = nullptr;
  std::array<uint64_t, kSmtpAnomalyKindCount>* anomalies = nullptr;
  SmtpLogMode smtp_log = SmtpLogMode::kAll;
  std::string_view pcap_filename;
  inspect::SmtpConfig smtp_config;
};

class SmtpFlow final : public inspect::SmtpEventSink {
 public:
  static constexpr std::size_t kTextBytes = 32768;
  static constexpr std::size_t kMaxRecipients = 1024;
  static constexpr std::size_t kMaxOpenTransactions = 8;
  static constexpr std::size_t kMaxFieldBytes = 320;
  // Alerts are one per (flow, look-alike recipient): the recipients already alerted on in this
  // session are remembered by hash, up to this many (beyond it a repeat alerts again, counted).
  static constexpr std::size_t kMaxAlertedRecipients = 256;

  SmtpFlow(SmtpFlowEnvironment& environment, const FlowIdentity& identity,
           std::span<char> line_buffer) noexcept;
  SmtpFlow(const SmtpFlow&) = delete;
  SmtpFlow& operator=(const SmtpFlow&) = delete;

  // `client_lagging`: the client stream has later bytes held behind a hole (server bytes only).
  void feed(inspect::Direction direction, std::span<const uint8_t> bytes, uint64_t now_ns,
            bool client_lagging = false) noexcept;
  void gap(inspect::Direction direction, uint64_t byte_count, uint64_t now_ns) noexcept;
  // The flow ended (close, expiry, eviction, shutdown): everything pending is written.
  void finish(uint64_t now_ns) noexcept;
  bool encrypted() const noexcept { return session_.encrypted(); }

  void on_event(const inspect::SmtpEvent& event) noexcept override;

 private:
  struct BoundedText {
    std::array<char, kMaxFieldBytes> bytes;
    uint16_t length = 0;
    std::string_view view() const noexcept { return {bytes.data(), length}; }
  };

  // A recipient's strings live back to back in `text_` from `text_offset`:
  // address, canonical domain, protected domain, variant.
  // No default member initialisers: the table is large and is filled entry by entry, so its
  // untouched pages are never written.
  struct Recipient {
    uint32_t transaction;
    uint32_t recipient;
    uint32_t text_offset;
    uint16_t address_length;
    uint16_t domain_length;
    uint16_t protected_length;
    uint16_t variant_length;
    uint16_t reply_code;
    bool replied;
    bool domain_valid;
    bool lookalike;
    bool alert_written;
    bool address_plain;  // the address needs no JSON escaping (checked once, written often)
    inspect::LookalikeKind kind;
    uint64_t generation;
  };

  struct Transaction {
    bool in_use = false;
    bool ended = false;
    bool delivered = false;
    bool has_mail = false;
    uint32_t id = 0;
    uint16_t end_code = 0;
    inspect::TransactionEndReason reason = inspect::TransactionEndReason::kSessionEnd;
    BoundedText mail_from;
  };

  // A recipient's view of its strings.
  struct RecipientText {
    std::string_view address;
    std::string_view domain;
    std::string_view protected_domain;
    std::string_view variant;
  };

  void on_helo(const inspect::Helo& helo) noexcept;
  void on_mail_from(const inspect::MailFrom& mail) noexcept;
  void on_rcpt_to(const inspect::RcptTo& rcpt) noexcept;
  void on_rcpt_reply(const inspect::RcptReply& reply) noexcept;
  void on_transaction_end(const inspect::TransactionEnd& end) noexcept;

  Transaction* find_transaction(uint32_t id) noexcept;
  Transaction& open_transaction(uint32_t id) noexcept;
  RecipientText text_of(const Recipient& recipient) const noexcept;
  // What one alert says about its recipient.
  struct AlertFacts {
    RecipientText text;
    inspect::LookalikeKind kind;
    uint64_t generation;
    bool replied;
    uint16_t reply_code;
  };

  void write_alert(Recipient& recipient, const Transaction* transaction) noexcept;
  // `kept`: the recipient's entry (its transaction's recipients so far are listed), or null for
  // a recipient beyond the storage bound.
  void write_alert_record(const AlertFacts& facts, const Transaction* transaction,
                          const Recipient* kept) noexcept;
  void write_alert_untracked(const inspect::RcptTo& rcpt, std::string_view domain,
                             std::string_view protected_domain, std::string_view variant,
                             inspect::LookalikeKind kind, uint64_t generation) noexcept;
  void maybe_close(Transaction& transaction) noexcept;
  void close_transaction(Transaction& transaction) noexcept;
  void write_smtp_record(const Transaction& transaction) noexcept;
  void release_recipients(uint32_t transaction) noexcept;
  void emit(RecordType type, std::string_view line) noexcept;
  // True when an alert for `address` was already written in this flow; otherwise remembers it.
  bool already_alerted(std::string_view address) noexcept;
  void copy_field(BoundedText& field, std::string_view value) noexcept;

  SmtpFlowEnvironment& environment_;
  FlowIdentity identity_;
  uint64_t now_ns_ = 0;
  BoundedText helo_;
  std::array<Transaction, kMaxOpenTransactions> transactions_;
  uint8_t recent_transaction_ = 0;  // where find_transaction last found one
  uint32_t recipient_count_ = 0;
  uint32_t alerted_count_ = 0;
  uint64_t alerted_hashes_[kMaxAlertedRecipients];
  uint32_t text_used_ = 0;
  inspect::SmtpSession session_;
  Recipient recipients_[kMaxRecipients];
  char text_[kTextBytes];
};

}  // namespace misdirect::dataplane
