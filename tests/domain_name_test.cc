// Tests for normalize_domain: the canonical form and every reason a domain is refused.
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>

#include "inspect/domain_name.h"

namespace misdirect::inspect {

// Boost.Test prints a failed comparison's operands; found by argument-dependent lookup.
std::ostream& boost_test_print_type(std::ostream& stream, DomainError error) {
  return stream << describe(error);
}

namespace {

// The canonical text, or "!" + the reason when refused (so one assertion checks both).
std::string normalized(std::string_view raw) {
  CanonicalDomain domain;
  const DomainError error = normalize_domain(raw, domain);
  if (error != DomainError::kOk) {
    BOOST_TEST(domain.empty());
    return "!" + std::string(describe(error));
  }
  return std::string(domain.view());
}

DomainError error_of(std::string_view raw) {
  CanonicalDomain domain;
  return normalize_domain(raw, domain);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(domain_name)

BOOST_AUTO_TEST_CASE(ascii_is_lowercased_and_the_root_dot_dropped) {
  BOOST_TEST(normalized("Army.MIL") == "army.mil");
  BOOST_TEST(normalized("army.mil.") == "army.mil");
  BOOST_TEST(normalized("HQ.Army.Mil.") == "hq.army.mil");
  BOOST_TEST(normalized("a-b.c0m") == "a-b.c0m");
  BOOST_TEST(normalized("mil") == "mil");
  BOOST_TEST(normalized("r3---sn-abc.example") == "r3---sn-abc.example");
}

BOOST_AUTO_TEST_CASE(empty_and_empty_labels) {
  BOOST_TEST(error_of("") == DomainError::kEmpty);
  BOOST_TEST(error_of(".") == DomainError::kEmpty);
  BOOST_TEST(error_of("army.mil..") == DomainError::kEmptyLabel);
  BOOST_TEST(error_of(".army.mil") == DomainError::kEmptyLabel);
  BOOST_TEST(error_of("army..mil") == DomainError::kEmptyLabel);
}

BOOST_AUTO_TEST_CASE(characters_outside_letters_digits_hyphen_are_refused) {
  BOOST_TEST(error_of("ar my.mil") == DomainError::kInvalidCharacter);
  BOOST_TEST(error_of("under_score.example") == DomainError::kInvalidCharacter);
  BOOST_TEST(error_of("user@army.mil") == DomainError::kInvalidCharacter);
  BOOST_TEST(error_of(" army.mil") == DomainError::kInvalidCharacter);
  BOOST_TEST(error_of(std::string_view("army\0.mil", 9)) == DomainError::kInvalidCharacter);
  BOOST_TEST(normalized("ar my.mil") == "!invalid character");
}

BOOST_AUTO_TEST_CASE(address_literals_are_refused) {
  BOOST_TEST(error_of("[192.0.2.1]") == DomainError::kInvalidCharacter);
  BOOST_TEST(error_of("[IPv6:2001:db8::1]") == DomainError::kInvalidCharacter);
  BOOST_TEST(error_of("192.0.2.1") == DomainError::kNumericTld);
  BOOST_TEST(error_of("example.123") == DomainError::kNumericTld);
  BOOST_TEST(normalized("example.1a") == "example.1a");
}

BOOST_AUTO_TEST_CASE(hyphens_at_label_edges_are_refused) {
  BOOST_TEST(error_of("-army.mil") == DomainError::kHyphenAtLabelEdge);
  BOOST_TEST(error_of("army-.mil") == DomainError::kHyphenAtLabelEdge);
  BOOST_TEST(error_of("army.mil-") == DomainError::kHyphenAtLabelEdge);
}

BOOST_AUTO_TEST_CASE(length_limits) {
  const std::string label63(63, 'a');
  BOOST_TEST(normalized(label63 + ".com") == label63 + ".com");
  BOOST_TEST(error_of(std::string(64, 'a') + ".com") == DomainError::kLabelTooLong);
  // 4 labels of 63 plus 3 dots = 255 bytes; one byte less than 253 passes.
  const std::string longest = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  BOOST_TEST(longest.size() == 253u);
  BOOST_TEST(normalized(longest) == longest);
  BOOST_TEST(normalized(longest + ".") == longest);
  BOOST_TEST(error_of(longest + "b") == DomainError::kTooLong);
  BOOST_TEST(error_of(std::string(100000, 'a')) == DomainError::kLabelTooLong);
}

BOOST_AUTO_TEST_CASE(a_labels_are_validated) {
  BOOST_TEST(normalized("xn--bcher-kva.example") == "xn--bcher-kva.example");
  BOOST_TEST(normalized("XN--BCHER-KVA.Example") == "xn--bcher-kva.example");
  BOOST_TEST(normalized("xn--rmy-5cd.mil") == "xn--rmy-5cd.mil");
  // Not Punycode at all, or a truncated digit sequence.
  BOOST_TEST(error_of("xn--.example") == DomainError::kInvalidPunycode);
  BOOST_TEST(error_of("xn--bcher-kv.example") != DomainError::kOk);
  BOOST_TEST(error_of("xn--99999999999.example") == DomainError::kInvalidPunycode);  // overflow
  BOOST_TEST(error_of("xn--ls8h-.example") == DomainError::kInvalidPunycode);
  BOOST_TEST(error_of("xn--zz.example") == DomainError::kInvalidPunycode);
  // Decodes to plain ASCII ("abc"): a fake A-label.
  BOOST_TEST(error_of("xn--abc-.example") == DomainError::kInvalidPunycode);
  // Decodes to U+0080, a C1 control: never in a label.
  BOOST_TEST(error_of("xn--a.example") == DomainError::kInvalidPunycode);
  // Our ASCII rules still come first, worded as always.
  BOOST_TEST(error_of("xn--bcher-kva_.example") == DomainError::kInvalidCharacter);
  BOOST_TEST(error_of("xn--bcher-kva.-x.example") == DomainError::kHyphenAtLabelEdge);
  BOOST_TEST(error_of("xn--bcher-kva.123") == DomainError::kNumericTld);
}

BOOST_AUTO_TEST_CASE(a_labels_are_judged_as_the_uts46_lookup_judges_them) {
  // An A-label is not mapped: a mail server's UTS #46 lookup decodes it and refuses it unless
  // every code point is valid as it stands and the label is in NFC. So what a U-label would be
  // mapped from is refused when it arrives already encoded.
  // Fullwidth ＡＲＭＹ (the U-label maps to army; the A-label of the fullwidth letters is refused).
  BOOST_TEST(normalized("\xEF\xBC\xA1\xEF\xBC\xB2\xEF\xBC\xAD\xEF\xBC\xB9.ml") == "army.ml");
  BOOST_TEST(error_of("xn--ph7cyao3a.ml") == DomainError::kInvalidPunycode);
  // NFD "mu\u0308nchen": the U-label is composed to münchen; its A-label is not NFC, refused.
  BOOST_TEST(normalized("mu\xCC\x88nchen.de") == "xn--mnchen-3ya.de");
  BOOST_TEST(error_of("xn--munchen-gie.de") == DomainError::kInvalidPunycode);
  BOOST_TEST(normalized("xn--mnchen-3ya.de") == "xn--mnchen-3ya.de");
  // Capital İ: the U-label maps to i + U+0307 (xn--info-qwc); an A-label holding İ is refused.
  BOOST_TEST(normalized("\xC4\xB0nfo.example") == "xn--info-qwc.example");
  BOOST_TEST(error_of("xn--nfo-eua.example") == DomainError::kInvalidPunycode);
  BOOST_TEST(normalized("xn--info-qwc.example") == "xn--info-qwc.example");
  // A capital Ü inside the Punycode (the basic letters' case is folded first, as libidn2 does).
  BOOST_TEST(error_of("xn--bcher-2pa.example") == DomainError::kInvalidPunycode);
  BOOST_TEST(normalized("xn--Bcher-kva.example") == "xn--bcher-kva.example");
  // A hidden zero-width space, and a disallowed symbol.
  BOOST_TEST(error_of("xn--army-w76a.mil") == DomainError::kInvalidPunycode);
  BOOST_TEST(error_of("xn--ls8h.example") == DomainError::kInvalidPunycode);
  // ß is valid as it stands (nontransitional): kept.
  BOOST_TEST(normalized("xn--strae-oqa.de") == "xn--strae-oqa.de");
}

BOOST_AUTO_TEST_CASE(the_a_label_path_is_reported_apart) {
  CanonicalDomain domain;
  BOOST_TEST((normalize_domain("army.ml", domain) == DomainError::kOk));
  BOOST_TEST(!domain.a_labels_checked());
  BOOST_TEST((normalize_domain("mail.XN--RMY-5CD.mil", domain) == DomainError::kOk));
  BOOST_TEST(domain.view() == "mail.xn--rmy-5cd.mil");
  BOOST_TEST(domain.a_labels_checked());
  BOOST_TEST(!domain.idna_mapped());
  // Refused, and still reported (the caller counts the call).
  BOOST_TEST((normalize_domain("xn--zz.mil", domain) == DomainError::kInvalidPunycode));
  BOOST_TEST(domain.a_labels_checked());
  // "xn--" inside a label is no A-label.
  BOOST_TEST((normalize_domain("axn--b.example", domain) == DomainError::kOk));
  BOOST_TEST(!domain.a_labels_checked());
  BOOST_TEST(domain.assign("xn--rmy-5cd.mil"));
  BOOST_TEST(!domain.a_labels_checked());
}

BOOST_AUTO_TEST_CASE(u_labels_become_a_labels) {
  BOOST_TEST(normalized("bücher.example") == "xn--bcher-kva.example");
  BOOST_TEST(normalized("BÜCHER.example") == "xn--bcher-kva.example");
  BOOST_TEST(normalized("münchen.de") == "xn--mnchen-3ya.de");
  // Cyrillic а (U+0430) in place of the Latin a.
  BOOST_TEST(normalized("\xD0\xB0rmy.mil") == "xn--rmy-5cd.mil");
  BOOST_TEST(normalized("\xD0\x90RMY.mil") == "xn--rmy-5cd.mil");  // capital А lowercases
  // Greek capitals lowercase too: ΑΡΜΥ → αρμυ.
  BOOST_TEST(normalized("ΑΡΜΥ.example") == "xn--mxawor.example");
  // RFC 3492 §7.1 (B), Chinese (simplified), as a whole label.
  BOOST_TEST(normalized("他们为什么不说中文.example") == "xn--ihqwcrb4cv8a8dqg056pqjye.example");
  // RFC 3492 §7.1 (D): the Czech sample, lowercased.
  BOOST_TEST(normalized("Pročprostěnemluvíčesky.cz") == "xn--proprostnemluvesky-uyb24dma41a.cz");
  // Ideographic full stops separate labels as '.' does.
  BOOST_TEST(normalized("bücher\xE3\x80\x82" "example") == "xn--bcher-kva.example");
  BOOST_TEST(normalized("bücher.example\xEF\xBC\x8E") == "xn--bcher-kva.example");
}

// UTS #46 (libidn2, nontransitional): what a mail server maps a U-label to before it looks it up.
BOOST_AUTO_TEST_CASE(u_labels_are_mapped_with_uts46) {
  // Fullwidth letters, as an SMTPUTF8 client may send them: the mail goes to army.ml.
  BOOST_TEST(normalized("\xEF\xBC\xA1\xEF\xBC\xB2\xEF\xBC\xAD\xEF\xBC\xB9.ml") == "army.ml");  // ＡＲＭＹ.ml
  BOOST_TEST(normalized("\xEF\xBD\x81rmy.ml") == "army.ml");                                   // ａrmy.ml
  BOOST_TEST(normalized("\xEF\xBD\x81\xEF\xBD\x92\xEF\xBD\x8D\xEF\xBD\x99\xE3\x80\x82ml") == "army.ml");  // ａｒｍｙ。ml
  // NFD (u + combining diaeresis) is the same name as NFC ü.
  BOOST_TEST(normalized("mu\xCC\x88nchen.de") == "xn--mnchen-3ya.de");
  BOOST_TEST(normalized("mu\xCC\x88nchen.de") == normalized("m\xC3\xBCnchen.de"));
  // İ (U+0130) maps to i + U+0307, an IDN: it is not folded to a plain i.
  BOOST_TEST(normalized("\xC4\xB0nfo.example") == "xn--info-qwc.example");
  BOOST_TEST(normalized("i\xCC\x87nfo.example") == "xn--info-qwc.example");
  // Nontransitional: ß and ς stay themselves (IDNA2003 mapped them to ss and σ).
  BOOST_TEST(normalized("stra\xC3\x9F" "e.de") == "xn--strae-oqa.de");
  BOOST_TEST(normalized("STRA\xE1\xBA\x9E" "E.de") == "strasse.de");  // capital ẞ is mapped to ss
  // Ignored code points are dropped: a zero-width space or soft hyphen hides nothing.
  BOOST_TEST(normalized("ar\xE2\x80\x8Bmy.mil") == "army.mil");
  BOOST_TEST(normalized("ar\xC2\xADmy.ml") == "army.ml");
  // A fullwidth "xn--" is an A-label once mapped, and is validated as one.
  BOOST_TEST(normalized("\xEF\xBD\x98\xEF\xBD\x8E\xEF\xBC\x8D\xEF\xBC\x8D" "bcher-kva.example") ==
             "xn--bcher-kva.example");
  BOOST_TEST(error_of("\xEF\xBD\x98\xEF\xBD\x8E\xEF\xBC\x8D\xEF\xBC\x8D" "abc-.example") ==
             DomainError::kInvalidPunycode);
  // Roman numeral Ⅻ is the letters xii.
  BOOST_TEST(normalized("\xE2\x85\xAB.example") == "xii.example");
  // An uppercase A-label beside a U-label is lowercased like any ASCII.
  BOOST_TEST(normalized("b\xC3\xBC" "cher.XN--BCHER-KVA.Example") == "xn--bcher-kva.xn--bcher-kva.example");
}

BOOST_AUTO_TEST_CASE(uts46_refusals) {
  // A fullwidth low line maps to '_', which no host name holds (libidn2's STD3 mode would drop it).
  BOOST_TEST(error_of("b\xC3\xBC\xEF\xBC\xBF" "cher.example") == DomainError::kInvalidCharacter);
  // The small full stop maps to '.' only outside host names (STD3): refused, not a separator.
  BOOST_TEST(error_of("b\xC3\xBC\xEF\xB9\x92" "cher.example") == DomainError::kInvalidCharacter);
  // A zero-width joiner outside its CONTEXTJ rule; the bidi rule (Latin then Hebrew in a label).
  BOOST_TEST(error_of("a\xCC\x88\xE2\x80\x8D.example") == DomainError::kInvalidCharacter);
  BOOST_TEST(error_of("a\xD7\x90.example") == DomainError::kInvalidCharacter);
  BOOST_TEST(normalized("\xD7\x90\xD7\x91.com") == "xn--4dbc.com");
  // An ideographic full stop at the end is the root; empty labels stay errors.
  BOOST_TEST(normalized("b\xC3\xBC" "cher.example\xE3\x80\x82") == "xn--bcher-kva.example");
  BOOST_TEST(error_of("b\xC3\xBC" "cher..example") == DomainError::kEmptyLabel);
  BOOST_TEST(error_of("\xE3\x80\x82" "b\xC3\xBC" "cher.example") == DomainError::kEmptyLabel);
  BOOST_TEST(error_of("b\xC3\xBC" "cher.123") == DomainError::kNumericTld);
  // A non-ASCII name longer than the library is given is refused before the call.
  std::string long_name = "b\xC3\xBC" "cher.";
  long_name += std::string(kMaxIdnaInputBytes, 'a');
  BOOST_TEST(error_of(long_name) == DomainError::kTooLong);
}

BOOST_AUTO_TEST_CASE(the_unicode_form_beside_an_a_label) {
  const auto form = [](std::string_view canonical) {
    char out[kMaxUnicodeDomainBytes];
    return std::string(out, unicode_form(canonical, out));
  };
  BOOST_TEST(form("xn--rmy-5cd.mil") == "\xD0\xB0rmy.mil");  // Cyrillic а
  BOOST_TEST(form("mail.xn--mnchen-3ya.de") == "mail.m\xC3\xBCnchen.de");
  BOOST_TEST(form("xn--ihqwcrb4cv8a8dqg056pqjye.example") == "他们为什么不说中文.example");
  BOOST_TEST(form("army.ml") == "");           // no A-label: the name is its own Unicode form
  BOOST_TEST(form("fooxn--bar.example") == "");
  BOOST_TEST(form("xn--99999999999.mil") == "");  // does not decode
  char small[4];
  BOOST_TEST(unicode_form("xn--rmy-5cd.mil", small) == 0u);
}

BOOST_AUTO_TEST_CASE(the_rare_path_is_reported) {
  CanonicalDomain domain;
  BOOST_TEST((normalize_domain("army.ml", domain) == DomainError::kOk));
  BOOST_TEST(!domain.idna_mapped());
  BOOST_TEST((normalize_domain("xn--rmy-5cd.mil", domain) == DomainError::kOk));
  BOOST_TEST(!domain.idna_mapped());
  BOOST_TEST((normalize_domain("\xEF\xBC\xA1rmy.ml", domain) == DomainError::kOk));
  BOOST_TEST(domain.idna_mapped());
  BOOST_TEST((normalize_domain("b\xC3", domain) == DomainError::kInvalidUtf8));
  BOOST_TEST(domain.idna_mapped());
  BOOST_TEST(domain.assign("army.ml"));
  BOOST_TEST(!domain.idna_mapped());
}

BOOST_AUTO_TEST_CASE(bad_u_labels_are_refused) {
  BOOST_TEST(error_of("b\xC3.example") == DomainError::kInvalidUtf8);          // truncated
  BOOST_TEST(error_of("b\xC0\xAF.example") == DomainError::kInvalidUtf8);      // overlong '/'
  BOOST_TEST(error_of("b\xED\xA0\x80.example") == DomainError::kInvalidUtf8);  // surrogate
  BOOST_TEST(error_of("b\xFF.example") == DomainError::kInvalidUtf8);
  BOOST_TEST(error_of("bü_cher.example") == DomainError::kInvalidCharacter);
  BOOST_TEST(error_of("b\xC2\xA0ucher.example") == DomainError::kInvalidCharacter);  // NBSP → space
  BOOST_TEST(error_of("b\xC3\xBC cher.example") == DomainError::kInvalidCharacter);
  BOOST_TEST(error_of("\xCC\x88u.example") == DomainError::kInvalidCharacter);  // leading combining
  BOOST_TEST(error_of("-bücher.example") == DomainError::kHyphenAtLabelEdge);
  BOOST_TEST(normalized("büc--her.example") == "xn--bc--her-n2a.example");
  BOOST_TEST(error_of("bü--cher.example") == DomainError::kHyphenAtLabelEdge);
  BOOST_TEST(error_of("bü-cher-.example") == DomainError::kHyphenAtLabelEdge);
  BOOST_TEST(error_of("ab--ü.example") == DomainError::kHyphenAtLabelEdge);
  // 30 two-byte letters fit; 60 encode to more than 63 bytes.
  std::string long_label;
  for (int i = 0; i < 60; ++i) {
    long_label += "ü";
  }
  BOOST_TEST(error_of(long_label + ".example") == DomainError::kLabelTooLong);
}

BOOST_AUTO_TEST_CASE(plain_domains_and_the_ones_that_need_the_full_rules_agree) {
  // Plain letters, digits, hyphens and dots are normalised in one pass; anything else (an A-label,
  // non-ASCII, an error) anywhere in the name takes the full rules, with the same results.
  BOOST_TEST(normalized("Mail.Army.MIL") == "mail.army.mil");
  BOOST_TEST(normalized("123.army") == "123.army");
  BOOST_TEST(normalized("xn-a.example") == "xn-a.example");
  BOOST_TEST(normalized("axn--b.example") == "axn--b.example");
  BOOST_TEST(normalized("mail.XN--BCHER-KVA.example.") == "mail.xn--bcher-kva.example");
  BOOST_TEST(normalized("mail.bücher.example") == "mail.xn--bcher-kva.example");
  BOOST_TEST(error_of("army.123.") == DomainError::kNumericTld);
  BOOST_TEST(error_of("army.1-2") == DomainError::kOk);
  BOOST_TEST(error_of("mail.army.mil_") == DomainError::kInvalidCharacter);
  BOOST_TEST(error_of("mail.-army.mil") == DomainError::kHyphenAtLabelEdge);
  BOOST_TEST(error_of("mail.army-.mil") == DomainError::kHyphenAtLabelEdge);
  BOOST_TEST(error_of("mail..mil") == DomainError::kEmptyLabel);
  BOOST_TEST(error_of("mail.xn--.mil") == DomainError::kInvalidPunycode);
  BOOST_TEST(normalized("ARMY.MIL.") == "army.mil");
  BOOST_TEST(normalized("ARMY.MIL..") == "!empty label");
  // A refused name after an accepted one leaves nothing of the first behind.
  CanonicalDomain domain;
  BOOST_TEST((normalize_domain("army.mil", domain) == DomainError::kOk));
  BOOST_TEST((normalize_domain("army.m l", domain) == DomainError::kInvalidCharacter));
  BOOST_TEST(domain.empty());
  BOOST_TEST(domain.view() == "");
}

BOOST_AUTO_TEST_CASE(every_byte_position_of_a_plain_name_is_checked) {
  // Plain names are read eight bytes at a time (the last word overlapping): put each kind of byte
  // at each position so that every lane of a word and the overlap see it.
  const std::string base = "abcdefghi.jklmnopq.rst";  // 22 bytes: two words and an overlap
  for (std::size_t at = 0; at < base.size(); ++at) {
    if (base[at] == '.') {
      continue;
    }
    std::string upper = base;
    upper[at] = static_cast<char>(upper[at] - 'a' + 'A');
    BOOST_TEST(normalized(upper) == base);
    for (const char bad : {'@', '[', '`', '{', '/', ':', '_', ' ', '\x7f', '\0', '+'}) {
      std::string text = base;
      text[at] = bad;
      BOOST_TEST(error_of(text) == DomainError::kInvalidCharacter, "byte " << static_cast<int>(bad) << " at " << at);
    }
    std::string non_ascii = base;
    non_ascii[at] = '\x80';
    BOOST_TEST(error_of(non_ascii) == DomainError::kInvalidUtf8);
  }
  for (std::size_t length = 1; length <= 17; ++length) {
    for (std::size_t dot = 0; dot < length; ++dot) {
      std::string text(length, 'a');
      text[dot] = '.';
      const DomainError expected = length == 1 ? DomainError::kEmpty
                                   : dot == 0 ? DomainError::kEmptyLabel
                                              : DomainError::kOk;
      BOOST_TEST(error_of(text) == expected, text);
      if (dot > 0 && dot + 1 < length) {
        std::string hyphen_before = text;
        hyphen_before[dot - 1] = '-';
        BOOST_TEST(error_of(hyphen_before) == DomainError::kHyphenAtLabelEdge, hyphen_before);
        std::string hyphen_after = text;
        hyphen_after[dot + 1] = '-';
        BOOST_TEST(error_of(hyphen_after) == DomainError::kHyphenAtLabelEdge, hyphen_after);
        std::string two_dots = text;
        two_dots[dot + 1] = '.';
        BOOST_TEST(error_of(two_dots) == DomainError::kEmptyLabel, two_dots);
      }
    }
  }
  BOOST_TEST(normalized("ABCDEFG.XN--BCHER-KVA") == "abcdefg.xn--bcher-kva");
  BOOST_TEST(normalized("abcdefgh.xn--bcher-kva.Example") == "abcdefgh.xn--bcher-kva.example");
  BOOST_TEST(error_of("abcdefgh.12345678") == DomainError::kNumericTld);
  BOOST_TEST(normalized("12345678.abcdefg1") == "12345678.abcdefg1");
  BOOST_TEST(normalized("A-B-C-D-E-F-G-H-I.Z") == "a-b-c-d-e-f-g-h-i.z");
}

BOOST_AUTO_TEST_CASE(assign_copies_canonical_text) {
  CanonicalDomain domain;
  BOOST_TEST(domain.assign("army.mil"));
  BOOST_TEST(domain.view() == "army.mil");
  CanonicalDomain normalized_domain;
  BOOST_TEST((normalize_domain("ARMY.MIL.", normalized_domain) == DomainError::kOk));
  BOOST_TEST((domain == normalized_domain));
  BOOST_TEST(!domain.assign(std::string(254, 'a')));
  BOOST_TEST(domain.empty());
}

BOOST_AUTO_TEST_CASE(every_error_is_described) {
  BOOST_TEST(describe(DomainError::kInvalidCharacter) == "invalid character");
  BOOST_TEST(describe(DomainError::kInvalidPunycode) == "invalid IDN A-label (xn-- punycode)");
  BOOST_TEST(describe(DomainError::kNumericTld) == "all-numeric top-level label");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::inspect
