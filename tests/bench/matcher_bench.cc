// matcher_bench: compile cost and lookup speed of the Hyperscan Matcher against the hash-set
// baseline, for 100 / 1,000 / 10,000 protected domains generated deterministically.
//
// Usage: matcher_bench [--sizes 100,1000,10000] [--lookups N] [--no-edit-distance-build] JSON_PATH
// Prints a table and writes the same figures as JSON. Not run by the test suite.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "inspect/domain_name.h"
#include "inspect/hash_set_matcher.h"
#include "inspect/lookalike_generator.h"
#include "inspect/matcher.h"

namespace {

using misdirect::inspect::CanonicalDomain;
using misdirect::inspect::DomainError;
using misdirect::inspect::DomainLists;
using misdirect::inspect::HashSetMatcher;
using misdirect::inspect::Matcher;
using misdirect::inspect::MatcherOptions;
using Clock = std::chrono::steady_clock;

// A fixed linear congruential generator: the same lists and corpus on every run and machine.
struct Random {
  uint64_t state;
  uint32_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  }
  uint32_t below(uint32_t n) { return next() % n; }
};

std::string word(Random& random) {
  static const char* const kSyllables[] = {"ar", "my", "na", "vy", "ex", "am", "ple", "bank",
                                           "mod", "gov", "tra", "de", "fin", "sec", "def", "en",
                                           "ce", "hq", "lo", "gis", "tic", "post", "al", "fed"};
  std::string out;
  const uint32_t count = 2 + random.below(3);
  for (uint32_t i = 0; i < count; ++i) {
    out += kSyllables[random.below(std::size(kSyllables))];
  }
  return out;
}

std::vector<std::string> protected_list(std::size_t size) {
  static const char* const kSuffixes[] = {"com", "mil", "gov", "org", "gov.uk", "co.uk", "net",
                                          "de", "fr", "com.au"};
  Random random{size};
  std::vector<std::string> domains;
  std::vector<std::string> seen;
  while (domains.size() < size) {
    std::string domain = word(random) + std::to_string(random.below(1000)) + "." +
                         kSuffixes[random.below(std::size(kSuffixes))];
    domains.push_back(std::move(domain));
  }
  return domains;
}

// A third variants (hits, some under a subdomain), a third protected domains and their
// subdomains (never alerts), a third unrelated domains (misses).
std::vector<CanonicalDomain> corpus(const std::vector<std::string>& protected_domains,
                                    std::size_t count) {
  Random random{12345};
  std::vector<CanonicalDomain> out;
  std::vector<std::vector<misdirect::inspect::Lookalike>> cache(protected_domains.size());
  while (out.size() < count) {
    const std::size_t p = random.below(static_cast<uint32_t>(protected_domains.size()));
    std::string raw;
    switch (random.below(3)) {
      case 0: {
        if (cache[p].empty()) {
          cache[p] = misdirect::inspect::generate_lookalikes(protected_domains[p]);
        }
        raw = cache[p][random.below(static_cast<uint32_t>(cache[p].size()))].domain;
        if (random.below(2) == 0) {
          raw = "mail." + raw;
        }
        break;
      }
      case 1:
        raw = (random.below(2) == 0 ? "" : "smtp.") + protected_domains[p];
        break;
      default:
        raw = "mx" + std::to_string(random.below(100)) + "." + word(random) + ".example";
        break;
    }
    CanonicalDomain domain;
    if (misdirect::inspect::normalize_domain(raw, domain) == DomainError::kOk) {
      out.push_back(domain);
    }
  }
  return out;
}

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Row {
  std::size_t protected_count = 0;
  std::size_t variant_patterns = 0;
  std::size_t patterns_with_edit = 0;
  double compile_exact_ms = 0;
  double compile_edit_ms = 0;
  std::size_t bytes_exact = 0;
  std::size_t bytes_edit = 0;
  double hs_exact_ns = 0;
  double hs_edit_ns = 0;
  double hash_ns = 0;
  double hash_build_ms = 0;
  std::size_t hits_hs = 0;
  std::size_t hits_hash = 0;
  std::size_t lookups = 0;
};

template <typename Judge>
double time_lookups(const std::vector<CanonicalDomain>& domains, std::size_t& hits, Judge judge) {
  hits = 0;
  for (std::size_t i = 0; i < domains.size() / 10; ++i) {  // warm caches
    hits += judge(domains[i].view());
  }
  hits = 0;
  const auto start = Clock::now();
  for (const CanonicalDomain& domain : domains) {
    hits += judge(domain.view());
  }
  return milliseconds_since(start) * 1e6 / static_cast<double>(domains.size());
}

Row run(std::size_t size, std::size_t lookups, bool with_edit) {
  Row row;
  row.protected_count = size;
  DomainLists lists;
  lists.protected_domains = protected_list(size);
  const std::vector<CanonicalDomain> domains = corpus(lists.protected_domains, lookups);
  row.lookups = domains.size();

  auto exact = Matcher::build(lists, MatcherOptions{false});
  if (!exact.matcher) {
    std::fprintf(stderr, "matcher_bench: %s\n", exact.error.c_str());
    std::exit(1);
  }
  row.variant_patterns = exact.matcher->pattern_count();
  row.compile_exact_ms = exact.matcher->compile_milliseconds();
  row.bytes_exact = exact.matcher->database_bytes();
  auto scratch = exact.matcher->make_scratch();
  row.hs_exact_ns = time_lookups(domains, row.hits_hs, [&](std::string_view d) {
    return exact.matcher->judge(d, scratch).lookalike;
  });

  const auto hash_start = Clock::now();
  const auto hash = HashSetMatcher::build(lists, MatcherOptions{false});
  row.hash_build_ms = milliseconds_since(hash_start);
  row.hash_ns = time_lookups(domains, row.hits_hash, [&](std::string_view d) {
    return hash->judge(d).lookalike;
  });

  if (with_edit) {
    auto edit = Matcher::build(lists, MatcherOptions{true});
    if (!edit.matcher) {
      std::fprintf(stderr, "matcher_bench: %s\n", edit.error.c_str());
      std::exit(1);
    }
    row.patterns_with_edit = edit.matcher->pattern_count();
    row.compile_edit_ms = edit.matcher->compile_milliseconds();
    row.bytes_edit = edit.matcher->database_bytes();
    auto edit_scratch = edit.matcher->make_scratch();
    std::size_t hits = 0;
    row.hs_edit_ns = time_lookups(domains, hits, [&](std::string_view d) {
      return edit.matcher->judge(d, edit_scratch).lookalike;
    });
  }
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes = {100, 1000, 10000};
  std::size_t lookups = 300000;
  bool with_edit = true;
  const char* json_path = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--sizes" && i + 1 < argc) {
      sizes.clear();
      for (const char* p = argv[++i]; *p != '\0';) {
        char* end = nullptr;
        sizes.push_back(std::strtoull(p, &end, 10));
        p = *end == ',' ? end + 1 : end;
      }
    } else if (arg == "--lookups" && i + 1 < argc) {
      lookups = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--no-edit-distance-build") {
      with_edit = false;
    } else if (json_path == nullptr && arg[0] != '-') {
      json_path = argv[i];
    } else {
      std::fprintf(stderr,
                   "usage: matcher_bench [--sizes 100,1000,10000] [--lookups N] "
                   "[--no-edit-distance-build] JSON_PATH\n");
      return 2;
    }
  }
  if (json_path == nullptr) {
    std::fprintf(stderr, "matcher_bench: a JSON output path is required\n");
    return 2;
  }

  std::vector<Row> rows;
  std::printf("%9s %10s %11s %11s %11s %11s %9s %9s %9s %12s %12s\n", "protected", "patterns",
              "compile_ms", "compile_ed", "db_bytes", "db_bytes_ed", "hs_ns", "hs_ed_ns",
              "hash_ns", "hs_dom/s", "hash_dom/s");
  for (std::size_t size : sizes) {
    const Row row = run(size, lookups, with_edit);
    rows.push_back(row);
    std::printf("%9zu %10zu %11.1f %11.1f %11zu %11zu %9.1f %9.1f %9.1f %12.0f %12.0f\n",
                row.protected_count, row.variant_patterns, row.compile_exact_ms,
                row.compile_edit_ms, row.bytes_exact, row.bytes_edit, row.hs_exact_ns,
                row.hs_edit_ns, row.hash_ns, 1e9 / row.hs_exact_ns, 1e9 / row.hash_ns);
    if (row.hits_hs != row.hits_hash) {
      std::fprintf(stderr, "matcher_bench: the matchers disagree (%zu vs %zu hits)\n",
                   row.hits_hs, row.hits_hash);
      return 1;
    }
    std::fflush(stdout);
  }

  std::FILE* out = std::fopen(json_path, "w");
  if (out == nullptr) {
    std::fprintf(stderr, "matcher_bench: cannot write %s\n", json_path);
    return 2;
  }
  std::fprintf(out, "{\n  \"benchmark\": \"matcher\",\n  \"lookups_per_size\": %zu,\n  \"rows\": [\n",
               lookups);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::fprintf(out,
                 "    {\"protected\": %zu, \"patterns_exact\": %zu, \"patterns_with_edit_distance\": %zu, "
                 "\"compile_ms_exact\": %.1f, \"compile_ms_with_edit_distance\": %.1f, "
                 "\"database_bytes_exact\": %zu, \"database_bytes_with_edit_distance\": %zu, "
                 "\"hyperscan_ns_per_lookup\": %.1f, \"hyperscan_edit_distance_ns_per_lookup\": %.1f, "
                 "\"hash_set_ns_per_lookup\": %.1f, \"hash_set_build_ms\": %.1f, "
                 "\"hyperscan_domains_per_second\": %.0f, \"hash_set_domains_per_second\": %.0f, "
                 "\"lookalike_hits\": %zu, \"lookups\": %zu}%s\n",
                 r.protected_count, r.variant_patterns, r.patterns_with_edit, r.compile_exact_ms,
                 r.compile_edit_ms, r.bytes_exact, r.bytes_edit, r.hs_exact_ns, r.hs_edit_ns,
                 r.hash_ns, r.hash_build_ms, 1e9 / r.hs_exact_ns, 1e9 / r.hash_ns, r.hits_hs,
                 r.lookups, i + 1 < rows.size() ? "," : "");
  }
  std::fprintf(out, "  ]\n}\n");
  std::fclose(out);
  return 0;
}
