// SmtpFlow: the roles other than recipient — MAIL FROM (sender), the message's From: and Reply-To:
// (header-from, reply-to), the DNS answer that taught the server's address (dns-learned) and the
// ClientHello's server name (tls-sni) — judged, and alerted at most once per flow and look-alike
// (the memory of look-alikes met, which recipients share). The envelope and the recipients are in
// smtp_flow.cc.
#include "dataplane/app/smtp_flow.h"

#include <cstdint>
#include <string_view>

#include "inspect/domain_name.h"
#include "inspect/matcher.h"
#include "inspect/message_headers.h"

namespace misdirect::dataplane {

bool SmtpFlow::note_lookalike(inspect::LookalikeRole role, std::string_view variant) noexcept {
  const auto bit = static_cast<uint8_t>(1u << static_cast<int>(role));
  for (uint8_t i = 0; i < lookalikes_seen_count_; ++i) {
    SmtpLookalikeSeen& seen = lookalikes_seen_[i];
    if (seen.variant.view() == variant) {
      seen.roles |= bit;
      if (seen.alerted_role >= 0) {
        if (role != inspect::LookalikeRole::kRecipient) {
          environment_.counters->add(SmtpCounter::kLookalikeSeenAgain);
        }
        return false;
      }
      seen.alerted_role = static_cast<int8_t>(role);
      return true;
    }
  }
  if (lookalikes_seen_count_ == kMaxLookalikesSeen) {
    // Beyond the bound a look-alike alerts again rather than not at all (counted).
    environment_.counters->add(SmtpCounter::kAlertMemoryFull);
    return true;
  }
  SmtpLookalikeSeen& seen = lookalikes_seen_[lookalikes_seen_count_++];
  copy_field(seen.variant, variant);
  seen.roles = bit;
  seen.alerted_role = static_cast<int8_t>(role);
  return true;
}

void SmtpFlow::judge_sender(const inspect::MailFrom& mail) noexcept {
  const std::size_t at = mail.address.rfind('@');
  const MatcherBinding* binding = environment_.matcher;
  if (at == std::string_view::npos || binding == nullptr || binding->matcher == nullptr) {
    return;
  }
  inspect::CanonicalDomain domain;
  if (inspect::normalize_domain(mail.address.substr(at + 1), domain) != inspect::DomainError::kOk) {
    return;
  }
  const inspect::Verdict verdict = binding->matcher->judge(domain.view(), *binding->scratch);
  if (!verdict.lookalike) {
    return;
  }
  environment_.counters->add(SmtpCounter::kLookalikeSenders);
  if (!environment_.roles.has(inspect::LookalikeRole::kSender)) {
    environment_.counters->add(SmtpCounter::kRoleOff);
    return;
  }
  if (SmtpTransaction* transaction = find_transaction(mail.transaction)) {
    transaction->lookalike_roles |= static_cast<uint8_t>(1u << static_cast<int>(inspect::LookalikeRole::kSender));
  }
  if (note_lookalike(inspect::LookalikeRole::kSender, verdict.variant)) {
    write_role_alert(inspect::LookalikeRole::kSender, domain.view(), verdict, binding->generation,
                     mail.address.substr(0, kMaxFieldBytes), {});
  }
}

void SmtpFlow::alert_learned(std::string_view reason) noexcept {
  if (!has_evidence_ || learned_done_) {
    return;
  }
  learned_done_ = true;
  const MatcherBinding* binding = environment_.matcher;
  if (binding == nullptr || binding->matcher == nullptr) {
    return;
  }
  // Judged again with today's lists: an address taught by a name that is no longer a look-alike
  // (the lists changed since) does not alert.
  const inspect::Verdict verdict = binding->matcher->judge(evidence_.origin_view(), *binding->scratch);
  if (!verdict.lookalike) {
    return;
  }
  if (!environment_.roles.has(inspect::LookalikeRole::kDnsLearned)) {
    environment_.counters->add(SmtpCounter::kRoleOff);
    return;
  }
  if (note_lookalike(inspect::LookalikeRole::kDnsLearned, verdict.variant)) {
    write_role_alert(inspect::LookalikeRole::kDnsLearned, evidence_.origin_view(), verdict, binding->generation,
                     {}, reason);
  }
}

void SmtpFlow::end_header_block() noexcept {
  if (parsing_transaction_ == 0 || header_parser_.done()) {
    return;
  }
  header_parser_.finish();
  judge_headers();
}

void SmtpFlow::judge_headers() noexcept {
  const inspect::MessageHeaders* headers = headers_of(parsing_transaction_);
  if (headers == nullptr) {
    return;
  }
  SmtpTransaction* transaction = find_transaction(parsing_transaction_);
  judge_header_addresses(inspect::LookalikeRole::kHeaderFrom, inspect::HeaderField::kFrom, *headers, transaction);
  judge_header_addresses(inspect::LookalikeRole::kReplyTo, inspect::HeaderField::kReplyTo, *headers, transaction);
}

void SmtpFlow::judge_header_addresses(inspect::LookalikeRole role, inspect::HeaderField field,
                                      const inspect::MessageHeaders& headers,
                                      SmtpTransaction* transaction) noexcept {
  const MatcherBinding* binding = environment_.matcher;
  if (!headers.has(field) || binding == nullptr || binding->matcher == nullptr) {
    return;
  }
  // Every address of the list (a few at most; the field's buffer bounds them).
  std::string_view list = headers.get(field);
  for (std::string_view item = inspect::next_list_item(list); !item.empty(); item = inspect::next_list_item(list)) {
    const std::string_view address = inspect::address_in_mailbox(item);
    const std::size_t at = address.rfind('@');
    if (at == std::string_view::npos) {
      continue;
    }
    inspect::CanonicalDomain domain;
    if (inspect::normalize_domain(address.substr(at + 1), domain) != inspect::DomainError::kOk) {
      continue;
    }
    const inspect::Verdict verdict = binding->matcher->judge(domain.view(), *binding->scratch);
    if (!verdict.lookalike) {
      continue;
    }
    environment_.counters->add(SmtpCounter::kLookalikeHeaderAddresses);
    if (!environment_.roles.has(role)) {
      environment_.counters->add(SmtpCounter::kRoleOff);
      continue;
    }
    if (transaction != nullptr) {
      transaction->lookalike_roles |= static_cast<uint8_t>(1u << static_cast<int>(role));
    }
    if (note_lookalike(role, verdict.variant)) {
      SmtpRoleAlertFacts facts = role_alert_facts(role, domain.view(), verdict, binding->generation);
      facts.sender = transaction != nullptr && transaction->has_mail ? transaction->mail_from.view() : std::string_view();
      facts.address = address.substr(0, kMaxFieldBytes);
      facts.transaction = parsing_transaction_;
      facts.message = &headers;
      environment_.output->role_alert(envelope(), facts);
    }
  }
}

void SmtpFlow::on_event(const inspect::TlsEvent& event) noexcept {
  if (const auto* hello = std::get_if<inspect::TlsClientHello>(&event)) {
    environment_.counters->add(SmtpCounter::kClientHellos);
    on_client_hello(*hello);
  } else {
    environment_.counters->add(SmtpCounter::kTlsAnomalies);
  }
}

void SmtpFlow::on_client_hello(const inspect::TlsClientHello& hello) noexcept {
  hello_seen_ = true;
  tls_version_ = hello.highest_version;
  copy_field(sni_, hello.server_name);
  const MatcherBinding* binding = environment_.matcher;
  inspect::CanonicalDomain domain;
  if (hello.server_name.empty() || binding == nullptr || binding->matcher == nullptr ||
      inspect::normalize_domain(hello.server_name, domain) != inspect::DomainError::kOk) {
    return;
  }
  const inspect::Verdict verdict = binding->matcher->judge(domain.view(), *binding->scratch);
  if (!verdict.lookalike) {
    return;
  }
  lookalike_sni_ = true;
  if (!environment_.roles.has(inspect::LookalikeRole::kTlsSni)) {
    environment_.counters->add(SmtpCounter::kRoleOff);
    return;
  }
  if (note_lookalike(inspect::LookalikeRole::kTlsSni, verdict.variant)) {
    write_role_alert(inspect::LookalikeRole::kTlsSni, domain.view(), verdict, binding->generation, {}, {});
  }
}

SmtpRoleAlertFacts SmtpFlow::role_alert_facts(inspect::LookalikeRole role, std::string_view domain,
                                              const inspect::Verdict& verdict, uint64_t generation) const noexcept {
  SmtpRoleAlertFacts facts;
  facts.role = role;
  facts.domain = domain;
  facts.protected_domain = verdict.protected_domain;
  facts.kind = verdict.kind;
  facts.variant = verdict.variant;
  facts.generation = generation;
  facts.evidence = role == inspect::LookalikeRole::kDnsLearned ? &evidence_ : nullptr;
  facts.server_name = sni_.view();
  facts.tls_version = tls_version_;
  return facts;
}

void SmtpFlow::write_role_alert(inspect::LookalikeRole role, std::string_view domain,
                                const inspect::Verdict& verdict, uint64_t generation,
                                std::string_view sender, std::string_view reason) noexcept {
  SmtpRoleAlertFacts facts = role_alert_facts(role, domain, verdict, generation);
  facts.sender = sender;
  facts.reason = reason;
  environment_.output->role_alert(envelope(), facts);
}

}  // namespace misdirect::dataplane
