// HashSetMatcher: each label-aligned suffix of the recipient looked up in one hash map.
#include "tests/support/hash_set_matcher.h"

#include "inspect/confusables.h"
#include "inspect/domain_name.h"

namespace misdirect::test_support {

namespace {

bool has_a_label(std::string_view domain) noexcept {
  return domain.compare(0, 4, "xn--") == 0 || domain.find(".xn--") != std::string_view::npos;
}

}  // namespace

std::unique_ptr<const HashSetMatcher> HashSetMatcher::build(const DomainLists& lists,
                                                           const MatcherOptions& options) {
  const PublicSuffixListLoad suffixes = PublicSuffixList::load(options.public_suffix_list);
  if (suffixes.list == nullptr) {
    return nullptr;
  }
  std::unique_ptr<HashSetMatcher> matcher(new HashSetMatcher());
  matcher->lists_ = lists;
  matcher->options_ = options;
  matcher->table_ = build_lookalike_table(lists, *suffixes.list);
  matcher->index_.reserve(matcher->table_.size());
  for (std::size_t i = 0; i < matcher->table_.size(); ++i) {
    matcher->index_.emplace(matcher->table_[i].domain, static_cast<uint32_t>(i));
  }
  return matcher;
}

HashSetMatcher::Lookup HashSetMatcher::lookup(std::string_view domain) const noexcept {
  Lookup found;
  for (std::size_t start = 0; start < domain.size();) {
    const auto it = index_.find(domain.substr(start));
    if (it != index_.end()) {
      const LookalikeEntry& entry = table_[it->second];
      found.safe = found.safe || entry.role != LookalikeEntry::Role::kVariant;
      if (found.best == nullptr) {
        found.best = &entry;  // suffixes are tried longest first
      }
    }
    const std::size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return found;
}

Verdict HashSetMatcher::judge(std::string_view canonical_domain) const noexcept {
  Verdict verdict;
  if (canonical_domain.empty() || canonical_domain.size() > kMaxDomainBytes) {
    return verdict;
  }
  const Lookup exact = lookup(canonical_domain);
  if (exact.safe) {
    return verdict;
  }
  if (exact.best != nullptr) {
    verdict.lookalike = true;
    verdict.kind = exact.best->kind;
    verdict.protected_domain = lists_.protected_domains[exact.best->protected_index];
    verdict.variant = exact.best->domain;
    return verdict;
  }
  if (has_a_label(canonical_domain)) {
    CanonicalDomain skeleton;
    if (confusable_skeleton(canonical_domain, skeleton)) {
      const Lookup folded = lookup(skeleton.view());
      if (folded.best != nullptr && folded.best->role != LookalikeEntry::Role::kAllowed) {
        verdict.lookalike = true;
        verdict.kind = LookalikeKind::kHomoglyph;
        verdict.protected_domain = lists_.protected_domains[folded.best->protected_index];
        verdict.variant = folded.best->domain;
        return verdict;
      }
    }
  }
  if (options_.edit_distance) {
    for (std::size_t start = 0; start < canonical_domain.size();) {
      const std::string_view suffix = canonical_domain.substr(start);
      for (std::size_t p = 0; p < lists_.protected_domains.size(); ++p) {
        const std::string& target = lists_.protected_domains[p];
        if (suffix != target && within_one_edit(suffix, target)) {
          verdict.lookalike = true;
          verdict.kind = LookalikeKind::kEditDistance;
          verdict.protected_domain = target;
          verdict.variant = suffix;
          return verdict;
        }
      }
      const std::size_t dot = canonical_domain.find('.', start);
      if (dot == std::string_view::npos) {
        break;
      }
      start = dot + 1;
    }
  }
  return verdict;
}

}  // namespace misdirect::test_support
