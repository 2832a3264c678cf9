// SmtpFlow: envelope storage, recipient judgement and alert/smtp records for one SMTP connection.
#include "dataplane/app/smtp_flow.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "dataplane/output/short_copy.h"
#include "inspect/domain_name.h"
#include "inspect/matcher.h"

namespace misdirect::dataplane {
namespace {

using inspect::Direction;

constexpr uint32_t kSignatureIdBase = 9'900'001;

std::string_view signature_for(inspect::LookalikeKind kind) noexcept {
  switch (kind) {
    case inspect::LookalikeKind::kTldSwap: return "MISDIRECT SMTP recipient at a look-alike domain (tld-swap)";
    case inspect::LookalikeKind::kOmission: return "MISDIRECT SMTP recipient at a look-alike domain (omission)";
    case inspect::LookalikeKind::kInsertion: return "MISDIRECT SMTP recipient at a look-alike domain (insertion)";
    case inspect::LookalikeKind::kReplacement: return "MISDIRECT SMTP recipient at a look-alike domain (replacement)";
    case inspect::LookalikeKind::kTransposition: return "MISDIRECT SMTP recipient at a look-alike domain (transposition)";
    case inspect::LookalikeKind::kRepetition: return "MISDIRECT SMTP recipient at a look-alike domain (repetition)";
    case inspect::LookalikeKind::kHyphenation: return "MISDIRECT SMTP recipient at a look-alike domain (hyphenation)";
    case inspect::LookalikeKind::kVowelSwap: return "MISDIRECT SMTP recipient at a look-alike domain (vowel-swap)";
    case inspect::LookalikeKind::kBitsquatting: return "MISDIRECT SMTP recipient at a look-alike domain (bitsquatting)";
    case inspect::LookalikeKind::kHomoglyph: return "MISDIRECT SMTP recipient at a look-alike domain (homoglyph)";
    case inspect::LookalikeKind::kDotOmission: return "MISDIRECT SMTP recipient at a look-alike domain (dot-omission)";
    case inspect::LookalikeKind::kDotInsertion: return "MISDIRECT SMTP recipient at a look-alike domain (dot-insertion)";
    case inspect::LookalikeKind::kSubdomainLabel: return "MISDIRECT SMTP recipient at a look-alike domain (subdomain-label)";
    case inspect::LookalikeKind::kEditDistance: return "MISDIRECT SMTP recipient at a look-alike domain (edit-distance)";
  }
  return "MISDIRECT SMTP recipient at a look-alike domain";
}

bool is_positive(uint16_t reply_code) noexcept { return reply_code >= 200 && reply_code < 300; }

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
  for (Transaction& transaction : transactions_) {
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
    for (Transaction& transaction : transactions_) {
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

void SmtpFlow::copy_field(BoundedText& field, std::string_view value) noexcept {
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

SmtpFlow::Transaction* SmtpFlow::find_transaction(uint32_t id) noexcept {
  // Nearly every event is about the transaction the last one was about.
  Transaction& recent = transactions_[recent_transaction_];
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

SmtpFlow::Transaction& SmtpFlow::open_transaction(uint32_t id) noexcept {
  if (Transaction* existing = find_transaction(id)) {
    return *existing;
  }
  Transaction* slot = nullptr;
  for (Transaction& transaction : transactions_) {
    if (!transaction.in_use) {
      slot = &transaction;
      break;
    }
  }
  if (slot == nullptr) {
    // Too many transactions open at once (a server that never answers): write the oldest now.
    Transaction* oldest = &transactions_[0];
    for (Transaction& transaction : transactions_) {
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
  Transaction& transaction = open_transaction(mail.transaction);
  transaction.has_mail = true;
  copy_field(transaction.mail_from, mail.address);
}

void SmtpFlow::on_rcpt_to(const inspect::RcptTo& rcpt) noexcept {
  environment_.counters->add(SmtpCounter::kRecipients);
  Transaction& transaction = open_transaction(rcpt.transaction);
  (void)transaction;

  inspect::CanonicalDomain domain;
  const bool domain_valid = inspect::normalize_domain(rcpt.domain, domain) == inspect::DomainError::kOk;
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
  Recipient& entry = recipients_[recipient_count_++];
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
  entry.address_plain = JsonLineWriter::is_plain_text(address);
  entry.kind = verdict.kind;
  entry.generation = generation;
  char* out = text_ + text_used_;
  out = append_text(out, address);
  out = append_text(out, canonical);
  out = append_text(out, verdict.protected_domain);
  out = append_text(out, verdict.variant);
  text_used_ = static_cast<uint32_t>(out - text_);
}

void SmtpFlow::on_rcpt_reply(const inspect::RcptReply& reply) noexcept {
  if (is_positive(reply.code)) {
    environment_.counters->add(SmtpCounter::kRecipientsAccepted);
  } else {
    environment_.counters->add(SmtpCounter::kRecipientsRejected);
  }
  for (uint32_t i = recipient_count_; i-- > 0;) {
    Recipient& entry = recipients_[i];
    if (entry.recipient != reply.recipient) {
      continue;
    }
    entry.reply_code = reply.code;
    entry.replied = true;
    if (entry.lookalike && !entry.alert_written) {
      write_alert(entry, find_transaction(entry.transaction));
    }
    if (Transaction* transaction = find_transaction(entry.transaction)) {
      maybe_close(*transaction);
    }
    return;
  }
}

void SmtpFlow::on_transaction_end(const inspect::TransactionEnd& end) noexcept {
  Transaction* transaction = find_transaction(end.transaction);
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

void SmtpFlow::maybe_close(Transaction& transaction) noexcept {
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

void SmtpFlow::close_transaction(Transaction& transaction) noexcept {
  for (uint32_t i = 0; i < recipient_count_; ++i) {
    Recipient& entry = recipients_[i];
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
  write_smtp_record(transaction);
  release_recipients(transaction.id);
  transaction.in_use = false;
}

SmtpFlow::RecipientText SmtpFlow::text_of(const Recipient& recipient) const noexcept {
  const char* base = text_ + recipient.text_offset;
  RecipientText text;
  text.address = {base, recipient.address_length};
  base += recipient.address_length;
  text.domain = {base, recipient.domain_length};
  base += recipient.domain_length;
  text.protected_domain = {base, recipient.protected_length};
  base += recipient.protected_length;
  text.variant = {base, recipient.variant_length};
  return text;
}

void SmtpFlow::release_recipients(uint32_t transaction) noexcept {
  // Entries and their text are kept in arrival order, so compaction is one forward pass.
  uint32_t kept = 0;
  uint32_t text_end = 0;
  for (uint32_t i = 0; i < recipient_count_; ++i) {
    Recipient entry = recipients_[i];
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

void SmtpFlow::emit(RecordType type, std::string_view line) noexcept {
  if (line.empty()) {
    environment_.counters->add(SmtpCounter::kRecordsTooLarge);
    return;
  }
  if (!environment_.sink->on_record(type, line)) {
    environment_.counters->add(SmtpCounter::kRecordsDropped);
    return;
  }
  environment_.counters->add(type == RecordType::kAlert ? SmtpCounter::kAlerts
                                                        : SmtpCounter::kSmtpRecords);
}

namespace {

void write_address(JsonLineWriter& json, std::string_view address, bool plain) noexcept {
  if (plain) {
    json.plain_string(address);
  } else {
    json.string(address);
  }
}

// One smtp-record recipient with no look-alike verdict and an address that needs no escaping,
// written as one piece (the common case, once per recipient of every transaction):
// {"address":"…","domain":"…" or null,"reply_code":N or null,"lookalike":null}
void write_plain_recipient(JsonLineWriter& json, std::string_view address, bool domain_valid,
                           std::string_view domain, bool replied, uint16_t reply_code) noexcept {
  constexpr std::string_view kAddress = R"({"address":")";
  constexpr std::string_view kDomain = R"(","domain":)";
  constexpr std::string_view kReplyCode = R"(,"reply_code":)";
  constexpr std::string_view kNoLookalike = R"(,"lookalike":null})";
  constexpr std::string_view kNull = "null";
  const std::size_t digits = replied ? JsonLineWriter::digit_count(reply_code) : kNull.size();
  const std::size_t size = kAddress.size() + address.size() + kDomain.size() +
                           (domain_valid ? domain.size() + 2 : kNull.size()) + kReplyCode.size() +
                           digits + kNoLookalike.size();
  char* const start = json.value_bytes(size);
  if (start == nullptr) {
    return;
  }
  char* out = JsonLineWriter::append(start, kAddress);
  out = JsonLineWriter::append(out, address);
  out = JsonLineWriter::append(out, kDomain);
  if (domain_valid) {
    *out++ = '"';
    out = JsonLineWriter::append(out, domain);  // canonical: a-z, 0-9, '-' and '.'
    *out++ = '"';
  } else {
    out = JsonLineWriter::append(out, kNull);
  }
  out = JsonLineWriter::append(out, kReplyCode);
  out = replied ? JsonLineWriter::append_digits(out, digits, reply_code) : JsonLineWriter::append(out, kNull);
  out = JsonLineWriter::append(out, kNoLookalike);
  assert(out == start + size);
}

void write_alert_header(JsonLineWriter& json, inspect::LookalikeKind kind) noexcept {
  json.key("app_proto");
  json.plain_string("smtp");
  json.key("alert");
  json.begin_object();
  json.key("action");
  json.plain_string("allowed");
  json.key("gid");
  json.number(1);
  json.key("signature_id");
  json.number(kSignatureIdBase + static_cast<uint32_t>(kind));
  json.key("rev");
  json.number(1);
  json.key("signature");
  json.plain_string(signature_for(kind));
  json.key("category");
  json.plain_string("Potential Corporate Privacy Violation");
  json.key("severity");
  json.number(1);
  json.end_object();
}

void write_verdict(JsonLineWriter& json, std::string_view protected_domain, inspect::LookalikeKind kind,
                   std::string_view variant) noexcept {
  json.key("protected");
  json.string(protected_domain);
  json.key("kind");
  json.plain_string(inspect::kind_name(kind));
  json.key("variant");
  json.string(variant);
}

}  // namespace

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

void SmtpFlow::write_alert(Recipient& recipient, const Transaction* transaction) noexcept {
  const RecipientText text = text_of(recipient);
  recipient.alert_written = true;
  AlertFacts facts{text, recipient.kind, recipient.generation, recipient.replied, recipient.reply_code};
  write_alert_record(facts, transaction, &recipient);
}

void SmtpFlow::write_alert_untracked(const inspect::RcptTo& rcpt, std::string_view domain,
                                     std::string_view protected_domain, std::string_view variant,
                                     inspect::LookalikeKind kind, uint64_t generation) noexcept {
  AlertFacts facts{RecipientText{rcpt.address, domain, protected_domain, variant}, kind, generation,
                   false, 0};
  write_alert_record(facts, find_transaction(rcpt.transaction), nullptr);
}

void SmtpFlow::write_alert_record(const AlertFacts& facts, const Transaction* transaction,
                                  const Recipient* kept) noexcept {
  if (already_alerted(facts.text.address)) {
    return;
  }
  JsonLineWriter& json =
      environment_.eve->begin("alert", now_ns_, &identity_, environment_.pcap_filename);
  write_alert_header(json, facts.kind);
  json.key("smtp");
  json.begin_object();
  json.key("helo");
  json.string(helo_.view());
  json.key("mail_from");
  if (transaction != nullptr && transaction->has_mail) {
    json.string(transaction->mail_from.view());
  } else {
    json.null();
  }
  // The transaction's recipients up to this one; an untracked recipient stands alone.
  json.key("rcpt_to");
  json.begin_array();
  if (kept == nullptr) {
    json.string(facts.text.address);
  }
  for (uint32_t i = 0; kept != nullptr && i < recipient_count_; ++i) {
    const Recipient& other = recipients_[i];
    if (other.transaction == kept->transaction) {
      write_address(json, text_of(other).address, other.address_plain);
    }
    if (&other == kept) {
      break;
    }
  }
  json.end_array();
  json.end_object();
  json.key("misdirect");
  json.begin_object();
  json.key("recipient");
  json.string(facts.text.address);
  json.key("domain");
  json.string(facts.text.domain);
  write_verdict(json, facts.text.protected_domain, facts.kind, facts.text.variant);
  json.key("accepted");
  if (facts.replied) {
    json.boolean(is_positive(facts.reply_code));
  } else {
    json.null();
  }
  json.key("reply_code");
  if (facts.replied) {
    json.number(facts.reply_code);
  } else {
    json.null();
  }
  json.key("generation");
  json.number(facts.generation);
  json.end_object();
  emit(RecordType::kAlert, environment_.eve->finish());
}

void SmtpFlow::write_smtp_record(const Transaction& transaction) noexcept {
  bool has_recipient = false;
  bool has_lookalike = false;
  for (uint32_t i = 0; i < recipient_count_; ++i) {
    if (recipients_[i].transaction == transaction.id) {
      has_recipient = true;
      has_lookalike = has_lookalike || recipients_[i].lookalike;
    }
  }
  if (!has_recipient && !transaction.has_mail) {
    return;
  }
  if (environment_.smtp_log == SmtpLogMode::kNone ||
      (environment_.smtp_log == SmtpLogMode::kLookalike && !has_lookalike)) {
    return;
  }
  JsonLineWriter& json =
      environment_.eve->begin("smtp", now_ns_, &identity_, environment_.pcap_filename);
  json.member_plain_string("app_proto", "smtp");
  json.key("smtp");
  json.begin_object();
  json.key("helo");
  json.string(helo_.view());
  json.key("mail_from");
  if (transaction.has_mail) {
    json.string(transaction.mail_from.view());
  } else {
    json.null();
  }
  json.key("rcpt_to");
  json.begin_array();
  for (uint32_t i = 0; i < recipient_count_; ++i) {
    if (recipients_[i].transaction == transaction.id) {
      write_address(json, text_of(recipients_[i]).address, recipients_[i].address_plain);
    }
  }
  json.end_array();
  json.end_object();
  json.key("misdirect");
  json.begin_object();
  json.member_number("transaction", transaction.id);
  json.member_raw("delivered", transaction.delivered ? "true" : "false");
  json.member_plain_string("end", inspect::transaction_end_reason_name(transaction.reason));
  json.key("recipients");
  json.begin_array();
  for (uint32_t i = 0; i < recipient_count_; ++i) {
    const Recipient& entry = recipients_[i];
    if (entry.transaction != transaction.id) {
      continue;
    }
    const RecipientText text = text_of(entry);
    if (entry.address_plain && !entry.lookalike) {
      write_plain_recipient(json, text.address, entry.domain_valid, text.domain, entry.replied,
                            entry.reply_code);
      continue;
    }
    json.begin_object();
    if (entry.address_plain) {
      json.member_plain_string("address", text.address);
    } else {
      json.key("address");
      json.string(text.address);
    }
    if (entry.domain_valid) {
      json.member_plain_string("domain", text.domain);  // canonical: a-z, 0-9, '-' and '.'
    } else {
      json.member_raw("domain", "null");
    }
    if (entry.replied) {
      json.member_number("reply_code", entry.reply_code);
    } else {
      json.member_raw("reply_code", "null");
    }
    if (entry.lookalike) {
      json.key("lookalike");
      json.begin_object();
      write_verdict(json, text.protected_domain, entry.kind, text.variant);
      json.end_object();
    } else {
      json.member_raw("lookalike", "null");
    }
    json.end_object();
  }
  json.end_array();
  json.end_object();
  emit(RecordType::kSmtp, environment_.eve->finish());
}

}  // namespace misdirect::dataplane
