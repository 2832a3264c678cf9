// Tests for the IDN homoglyph skeleton: which domains map, to what, and what is left alone.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <iterator>
#include <string>

#include "inspect/confusables.h"
#include "inspect/domain_name.h"
#include "inspect/punycode.h"

namespace misdirect::inspect {
namespace {

// The skeleton, or "-" when confusable_skeleton returns false (then it must also be empty).
std::string skeleton_of(std::string_view domain) {
  CanonicalDomain skeleton;
  if (!confusable_skeleton(domain, skeleton)) {
    BOOST_TEST(skeleton.empty());
    return "-";
  }
  return std::string(skeleton.view());
}

// The skeleton of a domain written as U-labels, through normalize_domain first.
std::string skeleton_of_unicode(std::string_view raw) {
  CanonicalDomain canonical;
  BOOST_TEST_REQUIRE((normalize_domain(raw, canonical) == DomainError::kOk));
  return skeleton_of(canonical.view());
}

// `label` written as an A-label (as a client may send it) under `tld`.
std::string a_label_domain(std::u32string_view label, std::string_view tld) {
  char encoded[kMaxLabelBytes];
  const PunycodeResult result = encode_a_label(label, encoded);
  BOOST_TEST_REQUIRE(result.ok());
  return std::string(encoded, result.length) + "." + std::string(tld);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(confusables)

BOOST_AUTO_TEST_CASE(cyrillic_a_in_army_maps_to_army) {
  BOOST_TEST(skeleton_of("xn--rmy-5cd.mil") == "army.mil");  // Cyrillic а + "rmy"
  BOOST_TEST(skeleton_of("hq.xn--rmy-5cd.mil") == "hq.army.mil");
  BOOST_TEST(skeleton_of("xn--rmy-nxc.mil") == "army.mil");  // Greek α + "rmy"
  BOOST_TEST(skeleton_of("xn--rm-6kc2f.mil") == "army.mil");  // Cyrillic а and у
}

BOOST_AUTO_TEST_CASE(pure_ascii_is_not_confusable) {
  BOOST_TEST(skeleton_of("army.mil") == "-");
  BOOST_TEST(skeleton_of("arrny.mil") == "-");  // rn → m is the generator's business
  BOOST_TEST(skeleton_of("fooxn--bar.example") == "-");  // "xn--" inside a label is no A-label
}

BOOST_AUTO_TEST_CASE(idn_without_confusables_is_not_mapped) {
  BOOST_TEST(skeleton_of("xn--ihqwcrb4cv8a8dqg056pqjye.example") == "-");  // Chinese
  BOOST_TEST(skeleton_of_unicode("жлщ.example") == "-");  // Cyrillic with no Latin look-alike
}

BOOST_AUTO_TEST_CASE(diacritics_map_to_their_base_letter) {
  BOOST_TEST(skeleton_of("xn--bcher-kva.example") == "bucher.example");
  BOOST_TEST(skeleton_of_unicode("àrmÿ.mil") == "army.mil");
  BOOST_TEST(skeleton_of_unicode("ärmy.mil") == "army.mil");
  BOOST_TEST(skeleton_of_unicode("armý.mil") == "army.mil");
  BOOST_TEST(skeleton_of_unicode("łloyds.example") == "lloyds.example");
}

BOOST_AUTO_TEST_CASE(mixed_labels_keep_what_does_not_map) {
  // Cyrillic а maps; 日本 does not, so the label stays an A-label of "army日本".
  BOOST_TEST(skeleton_of("xn--rmy-5cd2816jcvb.mil") == "xn--army-j79hm9d.mil");
  // "испытание": с п ы т а е map (ы to "bl"), и н do not: partly Latin, still an A-label.
  BOOST_TEST(skeleton_of("xn--80akhbyknj4f.example") == "xn--cnbltae-vhgg3c.example");
  // An unmapped IDN label next to a mapped one is copied unchanged.
  BOOST_TEST(skeleton_of("xn--ihqwcrb4cv8a8dqg056pqjye.xn--rmy-5cd.mil") ==
             "xn--ihqwcrb4cv8a8dqg056pqjye.army.mil");
}

BOOST_AUTO_TEST_CASE(common_phishing_spellings) {
  BOOST_TEST(skeleton_of_unicode("раураl.com") == "paypal.com");     // Cyrillic р а у
  BOOST_TEST(skeleton_of_unicode("аррӏе.com") == "apple.com");       // palochka as l
  BOOST_TEST(skeleton_of_unicode("gооgle.com") == "google.com");     // Cyrillic о
  BOOST_TEST(skeleton_of_unicode("ΑRMY.mil") == "army.mil");         // Greek capital, lowercased
  BOOST_TEST(skeleton_of_unicode("ᎪRMY.mil") == "army.mil");         // Cherokee GO
}

BOOST_AUTO_TEST_CASE(width_and_styled_letters_are_mapped_before_the_skeleton) {
  // UTS #46 maps fullwidth and mathematical letters to ASCII in a U-label: the domain is then the
  // plain name itself, judged by the exact tier, and no skeleton is needed.
  BOOST_TEST(skeleton_of_unicode("ｅxample.com") == "-");
  BOOST_TEST(skeleton_of_unicode("\xF0\x9D\x90\x9Army.mil") == "-");  // U+1D41A bold a
  // Sent as A-labels they stay IDNs (nobody can deliver to them, but they read as the name): the
  // skeleton maps them.
  BOOST_TEST(skeleton_of(a_label_domain(U"\uFF45xample", "com")) == "example.com");
  BOOST_TEST(skeleton_of(a_label_domain(U"\U0001D41Army", "mil")) == "army.mil");
  BOOST_TEST(skeleton_of(a_label_domain(U"\U0001D7CEne", "example")) == "0ne.example");  // bold 0
}

BOOST_AUTO_TEST_CASE(undecodable_labels_are_left_alone) {
  BOOST_TEST(skeleton_of("xn--99999999999.mil") == "-");
  BOOST_TEST(skeleton_of("xn--99999999999.xn--rmy-5cd.mil") == "xn--99999999999.army.mil");
}

BOOST_AUTO_TEST_CASE(prototypes_and_table) {
  BOOST_TEST(confusable_prototype(U'\u0430') == "a");
  BOOST_TEST(confusable_prototype(U'\u043E') == "o");
  BOOST_TEST(confusable_prototype(U'\u0440') == "p");
  BOOST_TEST(confusable_prototype(U'\u03BF') == "o");
  BOOST_TEST(confusable_prototype(U'\u0131') == "i");
  BOOST_TEST(confusable_prototype(U'\u00E6') == "ae");
  BOOST_TEST(confusable_prototype(U'a') == "");
  BOOST_TEST(confusable_prototype(U'\u4E2D') == "");
  BOOST_TEST(confusable_prototype(0x10FFFF) == "");
  // Generated from ICU's TR39 data at build time: the 829 hand-picked entries and the 1,436 ICU
  // maps to ASCII letters or digits, with accent stripping and decompositions on top.
  BOOST_TEST(confusable_table_size() > 2000u);
  BOOST_TEST(confusable_prototype(U'\u2C92') == "l");      // COPTIC CAPITAL LETTER IAUDA (ICU only)
  BOOST_TEST(confusable_prototype(U'\u2D4F') == "l");      // TIFINAGH LETTER YAN (ICU only)
  BOOST_TEST(confusable_prototype(U'\uA4E6') == "v");      // LISU LETTER HA (ICU only)
  BOOST_TEST(confusable_prototype(U'\u03E8') == "2");      // COPTIC CAPITAL LETTER HORI (ICU only)
  BOOST_TEST(confusable_prototype(U'\u0142') == "l");      // ł: not in TR39, a deliberate extra
  BOOST_TEST(confusable_prototype(U'\u00E0') == "a");      // à: accent stripping (TR39 keeps it)
  // Where ICU's skeleton is ambiguous (0/O, l/I/1, m/rn) the decomposition decides ...
  BOOST_TEST(confusable_prototype(U'\U0001D7CE') == "0");  // MATHEMATICAL BOLD DIGIT ZERO
  BOOST_TEST(confusable_prototype(U'\u2161') == "ii");     // ROMAN NUMERAL TWO
  BOOST_TEST(confusable_prototype(U'\uFF4D') == "m");      // FULLWIDTH m (skeleton "rn")
  BOOST_TEST(confusable_prototype(U'\u1E3F') == "m");      // ḿ (skeleton "rn" + accent)
  // ... and two deliberate overrides keep what a reader sees in a domain.
  BOOST_TEST(confusable_prototype(U'\u04CF') == "l");      // palochka (TR39: i)
  BOOST_TEST(confusable_prototype(U'\u017F') == "f");      // long s (NFKD: s)

  char32_t of_a[64];
  const std::size_t count = confusables_of('a', of_a);
  BOOST_TEST(count > 10u);
  BOOST_TEST((std::find(of_a, of_a + count, U'\u0430') != of_a + count));  // Cyrillic а
  BOOST_TEST((std::find(of_a, of_a + count, U'\u03B1') != of_a + count));  // Greek α
  BOOST_TEST(std::is_sorted(of_a, of_a + count));
  char32_t just_one[1];
  BOOST_TEST(confusables_of('a', just_one) == 1u);
  BOOST_TEST(confusables_of('_', just_one) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::inspect
