// Matcher: three tiers over one immutable table — exact suffixes, IDN skeletons, edit distance 1.
//
// Exact tier. Every protected domain, allowed domain and variant is one Hyperscan literal, written
// reversed between an end marker and a dot: "army.ml" is "\n" + "lm.ymra" + ".". The recipient is
// scanned the same way, reversed on the stack: "\n" + "lm.ymra.qh" + "." for "hq.army.ml". So a
// literal can only match a whole label-aligned suffix of the recipient: the "\n", which no
// canonical domain holds, pins it to the domain's end, and the closing dot to a label boundary.
// That makes HS_FLAG_SINGLEMATCH safe (a literal can match at most once) and leaves the callback
// nothing to check but which match is longest. Reversed, because Hyperscan's literal matcher
// buckets literals by their last bytes: forwards, hundreds of thousands of literals would share
// ".com" and every scan would confirm thousands of candidates; reversed, they end in the
// distinctive registrable label. Cases:
//   - any protected or allowed suffix matched  → not a look-alike (they and their subdomains never
//     alert, even if a variant also matched, e.g. "ar.my.mil" when "my.mil" is protected);
//   - otherwise the longest variant suffix      → that variant's kind and protected domain.
// Skeleton tier. Only when nothing matched and the domain has an A-label: its confusable skeleton
// is judged by the exact tier; a protected domain or variant there is a homoglyph.
// Approximate tier. One pattern per protected domain, "army\.mil$" with edit distance 1. It cannot
// be anchored at a label start inside the pattern (edit distance applies to the whole pattern, so
// an edit could consume a boundary dot: "(^|\.)army\.mil$" matches "notarmy.mil" by deleting the
// dot), and start of match costs extra, so Hyperscan only finds candidates ending the domain and
// the callback confirms the label boundary itself: some label-aligned suffix of the recipient
// must be within one edit of the protected domain.
#include "inspect/matcher.h"

#include <hs/hs.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "inspect/confusables.h"
#include "inspect/domain_name.h"
#include "inspect/lookalike_generator.h"

namespace misdirect::inspect {

namespace {

constexpr char kEndSentinel = '\n';
constexpr uint32_t kNoMatch = UINT32_MAX;

struct DatabaseDeleter {
  void operator()(hs_database_t* database) const noexcept { hs_free_database(database); }
};
using DatabasePtr = std::unique_ptr<hs_database_t, DatabaseDeleter>;

struct ExactScan {
  const std::vector<LookalikeEntry>* table;
  uint32_t best = kNoMatch;
  std::size_t best_length = 0;
  bool safe = false;
};

int on_exact_match(unsigned int id, unsigned long long, unsigned long long, unsigned int,
                   void* context) noexcept {
  auto* scan = static_cast<ExactScan*>(context);
  const LookalikeEntry& entry = (*scan->table)[id];
  if (entry.role != LookalikeEntry::Role::kVariant) {
    scan->safe = true;
  }
  if (entry.domain.size() > scan->best_length) {
    scan->best = id;
    scan->best_length = entry.domain.size();
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

std::string describe_compile_error(hs_compile_error_t* error, const std::string& pattern) {
  std::string message = "pattern \"" + pattern + "\": ";
  message += error != nullptr && error->message != nullptr ? error->message : "compile failed";
  hs_free_compile_error(error);
  return message;
}

}  // namespace

bool within_one_edit(std::string_view a, std::string_view b) noexcept {
  if (a.size() > b.size()) {
    std::swap(a, b);
  }
  if (b.size() - a.size() > 1) {
    return false;
  }
  std::size_t prefix = 0;
  while (prefix < a.size() && a[prefix] == b[prefix]) {
    ++prefix;
  }
  if (a.size() == b.size()) {
    return prefix == a.size() || a.substr(prefix + 1) == b.substr(prefix + 1);
  }
  return a.substr(prefix) == b.substr(prefix + 1);
}

struct Matcher::State {
  DomainLists lists;
  std::vector<LookalikeEntry> table;
  DatabasePtr exact;
  DatabasePtr approximate;
  std::size_t pattern_count = 0;
  std::size_t database_bytes = 0;
  double compile_milliseconds = 0;

  void scan_exact(std::string_view domain, hs_scratch_t* scratch, ExactScan& scan) const noexcept {
    char buffer[kMaxDomainBytes + 2];
    if (exact == nullptr || domain.size() > kMaxDomainBytes) {
      return;
    }
    buffer[0] = kEndSentinel;
    std::reverse_copy(domain.begin(), domain.end(), buffer + 1);
    buffer[domain.size() + 1] = '.';
    hs_scan(exact.get(), buffer, static_cast<unsigned int>(domain.size() + 2), 0, scratch,
            on_exact_match, &scan);
  }
};

MatcherScratch::MatcherScratch(MatcherScratch&& other) noexcept
    : scratch_(std::exchange(other.scratch_, nullptr)) {}

MatcherScratch& MatcherScratch::operator=(MatcherScratch&& other) noexcept {
  if (this != &other) {
    hs_free_scratch(scratch_);
    scratch_ = std::exchange(other.scratch_, nullptr);
  }
  return *this;
}

MatcherScratch::~MatcherScratch() { hs_free_scratch(scratch_); }

Matcher::Matcher() : state_(std::make_unique<State>()) {}
Matcher::~Matcher() = default;

MatcherBuildResult Matcher::build(const DomainLists& lists, const MatcherOptions& options) {
  // The build time is reported, not acted on; reading the clock here keeps it off the fast path.
  const auto started = std::chrono::steady_clock::now();
  std::unique_ptr<Matcher> matcher(new Matcher());
  State& state = *matcher->state_;
  state.lists = lists;
  state.table = build_lookalike_table(lists);

  if (!state.table.empty()) {
    std::vector<std::string> patterns;
    patterns.reserve(state.table.size());
    for (const LookalikeEntry& entry : state.table) {
      patterns.push_back(kEndSentinel + std::string(entry.domain.rbegin(), entry.domain.rend()) + ".");
    }
    std::vector<const char*> expressions;
    std::vector<std::size_t> lengths;
    std::vector<unsigned int> flags(patterns.size(), HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
    std::vector<unsigned int> ids;
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      expressions.push_back(patterns[i].c_str());
      lengths.push_back(patterns[i].size());
      ids.push_back(static_cast<unsigned int>(i));
    }
    hs_database_t* database = nullptr;
    hs_compile_error_t* error = nullptr;
    if (hs_compile_lit_multi(expressions.data(), flags.data(), ids.data(), lengths.data(),
                             static_cast<unsigned int>(patterns.size()), HS_MODE_BLOCK, nullptr,
                             &database, &error) != HS_SUCCESS) {
      const std::size_t bad = error != nullptr && error->expression >= 0
                                  ? static_cast<std::size_t>(error->expression) : 0;
      return {nullptr, describe_compile_error(error, state.table[bad].domain)};
    }
    state.exact.reset(database);
    state.pattern_count += patterns.size();
  }

  if (options.edit_distance && !lists.protected_domains.empty()) {
    std::vector<std::string> patterns;
    for (const std::string& domain : lists.protected_domains) {
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
      const std::size_t bad = error != nullptr && error->expression >= 0
                                  ? static_cast<std::size_t>(error->expression) : 0;
      return {nullptr, describe_compile_error(error, patterns[bad]) + " (edit distance 1)"};
    }
    state.approximate.reset(database);
    state.pattern_count += patterns.size();
  }

  for (hs_database_t* database : {state.exact.get(), state.approximate.get()}) {
    std::size_t bytes = 0;
    if (database != nullptr && hs_database_size(database, &bytes) == HS_SUCCESS) {
      state.database_bytes += bytes;
    }
  }
  state.compile_milliseconds =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return {std::move(matcher), {}};
}

Verdict Matcher::judge(std::string_view canonical_domain, MatcherScratch& scratch) const noexcept {
  const State& state = *state_;
  Verdict verdict;
  if (canonical_domain.empty() || canonical_domain.size() > kMaxDomainBytes ||
      scratch.scratch_ == nullptr) {
    return verdict;
  }
  ExactScan exact{&state.table};
  state.scan_exact(canonical_domain, scratch.scratch_, exact);
  if (exact.safe) {
    return verdict;
  }
  if (exact.best != kNoMatch) {
    const LookalikeEntry& entry = state.table[exact.best];
    verdict.lookalike = true;
    verdict.kind = entry.kind;
    verdict.protected_domain = state.lists.protected_domains[entry.protected_index];
    verdict.variant = entry.domain;
    return verdict;
  }

  if (has_a_label(canonical_domain)) {
    CanonicalDomain skeleton;
    if (confusable_skeleton(canonical_domain, skeleton)) {
      ExactScan folded{&state.table};
      state.scan_exact(skeleton.view(), scratch.scratch_, folded);
      if (folded.best != kNoMatch) {
        const LookalikeEntry& entry = state.table[folded.best];
        if (entry.role != LookalikeEntry::Role::kAllowed) {
          verdict.lookalike = true;
          verdict.kind = LookalikeKind::kHomoglyph;
          verdict.protected_domain = state.lists.protected_domains[entry.protected_index];
          verdict.variant = entry.domain;
          return verdict;
        }
      }
    }
  }

  if (state.approximate != nullptr) {
    ApproximateScan approximate{&state.lists.protected_domains, canonical_domain};
    hs_scan(state.approximate.get(), canonical_domain.data(),
            static_cast<unsigned int>(canonical_domain.size()), 0, scratch.scratch_,
            on_approximate_match, &approximate);
    if (approximate.best != kNoMatch) {
      const std::size_t length = approximate.best_suffix.size();
      std::memcpy(scratch.edit_variant_, approximate.best_suffix.data(), length);
      verdict.lookalike = true;
      verdict.kind = LookalikeKind::kEditDistance;
      verdict.protected_domain = state.lists.protected_domains[approximate.best];
      verdict.variant = std::string_view(scratch.edit_variant_, length);
    }
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
  return scratch;
}

const DomainLists& Matcher::lists() const noexcept { return state_->lists; }
std::size_t Matcher::pattern_count() const noexcept { return state_->pattern_count; }
std::size_t Matcher::database_bytes() const noexcept { return state_->database_bytes; }
double Matcher::compile_milliseconds() const noexcept { return state_->compile_milliseconds; }

}  // namespace misdirect::inspect
