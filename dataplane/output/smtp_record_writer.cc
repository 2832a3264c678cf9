// SmtpRecordWriter: the EVE layout of SMTP flows' records (Suricata's `alert` and `smtp` blocks,
// misdirect's fields under `misdirect`), written into the worker's one record buffer.
#include "dataplane/output/smtp_record_writer.h"

#include <cassert>
#include <cstddef>

#include "inspect/lookalike_kind.h"

namespace misdirect::dataplane {
namespace {

// SmtpRecipient::output_hint: the address needs no JSON escaping.
constexpr uint8_t kAddressPlain = 1;

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

void SmtpRecordWriter::keep_recipient(SmtpRecipient& recipient, std::string_view address) noexcept {
  recipient.output_hint = JsonLineWriter::is_plain_text(address) ? kAddressPlain : 0;
}

void SmtpRecordWriter::alert(const SmtpEnvelope& envelope, const SmtpTransaction* transaction,
                             const SmtpAlertFacts& facts, const SmtpRecipient* kept) noexcept {
  JsonLineWriter& json = eve_.begin("alert", envelope.timestamp_ns, envelope.flow, pcap_filename_);
  write_alert_header(json, facts.kind);
  json.key("smtp");
  json.begin_object();
  json.key("helo");
  json.string(envelope.helo);
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
  for (std::size_t i = 0; kept != nullptr && i < envelope.recipients.size(); ++i) {
    const SmtpRecipient& other = envelope.recipients[i];
    if (other.transaction == kept->transaction) {
      write_address(json, envelope.text_of(other).address, other.output_hint == kAddressPlain);
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
    json.boolean(is_positive_reply(facts.reply_code));
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
  emit(RecordType::kAlert, eve_.finish());
}

void SmtpRecordWriter::transaction(const SmtpEnvelope& envelope, const SmtpTransaction& transaction) noexcept {
  bool has_recipient = false;
  bool has_lookalike = false;
  for (const SmtpRecipient& entry : envelope.recipients) {
    if (entry.transaction == transaction.id) {
      has_recipient = true;
      has_lookalike = has_lookalike || entry.lookalike;
    }
  }
  if (!has_recipient && !transaction.has_mail) {
    return;
  }
  if (smtp_log_ == SmtpLogMode::kNone || (smtp_log_ == SmtpLogMode::kLookalike && !has_lookalike)) {
    return;
  }
  JsonLineWriter& json = eve_.begin("smtp", envelope.timestamp_ns, envelope.flow, pcap_filename_);
  json.member_plain_string("app_proto", "smtp");
  json.key("smtp");
  json.begin_object();
  json.key("helo");
  json.string(envelope.helo);
  json.key("mail_from");
  if (transaction.has_mail) {
    json.string(transaction.mail_from.view());
  } else {
    json.null();
  }
  json.key("rcpt_to");
  json.begin_array();
  for (const SmtpRecipient& entry : envelope.recipients) {
    if (entry.transaction == transaction.id) {
      write_address(json, envelope.text_of(entry).address, entry.output_hint == kAddressPlain);
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
  for (const SmtpRecipient& entry : envelope.recipients) {
    if (entry.transaction != transaction.id) {
      continue;
    }
    const SmtpRecipientText text = envelope.text_of(entry);
    const bool address_plain = entry.output_hint == kAddressPlain;
    if (address_plain && !entry.lookalike) {
      write_plain_recipient(json, text.address, entry.domain_valid, text.domain, entry.replied,
                            entry.reply_code);
      continue;
    }
    json.begin_object();
    if (address_plain) {
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
  emit(RecordType::kSmtp, eve_.finish());
}

void SmtpRecordWriter::emit(RecordType type, std::string_view line) noexcept {
  if (line.empty()) {
    counters_.add(SmtpCounter::kRecordsTooLarge);
    return;
  }
  if (!sink_.on_record(type, line)) {
    counters_.add(SmtpCounter::kRecordsDropped);
    return;
  }
  counters_.add(type == RecordType::kAlert ? SmtpCounter::kAlerts
                                                        : SmtpCounter::kSmtpRecords);
}


}  // namespace misdirect::dataplane
