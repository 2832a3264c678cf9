// SmtpRecordWriter: the EVE layout of SMTP flows' records (Suricata's `alert` and `smtp` blocks,
// misdirect's fields under `misdirect`), written into the worker's one record buffer.
#include "dataplane/output/smtp_record_writer.h"

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <span>
#include <utility>

#include "dataplane/output/evidence_writer.h"
#include "dataplane/output/lookalike_alert.h"
#include "inspect/lookalike_kind.h"
#include "inspect/tls_client_hello.h"

namespace misdirect::dataplane {
namespace {

// SmtpRecipient::output_hint: the address needs no JSON escaping.
constexpr uint8_t kAddressPlain = 1;

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

// A reply as two members: whether it was positive (`outcome`) and its code, both null when no
// reply was seen.
void write_reply(JsonLineWriter& json, std::string_view outcome, std::string_view code, bool seen,
                 uint16_t reply_code) noexcept {
  json.key(outcome);
  if (seen) {
    json.boolean(is_positive_reply(reply_code));
  } else {
    json.null();
  }
  json.key(code);
  if (seen) {
    json.number(reply_code);
  } else {
    json.null();
  }
}

// Opens Suricata's smtp object with the HELO name, when one was sent (absent values are left out,
// never null or empty).
void begin_smtp_object(JsonLineWriter& json, const SmtpEnvelope& envelope) noexcept {
  json.key("smtp");
  json.begin_object();
  if (!envelope.helo.empty()) {
    json.key("helo");
    json.string(envelope.helo);
  }
}

// Opens the record's `misdirect` object with the flow's tunnel facts, when it was encapsulated.
void begin_misdirect_object(JsonLineWriter& json, const SmtpEnvelope& envelope) noexcept {
  json.key("misdirect");
  json.begin_object();
  if (envelope.flow != nullptr) {
    write_tunnel_extension(json, *envelope.flow);
  }
}

// Suricata's tls object from a ClientHello: the server name (when it sent one) and the highest
// version it offered.
void write_tls(JsonLineWriter& json, std::string_view server_name, uint16_t tls_version) noexcept {
  json.key("tls");
  json.begin_object();
  if (!server_name.empty()) {
    json.key("sni");
    json.string(server_name);
  }
  json.member_plain_string("version", inspect::tls_version_name(tls_version));
  json.end_object();
}

// Why the recipient's judged domain is not its address's: the percent hack's next hop, and the
// relay the address names (its domain as sent), which would send the mail on there.
void write_judged(JsonLineWriter& json, std::string_view judged_domain, std::string_view address) noexcept {
  json.key("judged");
  json.begin_object();
  json.key("domain");
  json.string(judged_domain);
  json.member_plain_string("reason", "percent-hack");
  json.key("relay");
  json.string(address.substr(address.rfind('@') + 1));
  json.end_object();
}

// The DNS answer that taught an SMTP server's address, as alerts and records show it.
void write_evidence(JsonLineWriter& json, const LearnedFact& evidence) noexcept {
  char when[kTimestampBytes];
  char address[kIpTextBytes];
  char resolver[kIpTextBytes];
  json.key("dns");
  json.begin_object();
  json.key("name");
  json.string(evidence.origin_view());
  json.key("host");
  json.string(evidence.host_view());
  json.member_plain_string("address", format_ip(evidence.address, std::span<char, kIpTextBytes>(address)));
  json.member_plain_string("learned", format_timestamp(evidence.learned_ns, std::span<char, kTimestampBytes>(when)));
  json.member_number("ttl", evidence.ttl);
  json.member_plain_string("resolver", format_ip(evidence.resolver, std::span<char, kIpTextBytes>(resolver)));
  json.end_object();
}

// The From header as Suricata writes it, one string: From is an address list (RFC 5322 allows
// several authors), so its addresses are joined the way a header writes them.
void write_from(JsonLineWriter& json, const inspect::MessageHeaders& headers) noexcept {
  using inspect::HeaderField;
  if (!headers.has(HeaderField::kFrom) || headers.get(HeaderField::kFrom).empty()) {
    return;
  }
  // Each '\0' between two addresses becomes ", ": at most twice the field's bytes.
  std::array<char, 2 * inspect::kHeaderFieldBytes[static_cast<std::size_t>(HeaderField::kFrom)]> joined;
  std::size_t length = 0;
  std::string_view list = headers.get(HeaderField::kFrom);
  for (std::string_view item = inspect::next_list_item(list); !item.empty(); item = inspect::next_list_item(list)) {
    if (length > 0) {
      joined[length++] = ',';
      joined[length++] = ' ';
    }
    std::memcpy(joined.data() + length, item.data(), item.size());
    length += item.size();
  }
  json.key("from");
  json.string({joined.data(), length});
}

// The look-alikes a flow met, in which roles, and the role that alerted on each.
void write_lookalikes(JsonLineWriter& json, std::span<const SmtpLookalikeSeen> lookalikes) noexcept {
  json.key("lookalikes");
  json.begin_array();
  for (const SmtpLookalikeSeen& seen : lookalikes) {
    json.begin_object();
    json.key("variant");
    json.string(seen.variant.view());
    json.key("roles");
    json.begin_array();
    for (int role = 0; role < inspect::kLookalikeRoleCount; ++role) {
      if ((seen.roles >> role) & 1u) {
        json.plain_string(inspect::role_name(static_cast<inspect::LookalikeRole>(role)));
      }
    }
    json.end_array();
    json.key("alerted");
    if (seen.alerted_role >= 0) {
      json.plain_string(inspect::role_name(static_cast<inspect::LookalikeRole>(seen.alerted_role)));
    } else {
      json.null();
    }
    json.end_object();
  }
  json.end_array();
}

// Suricata's `email` object for a message whose header block was read: each field the message
// had (To and Cc as arrays of addresses), and `status`, the delivery outcome.
void write_email(JsonLineWriter& json, const inspect::MessageHeaders& headers,
                 inspect::TransactionEndReason reason) noexcept {
  using inspect::HeaderField;
  const auto string_member = [&](std::string_view name, HeaderField field) {
    if (headers.has(field) && !headers.get(field).empty()) {
      json.key(name);
      json.string(headers.get(field));
    }
  };
  const auto list_member = [&](std::string_view name, HeaderField field) {
    std::string_view list = headers.get(field);
    if (!headers.has(field) || list.empty()) {
      return;
    }
    json.key(name);
    json.begin_array();
    for (std::string_view item = inspect::next_list_item(list); !item.empty(); item = inspect::next_list_item(list)) {
      json.string(item);
    }
    json.end_array();
  };
  json.key("email");
  json.begin_object();
  json.key("status");
  json.plain_string(reason == inspect::TransactionEndReason::kDataAccepted   ? "delivered"
                    : reason == inspect::TransactionEndReason::kDataRejected ? "rejected"
                                                                             : "unanswered");
  write_from(json, headers);
  list_member("to", HeaderField::kTo);
  list_member("cc", HeaderField::kCc);
  string_member("subject", HeaderField::kSubject);
  string_member("message_id", HeaderField::kMessageId);
  string_member("date", HeaderField::kDate);
  string_member("x_mailer", HeaderField::kXMailer);
  json.end_object();
}

}  // namespace

void SmtpRecordWriter::write_capture_file(JsonLineWriter& json, const SmtpEnvelope& envelope) noexcept {
  if (evidence_dir_.empty() || envelope.flow == nullptr) {
    return;
  }
  // The same name EvidenceWriter gives the file (evidence_file_path); the directory's length is
  // checked when the option is read.
  char path[kEvidencePathBytes];
  const bool slash = !evidence_dir_.ends_with('/');
  const int length = std::snprintf(path, sizeof(path), "%.*s%s%llu.pcap", static_cast<int>(evidence_dir_.size()),
                                   evidence_dir_.data(), slash ? "/" : "",
                                   static_cast<unsigned long long>(envelope.flow->flow_id));
  if (length <= 0 || static_cast<std::size_t>(length) >= sizeof(path)) {
    return;
  }
  json.key("capture_file");
  json.string(std::string_view(path, static_cast<std::size_t>(length)));
}

void SmtpRecordWriter::keep_recipient(SmtpRecipient& recipient, std::string_view address) noexcept {
  recipient.output_hint = JsonLineWriter::is_plain_text(address) ? kAddressPlain : 0;
}

void SmtpRecordWriter::alert(const SmtpEnvelope& envelope, const SmtpTransaction* transaction,
                             const SmtpAlertFacts& facts, const SmtpRecipient* kept) noexcept {
  JsonLineWriter& json = eve_.begin("alert", envelope.timestamp_ns, envelope.flow, pcap_filename_);
  write_capture_file(json, envelope);
  json.key("tx_id");
  json.number(tx_id_of(facts.transaction));
  write_lookalike_alert_header(json, "smtp", inspect::LookalikeRole::kRecipient, facts.kind);
  // Suricata's smtp object: absent values are left out, never null or empty.
  begin_smtp_object(json, envelope);
  if (transaction != nullptr && transaction->has_mail) {
    json.key("mail_from");
    json.string(transaction->mail_from.view());  // "" for the null sender <>
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
  begin_misdirect_object(json, envelope);
  json.member_plain_string("role", "recipient");
  json.key("recipient");
  json.string(facts.text.address);
  json.key("domain");
  json.string(facts.text.domain);
  write_lookalike_verdict(json, facts.text.protected_domain, facts.kind, facts.text.variant);
  write_unicode_forms(json, facts.text.domain, facts.text.protected_domain, facts.text.variant);
  if (facts.percent_hack) {
    write_judged(json, facts.text.domain, facts.text.address);
  }
  write_reply(json, "accepted", "reply_code", facts.replied, facts.reply_code);
  if (facts.lmtp) {
    // LMTP answers the content once per recipient: whether the message reached this mailbox.
    json.member_raw("lmtp", "true");
    write_reply(json, "delivered", "delivery_code", facts.delivery_seen, facts.delivery_code);
  }
  json.key("generation");
  json.number(facts.generation);
  json.end_object();
  emit_alert(eve_.finish(), facts.kind);
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
  has_lookalike = has_lookalike || transaction.lookalike_roles != 0;
  if (smtp_log_ == SmtpLogMode::kNone || (smtp_log_ == SmtpLogMode::kLookalike && !has_lookalike)) {
    return;
  }
  JsonLineWriter& json = eve_.begin("smtp", envelope.timestamp_ns, envelope.flow, pcap_filename_);
  json.key("tx_id");
  json.number(tx_id_of(transaction.id));
  json.member_plain_string("app_proto", "smtp");
  // Suricata's smtp object: absent values are left out, never null or empty.
  begin_smtp_object(json, envelope);
  if (transaction.has_mail) {
    json.key("mail_from");
    json.string(transaction.mail_from.view());  // "" for the null sender <>
  }
  if (has_recipient) {
    json.key("rcpt_to");
    json.begin_array();
    for (const SmtpRecipient& entry : envelope.recipients) {
      if (entry.transaction == transaction.id) {
        write_address(json, envelope.text_of(entry).address, entry.output_hint == kAddressPlain);
      }
    }
    json.end_array();
  }
  json.end_object();
  if (envelope.message != nullptr) {
    write_email(json, *envelope.message, transaction.reason);
  }
  begin_misdirect_object(json, envelope);
  json.member_raw("delivered", transaction.delivered ? "true" : "false");
  json.member_plain_string("end", inspect::transaction_end_reason_name(transaction.reason));
  if (envelope.lmtp) {
    json.member_raw("lmtp", "true");
  }
  if (envelope.message != nullptr) {
    // How the header block behind `email` was read: where it ended, its size, whether a value
    // or the block was cut at a bound.
    json.key("headers");
    json.begin_object();
    json.member_plain_string("end", inspect::header_block_end_name(envelope.message->end()));
    json.member_number("bytes", envelope.message->block_bytes());
    json.member_raw("truncated", envelope.message->truncated() ? "true" : "false");
    json.end_object();
  }
  json.key("recipients");
  json.begin_array();
  for (const SmtpRecipient& entry : envelope.recipients) {
    if (entry.transaction != transaction.id) {
      continue;
    }
    const SmtpRecipientText text = envelope.text_of(entry);
    const bool address_plain = entry.output_hint == kAddressPlain;
    if (address_plain && !entry.lookalike && !envelope.lmtp) {
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
    if (entry.percent_hack) {
      write_judged(json, text.domain, text.address);
    }
    if (entry.replied) {
      json.member_number("reply_code", entry.reply_code);
    } else {
      json.member_raw("reply_code", "null");
    }
    if (envelope.lmtp) {
      if (entry.delivery_seen) {
        json.member_number("delivery_code", entry.delivery_code);
      } else {
        json.member_raw("delivery_code", "null");
      }
    }
    if (entry.lookalike) {
      json.key("lookalike");
      json.begin_object();
      write_lookalike_verdict(json, text.protected_domain, entry.kind, text.variant);
      json.end_object();
    } else {
      json.member_raw("lookalike", "null");
    }
    json.end_object();
  }
  json.end_array();
  if (transaction.lookalike_roles != 0) {
    // The transaction named a look-alike in another role (MAIL FROM, From:, Reply-To:): every
    // look-alike the flow met so far, with its roles and the one that alerted.
    write_lookalikes(json, envelope.lookalikes);
  }
  json.end_object();
  emit(RecordType::kSmtp, eve_.finish());
}

void SmtpRecordWriter::role_alert(const SmtpEnvelope& envelope, const SmtpRoleAlertFacts& facts) noexcept {
  const inspect::LookalikeRole role = facts.role;
  const bool header_role = role == inspect::LookalikeRole::kHeaderFrom || role == inspect::LookalikeRole::kReplyTo;
  JsonLineWriter& json = eve_.begin("alert", envelope.timestamp_ns, envelope.flow, pcap_filename_);
  write_capture_file(json, envelope);
  if (header_role && facts.transaction != 0) {
    json.key("tx_id");
    json.number(tx_id_of(facts.transaction));
  }
  write_lookalike_alert_header(json, "smtp", role, facts.kind);
  // Suricata's smtp object: absent values are left out, never null or empty.
  begin_smtp_object(json, envelope);
  if (!facts.sender.empty()) {
    json.key("mail_from");
    json.string(facts.sender);
  }
  json.end_object();
  if (header_role && facts.message != nullptr) {
    // The message's identity as far as its header block tells it (the transaction's smtp record
    // has the whole email object and its delivery outcome).
    json.key("email");
    json.begin_object();
    write_from(json, *facts.message);
    for (const auto& [name, field] : {std::pair{std::string_view("subject"), inspect::HeaderField::kSubject},
                                      std::pair{std::string_view("message_id"), inspect::HeaderField::kMessageId}}) {
      if (facts.message->has(field) && !facts.message->get(field).empty()) {
        json.key(name);
        json.string(facts.message->get(field));
      }
    }
    json.end_object();
  }
  if (role == inspect::LookalikeRole::kTlsSni) {
    write_tls(json, facts.server_name, facts.tls_version);  // a tls-sni alert always has a name
  }
  begin_misdirect_object(json, envelope);
  json.member_plain_string("role", inspect::role_name(role));
  if (role == inspect::LookalikeRole::kSender) {
    json.key("sender");
    json.string(facts.sender);
  }
  if (header_role) {
    json.key("address");
    json.string(facts.address);
  }
  json.key("domain");
  json.string(facts.domain);
  write_lookalike_verdict(json, facts.protected_domain, facts.kind, facts.variant);
  write_unicode_forms(json, facts.domain, facts.protected_domain, facts.variant);
  if (role == inspect::LookalikeRole::kDnsLearned && facts.evidence != nullptr) {
    json.member_plain_string("reason", facts.reason);
    write_evidence(json, *facts.evidence);
  }
  json.member_number("generation", facts.generation);
  json.end_object();
  const std::string_view line = eve_.finish();
  emit_alert(line, facts.kind);
  if (!line.empty()) {
    counters_.add(role == inspect::LookalikeRole::kSender   ? SmtpCounter::kSenderAlerts
                  : role == inspect::LookalikeRole::kTlsSni ? SmtpCounter::kSniAlerts
                  : header_role                             ? SmtpCounter::kHeaderAlerts
                                                            : SmtpCounter::kLearnedAlerts);
  }
}

void SmtpRecordWriter::encrypted_session(const SmtpEnvelope& envelope, const SmtpEncryptedSession& session) noexcept {
  if (smtp_log_ == SmtpLogMode::kNone) {
    return;
  }
  JsonLineWriter& json = eve_.begin("smtp", envelope.timestamp_ns, envelope.flow, pcap_filename_);
  json.key("tx_id");
  json.number(session.tx_id);
  json.member_plain_string("app_proto", "smtp");
  // Suricata's smtp object: nothing of the envelope is readable but the HELO, when sent in clear.
  begin_smtp_object(json, envelope);
  json.end_object();
  if (session.hello_seen) {
    write_tls(json, session.server_name, session.tls_version);
  }
  begin_misdirect_object(json, envelope);
  json.member_raw("encrypted", "true");
  json.member_plain_string("tls", session.implicit_tls ? "implicit" : "starttls");
  json.member_raw("delivered", "false");
  json.key("recipients");
  json.begin_array();
  json.end_array();
  write_lookalikes(json, session.lookalikes);
  if (session.evidence != nullptr) {
    write_evidence(json, *session.evidence);
  }
  json.end_object();
  emit(RecordType::kSmtp, eve_.finish());
}

void SmtpRecordWriter::alert_cap_reached(const SmtpEnvelope& envelope, uint64_t cap) noexcept {
  // Suricata's anomaly event (an app-layer event of the SMTP parser), sent where alerts go so
  // that whoever reads alerts learns that this flow's stopped.
  JsonLineWriter& json = eve_.begin("anomaly", envelope.timestamp_ns, envelope.flow, pcap_filename_);
  json.key("anomaly");
  json.begin_object();
  json.member_plain_string("type", "applayer");
  json.member_plain_string("app_proto", "smtp");
  json.member_plain_string("event", "ALERT_CAP_REACHED");
  json.member_plain_string("layer", "proto_parser");
  json.end_object();
  json.key("misdirect");
  json.begin_object();
  json.member_number("alert_cap", cap);
  json.end_object();
  const std::string_view line = eve_.finish();
  if (line.empty()) {
    counters_.add(SmtpCounter::kRecordsTooLarge);
  } else if (!sink_.on_record(RecordType::kAlert, line)) {
    counters_.add(SmtpCounter::kRecordsDropped);
  }
}

bool SmtpRecordWriter::emit(RecordType type, std::string_view line) noexcept {
  if (line.empty()) {
    counters_.add(SmtpCounter::kRecordsTooLarge);
    return false;
  }
  if (!sink_.on_record(type, line)) {
    counters_.add(SmtpCounter::kRecordsDropped);
    return false;
  }
  counters_.add(type == RecordType::kAlert ? SmtpCounter::kAlerts
                                                        : SmtpCounter::kSmtpRecords);
  return true;
}

void SmtpRecordWriter::emit_alert(std::string_view line, inspect::LookalikeKind kind) noexcept {
  if (emit(RecordType::kAlert, line) && alert_kinds_ != nullptr) {
    ++(*alert_kinds_)[static_cast<std::size_t>(kind)];
  }
}


}  // namespace misdirect::dataplane
