// DnsFlow: DNS questions judged, dns-query alerts, learned addresses and dns records for one flow.
#include "dataplane/app/dns_flow.h"

#include <algorithm>
#include <cstring>

namespace misdirect::dataplane {

using inspect::Direction;
using inspect::DnsRecord;

void DnsFlow::Text::assign(std::string_view value) noexcept {
  length = static_cast<uint8_t>(std::min(value.size(), bytes.size()));
  std::memcpy(bytes.data(), value.data(), length);
}

DnsFlow::DnsFlow(DnsFlowEnvironment& environment, const FlowIdentity& identity,
                 inspect::DnsTransport transport, std::span<uint8_t> tcp_buffer) noexcept
    : environment_(environment), identity_(identity), session_(transport, *this, tcp_buffer) {
  environment_.counters->add(DnsCounter::kSessions);
}

void DnsFlow::feed(Direction direction, std::span<const uint8_t> bytes, uint64_t now_ns) noexcept {
  now_ns_ = now_ns;
  session_.feed(direction, bytes);
}

void DnsFlow::gap(Direction direction, uint64_t byte_count, uint64_t now_ns) noexcept {
  now_ns_ = now_ns;
  session_.on_gap(direction, byte_count);
}

void DnsFlow::finish(uint64_t now_ns) noexcept {
  now_ns_ = now_ns;
  session_.finish();
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if ((pending_used_ >> i) & 1u) {
      write_alert(pending_[i], false, 0);
    }
  }
  pending_used_ = 0;
}

void DnsFlow::on_event(const inspect::DnsEvent& event) noexcept {
  if (const auto* record = std::get_if<DnsRecord>(&event)) {
    on_record(*record);
  } else if (const auto* question = std::get_if<inspect::DnsQuestion>(&event)) {
    on_question(*question);
  } else if (const auto* begin = std::get_if<inspect::DnsMessageBegin>(&event)) {
    on_begin(*begin);
  } else if (const auto* end = std::get_if<inspect::DnsMessageEnd>(&event)) {
    on_end(*end);
  } else if (const auto* anomaly = std::get_if<inspect::DnsAnomaly>(&event)) {
    const auto index = static_cast<std::size_t>(anomaly->kind);
    if (index < environment_.anomalies->size()) {
      (*environment_.anomalies)[index] += 1;
    }
    if (anomaly->malformed) {
      environment_.counters->add(DnsCounter::kMalformed);
    }
  }
}

inspect::DomainError DnsFlow::normalize(std::string_view name, inspect::CanonicalDomain& canonical) noexcept {
  const inspect::DomainError error = inspect::normalize_domain(name, canonical);
  if (canonical.idna_mapped() || canonical.a_labels_checked()) {
    environment_.counters->add(DnsCounter::kNamesIdna);
  }
  return error;
}

bool DnsFlow::judge(std::string_view name, inspect::CanonicalDomain& canonical, inspect::Verdict& verdict,
                    uint64_t& generation) noexcept {
  const MatcherBinding* binding = environment_.matcher;
  if (binding == nullptr || binding->matcher == nullptr ||
      normalize(name, canonical) != inspect::DomainError::kOk) {
    return false;
  }
  verdict = binding->matcher->judge(canonical.view(), *binding->scratch);
  generation = binding->generation;
  return verdict.lookalike;
}

void DnsFlow::on_begin(const inspect::DnsMessageBegin& begin) noexcept {
  message_ = begin;
  logging_ = false;
  log_decided_ = false;
  interest_count_ = 0;
  if (!begin.header.response()) {
    environment_.counters->add(DnsCounter::kQueries);
    return;
  }
  environment_.counters->add(DnsCounter::kResponses);
  if (!begin.matched) {
    return;
  }
  environment_.counters->add(DnsCounter::kResponsesMatched);
  // The response code the pending alerts for this id waited for.
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (((pending_used_ >> i) & 1u) && pending_[i].id == begin.header.id) {
      write_alert(pending_[i], true, begin.header.rcode());
      pending_used_ = static_cast<uint8_t>(pending_used_ & ~(1u << i));
    }
  }
}

void DnsFlow::on_question(const inspect::DnsQuestion& question) noexcept {
  environment_.counters->add(DnsCounter::kQuestions);
  inspect::CanonicalDomain canonical;
  inspect::Verdict verdict;
  uint64_t generation = 0;
  const bool lookalike = judge(question.name, canonical, verdict, generation);
  bool relevant = lookalike;
  if (!question.response) {
    if (lookalike) {
      environment_.counters->add(DnsCounter::kLookalikeQuestions);
      alert_question(question, canonical, verdict, generation);
    }
  } else if (environment_.learned != nullptr && environment_.roles.has(inspect::LookalikeRole::kDnsLearned) &&
             !canonical.empty()) {
    // Answers about this name teach addresses when it is a look-alike (or under one), or a mail
    // exchanger some worker learned a look-alike's MX answer named.
    if (lookalike) {
      add_interest(canonical.view(), canonical.view());
    } else {
      LearnedFact exchange;
      if (environment_.learned->find_exchange(canonical.view(), now_ns_, exchange, *environment_.learned_counters)) {
        add_interest(canonical.view(), exchange.origin_view());
        relevant = true;
      }
    }
  }
  if (!log_decided_) {
    log_decided_ = true;
    const bool log = environment_.dns_log == DnsLogMode::kAll ||
                     (environment_.dns_log == DnsLogMode::kLookalike && relevant);
    if (log) {
      logging_ = true;
      environment_.output->message_begin(identity_, now_ns_, message_);
    }
  }
  if (logging_) {
    environment_.output->message_question(question);
  }
}

void DnsFlow::alert_question(const inspect::DnsQuestion& question, const inspect::CanonicalDomain& canonical,
                             const inspect::Verdict& verdict, uint64_t generation) noexcept {
  if (!environment_.roles.has(inspect::LookalikeRole::kDnsQuery)) {
    environment_.counters->add(DnsCounter::kRoleOff);
    return;
  }
  switch (alerted_.remember(canonical.view())) {
    case AlertedNames::Seen::kRepeat:
      environment_.counters->add(DnsCounter::kRepeatAlertsSuppressed);
      return;
    case AlertedNames::Seen::kFull:
      environment_.counters->add(DnsCounter::kAlertMemoryFull);
      break;
    case AlertedNames::Seen::kNew:
      break;
  }
  PendingAlert alert;
  alert.id = question.id;
  alert.query_type = question.type;
  alert.kind = verdict.kind;
  alert.generation = generation;
  alert.query_ns = now_ns_;
  alert.name.assign(question.name);
  alert.domain.assign(canonical.view());
  alert.protected_domain.assign(verdict.protected_domain);
  alert.variant.assign(verdict.variant);
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (((pending_used_ >> i) & 1u) == 0) {
      pending_[i] = alert;
      pending_used_ = static_cast<uint8_t>(pending_used_ | (1u << i));
      return;
    }
  }
  environment_.counters->add(DnsCounter::kPendingAlertsFull);
  write_alert(alert, false, 0);
}

const DnsFlow::Interest* DnsFlow::interest_of(std::string_view canonical) const noexcept {
  for (uint8_t i = 0; i < interest_count_; ++i) {
    if (interest_[i].name.view() == canonical) {
      return &interest_[i];
    }
  }
  return nullptr;
}

void DnsFlow::add_interest(std::string_view name, std::string_view origin) noexcept {
  if (interest_count_ == kMaxInterest || interest_of(name) != nullptr) {
    return;
  }
  Interest& entry = interest_[interest_count_++];
  entry.name.assign(name);
  entry.origin.assign(origin);
}

void DnsFlow::on_record(const DnsRecord& record) noexcept {
  environment_.counters->add(DnsCounter::kRecords);
  if (logging_) {
    environment_.output->message_record(record);
  }
  const bool teaches = record.type == inspect::kDnsTypeA || record.type == inspect::kDnsTypeAaaa ||
                       record.type == inspect::kDnsTypeMx || record.type == inspect::kDnsTypeCname;
  if (!teaches || record.section == inspect::DnsSection::kAuthority || environment_.learned == nullptr ||
      !environment_.roles.has(inspect::LookalikeRole::kDnsLearned) || record.dns_class != 1) {
    return;
  }
  inspect::CanonicalDomain owner;
  if (normalize(record.name, owner) != inspect::DomainError::kOk) {
    return;
  }
  if (const Interest* interest = interest_of(owner.view())) {
    const Text origin = interest->origin;  // add_interest may not move it, but learn() takes a view
    learn(record, owner.view(), origin.view());
    return;
  }
  // Not reached from the question: the owner may be a look-alike (or under one) itself, or a mail
  // exchanger learned from another flow's answer.
  inspect::CanonicalDomain canonical;
  inspect::Verdict verdict;
  uint64_t generation = 0;
  if (judge(record.name, canonical, verdict, generation)) {
    learn(record, owner.view(), owner.view());
    return;
  }
  if (record.type == inspect::kDnsTypeA || record.type == inspect::kDnsTypeAaaa) {
    LearnedFact exchange;
    if (environment_.learned->find_exchange(owner.view(), now_ns_, exchange, *environment_.learned_counters)) {
      learn(record, owner.view(), exchange.origin_view());
    }
  }
}

void DnsFlow::learn(const DnsRecord& record, std::string_view owner, std::string_view origin) noexcept {
  if (record.type == inspect::kDnsTypeCname || record.type == inspect::kDnsTypeMx) {
    inspect::CanonicalDomain target;
    if (normalize(record.target, target) != inspect::DomainError::kOk) {
      return;
    }
    add_interest(target.view(), origin);
    if (record.type == inspect::kDnsTypeCname) {
      return;
    }
    LearnedFact fact;
    fact.kind = LearnedFact::Kind::kExchange;
    teach(fact, target.view(), origin, record.ttl);
    return;
  }
  LearnedFact fact;
  fact.kind = LearnedFact::Kind::kAddress;
  std::memcpy(fact.address.bytes.data(), record.address.data(), record.address_length);
  fact.address.version = record.address_length == 4 ? 4 : 6;
  teach(fact, owner, origin, record.ttl);
}

void DnsFlow::teach(LearnedFact& fact, std::string_view host, std::string_view origin, uint32_t ttl) noexcept {
  fact.host_length = static_cast<uint8_t>(std::min(host.size(), fact.host.size()));
  std::memcpy(fact.host.data(), host.data(), fact.host_length);
  fact.origin_length = static_cast<uint8_t>(std::min(origin.size(), fact.origin.size()));
  std::memcpy(fact.origin.data(), origin.data(), fact.origin_length);
  fact.resolver = identity_.server;
  fact.learned_ns = now_ns_;
  fact.ttl = ttl;
  environment_.learned->learn(environment_.worker_id, fact, *environment_.learned_counters);
}

void DnsFlow::on_end(const inspect::DnsMessageEnd& end) noexcept {
  environment_.counters->add(DnsCounter::kRecordsSkipped, end.records_skipped);
  if (logging_) {
    environment_.output->message_end();
  }
  logging_ = false;
}

void DnsFlow::write_alert(const PendingAlert& alert, bool answered, uint8_t rcode) noexcept {
  DnsAlertFacts facts;
  facts.id = alert.id;
  facts.query_type = alert.query_type;
  facts.name = alert.name.view();
  facts.domain = alert.domain.view();
  facts.protected_domain = alert.protected_domain.view();
  facts.kind = alert.kind;
  facts.variant = alert.variant.view();
  facts.generation = alert.generation;
  facts.answered = answered;
  facts.rcode = rcode;
  environment_.output->alert(identity_, now_ns_, facts);
}

}  // namespace misdirect::dataplane
