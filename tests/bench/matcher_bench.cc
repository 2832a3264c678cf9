// matcher_bench: build cost and lookup speed of the Matcher's two engines (hash index, Hyperscan)
// and of the straightforward hash-set baseline, for 100 / 1,000 / 10,000 protected domains
// generated deterministically, side by side in one run on the same lookups.
//
// Usage: matcher_bench [--sizes 100,1000,10000] [--lookups N] [--hyperscan-up-to N] JSON_PATH
// Prints a table and writes the same figures as JSON. Not run by the test suite. Times are the
// thread's CPU time (the machine is shared); build wall time is reported too.
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "inspect/domain_name.h"
#include "tests/support/hash_set_matcher.h"
#include "inspect/lookalike_generator.h"
#include "inspect/matcher.h"

namespace {

using misdirect::inspect::CanonicalDomain;
using misdirect::inspect::DomainError;
using misdirect::inspect::DomainLists;
using misdirect::test_support::HashSetMatcher;
using misdirect::inspect::Matcher;
using misdirect::inspect::MatcherEngine;
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
  const misdirect::inspect::PublicSuffixListLoad suffixes =
      misdirect::inspect::PublicSuffixList::load(misdirect::inspect::kDebianPublicSuffixList);
  if (suffixes.list == nullptr) {
    std::fprintf(stderr, "matcher_bench: %s\n", suffixes.error.c_str());
    std::exit(1);
  }
  Random random{12345};
  std::vector<CanonicalDomain> out;
  std::vector<std::vector<misdirect::inspect::Lookalike>> cache(protected_domains.size());
  while (out.size() < count) {
    const std::size_t p = random.below(static_cast<uint32_t>(protected_domains.size()));
    std::string raw;
    switch (random.below(3)) {
      case 0: {
        if (cache[p].empty()) {
          cache[p] = misdirect::inspect::generate_lookalikes(*suffixes.list, protected_domains[p]);
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

double cpu_milliseconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// One matcher configuration measured on one list.
struct Result {
  std::string contender;  // "hash", "hash+ed", "hyperscan", "hyperscan+ed", "hash-set"
  std::size_t protected_count = 0;
  bool edit_distance = false;
  std::size_t patterns = 0;
  std::size_t bytes = 0;
  double build_cpu_ms = 0;
  double build_wall_ms = 0;
  double ns_per_lookup = 0;  // CPU
  std::size_t hits = 0;
  std::size_t lookups = 0;
  double cache_hit_percent = -1;  // cached contenders only
};

// The corpus packed end to end, as recipients arrive in a stream: a judged domain has just been
// normalised, so it is in cache; the index is what is being measured, not the corpus's layout.
struct Corpus {
  std::string text;
  std::vector<std::string_view> domains;
};

Corpus pack(const std::vector<CanonicalDomain>& domains) {
  Corpus corpus;
  std::vector<std::size_t> offsets;
  for (const CanonicalDomain& domain : domains) {
    offsets.push_back(corpus.text.size());
    corpus.text += domain.view();
  }
  for (std::size_t i = 0; i < domains.size(); ++i) {
    corpus.domains.emplace_back(corpus.text.data() + offsets[i], domains[i].view().size());
  }
  return corpus;
}

// CPU ns per lookup over the corpus, after one warming pass over a tenth of it.
double time_lookups(const Corpus& corpus, std::size_t& hits,
                    const std::function<bool(std::string_view)>& judge) {
  const std::vector<std::string_view>& domains = corpus.domains;
  hits = 0;
  for (std::size_t i = 0; i < domains.size() / 10; ++i) {
    hits += judge(domains[i]);
  }
  hits = 0;
  const double start = cpu_milliseconds();
  for (std::string_view domain : domains) {
    hits += judge(domain);
  }
  return (cpu_milliseconds() - start) * 1e6 / static_cast<double>(domains.size());
}

// Uncached lookups measure the index; `cached` adds the scratch's verdict cache, which only
// helps as much as the corpus repeats itself (this one mostly does not; mail traffic does).
Result measure_matcher(const DomainLists& lists, const Corpus& domains,
                       MatcherEngine engine, bool edit_distance, bool cached = false) {
  Result result;
  result.contender = std::string(misdirect::inspect::engine_name(engine)) +
                     (edit_distance ? "+ed" : "") + (cached ? "+cache" : "");
  result.protected_count = lists.protected_domains.size();
  result.edit_distance = edit_distance;
  // The median of three builds (one for Hyperscan, which takes seconds to minutes): the first
  // build of a run also pays for faulting in fresh memory.
  const int builds = engine == MatcherEngine::kHash ? 3 : 1;
  std::vector<std::pair<double, double>> times;  // (CPU, wall) ms
  misdirect::inspect::MatcherBuildResult built;
  for (int i = 0; i < builds; ++i) {
    built = {};
    const double cpu_start = cpu_milliseconds();
    const auto wall_start = Clock::now();
    built = Matcher::build(lists, MatcherOptions{edit_distance, engine});
    times.emplace_back(cpu_milliseconds() - cpu_start, milliseconds_since(wall_start));
  }
  std::sort(times.begin(), times.end());
  result.build_cpu_ms = times[times.size() / 2].first;
  result.build_wall_ms = times[times.size() / 2].second;
  if (!built.matcher) {
    std::fprintf(stderr, "matcher_bench: %s\n", built.error.c_str());
    std::exit(1);
  }
  result.patterns = built.matcher->pattern_count();
  result.bytes = built.matcher->database_bytes();
  auto scratch = built.matcher->make_scratch();
  result.lookups = domains.domains.size();
  result.ns_per_lookup = time_lookups(domains, result.hits, [&](std::string_view d) {
    return (cached ? built.matcher->judge(d, scratch) : built.matcher->judge_uncached(d, scratch))
        .lookalike;
  });
  if (cached) {
    const auto* stats = scratch.cache_stats();
    result.cache_hit_percent =
        100.0 * static_cast<double>(stats->hits) /
        static_cast<double>(std::max<uint64_t>(1, stats->hits + stats->misses + stats->bypassed));
  }
  return result;
}

// The baseline: std::unordered_map of the same table, exact tier only (its edit-distance tier
// compares with every protected domain: linear in the list, not worth timing at 10,000).
Result measure_hash_set(const DomainLists& lists, const Corpus& domains) {
  Result result;
  result.contender = "hash-set";
  result.protected_count = lists.protected_domains.size();
  const double cpu_start = cpu_milliseconds();
  const auto wall_start = Clock::now();
  const auto baseline = HashSetMatcher::build(lists, MatcherOptions{false});
  result.build_cpu_ms = cpu_milliseconds() - cpu_start;
  result.build_wall_ms = milliseconds_since(wall_start);
  result.patterns = baseline->entry_count();
  result.lookups = domains.domains.size();
  result.ns_per_lookup = time_lookups(domains, result.hits, [&](std::string_view d) {
    return baseline->judge(d).lookalike;
  });
  return result;
}

// Context for the lookup figures: the latency of one dependent load from a random place in a
// 128 MiB buffer (huge pages requested, as for the index) — what a lookup that misses every cache
// costs at the least on this machine.
double memory_latency_ns() {
  constexpr std::size_t kBytes = 128u << 20;
  constexpr std::size_t kLines = kBytes / 64;
  void* memory = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    return 0;
  }
  madvise(memory, kBytes, MADV_HUGEPAGE);
  auto* words = static_cast<uint64_t*>(memory);
  std::vector<uint32_t> order(kLines);
  for (std::size_t i = 0; i < kLines; ++i) {
    order[i] = static_cast<uint32_t>(i);
  }
  Random random{99};
  for (std::size_t i = kLines - 1; i > 0; --i) {  // Fisher-Yates: one cycle through every line
    std::swap(order[i], order[random.below(static_cast<uint32_t>(i + 1))]);
  }
  for (std::size_t i = 0; i < kLines; ++i) {
    words[order[i] * 8] = order[(i + 1) % kLines] * 8ULL;
  }
  constexpr int kLoads = 2'000'000;
  uint64_t at = 0;
  const double start = cpu_milliseconds();
  for (int i = 0; i < kLoads; ++i) {
    at = words[at];
  }
  const double ns = (cpu_milliseconds() - start) * 1e6 / kLoads;
  munmap(memory, kBytes);
  return at == UINT64_MAX ? 0 : ns;  // `at` is used, so the loop is not optimised away
}

void print(const Result& r) {
  std::printf("%9zu %-13s %10zu %12zu %11.1f %11.1f %9.1f %12.0f %8zu\n", r.protected_count,
              r.contender.c_str(), r.patterns, r.bytes, r.build_cpu_ms, r.build_wall_ms,
              r.ns_per_lookup, 1e9 / r.ns_per_lookup, r.hits);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes = {100, 1000, 10000};
  std::size_t lookups = 300000;
  std::size_t hyperscan_up_to = 1000;
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
    } else if (arg == "--hyperscan-up-to" && i + 1 < argc) {
      hyperscan_up_to = std::strtoull(argv[++i], nullptr, 10);
    } else if (json_path == nullptr && arg[0] != '-') {
      json_path = argv[i];
    } else {
      std::fprintf(stderr,
                   "usage: matcher_bench [--sizes 100,1000,10000] [--lookups N] "
                   "[--hyperscan-up-to N] JSON_PATH\n");
      return 2;
    }
  }
  if (json_path == nullptr) {
    std::fprintf(stderr, "matcher_bench: a JSON output path is required\n");
    return 2;
  }

  const double latency_ns = memory_latency_ns();
  std::printf("memory latency (dependent loads, 128 MiB): %.0f ns\n", latency_ns);
  std::vector<Result> results;
  std::printf("%9s %-13s %10s %12s %11s %11s %9s %12s %8s\n", "protected", "contender",
              "patterns", "bytes", "build_cpu", "build_wall", "ns/lookup", "domains/s", "hits");
  for (std::size_t size : sizes) {
    DomainLists lists;
    lists.protected_domains = protected_list(size);
    const Corpus domains = pack(corpus(lists.protected_domains, lookups));
    std::vector<Result> row;
    row.push_back(measure_matcher(lists, domains, MatcherEngine::kHash, false));
    print(row.back());
    row.push_back(measure_matcher(lists, domains, MatcherEngine::kHash, true));
    print(row.back());
    row.push_back(measure_matcher(lists, domains, MatcherEngine::kHash, true, true));
    print(row.back());
    if (size <= hyperscan_up_to) {
      row.push_back(measure_matcher(lists, domains, MatcherEngine::kHyperscan, false));
      print(row.back());
      row.push_back(measure_matcher(lists, domains, MatcherEngine::kHyperscan, true));
      print(row.back());
    }
    row.push_back(measure_hash_set(lists, domains));
    print(row.back());
    // Every contender judges the same corpus: the same number of look-alikes or a bug.
    for (const Result& r : row) {
      const Result& reference = r.edit_distance ? row[1] : row[0];
      if (r.hits != reference.hits) {
        std::fprintf(stderr, "matcher_bench: %s and %s disagree at %zu domains (%zu vs %zu)\n",
                     r.contender.c_str(), reference.contender.c_str(), size, r.hits,
                     reference.hits);
        return 1;
      }
    }
    results.insert(results.end(), row.begin(), row.end());
  }

  std::FILE* out = std::fopen(json_path, "w");
  if (out == nullptr) {
    std::fprintf(stderr, "matcher_bench: cannot write %s\n", json_path);
    return 2;
  }
  std::fprintf(out, "{\n  \"benchmark\": \"matcher\",\n  \"lookups_per_size\": %zu,\n"
               "  \"hyperscan_up_to\": %zu,\n  \"memory_latency_ns\": %.1f,\n  \"results\": [\n",
               lookups, hyperscan_up_to, latency_ns);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    std::fprintf(out,
                 "    {\"protected\": %zu, \"contender\": \"%s\", \"edit_distance\": %s, "
                 "\"patterns\": %zu, \"bytes\": %zu, \"build_cpu_ms\": %.1f, "
                 "\"build_wall_ms\": %.1f, \"ns_per_lookup\": %.1f, \"domains_per_second\": %.0f, "
                 "\"lookalike_hits\": %zu, \"lookups\": %zu, \"cache_hit_percent\": %.1f}%s\n",
                 r.protected_count, r.contender.c_str(), r.edit_distance ? "true" : "false",
                 r.patterns, r.bytes, r.build_cpu_ms, r.build_wall_ms, r.ns_per_lookup,
                 1e9 / r.ns_per_lookup, r.hits, r.lookups, r.cache_hit_percent,
                 i + 1 < results.size() ? "," : "");
  }
  std::fprintf(out, "  ]\n}\n");
  std::fclose(out);
  return 0;
}
