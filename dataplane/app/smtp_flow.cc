// SmtpFlow: envelope storage, recipient judgement, and when one SMTP connection's records are due.
// The look-alikes of the other roles (sender, header-from, reply-to, dns-learned, tls-sni) are
// judged in smtp_flow_roles.cc.
#include "dataplane/app/smtp_flow.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "dataplane/short_copy.h"
#include "inspect/domain_name.h"
#include "inspect/matcher.h"
#include "inspect/smtp_address.h"

namespace misdirect::dataplane {
namespace {

using inspect::Direction;

// Appends `part` at `out` (room already checked); returns the end.
inline char* append_text(char* out, std::string_view part) noexcept {
  copy_short(out, part.data(), part.size());
  return out + part.size();
}

inspect::SmtpConfig session_config(const SmtpFlowEnvironment& environment, const SmtpFlowStart& start) noexcept {
  inspect::SmtpConfig config = environment.smtp_config;
  config.presume_lmtp = start.lmtp;
  return config;
}

}  // namespace

SmtpFlow::SmtpFlow(SmtpFlowEnvironment& environment, const FlowIdentity& identity,
                   std::span<char> line_buffer, const SmtpFlowStart& start) noexcept
    : environment_(environment),
      identity_(identity),
      implicit_tls_(start.implicit_tls),
      tls_(*this),
      session_(session_config(environment, start), *this, line_buffer) {
  environment_.counters->add(SmtpCounter::kSessions);
  if (start.evidence != nullptr) {
    has_evidence_ = true;
    evidence_ = *start.evidence;
  }
}

void SmtpFlow::feed(Direction direction, std::span<const uint8_t> bytes, uint64_t now_ns,
                    bool client_lagging) noexcept {
  now_ns_ = now_ns;
  if (!started_) {
    started_ = true;
    if (implicit_tls_) {
      alert_learned("implicit-tls");
    }
  }
  if (encrypted()) {
    if (direction == Direction::kClientToServer) {
      feed_tls(bytes);
    }
    return;
  }
  if (direction == Direction::kServerToClient) {
    session_.set_client_lagging(client_lagging);
  }
  session_.feed(direction, bytes);
  if (direction == Direction::kClientToServer && session_.encrypted()) {
    // The TLS stream began inside these bytes: its first three octets were read by the SMTP
    // machine (TlsStarted gave them to the hello parser), the rest follows from here.
    feed_tls(bytes.subspan(std::min(session_.last_feed_consumed(), bytes.size())));
  }
}

void SmtpFlow::feed_tls(std::span<const uint8_t> bytes) noexcept {
  if (!bytes.empty() && !tls_.done()) {
    tls_.feed(Direction::kClientToServer, bytes);
  }
}

void SmtpFlow::gap(Direction direction, uint64_t byte_count, uint64_t now_ns) noexcept {
  now_ns_ = now_ns;
  if (encrypted()) {
    tls_.on_gap(direction, byte_count);
    return;
  }
  session_.on_gap(direction, byte_count);
}

void SmtpFlow::finish(uint64_t now_ns) noexcept {
  now_ns_ = now_ns;
  end_header_block();
  session_.finish();
  tls_.finish();
  for (SmtpTransaction& transaction : transactions_) {
    if (transaction.in_use) {
      close_transaction(transaction);
    }
  }
  if (!rcpt_seen_) {
    alert_learned("no-recipients");  // a no-op when TLS already decided it
  }
  if (encrypted() && (has_evidence_ || lookalike_sni_)) {
    SmtpEncryptedSession session;
    session.tx_id = session_.transactions_opened();
    session.implicit_tls = implicit_tls_;
    session.hello_seen = hello_seen_;
    session.server_name = sni_.view();
    session.tls_version = tls_version_;
    session.lookalikes = std::span<const SmtpLookalikeSeen>(lookalikes_seen_.data(), lookalikes_seen_count_);
    session.evidence = has_evidence_ ? &evidence_ : nullptr;
    environment_.output->encrypted_session(envelope(), session);
  }
}

void SmtpFlow::on_event(const inspect::SmtpEvent& event) noexcept {
  if (const auto* command = std::get_if<inspect::CommandSeen>(&event)) {
    (void)command;
    environment_.counters->add(SmtpCounter::kCommands);
  } else if (const auto* helo = std::get_if<inspect::Helo>(&event)) {
    on_helo(*helo);
  } else if (const auto* mail = std::get_if<inspect::MailFrom>(&event)) {
    on_mail_from(*mail);
  } else if (const auto* rcpt = std::get_if<inspect::RcptTo>(&event)) {
    on_rcpt_to(*rcpt);
  } else if (const auto* reply = std::get_if<inspect::RcptReply>(&event)) {
    on_rcpt_reply(*reply);
  } else if (const auto* delivery = std::get_if<inspect::DeliveryReply>(&event)) {
    on_delivery_reply(*delivery);
  } else if (const auto* end = std::get_if<inspect::TransactionEnd>(&event)) {
    on_transaction_end(*end);
  } else if (const auto* content = std::get_if<inspect::MessageContent>(&event)) {
    on_message_content(*content);
  } else if (const auto* tls = std::get_if<inspect::TlsStarted>(&event)) {
    environment_.counters->add(SmtpCounter::kTlsSessions);
    // Nothing after this point can be read: what is pending is written now.
    for (SmtpTransaction& transaction : transactions_) {
      if (transaction.in_use) {
        close_transaction(transaction);
      }
    }
    alert_learned("starttls");
    tls_.feed(Direction::kClientToServer, tls->record_header);
  } else if (const auto* anomaly = std::get_if<inspect::Anomaly>(&event)) {
    const auto index = static_cast<std::size_t>(anomaly->kind);
    if (index < environment_.anomalies->size()) {
      (*environment_.anomalies)[index] += 1;
    }
  }
}

void SmtpFlow::copy_field(SmtpBoundedText& field, std::string_view value) noexcept {
  if (value.size() > field.bytes.size()) {
    environment_.counters->add(SmtpCounter::kFieldsTruncated);
    value = value.substr(0, field.bytes.size());
  }
  if (!value.empty()) {
    std::memcpy(field.bytes.data(), value.data(), value.size());
  }
  field.length = static_cast<uint16_t>(value.size());
}

void SmtpFlow::on_helo(const inspect::Helo& helo) noexcept { copy_field(helo_, helo.hostname); }

SmtpTransaction* SmtpFlow::find_transaction(uint32_t id) noexcept {
  // Nearly every event is about the transaction the last one was about.
  SmtpTransaction& recent = transactions_[recent_transaction_];
  if (recent.in_use && recent.id == id) {
    return &recent;
  }
  for (std::size_t i = 0; i < transactions_.size(); ++i) {
    if (transactions_[i].in_use && transactions_[i].id == id) {
      recent_transaction_ = static_cast<uint8_t>(i);
      return &transactions_[i];
    }
  }
  return nullptr;
}

SmtpTransaction& SmtpFlow::open_transaction(uint32_t id) noexcept {
  if (SmtpTransaction* existing = find_transaction(id)) {
    return *existing;
  }
  SmtpTransaction* slot = nullptr;
  for (SmtpTransaction& transaction : transactions_) {
    if (!transaction.in_use) {
      slot = &transaction;
      break;
    }
  }
  if (slot == nullptr) {
    // Too many transactions open at once (a server that never answers): write the oldest now.
    SmtpTransaction* oldest = &transactions_[0];
    for (SmtpTransaction& transaction : transactions_) {
      if (transaction.id < oldest->id) {
        oldest = &transaction;
      }
    }
    environment_.counters->add(SmtpCounter::kTransactionsForced);
    close_transaction(*oldest);
    slot = oldest;
  }
  slot->in_use = true;
  slot->ended = false;
  slot->delivered = false;
  slot->has_mail = false;
  slot->id = id;
  slot->end_code = 0;
  slot->reason = inspect::TransactionEndReason::kSessionEnd;
  slot->mail_from.length = 0;
  slot->lookalike_roles = 0;
  return *slot;
}

void SmtpFlow::on_mail_from(const inspect::MailFrom& mail) noexcept {
  SmtpTransaction& transaction = open_transaction(mail.transaction);
  transaction.has_mail = true;
  copy_field(transaction.mail_from, mail.address);
  judge_sender(mail);
}

void SmtpFlow::on_rcpt_to(const inspect::RcptTo& rcpt) noexcept {
  environment_.counters->add(SmtpCounter::kRecipients);
  rcpt_seen_ = true;
  SmtpTransaction& transaction = open_transaction(rcpt.transaction);
  (void)transaction;

  inspect::CanonicalDomain domain;
  const bool domain_valid = inspect::normalize_domain(rcpt.domain, domain) == inspect::DomainError::kOk;
  if (domain.idna_mapped()) {
    environment_.counters->add(SmtpCounter::kRecipientDomainsIdna);
  }
  if (domain.a_labels_checked()) {
    environment_.counters->add(SmtpCounter::kRecipientDomainsALabel);
  }
  if (!domain_valid) {
    environment_.counters->add(SmtpCounter::kRecipientDomainsInvalid);
  }
  inspect::Verdict verdict;
  uint64_t generation = 0;
  const MatcherBinding* binding = environment_.matcher;
  if (domain_valid && binding != nullptr && binding->matcher != nullptr) {
    verdict = binding->matcher->judge(domain.view(), *binding->scratch);
    generation = binding->generation;
  }
  // The percent hack: relays that honour it deliver `user%army.ml@relay.example` to army.ml. When
  // the address's own domain is no look-alike, that next hop is judged too (and alerts instead).
  inspect::CanonicalDomain next_hop;
  bool percent_hack = false;
  if (!verdict.lookalike && binding != nullptr && binding->matcher != nullptr) {
    const std::string_view hop = inspect::percent_hack_domain(rcpt.address, rcpt.domain);
    if (!hop.empty()) {
      environment_.counters->add(SmtpCounter::kPercentHackRecipients);
      if (inspect::normalize_domain(hop, next_hop) == inspect::DomainError::kOk) {
        if (next_hop.idna_mapped()) {
          environment_.counters->add(SmtpCounter::kRecipientDomainsIdna);
        }
        if (next_hop.a_labels_checked()) {
          environment_.counters->add(SmtpCounter::kRecipientDomainsALabel);
        }
        const inspect::Verdict hop_verdict = binding->matcher->judge(next_hop.view(), *binding->scratch);
        if (hop_verdict.lookalike) {
          verdict = hop_verdict;
          generation = binding->generation;
          percent_hack = true;
          environment_.counters->add(SmtpCounter::kPercentHackLookalikes);
        }
      }
    }
  }
  if (verdict.lookalike) {
    environment_.counters->add(SmtpCounter::kLookalikeRecipients);
  }

  const std::string_view address = rcpt.address.substr(0, kMaxFieldBytes);
  // The domain judged: the address's own, or the percent hack's next hop.
  const std::string_view canonical =
      percent_hack ? next_hop.view() : domain_valid ? domain.view() : std::string_view();
  const std::size_t text_needed =
      address.size() + canonical.size() + verdict.protected_domain.size() + verdict.variant.size();
  if (recipient_count_ == kMaxRecipients || text_used_ + text_needed > kTextBytes) {
    environment_.counters->add(SmtpCounter::kRecipientsUntracked);
    if (verdict.lookalike) {
      write_alert_untracked(rcpt, canonical, verdict.protected_domain, verdict.variant, verdict.kind,
                            generation, percent_hack);
    }
    return;
  }
  SmtpRecipient& entry = recipients_[recipient_count_++];
  entry.transaction = rcpt.transaction;
  entry.recipient = rcpt.recipient;
  entry.text_offset = text_used_;
  entry.address_length = static_cast<uint16_t>(address.size());
  entry.domain_length = static_cast<uint16_t>(canonical.size());
  entry.protected_length = static_cast<uint16_t>(verdict.protected_domain.size());
  entry.variant_length = static_cast<uint16_t>(verdict.variant.size());
  entry.reply_code = 0;
  entry.delivery_code = 0;
  entry.replied = false;
  entry.delivery_seen = false;
  entry.domain_valid = domain_valid || percent_hack;
  entry.percent_hack = percent_hack;
  entry.lookalike = verdict.lookalike;
  entry.alert_written = false;
  entry.kind = verdict.kind;
  entry.generation = generation;
  char* out = text_ + text_used_;
  out = append_text(out, address);
  out = append_text(out, canonical);
  out = append_text(out, verdict.protected_domain);
  out = append_text(out, verdict.variant);
  text_used_ = static_cast<uint32_t>(out - text_);
  environment_.output->keep_recipient(entry, address);
}

void SmtpFlow::on_rcpt_reply(const inspect::RcptReply& reply) noexcept {
  if (is_positive_reply(reply.code)) {
    environment_.counters->add(SmtpCounter::kRecipientsAccepted);
  } else {
    environment_.counters->add(SmtpCounter::kRecipientsRejected);
  }
  for (uint32_t i = recipient_count_; i-- > 0;) {
    SmtpRecipient& entry = recipients_[i];
    if (entry.recipient != reply.recipient) {
      continue;
    }
    entry.reply_code = reply.code;
    entry.replied = true;
    // LMTP: an accepted recipient's alert waits for its own reply after the content.
    const bool awaits_delivery = session_.lmtp() && is_positive_reply(reply.code);
    if (entry.lookalike && !entry.alert_written && !awaits_delivery) {
      write_alert(entry, find_transaction(entry.transaction));
    }
    if (SmtpTransaction* transaction = find_transaction(entry.transaction)) {
      maybe_close(*transaction);
    }
    return;
  }
}

void SmtpFlow::on_delivery_reply(const inspect::DeliveryReply& reply) noexcept {
  environment_.counters->add(is_positive_reply(reply.code) ? SmtpCounter::kLmtpDelivered
                                                           : SmtpCounter::kLmtpNotDelivered);
  for (uint32_t i = recipient_count_; i-- > 0;) {
    SmtpRecipient& entry = recipients_[i];
    if (entry.recipient != reply.recipient) {
      continue;
    }
    entry.delivery_code = reply.code;
    entry.delivery_seen = true;
    if (entry.lookalike && !entry.alert_written) {
      write_alert(entry, find_transaction(entry.transaction));
    }
    return;
  }
}

void SmtpFlow::on_message_content(const inspect::MessageContent& content) noexcept {
  if (content.transaction == 0) {
    return;  // content of no known transaction (presumed after a gap): no record to carry it
  }
  if (content.transaction != parsing_transaction_) {
    end_header_block();
    // A free slot, else the one not of an open transaction, else the older (its record loses
    // its email object, counted).
    MessageSlot* slot = nullptr;
    for (MessageSlot& candidate : messages_) {
      if (candidate.transaction == 0 || find_transaction(candidate.transaction) == nullptr) {
        slot = &candidate;
        break;
      }
    }
    if (slot == nullptr) {
      slot = messages_[0].transaction < messages_[1].transaction ? &messages_[0] : &messages_[1];
      environment_.counters->add(SmtpCounter::kMessageHeadersDropped);
    }
    slot->transaction = content.transaction;
    header_parser_.start(slot->headers, content.dot_stuffed ? inspect::MessageHeaderParser::Framing::kDotStuffed
                                                            : inspect::MessageHeaderParser::Framing::kRaw);
    parsing_transaction_ = content.transaction;
    environment_.counters->add(SmtpCounter::kMessages);
  }
  if (!header_parser_.done()) {
    header_parser_.feed({reinterpret_cast<const uint8_t*>(content.bytes.data()), content.bytes.size()});
    if (header_parser_.done()) {
      judge_headers();
    }
  }
}

const inspect::MessageHeaders* SmtpFlow::headers_of(uint32_t transaction) const noexcept {
  for (const MessageSlot& slot : messages_) {
    if (slot.transaction == transaction && transaction != 0) {
      return &slot.headers;
    }
  }
  return nullptr;
}

void SmtpFlow::release_headers(uint32_t transaction) noexcept {
  for (MessageSlot& slot : messages_) {
    if (slot.transaction == transaction) {
      if (slot.headers.truncated()) {
        environment_.counters->add(SmtpCounter::kMessageHeadersTruncated);
      }
      slot.transaction = 0;
    }
  }
  if (parsing_transaction_ == transaction) {
    parsing_transaction_ = 0;
  }
}

void SmtpFlow::on_transaction_end(const inspect::TransactionEnd& end) noexcept {
  if (end.transaction == parsing_transaction_) {
    end_header_block();  // BDAT LAST has no terminator line of its own
  }
  SmtpTransaction* transaction = find_transaction(end.transaction);
  if (transaction == nullptr) {
    // Ended before anything of it was kept (e.g. already forced out): nothing to write.
    return;
  }
  transaction->ended = true;
  transaction->delivered = end.delivered;
  transaction->end_code = end.reply_code;
  transaction->reason = end.reason;
  maybe_close(*transaction);
}

void SmtpFlow::maybe_close(SmtpTransaction& transaction) noexcept {
  if (!transaction.ended) {
    return;
  }
  for (uint32_t i = 0; i < recipient_count_; ++i) {
    if (recipients_[i].transaction == transaction.id && !recipients_[i].replied) {
      return;  // a pipelined reply is still on its way
    }
  }
  close_transaction(transaction);
}

void SmtpFlow::close_transaction(SmtpTransaction& transaction) noexcept {
  for (uint32_t i = 0; i < recipient_count_; ++i) {
    SmtpRecipient& entry = recipients_[i];
    if (entry.transaction != transaction.id) {
      continue;
    }
    if (!entry.replied) {
      environment_.counters->add(SmtpCounter::kRecipientsUnanswered);
    }
    if (entry.lookalike && !entry.alert_written) {
      write_alert(entry, &transaction);
    }
  }
  environment_.counters->add(SmtpCounter::kTransactions);
  if (transaction.delivered) {
    environment_.counters->add(SmtpCounter::kDelivered);
  }
  SmtpEnvelope view = envelope();
  view.message = headers_of(transaction.id);
  environment_.output->transaction(view, transaction);
  release_recipients(transaction.id);
  release_headers(transaction.id);
  transaction.in_use = false;
}

SmtpEnvelope SmtpFlow::envelope() const noexcept {
  SmtpEnvelope view;
  view.flow = &identity_;
  view.timestamp_ns = now_ns_;
  view.helo = helo_.view();
  view.recipients = std::span<const SmtpRecipient>(recipients_, recipient_count_);
  view.text = text_;
  view.lookalikes = std::span<const SmtpLookalikeSeen>(lookalikes_seen_.data(), lookalikes_seen_count_);
  view.lmtp = session_.lmtp();
  return view;
}

void SmtpFlow::release_recipients(uint32_t transaction) noexcept {
  // Entries and their text are kept in arrival order, so compaction is one forward pass.
  uint32_t kept = 0;
  uint32_t text_end = 0;
  for (uint32_t i = 0; i < recipient_count_; ++i) {
    SmtpRecipient entry = recipients_[i];
    if (entry.transaction == transaction) {
      continue;
    }
    const uint32_t length = entry.address_length + entry.domain_length + entry.protected_length +
                            entry.variant_length;
    if (entry.text_offset != text_end) {
      std::memmove(text_ + text_end, text_ + entry.text_offset, length);
      entry.text_offset = text_end;
    }
    text_end += length;
    recipients_[kept++] = entry;
  }
  recipient_count_ = kept;
  text_used_ = text_end;
}

bool SmtpFlow::already_alerted(std::string_view address) noexcept {
  // FNV-1a over the address with ASCII case folded: "Bob@ARMY.ML" repeats "bob@army.ml".
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : address) {
    const char folded = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    hash = (hash ^ static_cast<unsigned char>(folded)) * 0x100000001b3ull;
  }
  for (uint32_t i = 0; i < alerted_count_; ++i) {
    if (alerted_hashes_[i] == hash) {
      environment_.counters->add(SmtpCounter::kRepeatAlertsSuppressed);
      return true;
    }
  }
  if (alerted_count_ == kMaxAlertsPerFlow) {
    environment_.counters->add(SmtpCounter::kAlertsCapped);
    if (!alert_cap_reported_) {
      alert_cap_reported_ = true;
      environment_.output->alert_cap_reached(envelope(), kMaxAlertsPerFlow);
    }
    return true;
  }
  alerted_hashes_[alerted_count_++] = hash;
  return false;
}

void SmtpFlow::write_alert(SmtpRecipient& recipient, const SmtpTransaction* transaction) noexcept {
  const SmtpRecipientText text = envelope().text_of(recipient);
  recipient.alert_written = true;
  SmtpAlertFacts facts{text,           recipient.kind,       recipient.generation,
                       recipient.replied, recipient.reply_code, recipient.transaction};
  facts.lmtp = session_.lmtp();
  facts.delivery_seen = recipient.delivery_seen;
  facts.delivery_code = recipient.delivery_code;
  facts.percent_hack = recipient.percent_hack;
  write_alert_record(facts, transaction, &recipient);
}

void SmtpFlow::write_alert_untracked(const inspect::RcptTo& rcpt, std::string_view domain,
                                     std::string_view protected_domain, std::string_view variant,
                                     inspect::LookalikeKind kind, uint64_t generation,
                                     bool percent_hack) noexcept {
  SmtpAlertFacts facts{SmtpRecipientText{rcpt.address, domain, protected_domain, variant}, kind, generation,
                       false, 0, rcpt.transaction};
  facts.lmtp = session_.lmtp();
  facts.percent_hack = percent_hack;
  write_alert_record(facts, find_transaction(rcpt.transaction), nullptr);
}

void SmtpFlow::write_alert_record(const SmtpAlertFacts& facts, const SmtpTransaction* transaction,
                                  const SmtpRecipient* kept) noexcept {
  if (!environment_.roles.has(inspect::LookalikeRole::kRecipient)) {
    environment_.counters->add(SmtpCounter::kRoleOff);
    return;
  }
  if (already_alerted(facts.text.address)) {
    return;
  }
  // Later roles naming the same look-alike on this flow are recorded, not alerted.
  note_lookalike(inspect::LookalikeRole::kRecipient, facts.text.variant);
  environment_.output->alert(envelope(), transaction, facts, kept);
}

}  // namespace misdirect::dataplane
