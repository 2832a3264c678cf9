// Tests for the Matcher (Hyperscan) and its hash-set baseline: suffixes, label boundaries, lists,
// IDN homoglyphs, edit distance, scale and agreement between the two.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "inspect/domain_lists.h"
#include "inspect/domain_name.h"
#include "tests/support/hash_set_matcher.h"
#include "inspect/lookalike_generator.h"
#include "inspect/matcher.h"
#include "tests/support/public_suffixes.h"

namespace misdirect::inspect {
namespace {

using test_support::HashSetMatcher;

struct Built {
  std::unique_ptr<const Matcher> matcher;
  MatcherScratch scratch;
};

// Every case runs on both engines: they must give the same verdicts.
const MatcherEngine kEngines[] = {MatcherEngine::kHash, MatcherEngine::kHyperscan};

Built build(MatcherEngine engine, std::vector<std::string> protected_domains,
            std::vector<std::string> allow = {}, MatcherOptions options = {}) {
  options.engine = engine;
  DomainLists lists;
  lists.protected_domains = std::move(protected_domains);
  lists.allow = std::move(allow);
  MatcherBuildResult result = Matcher::build(lists, options);
  BOOST_TEST_REQUIRE(result.error == "");
  BOOST_TEST_REQUIRE(result.matcher != nullptr);
  Built built{std::move(result.matcher), {}};
  built.scratch = built.matcher->make_scratch();
  return built;
}

// Judges a raw domain as the data path does: normalise first.
Verdict judge(Built& built, std::string_view raw) {
  CanonicalDomain domain;
  BOOST_TEST_REQUIRE((normalize_domain(raw, domain) == DomainError::kOk));
  return built.matcher->judge(domain.view(), built.scratch);
}

std::string describe(const Verdict& verdict) {
  if (!verdict.lookalike) {
    return "-";
  }
  return std::string(kind_name(verdict.kind)) + " " + std::string(verdict.protected_domain) + " " +
         std::string(verdict.variant);
}

}  // namespace

std::ostream& operator<<(std::ostream& out, MatcherEngine engine) {
  return out << engine_name(engine);
}

BOOST_AUTO_TEST_SUITE(matcher)

BOOST_DATA_TEST_CASE(registrable_suffix_with_label_boundaries, kEngines, engine) {
  Built built = build(engine, {"army.mil"});
  BOOST_TEST(describe(judge(built, "army.ml")) == "tld-swap army.mil army.ml");
  BOOST_TEST(describe(judge(built, "hq.army.ml")) == "tld-swap army.mil army.ml");
  BOOST_TEST(describe(judge(built, "a.b.hq.army.ml")) == "tld-swap army.mil army.ml");
  BOOST_TEST(describe(judge(built, "ARMY.ML.")) == "tld-swap army.mil army.ml");
  BOOST_TEST(describe(judge(built, "notarmy.ml")) == "-");
  BOOST_TEST(describe(judge(built, "army.ml.example.org")) == "-");
  BOOST_TEST(describe(judge(built, "army.mlx")) == "-");
  BOOST_TEST(describe(judge(built, "example.org")) == "-");
  BOOST_TEST(describe(judge(built, "amry.mil")) == "transposition army.mil amry.mil");
  BOOST_TEST(describe(judge(built, "mail.armmy.mil")) == "repetition army.mil armmy.mil");
  BOOST_TEST(describe(judge(built, "ar.my.mil")) == "dot-insertion army.mil ar.my.mil");
  BOOST_TEST(describe(judge(built, "arrny.mil")) == "homoglyph army.mil arrny.mil");
}

BOOST_DATA_TEST_CASE(longest_suffix_wins, kEngines, engine) {
  // "ar.my.mil" is a dot-insertion of army.mil and ends in "my.mil", a variant of nothing; with
  // both "army.mil" and "amy.mil" protected, "x.amy.mi" … keep it concrete: "my.ml" is a tld-swap
  // of my.mil and "ar.my.ml" is no variant, so the longest suffix that is one is "my.ml".
  Built built = build(engine, {"army.mil", "my.mil"});
  BOOST_TEST(describe(judge(built, "ar.my.ml")) == "tld-swap my.mil my.ml");
  BOOST_TEST(describe(judge(built, "army.ml")) == "tld-swap army.mil army.ml");
}

BOOST_DATA_TEST_CASE(protected_and_allowed_never_match, kEngines, engine) {
  Built built = build(engine, {"army.mil", "navy.mil", "my.mil"}, {"amry.mil", "example.org"});
  for (const char* domain : {"army.mil", "x.army.mil", "navy.mil", "ships.navy.mil", "amry.mil",
                             "mail.amry.mil", "example.org"}) {
    BOOST_TEST_INFO(domain);
    BOOST_TEST(describe(judge(built, domain)) == "-");
  }
  // "ar.my.mil" is a dot-insertion of army.mil but also a subdomain of protected my.mil.
  BOOST_TEST(describe(judge(built, "ar.my.mil")) == "-");
  BOOST_TEST(describe(judge(built, "arym.mil")) == "transposition army.mil arym.mil");
}

BOOST_DATA_TEST_CASE(variant_equal_to_another_protected_domain_is_dropped, kEngines, engine) {
  Built built = build(engine, {"army.mil", "arny.mil"});
  BOOST_TEST(describe(judge(built, "arny.mil")) == "-");
  BOOST_TEST(describe(judge(built, "army.ml")) == "tld-swap army.mil army.ml");
  BOOST_TEST(describe(judge(built, "arny.ml")) == "tld-swap arny.mil arny.ml");
}

BOOST_DATA_TEST_CASE(idn_homoglyph_through_the_skeleton, kEngines, engine) {
  Built built = build(engine, {"army.mil"});
  // Cyrillic а (U+0430): the A-label is also a generated variant.
  BOOST_TEST(describe(judge(built, "xn--rmy-5cd.mil")) == "homoglyph army.mil xn--rmy-5cd.mil");
  // Cyrillic а and у (U+0443) in SMTPUTF8 form: not generated, caught by the skeleton.
  BOOST_TEST(describe(judge(built, "\xD0\xB0rm\xD1\x83.mil")) == "homoglyph army.mil army.mil");
  BOOST_TEST(describe(judge(built, "hq.\xD0\xB0rm\xD1\x83.mil")) == "homoglyph army.mil army.mil");
  // The skeleton of a variant is a homoglyph too (Cyrillic о in "аrmy.ml"'s label).
  BOOST_TEST(describe(judge(built, "\xD0\xB0rm\xD1\x83.ml")) == "homoglyph army.mil army.ml");
  // An IDN that is no look-alike stays clean.
  BOOST_TEST(describe(judge(built, "b\xC3\xBC" "cher.example")) == "-");
}

BOOST_DATA_TEST_CASE(domains_are_judged_as_uts46_maps_them, kEngines, engine) {
  // Fullwidth ＡＲＭＹ.ml is army.ml to the mail server: judged (and reported) as that, a tld-swap,
  // not as the homoglyph skeleton of an A-label nobody can deliver to.
  Built built = build(engine, {"army.mil"});
  BOOST_TEST(describe(judge(built, "\xEF\xBC\xA1\xEF\xBC\xB2\xEF\xBC\xAD\xEF\xBC\xB9.ml")) ==
             "tld-swap army.mil army.ml");
  BOOST_TEST(describe(judge(built, "\xEF\xBC\xA1\xEF\xBC\xB2\xEF\xBC\xAD\xEF\xBC\xB9.mil")) == "-");
  // A protected domain typed in NFD protects the NFC spelling, and its look-alikes alert.
  const ListParseResult parsed = parse_domain_list("mu\xCC\x88nchen.de\n", "protected.txt");
  BOOST_TEST_REQUIRE(parsed.ok());
  Built nfd = build(engine, parsed.domains);
  BOOST_TEST(describe(judge(nfd, "m\xC3\xBCnchen.de")) == "-");
  BOOST_TEST(describe(judge(nfd, "mu\xCC\x88nchen.de")) == "-");
  BOOST_TEST(describe(judge(nfd, "m\xC3\xBCnchen.com")) == "tld-swap xn--mnchen-3ya.de xn--mnchen-3ya.com");
}

BOOST_DATA_TEST_CASE(a_missing_public_suffix_list_refuses_the_build, kEngines, engine) {
  DomainLists lists;
  lists.protected_domains = {"army.mil"};
  MatcherOptions options;
  options.engine = engine;
  options.public_suffix_list = "/nonexistent/public_suffix_list.dat";
  const MatcherBuildResult built = Matcher::build(lists, options);
  BOOST_TEST(built.matcher == nullptr);
  BOOST_TEST(built.error ==
             "cannot read the Public Suffix List \"/nonexistent/public_suffix_list.dat\": No such "
             "file or directory (install Debian's publicsuffix package, or give a copy of "
             "public_suffix_list.dat from publicsuffix.org)");
}

BOOST_DATA_TEST_CASE(edit_distance_catches_what_no_rule_listed, kEngines, engine) {
  Built built = build(engine, {"examplebank.com"});
  // k → x is no keyboard neighbour, no bitsquat, no homoglyph: only edit distance sees it.
  BOOST_TEST(describe(judge(built, "examplebanx.com")) ==
             "edit-distance examplebank.com examplebanx.com");
  BOOST_TEST(describe(judge(built, "mx.examplebanx.com")) ==
             "edit-distance examplebank.com examplebanx.com");
  BOOST_TEST(describe(judge(built, "examplebank.cxm")) ==
             "edit-distance examplebank.com examplebank.cxm");
  BOOST_TEST(describe(judge(built, "notexamplebanx.com")) == "-");
  BOOST_TEST(describe(judge(built, "examplebanx.com.evil.org")) == "-");
  BOOST_TEST(describe(judge(built, "exampxebanx.com")) == "-");  // two edits

  Built exact_only = build(engine, {"examplebank.com"}, {}, MatcherOptions{false, engine});
  BOOST_TEST(describe(judge(exact_only, "examplebanx.com")) == "-");
  BOOST_TEST(describe(judge(exact_only, "examplebank.co")) == "tld-swap examplebank.com examplebank.co");
  BOOST_TEST(exact_only.matcher->pattern_count() + 1 == built.matcher->pattern_count());
}

BOOST_AUTO_TEST_CASE(within_one_edit_cases) {
  BOOST_TEST(within_one_edit("army.mil", "army.mil"));
  BOOST_TEST(within_one_edit("army.mil", "army.ml"));
  BOOST_TEST(within_one_edit("army.mil", "armyx.mil"));
  BOOST_TEST(within_one_edit("army.mil", "arxy.mil"));
  BOOST_TEST(!within_one_edit("army.mil", "amry.mil"));  // a transposition is two edits
  BOOST_TEST(!within_one_edit("army.mil", "ar.mil"));
  BOOST_TEST(within_one_edit("", "a"));
}

BOOST_DATA_TEST_CASE(empty_protected_list_judges_nothing, kEngines, engine) {
  Built built = build(engine, {}, {"example.org"});
  BOOST_TEST(built.matcher->pattern_count() == 1u);  // the allowed domain
  BOOST_TEST(describe(judge(built, "army.ml")) == "-");
  Built nothing = build(engine, {});
  BOOST_TEST(nothing.matcher->pattern_count() == 0u);
  BOOST_TEST(nothing.matcher->database_bytes() == 0u);
  BOOST_TEST(describe(judge(nothing, "army.ml")) == "-");
}

BOOST_DATA_TEST_CASE(reports_sizes_and_keeps_the_lists, kEngines, engine) {
  Built built = build(engine, {"army.mil"}, {"example.org"});
  const std::size_t variants = generate_lookalikes(test_public_suffixes(), "army.mil").size();
  BOOST_TEST(built.matcher->pattern_count() == variants + 2 + 1);  // + protected, allowed, approx
  BOOST_TEST(built.matcher->database_bytes() > 0u);
  BOOST_TEST(built.matcher->lists().protected_domains == std::vector<std::string>{"army.mil"});
  BOOST_TEST(built.matcher->lists().allow == std::vector<std::string>{"example.org"});
}

// The default engine takes 10,000 protected domains (3.2 million look-alikes) in seconds. The
// Hyperscan engine takes minutes and gigabytes for the same list (docs/benchmarks.md, "Matcher"),
// so it is measured by the benchmark, not here.
BOOST_AUTO_TEST_CASE(ten_thousand_protected_domains_compile) {
  const MatcherEngine engine = MatcherEngine::kHash;
  std::vector<std::string> domains;
  const char* const tlds[] = {"com", "mil", "gov.uk", "org", "co.uk"};
  for (int i = 0; i < 10000; ++i) {
    std::string name;
    for (int n = i; name.size() < 6 || n > 0; n /= 26) {
      name += static_cast<char>('a' + n % 26);
    }
    domains.push_back(name + "bank." + tlds[i % 5]);
  }
  Built built = build(engine, domains);
  BOOST_TEST(built.matcher->pattern_count() > 10000u * 100u);
  BOOST_TEST(describe(judge(built, "aaaaaabank.co")) == "tld-swap aaaaaabank.com aaaaaabank.co");
  BOOST_TEST(describe(judge(built, "mx.aaaaaabamk.com")) == "replacement aaaaaabank.com aaaaaabamk.com");
  BOOST_TEST(describe(judge(built, "aaaaaabanx.com")) ==
             "edit-distance aaaaaabank.com aaaaaabanx.com");
  BOOST_TEST(describe(judge(built, domains[9999])) == "-");
  BOOST_TEST(describe(judge(built, "mail." + domains[9999])) == "-");
  BOOST_TEST(describe(judge(built, "gmail.com")) == "-");
}

BOOST_DATA_TEST_CASE(engine_agrees_with_the_hash_set_baseline, kEngines, engine) {
  DomainLists lists;
  lists.protected_domains = {"army.mil", "navy.mil", "mod.gov.uk", "examplebank.com",
                             "examplebank.co.uk", "my.mil", "xn--bcher-kva.example"};
  lists.allow = {"amry.mil", "example.org"};
  for (bool edit_distance : {true, false}) {
    const MatcherOptions options{edit_distance, engine};
    MatcherBuildResult built = Matcher::build(lists, options);
    BOOST_TEST_REQUIRE(built.matcher != nullptr);
    MatcherScratch scratch = built.matcher->make_scratch();
    const std::unique_ptr<const HashSetMatcher> baseline = HashSetMatcher::build(lists, options);
    BOOST_TEST_REQUIRE(baseline != nullptr);

    std::vector<std::string> corpus = {"example.org", "notarmy.ml", "army.ml.example.org",
                                       "xn--rmy-5cd.mil", "xn--rmy-5cd.ml", "examplebanx.com",
                                       "mail.examplebanx.com", "exampiebank.co.uk"};
    for (const std::string& domain : lists.protected_domains) {
      corpus.push_back(domain);
      for (const Lookalike& lookalike : generate_lookalikes(test_public_suffixes(), domain)) {
        corpus.push_back(lookalike.domain);
        corpus.push_back("mx1." + lookalike.domain);
        corpus.push_back("x" + lookalike.domain);
        corpus.push_back(lookalike.domain + ".example.net");
        // One more edit: mostly misses, some edit-distance hits.
        std::string twice = lookalike.domain;
        twice[0] = twice[0] == 'q' ? 'w' : 'q';
        corpus.push_back(twice);
      }
    }
    std::size_t hits = 0;
    for (const std::string& raw : corpus) {
      CanonicalDomain domain;
      if (normalize_domain(raw, domain) != DomainError::kOk) {
        continue;
      }
      const std::string fast = describe(built.matcher->judge(domain.view(), scratch));
      const std::string slow = describe(baseline->judge(domain.view()));
      BOOST_TEST_INFO("domain " << raw);
      BOOST_TEST(fast == slow);
      hits += fast != "-";
    }
    BOOST_TEST(hits > corpus.size() / 4);
    BOOST_TEST(hits < corpus.size());
  }
}

BOOST_DATA_TEST_CASE(the_verdict_cache_gives_back_the_same_verdicts, kEngines, engine) {
  Built built = build(engine, {"army.mil", "examplebank.com"}, {"example.org"});
  const std::vector<std::string> domains = {
      "army.ml", "mail.army.ml", "amry.mil", "examplebanx.com", "mx.examplebanx.com",
      "\xD0\xB0rm\xD1\x83.mil", "example.org", "gmail.com", "army.mil",
      "a-very-long-subdomain-name.of-a-look-alike.army.ml"};  // past the cache's 39 bytes
  std::vector<std::string> first;
  for (const std::string& domain : domains) {
    first.push_back(describe(judge(built, domain)));
  }
  BOOST_TEST(first[0] == "tld-swap army.mil army.ml");
  BOOST_TEST(first[4] == "edit-distance examplebank.com examplebanx.com");
  BOOST_TEST(first[5] == "homoglyph army.mil army.mil");
  BOOST_TEST(first[9] == "tld-swap army.mil army.ml");
  const VerdictCacheStats before = *built.scratch.cache_stats();
  for (std::size_t i = 0; i < domains.size(); ++i) {
    BOOST_TEST_INFO(domains[i]);
    BOOST_TEST(describe(judge(built, domains[i])) == first[i]);
  }
  const VerdictCacheStats after = *built.scratch.cache_stats();
  BOOST_TEST(after.hits - before.hits == domains.size() - 1);
  BOOST_TEST(after.bypassed - before.bypassed == 1U);
  // The uncached judgement agrees, and a matcher built without the cache has none.
  for (std::size_t i = 0; i < domains.size(); ++i) {
    CanonicalDomain domain;
    BOOST_TEST_REQUIRE((normalize_domain(domains[i], domain) == DomainError::kOk));
    BOOST_TEST(describe(built.matcher->judge_uncached(domain.view(), built.scratch)) == first[i]);
  }
  MatcherOptions uncached;
  uncached.verdict_cache = false;
  Built plain = build(engine, {"army.mil"}, {}, uncached);
  BOOST_TEST(plain.scratch.cache_stats() == nullptr);
  BOOST_TEST(describe(judge(plain, "army.ml")) == "tld-swap army.mil army.ml");
}

BOOST_DATA_TEST_CASE(a_new_matcher_does_not_inherit_old_verdicts, kEngines, engine) {
  Built old_lists = build(engine, {"army.mil"});
  BOOST_TEST(describe(judge(old_lists, "army.ml")) == "tld-swap army.mil army.ml");
  Built new_lists = build(engine, {"navy.mil"}, {"army.ml"});
  BOOST_TEST(describe(judge(new_lists, "army.ml")) == "-");
  BOOST_TEST(describe(judge(new_lists, "navy.ml")) == "tld-swap navy.mil navy.ml");
}

BOOST_DATA_TEST_CASE(many_domains_replace_each_other_in_the_cache_without_mixing_verdicts, kEngines,
                     engine) {
  Built built = build(engine, {"army.mil"});
  // Three times the cache's entries: later domains take earlier ones' places.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 3 * static_cast<int>(VerdictCache::kEntries); ++i) {
      const std::string host = "h" + std::to_string(i);
      const std::string domain = i % 3 == 0 ? host + ".army.ml" : host + ".example.net";
      const std::string verdict = describe(judge(built, domain));
      if (i % 3 == 0) {
        BOOST_TEST(verdict == "tld-swap army.mil army.ml");
      } else {
        BOOST_TEST(verdict == "-");
      }
    }
  }
  BOOST_TEST(built.scratch.cache_stats()->misses > 0U);
}

BOOST_DATA_TEST_CASE(scratch_moves, kEngines, engine) {
  Built built = build(engine, {"army.mil"});
  MatcherScratch moved = std::move(built.scratch);
  BOOST_TEST(!built.scratch.ready());
  BOOST_TEST(moved.ready());
  CanonicalDomain domain;
  BOOST_TEST_REQUIRE((normalize_domain("army.ml", domain) == DomainError::kOk));
  BOOST_TEST(built.matcher->judge(domain.view(), moved).lookalike);
  // A judge with an empty scratch refuses quietly instead of crashing the data path.
  BOOST_TEST(!built.matcher->judge(domain.view(), built.scratch).lookalike);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::inspect
