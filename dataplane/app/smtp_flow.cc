// SmtpFlow: envelope storage, recipient judgement, and when one SMTP connection's records are due.
#include "dataplane/app/smtp_flow.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "dataplane/short_copy.h"
#include "inspect/domain_name.h"
#include "inspect/matcher.h"

namespace misdirect::dataplane {
namespace {

using inspect::Direction;

// Appends `part` at `out` (room already checked); returns the end.
inline char* append_text(char* out, std::string_view part) noexcept {
  copy_short(out, part.data(), part.size());
  return out + part.size();
}

}  // namespace

SmtpFlow::SmtpFlow(SmtpFlowEnvironment& environment, const FlowIdentity& identity,
                   std::span<char> line_buffer) noexcept
    : environment_(environment),
      identity_(identity),
      session_(environment.smtp_config, *this, line_buffer) {
  environment_.counters->add(SmtpCounter::kSessions);
}

void SmtpFlow::feed(Direction direction, std::span<const uint8_t> bytes, uint64_t now_ns,
                    bool client_lagging) noexcept {
  now_ns_ = now_ns;
  if (direction == Direction::kServerToClient) {
    session_.set_client_lagging(client_lagging);
  }
  session_.feed(direction, bytes);
}

void SmtpFlow::gap(Direction direction, uint64_t byte_count, uint64_t now_ns) noexcept {
  now_ns_ = now_ns;
  session_.on_gap(direction, byte_count);
}

void SmtpFlow::finish(uint64_t now_ns) noexcept {
  now_ns_ = now_ns;
  session_.finish();
  for (SmtpTransaction& transaction : transactions_) {
    if (transaction.in_use) {
      close_transaction(transaction);
    }
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
  } else if (const auto* end = std::get_if<inspect::TransactionEnd>(&event)) {
    on_transaction_end(*end);
  } else if (std::holds_alternative<inspect::TlsStarted>(event)) {
    environment_.counters->add(SmtpCounter::kTlsSessions);
    // Nothing after this point can be read: what is pending is written now.
    for (SmtpTransaction& transaction : transactions_) {
      if (transaction.in_use) {
        close_transaction(transaction);
      }
    }
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
  return *slot;
}

void SmtpFlow::on_mail_from(const inspect::MailFrom& mail) noexcept {
  SmtpTransaction& transaction = open_transaction(mail.transaction);
  transaction.has_mail = true;
  copy_field(transaction.mail_from, mail.address);
}

void SmtpFlow::on_rcpt_to(const inspect::RcptTo& rcpt) noexcept {
  environment_.counters->add(SmtpCounter::kRecipients);
  SmtpTransaction& transaction = open_transaction(rcpt.transaction);
  (void)transaction;

  inspect::CanonicalDomain domain;
  const bool domain_valid = inspect::normalize_domain(rcpt.domain, domain) == inspect::DomainError::kOk;
  if (domain.idna_mapped()) {
    environment_.counters->add(SmtpCounter::kRecipientDomainsIdna);
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
  if (verdict.lookalike) {
    environment_.counters->add(SmtpCounter::kLookalikeRecipients);
  }

  const std::string_view address = rcpt.address.substr(0, kMaxFieldBytes);
  const std::string_view canonical = domain_valid ? domain.view() : std::string_view();
  const std::size_t text_needed =
      address.size() + canonical.size() + verdict.protected_domain.size() + verdict.variant.size();
  if (recipient_count_ == kMaxRecipients || text_used_ + text_needed > kTextBytes) {
    environment_.counters->add(SmtpCounter::kRecipientsUntracked);
    if (verdict.lookalike) {
      write_alert_untracked(rcpt, canonical, verdict.protected_domain, verdict.variant, verdict.kind,
                            generation);
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
  entry.replied = false;
  entry.domain_valid = domain_valid;
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
    if (entry.lookalike && !entry.alert_written) {
      write_alert(entry, find_transaction(entry.transaction));
    }
    if (SmtpTransaction* transaction = find_transaction(entry.transaction)) {
      maybe_close(*transaction);
    }
    return;
  }
}

void SmtpFlow::on_transaction_end(const inspect::TransactionEnd& end) noexcept {
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
  environment_.output->transaction(envelope(), transaction);
  release_recipients(transaction.id);
  transaction.in_use = false;
}

SmtpEnvelope SmtpFlow::envelope() const noexcept {
  SmtpEnvelope view;
  view.flow = &identity_;
  view.timestamp_ns = now_ns_;
  view.helo = helo_.view();
  view.recipients = std::span<const SmtpRecipient>(recipients_, recipient_count_);
  view.text = text_;
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
  if (alerted_count_ == kMaxAlertedRecipients) {
    environment_.counters->add(SmtpCounter::kAlertMemoryFull);
    return false;
  }
  alerted_hashes_[alerted_count_++] = hash;
  return false;
}

void SmtpFlow::write_alert(SmtpRecipient& recipient, const SmtpTransaction* transaction) noexcept {
  const SmtpRecipientText text = envelope().text_of(recipient);
  recipient.alert_written = true;
  SmtpAlertFacts facts{text, recipient.kind, recipient.generation, recipient.replied, recipient.reply_code};
  write_alert_record(facts, transaction, &recipient);
}

void SmtpFlow::write_alert_untracked(const inspect::RcptTo& rcpt, std::string_view domain,
                                     std::string_view protected_domain, std::string_view variant,
                                     inspect::LookalikeKind kind, uint64_t generation) noexcept {
  SmtpAlertFacts facts{SmtpRecipientText{rcpt.address, domain, protected_domain, variant}, kind, generation,
                   false, 0};
  write_alert_record(facts, find_transaction(rcpt.transaction), nullptr);
}

void SmtpFlow::write_alert_record(const SmtpAlertFacts& facts, const SmtpTransaction* transaction,
                                  const SmtpRecipient* kept) noexcept {
  if (already_alerted(facts.text.address)) {
    return;
  }
  environment_.output->alert(envelope(), transaction, facts, kept);
}

}  // namespace misdirect::dataplane
