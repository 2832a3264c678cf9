// Matcher: three tiers over one look-alike index — exact suffixes, IDN skeletons, edit distance 1.
//
// Exact tier. Every protected domain, allowed domain and variant is one SuffixIndex entry. The
// hash engine probes the index with each label-aligned suffix of the recipient. The Hyperscan
// engine has one literal per entry, written reversed between an end marker and a dot: "army.ml"
// is "\n" + "lm.ymra" + ".". The recipient is scanned the same way, reversed on the stack:
// "\n" + "lm.ymra.qh" + "." for "hq.army.ml". So a literal can only match a whole label-aligned
// suffix: the "\n", which no canonical domain holds, pins it to the domain's end, and the closing
// dot to a label boundary. That makes HS_FLAG_SINGLEMATCH safe and leaves the callback nothing to
// check but which match is longest. Reversed, because Hyperscan's literal matcher buckets
// literals by their last bytes: forwards, hundreds of thousands of literals would share ".com".
// Either way:
//   - any protected or allowed suffix matched  → not a look-alike (they and their subdomains never
//     alert, even if a variant also matched, e.g. "ar.my.mil" when "my.mil" is protected);
//   - otherwise the longest variant suffix      → that variant's kind and protected domain.
// Skeleton tier. Only when nothing matched and the domain has an A-label: its confusable skeleton
// is judged by the exact tier; a protected domain or variant there is a homoglyph.
// Approximate tier. The hash engine asks the EditDistanceIndex. The Hyperscan engine has one
// pattern per protected domain, "army\.mil$" with edit distance 1. It cannot be anchored at a
// label start inside the pattern (edit distance applies to the whole pattern, so an edit could
// consume a boundary dot: "(^|\.)army\.mil$" matches "notarmy.mil" by deleting the dot), so
// Hyperscan only finds candidates ending the domain and the callback confirms the label boundary:
// some label-aligned suffix of the recipient must be within one edit of the protected domain.
#include "inspect/matcher.h"

#include <hs/hs.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "inspect/confusables.h"
#include "inspect/domain_name.h"
#include "inspect/lookalike_generator.h"
#include "inspect/suffix_index.h"

namespace misdirect::inspect {

namespace {

constexpr char kEndSentinel = '\n';
constexpr uint32_t kNoMatch = UINT32_MAX;
// Look-alikes per protected domain, to size the index (army.mil has ~160, longer names ~400).
constexpr std::size_t kExpectedVariantsPerDomain = 400;

struct DatabaseDeleter {
  void operator()(hs_database_t* database) const noexcept { hs_free_database(database); }
};
using DatabasePtr = std::unique_ptr<hs_database_t, DatabaseDeleter>;

struct ExactScan {
  const SuffixIndex* index;
  SuffixMatch match;
};

// A literal is the end marker, the reversed domain and a dot, matched from offset 0: it ends at
// the domain's length + 2.
int on_exact_match(unsigned int id, unsigned long long, unsigned long long to, unsigned int,
                   void* context) noexcept {
  auto* scan = static_cast<ExactScan*>(context);
  const SuffixEntry& entry = scan->index->entry(id);
  const std::size_t length = static_cast<std::size_t>(to) - 2;
  if (entry.role() != SuffixRole::kVariant) {
    scan->match.safe = true;
  }
  if (scan->match.longest == nullptr || length > scan->match.longest_length) {
    scan->match.longest = &entry;
    scan->match.longest_length = length;
  }
  return 0;
}

struct ApproximateScan {
  const std::vector<std::string>* protected_domains;
  std::string_view domain;
  uint32_t best = kNoMatch;
  std::string_view best_suffix = {};
};

int on_approximate_match(unsigned int id, unsigned long long, unsigned long long to, unsigned int,
                         void* context) noexcept {
  auto* scan = static_cast<ApproximateScan*>(context);
  if (to != scan->domain.size()) {
    return 0;
  }
  const std::string_view target = (*scan->protected_domains)[id];
  const std::string_view domain = scan->domain;
  for (std::size_t start = 0; start < domain.size();) {
    const std::string_view suffix = domain.substr(start);
    if (suffix.size() + 1 >= target.size() && suffix.size() <= target.size() + 1 &&
        suffix != target && within_one_edit(suffix, target) &&
        (suffix.size() > scan->best_suffix.size() ||
         (suffix.size() == scan->best_suffix.size() && id < scan->best))) {
      scan->best = id;
      scan->best_suffix = suffix;
    }
    const std::size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return 0;
}

bool has_a_label(std::string_view domain) noexcept {
  return domain.compare(0, 4, "xn--") == 0 || domain.find(".xn--") != std::string_view::npos;
}

std::string escape_regex(std::string_view domain) {
  std::string escaped;
  for (char c : domain) {
    if (c == '.' || c == '-') {
      escaped += '\\';
    }
    escaped += c;
  }
  return escaped;
}

// Names the pattern Hyperscan refused (its index in `patterns`) and why.
std::string describe_compile_error(hs_compile_error_t* error,
                                   const std::vector<std::string>& patterns) {
  const std::size_t bad = error != nullptr && error->expression >= 0
                              ? static_cast<std::size_t>(error->expression) : 0;
  std::string message = "pattern \"" + (bad < patterns.size() ? patterns[bad] : std::string()) + "\": ";
  message += error != nullptr && error->message != nullptr ? error->message : "compile failed";
  hs_free_compile_error(error);
  return message;
}

// Streams the generator's look-alikes of one protected domain into the index.
class IndexingVisitor final : public LookalikeVisitor {
 public:
  IndexingVisitor(SuffixIndex::Builder& builder, uint32_t protected_index)
      : builder_(builder), protected_index_(protected_index) {}
  void on_lookalike(std::string_view domain, LookalikeKind kind) override {
    builder_.add(domain, SuffixRole::kVariant, kind, protected_index_);
  }

 private:
  SuffixIndex::Builder& builder_;
  uint32_t protected_index_;
};

// Protected and allowed domains first, so that a variant equal to one of them is dropped; a
// variant produced for two protected domains keeps the higher-priority kind, then the earlier one.
SuffixIndex build_index(const DomainLists& lists, const PublicSuffixList& suffixes) {
  if (lists.protected_domains.empty() && lists.allow.empty()) {
    return SuffixIndex();
  }
  SuffixIndex::Builder builder(lists.protected_domains.size() * kExpectedVariantsPerDomain +
                               lists.allow.size());
  for (std::size_t p = 0; p < lists.protected_domains.size(); ++p) {
    builder.add(lists.protected_domains[p], SuffixRole::kProtected, LookalikeKind::kTldSwap,
                static_cast<uint32_t>(p));
  }
  for (const std::string& domain : lists.allow) {
    builder.add(domain, SuffixRole::kAllowed, LookalikeKind::kTldSwap, 0);
  }
  LookalikeGenerator generator(suffixes);
  for (std::size_t p = 0; p < lists.protected_domains.size(); ++p) {
    IndexingVisitor visitor(builder, static_cast<uint32_t>(p));
    generator.visit(lists.protected_domains[p], visitor);
  }
  return builder.finish();
}

// The exact tier as one Hyperscan literal database whose ids are the index's slot numbers.
std::string compile_exact_database(const SuffixIndex& index, DatabasePtr& out) {
  std::vector<std::string> patterns;
  std::vector<unsigned int> ids;
  patterns.reserve(index.size());
  ids.reserve(index.size());
  for (std::size_t slot = 0; slot < index.slot_count(); ++slot) {
    if (index.entry(slot).hash == 0) {
      continue;
    }
    const std::string_view text = index.text(index.entry(slot));
    patterns.push_back(kEndSentinel + std::string(text.rbegin(), text.rend()) + ".");
    ids.push_back(static_cast<unsigned int>(slot));
  }
  std::vector<const char*> expressions;
  std::vector<std::size_t> lengths;
  std::vector<unsigned int> flags(patterns.size(), HS_FLAG_SINGLEMATCH);
  for (const std::string& pattern : patterns) {
    expressions.push_back(pattern.c_str());
    lengths.push_back(pattern.size());
  }
  hs_database_t* database = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_lit_multi(expressions.data(), flags.data(), ids.data(), lengths.data(),
                           static_cast<unsigned int>(patterns.size()), HS_MODE_BLOCK, nullptr,
                           &database, &error) != HS_SUCCESS) {
    return describe_compile_error(error, patterns);
  }
  out.reset(database);
  return {};
}

std::string compile_approximate_database(const std::vector<std::string>& protected_domains,
                                         DatabasePtr& out) {
  std::vector<std::string> patterns;
  for (const std::string& domain : protected_domains) {
    patterns.push_back(escape_regex(domain) + "$");
  }
  std::vector<const char*> expressions;
  std::vector<unsigned int> flags(patterns.size(), HS_FLAG_SINGLEMATCH);
  std::vector<unsigned int> ids;
  hs_expr_ext_t extension{};
  extension.flags = HS_EXT_FLAG_EDIT_DISTANCE;
  extension.edit_distance = 1;
  std::vector<const hs_expr_ext_t*> extensions(patterns.size(), &extension);
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    expressions.push_back(patterns[i].c_str());
    ids.push_back(static_cast<unsigned int>(i));
  }
  hs_database_t* database = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_ext_multi(expressions.data(), flags.data(), ids.data(), extensions.data(),
                           static_cast<unsigned int>(patterns.size()), HS_MODE_BLOCK, nullptr,
                           &database, &error) != HS_SUCCESS) {
    return describe_compile_error(error, patterns) + " (edit distance 1)";
  }
  out.reset(database);
  return {};
}

}  // namespace

std::string_view engine_name(MatcherEngine engine) noexcept {
  return engine == MatcherEngine::kHyperscan ? "hyperscan" : "hash";
}

std::optional<MatcherEngine> engine_from_name(std::string_view name) noexcept {
  if (name == "hash") {
    return MatcherEngine::kHash;
  }
  if (name == "hyperscan") {
    return MatcherEngine::kHyperscan;
  }
  return std::nullopt;
}

struct Matcher::State {
  DomainLists lists;
  MatcherOptions options;
  SuffixIndex index;
  EditDistanceIndex near_misses;  // hash engine
  DatabasePtr exact;              // Hyperscan engine
  DatabasePtr approximate;        // Hyperscan engine
  std::size_t pattern_count = 0;
  std::size_t database_bytes = 0;

  SuffixMatch match_exact(std::string_view domain, hs_scratch_t* scratch) const noexcept {
    if (options.engine == MatcherEngine::kHash) {
      return index.match(domain);
    }
    ExactScan scan{&index, {}};
    char buffer[kMaxDomainBytes + 2];
    if (exact == nullptr || domain.size() > kMaxDomainBytes) {
      return scan.match;
    }
    buffer[0] = kEndSentinel;
    std::reverse_copy(domain.begin(), domain.end(), buffer + 1);
    buffer[domain.size() + 1] = '.';
    hs_scan(exact.get(), buffer, static_cast<unsigned int>(domain.size() + 2), 0, scratch,
            on_exact_match, &scan);
    return scan.match;
  }

  NearMiss near_miss(std::string_view domain, hs_scratch_t* scratch) const noexcept {
    if (!options.edit_distance) {
      return {};
    }
    if (options.engine == MatcherEngine::kHash) {
      return near_misses.find(domain);
    }
    if (approximate == nullptr) {
      return {};
    }
    ApproximateScan scan{&lists.protected_domains, domain};
    hs_scan(approximate.get(), domain.data(), static_cast<unsigned int>(domain.size()), 0, scratch,
            on_approximate_match, &scan);
    if (scan.best == kNoMatch) {
      return {};
    }
    return NearMiss{true, scan.best,
                    static_cast<std::size_t>(scan.best_suffix.data() - domain.data())};
  }
};

MatcherScratch::MatcherScratch(MatcherScratch&& other) noexcept
    : scratch_(std::exchange(other.scratch_, nullptr)),
      cache_(std::move(other.cache_)),
      ready_(std::exchange(other.ready_, false)) {}

MatcherScratch& MatcherScratch::operator=(MatcherScratch&& other) noexcept {
  if (this != &other) {
    hs_free_scratch(scratch_);
    scratch_ = std::exchange(other.scratch_, nullptr);
    cache_ = std::move(other.cache_);
    ready_ = std::exchange(other.ready_, false);
  }
  return *this;
}

MatcherScratch::~MatcherScratch() { hs_free_scratch(scratch_); }

Matcher::Matcher() : state_(std::make_unique<State>()) {}
Matcher::~Matcher() = default;

MatcherBuildResult Matcher::build(const DomainLists& lists, const MatcherOptions& options) {
  const PublicSuffixListLoad suffixes = PublicSuffixList::load(options.public_suffix_list);
  if (suffixes.list == nullptr) {
    return {nullptr, suffixes.error};
  }
  std::unique_ptr<Matcher> matcher(new Matcher());
  State& state = *matcher->state_;
  state.lists = lists;
  state.options = options;
  state.index = build_index(lists, *suffixes.list);
  state.pattern_count = state.index.size();
  const bool edit_distance = options.edit_distance && !lists.protected_domains.empty();
  if (edit_distance) {
    state.pattern_count += lists.protected_domains.size();
  }

  if (options.engine == MatcherEngine::kHash) {
    if (edit_distance) {
      state.near_misses = EditDistanceIndex(lists.protected_domains);
    }
    if (state.index.size() > 0) {
      state.database_bytes = state.index.memory_bytes() + state.near_misses.memory_bytes();
    }
  } else {
    if (state.index.size() > 0) {
      std::string error = compile_exact_database(state.index, state.exact);
      if (!error.empty()) {
        return {nullptr, std::move(error)};
      }
    }
    if (edit_distance) {
      std::string error = compile_approximate_database(lists.protected_domains, state.approximate);
      if (!error.empty()) {
        return {nullptr, std::move(error)};
      }
    }
    for (hs_database_t* database : {state.exact.get(), state.approximate.get()}) {
      std::size_t bytes = 0;
      if (database != nullptr && hs_database_size(database, &bytes) == HS_SUCCESS) {
        state.database_bytes += bytes;
      }
    }
  }
  return {std::move(matcher), {}};
}

Verdict Matcher::judge(std::string_view canonical_domain, MatcherScratch& scratch) const noexcept {
  VerdictCache* cache = scratch.cache_.get();
  if (cache == nullptr || !scratch.ready_) {
    return judge_uncached(canonical_domain, scratch);
  }
  uint64_t hash = 0;
  if (const CachedVerdict* cached = cache->find(canonical_domain, hash)) {
    Verdict verdict;
    if (!cached->lookalike) {
      return verdict;
    }
    verdict.lookalike = true;
    verdict.kind = cached->kind;
    verdict.protected_domain = state_->lists.protected_domains[cached->protected_index];
    if (cached->variant != nullptr) {
      verdict.variant = std::string_view(cached->variant, cached->variant_length);
    } else {
      const std::string_view suffix = canonical_domain.substr(cached->suffix_start);
      std::memcpy(scratch.edit_variant_, suffix.data(), suffix.size());
      verdict.variant = std::string_view(scratch.edit_variant_, suffix.size());
    }
    return verdict;
  }
  uint32_t protected_index = 0;
  const Verdict verdict = judge_tiers(canonical_domain, scratch, protected_index);
  CachedVerdict remembered;
  if (verdict.lookalike) {
    remembered.lookalike = true;
    remembered.kind = verdict.kind;
    remembered.protected_index = protected_index;
    if (verdict.kind == LookalikeKind::kEditDistance) {
      remembered.suffix_start = static_cast<uint8_t>(canonical_domain.size() - verdict.variant.size());
    } else {
      remembered.variant = verdict.variant.data();
      remembered.variant_length = static_cast<uint8_t>(verdict.variant.size());
    }
  }
  cache->store(canonical_domain, hash, remembered);
  return verdict;
}

Verdict Matcher::judge_uncached(std::string_view canonical_domain,
                                MatcherScratch& scratch) const noexcept {
  uint32_t protected_index = 0;
  return judge_tiers(canonical_domain, scratch, protected_index);
}

Verdict Matcher::judge_tiers(std::string_view canonical_domain, MatcherScratch& scratch,
                             uint32_t& protected_index) const noexcept {
  const State& state = *state_;
  Verdict verdict;
  if (canonical_domain.empty() || canonical_domain.size() > kMaxDomainBytes || !scratch.ready_) {
    return verdict;
  }
  const SuffixMatch exact = state.match_exact(canonical_domain, scratch.scratch_);
  if (exact.safe) {
    return verdict;
  }
  if (exact.longest != nullptr) {
    verdict.lookalike = true;
    verdict.kind = exact.longest->kind();
    protected_index = exact.longest->protected_index();
    verdict.protected_domain = state.lists.protected_domains[protected_index];
    verdict.variant = state.index.text(*exact.longest);
    return verdict;
  }

  if (has_a_label(canonical_domain)) {
    CanonicalDomain skeleton;
    if (confusable_skeleton(canonical_domain, skeleton)) {
      const SuffixMatch folded = state.match_exact(skeleton.view(), scratch.scratch_);
      if (folded.longest != nullptr && folded.longest->role() != SuffixRole::kAllowed &&
          state.index.text(*folded.longest) ==
              skeleton.view().substr(skeleton.view().size() - folded.longest_length)) {
        verdict.lookalike = true;
        verdict.kind = LookalikeKind::kHomoglyph;
        protected_index = folded.longest->protected_index();
        verdict.protected_domain = state.lists.protected_domains[protected_index];
        verdict.variant = state.index.text(*folded.longest);
        return verdict;
      }
    }
  }

  const NearMiss near = state.near_miss(canonical_domain, scratch.scratch_);
  if (near.found) {
    const std::string_view suffix = canonical_domain.substr(near.suffix_start);
    std::memcpy(scratch.edit_variant_, suffix.data(), suffix.size());
    verdict.lookalike = true;
    verdict.kind = LookalikeKind::kEditDistance;
    protected_index = near.protected_index;
    verdict.protected_domain = state.lists.protected_domains[protected_index];
    verdict.variant = std::string_view(scratch.edit_variant_, suffix.size());
  }
  return verdict;
}

MatcherScratch Matcher::make_scratch() const {
  MatcherScratch scratch;
  for (const hs_database_t* database : {state_->exact.get(), state_->approximate.get()}) {
    if (database != nullptr && hs_alloc_scratch(database, &scratch.scratch_) != HS_SUCCESS) {
      throw std::bad_alloc();
    }
  }
  if (state_->options.verdict_cache) {
    scratch.cache_ = std::make_unique<VerdictCache>();
  }
  scratch.ready_ = true;
  return scratch;
}

const DomainLists& Matcher::lists() const noexcept { return state_->lists; }
MatcherEngine Matcher::engine() const noexcept { return state_->options.engine; }
std::size_t Matcher::pattern_count() const noexcept { return state_->pattern_count; }
std::size_t Matcher::database_bytes() const noexcept { return state_->database_bytes; }

}  // namespace misdirect::inspect
