// Tests for the look-alike generator: specific members of every kind, priorities, validity.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "inspect/keyboard_layouts.h"
#include "inspect/lookalike_generator.h"
#include "inspect/lookalike_kind.h"
#include "tests/support/public_suffixes.h"

namespace misdirect::inspect {
namespace {

// The kind `variant` was generated with, or nullopt if it was not generated.
std::optional<LookalikeKind> kind_of(const std::vector<Lookalike>& lookalikes,
                                     std::string_view variant) {
  for (const Lookalike& lookalike : lookalikes) {
    if (lookalike.domain == variant) {
      return lookalike.kind;
    }
  }
  return std::nullopt;
}

void expect_kind(const std::vector<Lookalike>& lookalikes, std::string_view variant,
                 LookalikeKind kind) {
  const std::optional<LookalikeKind> found = kind_of(lookalikes, variant);
  BOOST_TEST_INFO("variant " << variant);
  BOOST_TEST_REQUIRE(found.has_value());
  BOOST_TEST(kind_name(*found) == kind_name(kind));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lookalike_generator)

BOOST_AUTO_TEST_CASE(kind_names_round_trip) {
  BOOST_TEST(kind_name(LookalikeKind::kTldSwap) == "tld-swap");
  BOOST_TEST(kind_name(LookalikeKind::kVowelSwap) == "vowel-swap");
  BOOST_TEST(kind_name(LookalikeKind::kSubdomainLabel) == "subdomain-label");
  BOOST_TEST(kind_name(LookalikeKind::kEditDistance) == "edit-distance");
  for (int i = 0; i < kLookalikeKindCount; ++i) {
    const auto kind = static_cast<LookalikeKind>(i);
    BOOST_TEST((kind_from_name(kind_name(kind)) == kind));
  }
  BOOST_TEST(!kind_from_name("typo").has_value());
}

BOOST_AUTO_TEST_CASE(army_mil_every_kind) {
  const std::vector<Lookalike> v = generate_lookalikes(test_public_suffixes(), "army.mil");
  expect_kind(v, "army.ml", LookalikeKind::kTldSwap);
  expect_kind(v, "army.com", LookalikeKind::kTldSwap);
  expect_kind(v, "army.il", LookalikeKind::kTldSwap);
  expect_kind(v, "army.mil.co", LookalikeKind::kTldSwap);
  expect_kind(v, "amry.mil", LookalikeKind::kTransposition);
  expect_kind(v, "arny.mil", LookalikeKind::kReplacement);
  expect_kind(v, "armu.mil", LookalikeKind::kReplacement);
  expect_kind(v, "arm.mil", LookalikeKind::kOmission);
  expect_kind(v, "rmy.mil", LookalikeKind::kOmission);
  expect_kind(v, "armmy.mil", LookalikeKind::kRepetition);
  expect_kind(v, "armyt.mil", LookalikeKind::kInsertion);
  expect_kind(v, "ar-my.mil", LookalikeKind::kHyphenation);
  expect_kind(v, "ermy.mil", LookalikeKind::kVowelSwap);
  expect_kind(v, "crmy.mil", LookalikeKind::kBitsquatting);  // 'a' ^ 0x02
  expect_kind(v, "arrny.mil", LookalikeKind::kHomoglyph);    // m → rn
  expect_kind(v, "xn--rmy-5cd.mil", LookalikeKind::kHomoglyph);  // Cyrillic а
  expect_kind(v, "ar.my.mil", LookalikeKind::kDotInsertion);
  expect_kind(v, "armymil.com", LookalikeKind::kSubdomainLabel);
  expect_kind(v, "army-mil.com", LookalikeKind::kSubdomainLabel);
  // "mi" is not a TLD, so no mail can reach army.mi; the generator leaves it to edit distance.
  BOOST_TEST(!kind_of(v, "army.mi").has_value());
  BOOST_TEST(!kind_of(v, "army.mil").has_value());
  BOOST_TEST(!kind_of(v, "armymil").has_value());
}

BOOST_AUTO_TEST_CASE(examplebank_com_every_kind) {
  const std::vector<Lookalike> v = generate_lookalikes(test_public_suffixes(), "examplebank.com");
  expect_kind(v, "examplebank.co", LookalikeKind::kTldSwap);
  expect_kind(v, "examplebank.cm", LookalikeKind::kTldSwap);
  expect_kind(v, "examplebank.net", LookalikeKind::kTldSwap);
  expect_kind(v, "examp1ebank.com", LookalikeKind::kHomoglyph);
  expect_kind(v, "exampiebank.com", LookalikeKind::kHomoglyph);
  expect_kind(v, "exmaplebank.com", LookalikeKind::kTransposition);
  expect_kind(v, "exampebank.com", LookalikeKind::kOmission);
  expect_kind(v, "exampplebank.com", LookalikeKind::kRepetition);
  expect_kind(v, "examplebamk.com", LookalikeKind::kReplacement);
  expect_kind(v, "examplebankl.com", LookalikeKind::kInsertion);
  expect_kind(v, "example-bank.com", LookalikeKind::kHyphenation);
  expect_kind(v, "exampleb.ank.com", LookalikeKind::kDotInsertion);
  expect_kind(v, "example.bank.com", LookalikeKind::kDotInsertion);
  expect_kind(v, "examplecank.com", LookalikeKind::kBitsquatting);  // 'b' ^ 0x01
  expect_kind(v, "examplebonk.com", LookalikeKind::kVowelSwap);
  expect_kind(v, "examplebankcom.net", LookalikeKind::kSubdomainLabel);
}

BOOST_AUTO_TEST_CASE(mod_gov_uk_suffix_and_dots) {
  BOOST_TEST(test_public_suffixes().public_suffix("mod.gov.uk") == "gov.uk");
  const std::vector<Lookalike> v = generate_lookalikes(test_public_suffixes(), "mod.gov.uk");
  expect_kind(v, "mod.gv.uk", LookalikeKind::kTldSwap);
  expect_kind(v, "mod.uk.gov", LookalikeKind::kTldSwap);
  expect_kind(v, "mod.uk", LookalikeKind::kTldSwap);
  expect_kind(v, "mod.gov.co.uk", LookalikeKind::kTldSwap);
  expect_kind(v, "mod.gov.com", LookalikeKind::kTldSwap);
  expect_kind(v, "modgov.uk", LookalikeKind::kDotOmission);
  expect_kind(v, "m.od.gov.uk", LookalikeKind::kDotInsertion);
  expect_kind(v, "mdo.gov.uk", LookalikeKind::kTransposition);
  expect_kind(v, "mood.gov.uk", LookalikeKind::kRepetition);
  expect_kind(v, "m0d.gov.uk", LookalikeKind::kHomoglyph);
  expect_kind(v, "mid.gov.uk", LookalikeKind::kVowelSwap);
  expect_kind(v, "mo-d.gov.uk", LookalikeKind::kHyphenation);
  expect_kind(v, "modgovuk.com", LookalikeKind::kSubdomainLabel);
  // Suffix labels before the TLD take only keyboard-neighbour edits: "gpv" yes, "g7v" no.
  expect_kind(v, "mod.gpv.uk", LookalikeKind::kTldSwap);
  BOOST_TEST(!kind_of(v, "mod.g7v.uk").has_value());
  BOOST_TEST(!kind_of(v, "modgovuk").has_value());
}

BOOST_AUTO_TEST_CASE(co_uk_known_swap) {
  const std::vector<Lookalike> v = generate_lookalikes(test_public_suffixes(), "examplebank.co.uk");
  expect_kind(v, "examplebank.uk.co", LookalikeKind::kTldSwap);
  expect_kind(v, "examplebank.co", LookalikeKind::kTldSwap);
  expect_kind(v, "examplebankco.uk", LookalikeKind::kDotOmission);
}

BOOST_AUTO_TEST_CASE(priority_picks_the_first_rule) {
  BOOST_TEST(kind_priority(LookalikeKind::kTldSwap) < kind_priority(LookalikeKind::kOmission));
  BOOST_TEST(kind_priority(LookalikeKind::kHomoglyph) <
             kind_priority(LookalikeKind::kReplacement));
  const std::vector<Lookalike> v = generate_lookalikes(test_public_suffixes(), "army.mil");
  std::vector<std::string> names;
  for (const Lookalike& lookalike : v) {
    names.push_back(lookalike.domain);
  }
  std::sort(names.begin(), names.end());
  BOOST_TEST((std::adjacent_find(names.begin(), names.end()) == names.end()));
  // "irmy.mil" is a vowel swap and a bitsquat ('a' ^ 0x08 = 'i'): vowel-swap ranks first.
  expect_kind(v, "irmy.mil", LookalikeKind::kVowelSwap);
  // "qrmy.mil" is a keyboard replacement and a bitsquat ('a' ^ 0x10 = 'q'): replacement first.
  expect_kind(v, "qrmy.mil", LookalikeKind::kReplacement);
  // "examplebank.co" is a suffix omission and a known swap: both tld-swap.
  expect_kind(generate_lookalikes(test_public_suffixes(), "examplebank.com"), "examplebank.co", LookalikeKind::kTldSwap);
}

BOOST_AUTO_TEST_CASE(every_variant_is_a_valid_hostname) {
  for (const char* domain : {"army.mil", "examplebank.com", "mod.gov.uk", "a-b.co.uk"}) {
    for (const Lookalike& lookalike : generate_lookalikes(test_public_suffixes(), domain)) {
      const std::string& d = lookalike.domain;
      BOOST_TEST_INFO(domain << " → " << d);
      BOOST_TEST(d.find("..") == std::string::npos);
      BOOST_TEST(d.front() != '.');
      BOOST_TEST(d.back() != '.');
      BOOST_TEST(d.find("-.") == std::string::npos);
      BOOST_TEST(d.find(".-") == std::string::npos);
      BOOST_TEST(d.front() != '-');
      BOOST_TEST(d != domain);
    }
  }
}

BOOST_AUTO_TEST_CASE(counts_for_army_mil) {
  const std::vector<Lookalike> v = generate_lookalikes(test_public_suffixes(), "army.mil");
  const auto counts = count_by_kind(v);
  std::size_t total = 0;
  for (std::size_t count : counts) {
    total += count;
  }
  BOOST_TEST(total == v.size());
  BOOST_TEST(counts[static_cast<std::size_t>(LookalikeKind::kTransposition)] == 3u);  // ramy amry arym
  BOOST_TEST(counts[static_cast<std::size_t>(LookalikeKind::kRepetition)] == 4u);
  BOOST_TEST(counts[static_cast<std::size_t>(LookalikeKind::kDotOmission)] == 0u);  // "armymil" has one label
  BOOST_TEST(counts[static_cast<std::size_t>(LookalikeKind::kEditDistance)] == 0u);
}

BOOST_AUTO_TEST_CASE(table_drops_variants_equal_to_protected_or_allowed) {
  DomainLists lists;
  lists.protected_domains = {"army.mil", "arny.mil"};
  lists.allow = {"amry.mil"};
  const std::vector<LookalikeEntry> table = build_lookalike_table(lists, test_public_suffixes());
  std::size_t arny = 0;
  std::size_t amry = 0;
  for (const LookalikeEntry& entry : table) {
    arny += entry.domain == "arny.mil";
    amry += entry.domain == "amry.mil";
    if (entry.domain == "arny.mil") {
      BOOST_TEST((entry.role == LookalikeEntry::Role::kProtected));
    }
    if (entry.domain == "amry.mil") {
      BOOST_TEST((entry.role == LookalikeEntry::Role::kAllowed));
    }
  }
  BOOST_TEST(arny == 1u);
  BOOST_TEST(amry == 1u);
}

BOOST_AUTO_TEST_CASE(keyboard_neighbours_per_layout) {
  BOOST_TEST(keyboard_neighbours(KeyboardLayout::kQwerty, 'm') == "jkn");
  BOOST_TEST(keyboard_neighbours(KeyboardLayout::kAzerty, 'm').find('l') != std::string_view::npos);
  BOOST_TEST(keyboard_neighbours(KeyboardLayout::kQwertz, 'z').find('t') != std::string_view::npos);
  BOOST_TEST(keyboard_neighbours(KeyboardLayout::kQwerty, '.').empty());
  char all[32];
  const int count = all_keyboard_neighbours('a', all);
  const std::string_view neighbours(all, static_cast<std::size_t>(count));
  BOOST_TEST(neighbours.find('s') != std::string_view::npos);  // qwerty
  BOOST_TEST(neighbours.find('z') != std::string_view::npos);  // qwerty and azerty
}

BOOST_AUTO_TEST_CASE(government_suffixes_from_the_public_suffix_list) {
  // gov.ie was missing from the hand-picked table: "justice.gov" was taken as the registrable
  // part, so edits of "gov" were named as typos of the name and the suffix swaps missed.
  const std::vector<Lookalike> ie = generate_lookalikes(test_public_suffixes(), "justice.gov.ie");
  expect_kind(ie, "justice.gv.ie", LookalikeKind::kTldSwap);   // the known gov → gv swap
  expect_kind(ie, "justice.giv.ie", LookalikeKind::kTldSwap);  // a neighbouring key in the suffix
  expect_kind(ie, "justice.gov.com", LookalikeKind::kTldSwap);
  expect_kind(ie, "justice.ie", LookalikeKind::kTldSwap);      // a suffix label dropped
  expect_kind(ie, "justixe.gov.ie", LookalikeKind::kReplacement);
  BOOST_TEST(!kind_of(ie, "justice.gov.ie").has_value());
  expect_kind(generate_lookalikes(test_public_suffixes(), "navy.mil.ph"), "navy.ml.ph",
              LookalikeKind::kTldSwap);
  expect_kind(generate_lookalikes(test_public_suffixes(), "bundesheer.gv.at"), "bundesheer.at",
              LookalikeKind::kTldSwap);
  expect_kind(generate_lookalikes(test_public_suffixes(), "mindefensa.gov.co"), "mindefensa.gv.co",
              LookalikeKind::kTldSwap);
}

BOOST_AUTO_TEST_CASE(tld_swap_variants_stay_bounded) {
  // The Public Suffix List knows about 1,450 TLDs, five times the old table: the real-TLD filter
  // keeps more single-character edits of a TLD, but the swaps stay a few dozen a domain.
  for (const char* domain : {"army.mil", "examplebank.com", "mod.gov.uk", "justice.gov.ie",
                             "examplebank.com.au", "xn--mnchen-3ya.de"}) {
    const auto counts = count_by_kind(generate_lookalikes(test_public_suffixes(), domain));
    BOOST_TEST_INFO(domain);
    BOOST_TEST(counts[static_cast<std::size_t>(LookalikeKind::kTldSwap)] > 10u);
    BOOST_TEST(counts[static_cast<std::size_t>(LookalikeKind::kTldSwap)] <= 120u);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::inspect
