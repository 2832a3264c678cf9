// Matcher: the compiled look-alike judgement — one immutable Hyperscan database plus id tables.
//
// Built off the fast path (it allocates and may take seconds); judged on the fast path with a
// per-thread MatcherScratch (never allocates). Swapped as a whole by the control plane.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "inspect/domain_lists.h"
#include "inspect/lookalike_kind.h"

struct hs_database;
struct hs_scratch;

namespace misdirect::inspect {

struct MatcherOptions {
  bool edit_distance = true;  // the approximate layer (HS_EXT_FLAG_EDIT_DISTANCE, distance 1)
};

// True iff `a` and `b` differ by at most one insertion, deletion or substitution.
bool within_one_edit(std::string_view a, std::string_view b) noexcept;

// A recipient domain's judgement. Views point into the Matcher and live as long as it does, except
// an edit-distance verdict's `variant`, which points into the MatcherScratch and lives until its
// next judge().
struct Verdict {
  bool lookalike = false;
  LookalikeKind kind = LookalikeKind::kTldSwap;
  std::string_view protected_domain;
  std::string_view variant;  // the registrable suffix that matched (canonical)
};

class Matcher;

// Hyperscan scratch for one thread and one Matcher. Move-only RAII.
class MatcherScratch {
 public:
  MatcherScratch() noexcept = default;
  MatcherScratch(MatcherScratch&& other) noexcept;
  MatcherScratch& operator=(MatcherScratch&& other) noexcept;
  MatcherScratch(const MatcherScratch&) = delete;
  MatcherScratch& operator=(const MatcherScratch&) = delete;
  ~MatcherScratch();

  hs_scratch* get() const noexcept { return scratch_; }

 private:
  friend class Matcher;
  hs_scratch* scratch_ = nullptr;
  // An edit-distance verdict's variant is the recipient's own suffix, which the Matcher does not
  // hold; it is copied here, so that Verdict::variant stays valid until the next judge().
  char edit_variant_[256] = {};
};

struct MatcherBuildResult;

class Matcher {
 public:
  // Compiles `lists`. On failure returns a null matcher and an error naming the bad pattern.
  // An empty protected list is legal: the matcher then judges every domain "not a look-alike".
  static MatcherBuildResult build(const DomainLists& lists, const MatcherOptions& options);

  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // Judges a canonical domain (see normalize_domain). Hot path: no allocation, no throw.
  Verdict judge(std::string_view canonical_domain, MatcherScratch& scratch) const noexcept;

  // Cold: a scratch sized for this database (one per worker thread).
  MatcherScratch make_scratch() const;

  const DomainLists& lists() const noexcept;
  std::size_t pattern_count() const noexcept;
  std::size_t database_bytes() const noexcept;
  double compile_milliseconds() const noexcept;

 private:
  Matcher();
  struct State;
  std::unique_ptr<State> state_;
};

struct MatcherBuildResult {
  std::unique_ptr<const Matcher> matcher;
  std::string error;
};

}  // namespace misdirect::inspect
