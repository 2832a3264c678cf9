// Matcher: the compiled look-alike judgement — one immutable object holding the look-alike index
// and, with the Hyperscan engine, the Hyperscan databases that find its entries.
//
// Built off the fast path (it allocates and may take seconds); judged on the fast path with a
// per-thread MatcherScratch (never allocates). Swapped as a whole by the control plane.
// Two engines give the same verdicts (tests check it): `hash` (the default) probes a hash index
// with each label-aligned suffix; `hyperscan` scans for the same entries with one Hyperscan
// literal database and an HS_EXT_FLAG_EDIT_DISTANCE database. docs/lookalikes.md says why the
// default is the hash index (Hyperscan's compile time and memory at 10,000 protected domains).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "inspect/domain_lists.h"
#include "inspect/edit_distance_index.h"
#include "inspect/lookalike_kind.h"
#include "inspect/public_suffix_list.h"
#include "inspect/verdict_cache.h"

struct hs_database;
struct hs_scratch;

namespace misdirect::inspect {

enum class MatcherEngine : uint8_t { kHash, kHyperscan };

// "hash", "hyperscan": the names of --matcher-engine.
std::string_view engine_name(MatcherEngine engine) noexcept;
std::optional<MatcherEngine> engine_from_name(std::string_view name) noexcept;

struct MatcherOptions {
  bool edit_distance = true;  // the approximate layer (edit distance 1 of a protected domain)
  MatcherEngine engine = MatcherEngine::kHash;
  // Each scratch remembers the verdicts of the last few thousand domains it judged (VerdictCache).
  bool verdict_cache = true;
  // The Public Suffix List the look-alike generator splits domains by (public_suffix_list.h),
  // read at every build so that an updated list takes effect with the next list push.
  std::string public_suffix_list = std::string(kDebianPublicSuffixList);
};

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

// One thread's working memory for one Matcher (the Hyperscan scratch, with that engine). Move-only.
class MatcherScratch {
 public:
  MatcherScratch() noexcept = default;
  MatcherScratch(MatcherScratch&& other) noexcept;
  MatcherScratch& operator=(MatcherScratch&& other) noexcept;
  MatcherScratch(const MatcherScratch&) = delete;
  MatcherScratch& operator=(const MatcherScratch&) = delete;
  ~MatcherScratch();

  // False for a default-constructed or moved-from scratch: judge() then refuses.
  bool ready() const noexcept { return ready_; }
  // Null without MatcherOptions::verdict_cache.
  const VerdictCacheStats* cache_stats() const noexcept {
    return cache_ != nullptr ? &cache_->stats() : nullptr;
  }

 private:
  friend class Matcher;
  hs_scratch* scratch_ = nullptr;  // Hyperscan engine only
  std::unique_ptr<VerdictCache> cache_;
  bool ready_ = false;
  // An edit-distance verdict's variant is the recipient's own suffix, which the Matcher does not
  // hold; it is copied here, so that Verdict::variant stays valid until the next judge().
  char edit_variant_[256] = {};
};

struct MatcherBuildResult;

class Matcher {
 public:
  // Compiles `lists`. On failure returns a null matcher and an error naming the bad pattern (or
  // the Public Suffix List that could not be read).
  // An empty protected list is legal: the matcher then judges every domain "not a look-alike".
  static MatcherBuildResult build(const DomainLists& lists, const MatcherOptions& options);

  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // Judges a canonical domain (see normalize_domain). Hot path: no allocation, no throw.
  Verdict judge(std::string_view canonical_domain, MatcherScratch& scratch) const noexcept;
  // The same, without the scratch's verdict cache (benchmarks, and the cache's own tests).
  Verdict judge_uncached(std::string_view canonical_domain, MatcherScratch& scratch) const noexcept;

  // Cold: a scratch sized for this database (one per worker thread).
  MatcherScratch make_scratch() const;

  const DomainLists& lists() const noexcept;
  MatcherEngine engine() const noexcept;
  // Look-alike index entries (protected, allowed, variants) plus one per protected domain for
  // the edit-distance tier.
  std::size_t pattern_count() const noexcept;
  // The index and databases: hash engine, the index's memory; Hyperscan, its databases' size.
  std::size_t database_bytes() const noexcept;

 private:
  Matcher();
  // The three tiers; `protected_index` is set for a look-alike (the verdict cache keeps it).
  Verdict judge_tiers(std::string_view canonical_domain, MatcherScratch& scratch,
                      uint32_t& protected_index) const noexcept;
  struct State;
  std::unique_ptr<State> state_;
};

struct MatcherBuildResult {
  std::unique_ptr<const Matcher> matcher;
  std::string error;
};

}  // namespace misdirect::inspect
