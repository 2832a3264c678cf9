// LookalikeCheck: normalise as the packet path does, judge, and explain a "no".
//
// The explanation is found on the cold path from the lists the matcher was built from: the
// domain is (under) a protected domain, or (under) an allow-list entry, or simply matches none.
#include "control/lookalike_check.h"

#include <nlohmann/json.hpp>

#include "inspect/domain_name.h"
#include "inspect/smtp_address.h"

namespace misdirect::control {
namespace {

// True when `domain` is `base` or a subdomain of it.
bool is_at_or_under(std::string_view domain, std::string_view base) {
  if (domain == base) {
    return true;
  }
  return domain.size() > base.size() && domain.ends_with(base) && domain[domain.size() - base.size() - 1] == '.';
}

// The verdict on one domain of `input` (its own, or the percent hack's next hop).
CheckAnswer check_domain(const inspect::Matcher& matcher, inspect::MatcherScratch& scratch,
                         std::string_view input, std::string_view domain_text) {
  CheckAnswer answer;
  answer.input = std::string(input);
  if (domain_text.size() >= 2 && domain_text.front() == '[') {
    answer.reason = "an address literal, not a domain";
    return answer;
  }
  inspect::CanonicalDomain canonical;
  const inspect::DomainError error = inspect::normalize_domain(domain_text, canonical);
  if (error != inspect::DomainError::kOk) {
    answer.reason = "not a valid domain: " + std::string(inspect::describe(error));
    return answer;
  }
  answer.domain = std::string(canonical.view());
  const inspect::Verdict verdict = matcher.judge_uncached(canonical.view(), scratch);
  if (verdict.lookalike) {
    answer.lookalike = true;
    answer.kind = verdict.kind;
    answer.protected_domain = std::string(verdict.protected_domain);
    answer.variant = std::string(verdict.variant);
    return answer;
  }
  const inspect::DomainLists& lists = matcher.lists();
  for (const std::string& protected_domain : lists.protected_domains) {
    if (is_at_or_under(answer.domain, protected_domain)) {
      answer.reason = answer.domain == protected_domain ? protected_domain + " is protected"
                                                        : "under the protected domain " + protected_domain;
      return answer;
    }
  }
  for (const std::string& allowed : lists.allow) {
    if (is_at_or_under(answer.domain, allowed)) {
      answer.reason = "allowed by the allow list (" + allowed + ")";
      return answer;
    }
  }
  answer.reason = lists.protected_domains.empty() ? "no protected domains are loaded"
                                                  : "no look-alike of a protected domain";
  return answer;
}

}  // namespace

CheckAnswer check_lookalike(const inspect::Matcher& matcher, inspect::MatcherScratch& scratch,
                            std::string_view input) {
  std::string_view domain_text = input;
  const std::size_t at = input.rfind('@');
  if (at != std::string_view::npos) {
    domain_text = input.substr(at + 1);
  }
  CheckAnswer answer = check_domain(matcher, scratch, input, domain_text);
  const std::string_view hop = at == std::string_view::npos ? std::string_view()
                                                            : inspect::percent_hack_domain(input, domain_text);
  if (answer.lookalike || hop.empty()) {
    return answer;
  }
  CheckAnswer via = check_domain(matcher, scratch, input, hop);
  if (!via.lookalike) {
    answer.reason += "; its percent-hack next hop " + (via.domain.empty() ? std::string(hop) : via.domain) +
                     ": " + via.reason;
    return answer;
  }
  via.percent_hack = true;
  via.relay = std::string(domain_text);
  return via;
}

std::string describe_answer(const CheckAnswer& answer) {
  if (answer.lookalike) {
    return answer.input + ": look-alike of " + answer.protected_domain + " (" +
           std::string(inspect::kind_name(answer.kind)) + ", " + answer.variant + ")" +
           (answer.percent_hack ? " via the percent hack: " + answer.relay + " sends it on to " + answer.domain : "");
  }
  return answer.input + ": not a look-alike: " + answer.reason;
}

std::string answer_json(const CheckAnswer& answer) {
  nlohmann::ordered_json out;
  out["input"] = answer.input;
  out["domain"] = answer.domain;
  out["lookalike"] = answer.lookalike;
  if (answer.lookalike) {
    out["protected"] = answer.protected_domain;
    out["kind"] = std::string(inspect::kind_name(answer.kind));
    out["variant"] = answer.variant;
    if (answer.percent_hack) {
      out["judged"] = {{"domain", answer.domain}, {"reason", "percent-hack"}, {"relay", answer.relay}};
    }
  } else {
    out["reason"] = answer.reason;
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace misdirect::control
