// SmtpFlow: one SMTP connection's consumer — it feeds the SmtpSession, keeps each transaction's
// envelope in bounded storage, judges every recipient domain, and hands records to its
// SmtpRecordOutput when they are due (the output, in output/, decides what they look like).
//
// When records are due:
//   alert — per look-alike recipient, when the server's reply to its RCPT arrives; or, without a
//           reply, when its transaction's record is written at the end of the session (flow end,
//           expiry, TLS) — then `accepted` is null. LMTP: a recipient the server accepted alerts
//           when its own reply after the content arrives (so the alert says whether the message
//           reached that mailbox), or when its transaction is written without one.
//   smtp  — per transaction, once the machine has ended it and every RCPT in it has its reply
//           (pipelined replies may arrive after the end is known), or at the end of the session.
//           An encrypted session (STARTTLS or port 465) that met a look-alike outside its readable
//           part — DNS evidence for its server's address, or a look-alike TLS server name — gets one
//           more at its end, with the `tls` fields and every look-alike it met and in which roles.
//
// A recipient is judged by its domain; when that is no look-alike and its local part routes on with
// the percent hack (`user%army.ml@relay.example`), by the domain after the last '%' too: a relay
// that honours it delivers there. Still one alert per recipient.
//
// Roles other than recipient (sender, header-from, reply-to, dns-learned, tls-sni) alert at most
// once per flow and look-alike (the matched variant: mx1.army.ml and army.ml are one); recipients alert once per flow
// and recipient, as always, and register their look-alike so that later roles only record it.
// dns-learned alerts as soon as the recipients are known to be unreadable: STARTTLS taken (the
// client's first TLS record), implicit TLS (port 465), or the end of a session with no RCPT TO.
// header-from and reply-to are judged when the message's header block has ended (the blank line,
// the content's end, or a bound), every address of the From: and Reply-To: lists.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/app/matcher_binding.h"
#include "dataplane/app/smtp_counters.h"
#include "dataplane/app/smtp_envelope.h"
#include "dataplane/counter_table.h"
#include "dataplane/flow/flow_identity.h"
#include "inspect/lookalike_kind.h"
#include "inspect/message_headers.h"
#include "inspect/smtp_event.h"
#include "inspect/lookalike_role.h"
#include "inspect/matcher.h"
#include "inspect/smtp_session.h"
#include "inspect/tls_client_hello.h"

namespace misdirect::dataplane {

// What all SMTP flows of one worker share.
struct SmtpFlowEnvironment {
  const MatcherBinding* matcher = nullptr;  // the worker's current binding
  SmtpRecordOutput* output = nullptr;
  CounterArray<SmtpCounter>* counters = nullptr;
  std::array<uint64_t, kSmtpAnomalyKindCount>* anomalies = nullptr;
  inspect::SmtpConfig smtp_config;
  inspect::RoleSet roles;
};

// How a new SmtpFlow starts: in plaintext, or already in TLS (port 465); and, when its server's
// address was taught by a look-alike's DNS answer, that answer.
struct SmtpFlowStart {
  bool implicit_tls = false;
  bool lmtp = false;  // port 24: LMTP until the client's greeting says otherwise
  const LearnedFact* evidence = nullptr;
};

class SmtpFlow final : public inspect::SmtpEventSink, public inspect::TlsEventSink {
 public:
  static constexpr std::size_t kTextBytes = 32768;
  static constexpr std::size_t kMaxRecipients = 1024;
  static constexpr std::size_t kMaxOpenTransactions = 8;
  static constexpr std::size_t kMaxFieldBytes = kSmtpMaxFieldBytes;
  // Alerts are one per (flow, look-alike recipient), exactly: every recipient alerted on in this
  // flow is remembered (by a 64-bit hash of its case-folded address). A flow writes at most this
  // many alerts; past it look-alikes are counted (alerts_capped) and one anomaly record says the
  // cap was reached, so one flow cannot flood the output.
  static constexpr std::size_t kMaxAlertsPerFlow = 256;

  SmtpFlow(SmtpFlowEnvironment& environment, const FlowIdentity& identity,
           std::span<char> line_buffer, const SmtpFlowStart& start = {}) noexcept;
  SmtpFlow(const SmtpFlow&) = delete;
  SmtpFlow& operator=(const SmtpFlow&) = delete;

  // `client_lagging`: the client stream has later bytes held behind a hole (server bytes only).
  void feed(inspect::Direction direction, std::span<const uint8_t> bytes, uint64_t now_ns,
            bool client_lagging = false) noexcept;
  void gap(inspect::Direction direction, uint64_t byte_count, uint64_t now_ns) noexcept;
  // The flow ended (close, expiry, eviction, shutdown): everything pending is written.
  void finish(uint64_t now_ns) noexcept;
  bool encrypted() const noexcept { return implicit_tls_ || session_.encrypted(); }

  void on_event(const inspect::SmtpEvent& event) noexcept override;
  void on_event(const inspect::TlsEvent& event) noexcept override;

 private:
  void on_helo(const inspect::Helo& helo) noexcept;
  void on_mail_from(const inspect::MailFrom& mail) noexcept;
  void on_rcpt_to(const inspect::RcptTo& rcpt) noexcept;
  void on_rcpt_reply(const inspect::RcptReply& reply) noexcept;
  void on_delivery_reply(const inspect::DeliveryReply& reply) noexcept;
  void on_transaction_end(const inspect::TransactionEnd& end) noexcept;
  void on_message_content(const inspect::MessageContent& content) noexcept;
  // The header block read for `transaction`, or null.
  const inspect::MessageHeaders* headers_of(uint32_t transaction) const noexcept;
  void release_headers(uint32_t transaction) noexcept;

  SmtpTransaction* find_transaction(uint32_t id) noexcept;
  SmtpTransaction& open_transaction(uint32_t id) noexcept;
  // The session as the output sees it now.
  SmtpEnvelope envelope() const noexcept;

  void write_alert(SmtpRecipient& recipient, const SmtpTransaction* transaction) noexcept;
  // `kept`: the recipient's entry, or null for a recipient beyond the storage bound.
  void write_alert_record(const SmtpAlertFacts& facts, const SmtpTransaction* transaction,
                          const SmtpRecipient* kept) noexcept;
  void write_alert_untracked(const inspect::RcptTo& rcpt, std::string_view domain,
                             std::string_view protected_domain, std::string_view variant,
                             inspect::LookalikeKind kind, uint64_t generation, bool percent_hack) noexcept;
  void maybe_close(SmtpTransaction& transaction) noexcept;
  void close_transaction(SmtpTransaction& transaction) noexcept;
  void release_recipients(uint32_t transaction) noexcept;
  // True when no alert may be written for `address`: one was already written in this flow, or
  // the flow reached its alert cap (then the output hears of it once). Otherwise remembers it.
  bool already_alerted(std::string_view address) noexcept;
  void copy_field(SmtpBoundedText& field, std::string_view value) noexcept;

  // Other roles than recipient (smtp_flow_roles.cc).
  static constexpr std::size_t kMaxLookalikesSeen = 8;
  // Records `role` for the look-alike `variant`; true when this flow has not alerted on it yet.
  bool note_lookalike(inspect::LookalikeRole role, std::string_view variant) noexcept;
  void judge_sender(const inspect::MailFrom& mail) noexcept;
  void alert_learned(std::string_view reason) noexcept;
  // The header block being read ends here (content end, transaction end, flow end) unless it
  // already has; then its From and Reply-To addresses are judged.
  void end_header_block() noexcept;
  void judge_headers() noexcept;
  void judge_header_addresses(inspect::LookalikeRole role, inspect::HeaderField field,
                              const inspect::MessageHeaders& headers, SmtpTransaction* transaction) noexcept;
  void on_client_hello(const inspect::TlsClientHello& hello) noexcept;
  void feed_tls(std::span<const uint8_t> bytes) noexcept;
  SmtpRoleAlertFacts role_alert_facts(inspect::LookalikeRole role, std::string_view domain,
                                      const inspect::Verdict& verdict, uint64_t generation) const noexcept;
  void write_role_alert(inspect::LookalikeRole role, std::string_view domain, const inspect::Verdict& verdict,
                        uint64_t generation, std::string_view sender, std::string_view reason) noexcept;

  SmtpFlowEnvironment& environment_;
  FlowIdentity identity_;
  uint64_t now_ns_ = 0;
  SmtpBoundedText helo_;
  std::array<SmtpTransaction, kMaxOpenTransactions> transactions_;
  uint8_t recent_transaction_ = 0;  // where find_transaction last found one
  uint32_t recipient_count_ = 0;
  uint32_t alerted_count_ = 0;
  bool alert_cap_reported_ = false;
  uint64_t alerted_hashes_[kMaxAlertsPerFlow];
  uint32_t text_used_ = 0;
  bool implicit_tls_ = false;
  bool started_ = false;          // the first bytes arrived (an implicit-TLS alert waits for them)
  bool rcpt_seen_ = false;
  bool has_evidence_ = false;
  bool learned_done_ = false;     // the dns-learned decision is made (alerted, recorded or refused)
  bool hello_seen_ = false;
  bool lookalike_sni_ = false;
  uint16_t tls_version_ = 0;
  SmtpBoundedText sni_;
  uint8_t lookalikes_seen_count_ = 0;
  std::array<SmtpLookalikeSeen, kMaxLookalikesSeen> lookalikes_seen_;
  LearnedFact evidence_;
  inspect::TlsHelloParser tls_;
  inspect::SmtpSession session_;
  // The header blocks of the message being read and of one read before it whose transaction's
  // record is not written yet (pipelined BDAT can start the next message before the reply).
  struct MessageSlot {
    uint32_t transaction = 0;  // 0: free
    inspect::MessageHeaders headers;
  };
  std::array<MessageSlot, 2> messages_;
  inspect::MessageHeaderParser header_parser_;
  uint32_t parsing_transaction_ = 0;  // whose content header_parser_ reads (0: none)
  SmtpRecipient recipients_[kMaxRecipients];
  char text_[kTextBytes];
};

}  // namespace misdirect::dataplane
