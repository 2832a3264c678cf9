// LookalikeGenerator: every look-alike misdirect knows for a protected domain, each with its kind.
//
// Cold code: it allocates freely and runs only when a Matcher is built or `misdirect variants`
// asks. docs/lookalikes.md lists what each kind generates and why.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "inspect/domain_lists.h"
#include "inspect/lookalike_kind.h"
#include "inspect/public_suffix_list.h"

namespace misdirect::inspect {

struct Lookalike {
  std::string domain;  // canonical
  LookalikeKind kind;
  bool operator==(const Lookalike&) const = default;
};

// Where a kind ranks when several rules produce the same variant: lower wins.
// tld-swap, dot-omission, dot-insertion, homoglyph, transposition, omission, repetition, insertion,
// vowel-swap, replacement, hyphenation, bitsquatting, subdomain-label, then edit-distance.
int kind_priority(LookalikeKind kind) noexcept;

// Receives the look-alikes of a domain as they are made: every one a valid hostname other than the
// domain itself, but possibly repeated under several kinds (the receiver keeps the kind of highest
// priority). `domain` is valid only during the call.
class LookalikeVisitor {
 public:
  virtual void on_lookalike(std::string_view domain, LookalikeKind kind) = 0;

 protected:
  ~LookalikeVisitor() = default;
};

// Generates look-alikes for many domains in turn. The tld-swap rules depend only on the public
// suffix, so each suffix's swaps are worked out once and kept for the next domain under it.
// `suffixes` must outlive the generator.
class LookalikeGenerator {
 public:
  explicit LookalikeGenerator(const PublicSuffixList& suffixes) : suffixes_(suffixes) {}
  void visit(std::string_view canonical_domain, LookalikeVisitor& visitor);

 private:
  const PublicSuffixList& suffixes_;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::unordered_map<std::string, std::vector<std::string>, Hash, std::equal_to<>> suffix_swaps_;
};

// The look-alikes of one canonical domain, without the domain itself and without duplicates
// (a duplicate keeps the kind of highest priority), ordered by kind priority then by name.
std::vector<Lookalike> generate_lookalikes(const PublicSuffixList& suffixes,
                                          std::string_view canonical_domain);

// How many look-alikes of each kind a list holds (indexed by LookalikeKind).
std::array<std::size_t, kLookalikeKindCount> count_by_kind(const std::vector<Lookalike>& lookalikes);

// The suffixes a Matcher recognises, shared by the Hyperscan and hash-set matchers so both judge
// from the same table. Built from canonical lists; an empty protected list gives an empty table.
struct LookalikeEntry {
  enum class Role : uint8_t { kProtected, kAllowed, kVariant };
  std::string domain;             // the suffix as it must end a recipient domain
  Role role = Role::kVariant;
  LookalikeKind kind = LookalikeKind::kTldSwap;  // kVariant only
  uint32_t protected_index = 0;   // into DomainLists::protected_domains (kProtected, kVariant)
};

// Protected and allowed domains come first (a variant equal to one of them is dropped: it is that
// domain, not a typo); a variant produced for two protected domains keeps the higher-priority kind,
// then the earlier protected domain.
std::vector<LookalikeEntry> build_lookalike_table(const DomainLists& lists,
                                                  const PublicSuffixList& suffixes);

}  // namespace misdirect::inspect
