// HashSetMatcher: the baseline judgement — the same table and rules as Matcher, with an
// std::unordered_map of suffixes instead of Hyperscan.
//
// It exists to check the Matcher (the two must agree on every domain) and to measure it against
// the obvious alternative (docs/benchmarks.md, "Matcher"). Test code: not in the production library.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "inspect/domain_lists.h"
#include "inspect/lookalike_generator.h"
#include "inspect/matcher.h"

namespace misdirect::test_support {

// The baseline speaks the Matcher's vocabulary (DomainLists, Verdict, LookalikeEntry, ...).
using namespace ::misdirect::inspect;

class HashSetMatcher {
 public:
  // Null only when the Public Suffix List cannot be read. An empty protected list judges nothing
  // a look-alike.
  static std::unique_ptr<const HashSetMatcher> build(const DomainLists& lists,
                                                     const MatcherOptions& options);

  // The Matcher's verdict for `canonical_domain`. Views point into this object, except an
  // edit-distance verdict's variant, which points into `canonical_domain`. The edit-distance tier
  // compares every label-aligned suffix with every protected domain: linear in the list.
  Verdict judge(std::string_view canonical_domain) const noexcept;

  std::size_t entry_count() const noexcept { return table_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  // Which entry a suffix is, and the best (longest) variant and safety seen so far.
  struct Lookup {
    const LookalikeEntry* best = nullptr;
    bool safe = false;
  };
  Lookup lookup(std::string_view domain) const noexcept;

  DomainLists lists_;
  MatcherOptions options_;
  std::vector<LookalikeEntry> table_;
  std::unordered_map<std::string_view, uint32_t, Hash, std::equal_to<>> index_;
};

}  // namespace misdirect::test_support
