// Writes inspect/confusables_table.h at build time: every code point that reads as one or two
// ASCII letters, digits or '-' in a domain, with that ASCII prototype, sorted for binary search.
//
// Run by meson (inspect/meson.build) with ICU, so the table follows the ICU that Debian ships:
//   confusables_table_generator OUTPUT
//
// A code point's prototype comes from the first of these that gives one:
//   1. kOverrides: where we deliberately disagree with ICU (docs/lookalikes.md says why).
//   2. A compatibility decomposition (NFKD) that is plain ASCII: the character is that text in
//      another width or style (ｍ → m, 𝟎 → 0, Ⅱ → ii). ICU's skeleton cannot tell "0" from "O"
//      or "I" from "l" (they are one skeleton), and the decomposition can.
//   3. ICU's spoof checker (uspoof_getSkeleton, Unicode TR39 confusables): the character's
//      skeleton, translated back to the shortest ASCII text with the same skeleton. ICU's
//      skeletons fold ASCII too ("m" is "rn", "1" and "I" are "l", "0" is "O"), so a skeleton is
//      read through the skeletons of ASCII: U+FF4D FULLWIDTH m has skeleton "rn", which is the
//      skeleton of "m", so its prototype is "m".
//   4. kExtras: the letters TR39 does not list that still read as an ASCII letter in a domain
//      (strokes and hooks, Greek η ω κ τ χ, Cyrillic к м п т ь ы, Cherokee small letters, ß).
//   5. Accent stripping: the canonical decomposition (NFD) with its combining marks dropped, each
//      remaining character mapped by 3 or 4 (à → a, ǿ → ø → o). TR39 keeps accents (its
//      skeleton of "à" is "a" + U+0300); a reader skimming an address does not.
//   6. The compatibility decomposition (NFKD), the same way (ℓ → l, ⅱ → ii, ｅ → e, 𝐚 → a): what
//      UTS #46 maps a U-label by, so an A-label sent with those characters gets the skeleton the
//      U-label would have been mapped to.
// The prototype must be 1 or 2 characters of [a-z0-9-] (lowercased).
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

struct Prototype {
  char32_t code_point;
  const char* ascii;
};

// Deliberate choices where the rules below would answer otherwise. The palochka ӏ is "i" to TR39
// (it is the Cyrillic I-like stroke), but in a domain it stands in for l ("paypaӏ.com",
// "аррӏе.com"). The long s ſ decomposes to s (step 2), but it is drawn like an f, as TR39 says.
constexpr Prototype kOverrides[] = {
    {0x017F, "f"},  // LATIN SMALL LETTER LONG S
    {0x04CF, "l"},  // CYRILLIC SMALL LETTER PALOCHKA
};

// Letters ICU's confusables data does not map to ASCII that still read as the letter given.
constexpr Prototype kExtras[] = {
    {0x00DF, "ss"},  // LATIN SMALL LETTER SHARP S
    {0x00F0, "d"},  // LATIN SMALL LETTER ETH
    {0x00F8, "o"},  // LATIN SMALL LETTER O WITH STROKE
    {0x0111, "d"},  // LATIN SMALL LETTER D WITH STROKE
    {0x0127, "h"},  // LATIN SMALL LETTER H WITH STROKE
    {0x0138, "k"},  // LATIN SMALL LETTER KRA
    {0x0140, "l"},  // LATIN SMALL LETTER L WITH MIDDLE DOT
    {0x0142, "l"},  // LATIN SMALL LETTER L WITH STROKE
    {0x014B, "n"},  // LATIN SMALL LETTER ENG
    {0x0167, "t"},  // LATIN SMALL LETTER T WITH STROKE
    {0x0180, "b"},  // LATIN SMALL LETTER B WITH STROKE
    {0x0183, "b"},  // LATIN SMALL LETTER B WITH TOPBAR
    {0x0185, "b"},  // LATIN SMALL LETTER TONE SIX
    {0x0188, "c"},  // LATIN SMALL LETTER C WITH HOOK
    {0x018C, "d"},  // LATIN SMALL LETTER D WITH TOPBAR
    {0x0192, "f"},  // LATIN SMALL LETTER F WITH HOOK
    {0x0199, "k"},  // LATIN SMALL LETTER K WITH HOOK
    {0x019A, "l"},  // LATIN SMALL LETTER L WITH BAR
    {0x019E, "n"},  // LATIN SMALL LETTER N WITH LONG RIGHT LEG
    {0x01A5, "p"},  // LATIN SMALL LETTER P WITH HOOK
    {0x01AB, "t"},  // LATIN SMALL LETTER T WITH PALATAL HOOK
    {0x01AD, "t"},  // LATIN SMALL LETTER T WITH HOOK
    {0x01B4, "y"},  // LATIN SMALL LETTER Y WITH HOOK
    {0x01B6, "z"},  // LATIN SMALL LETTER Z WITH STROKE
    {0x01E5, "g"},  // LATIN SMALL LETTER G WITH STROKE
    {0x0234, "l"},  // LATIN SMALL LETTER L WITH CURL
    {0x0235, "n"},  // LATIN SMALL LETTER N WITH CURL
    {0x0236, "t"},  // LATIN SMALL LETTER T WITH CURL
    {0x0237, "j"},  // LATIN SMALL LETTER DOTLESS J
    {0x023C, "c"},  // LATIN SMALL LETTER C WITH STROKE
    {0x023F, "s"},  // LATIN SMALL LETTER S WITH SWASH TAIL
    {0x0240, "z"},  // LATIN SMALL LETTER Z WITH SWASH TAIL
    {0x0247, "e"},  // LATIN SMALL LETTER E WITH STROKE
    {0x0249, "j"},  // LATIN SMALL LETTER J WITH STROKE
    {0x024D, "r"},  // LATIN SMALL LETTER R WITH STROKE
    {0x024F, "y"},  // LATIN SMALL LETTER Y WITH STROKE
    {0x0253, "b"},  // LATIN SMALL LETTER B WITH HOOK
    {0x0255, "c"},  // LATIN SMALL LETTER C WITH CURL
    {0x0256, "d"},  // LATIN SMALL LETTER D WITH TAIL
    {0x0257, "d"},  // LATIN SMALL LETTER D WITH HOOK
    {0x0260, "g"},  // LATIN SMALL LETTER G WITH HOOK
    {0x0262, "g"},  // LATIN LETTER SMALL CAPITAL G
    {0x0266, "h"},  // LATIN SMALL LETTER H WITH HOOK
    {0x0268, "i"},  // LATIN SMALL LETTER I WITH STROKE
    {0x026B, "l"},  // LATIN SMALL LETTER L WITH MIDDLE TILDE
    {0x026C, "l"},  // LATIN SMALL LETTER L WITH BELT
    {0x026D, "l"},  // LATIN SMALL LETTER L WITH RETROFLEX HOOK
    {0x0271, "m"},  // LATIN SMALL LETTER M WITH HOOK
    {0x0272, "n"},  // LATIN SMALL LETTER N WITH LEFT HOOK
    {0x0273, "n"},  // LATIN SMALL LETTER N WITH RETROFLEX HOOK
    {0x0274, "n"},  // LATIN LETTER SMALL CAPITAL N
    {0x0275, "o"},  // LATIN SMALL LETTER BARRED O
    {0x027C, "r"},  // LATIN SMALL LETTER R WITH LONG LEG
    {0x027D, "r"},  // LATIN SMALL LETTER R WITH TAIL
    {0x027E, "r"},  // LATIN SMALL LETTER R WITH FISHHOOK
    {0x0280, "r"},  // LATIN LETTER SMALL CAPITAL R
    {0x0282, "s"},  // LATIN SMALL LETTER S WITH HOOK
    {0x0288, "t"},  // LATIN SMALL LETTER T WITH RETROFLEX HOOK
    {0x0289, "u"},  // LATIN SMALL LETTER U BAR
    {0x0290, "z"},  // LATIN SMALL LETTER Z WITH RETROFLEX HOOK
    {0x0291, "z"},  // LATIN SMALL LETTER Z WITH CURL
    {0x0299, "b"},  // LATIN LETTER SMALL CAPITAL B
    {0x029C, "h"},  // LATIN LETTER SMALL CAPITAL H
    {0x029D, "j"},  // LATIN SMALL LETTER J WITH CROSSED-TAIL
    {0x029F, "l"},  // LATIN LETTER SMALL CAPITAL L
    {0x02A0, "q"},  // LATIN SMALL LETTER Q WITH HOOK
    {0x03B7, "n"},  // GREEK SMALL LETTER ETA
    {0x03BA, "k"},  // GREEK SMALL LETTER KAPPA
    {0x03C4, "t"},  // GREEK SMALL LETTER TAU
    {0x03C7, "x"},  // GREEK SMALL LETTER CHI
    {0x03C9, "w"},  // GREEK SMALL LETTER OMEGA
    {0x0437, "3"},  // CYRILLIC SMALL LETTER ZE
    {0x043A, "k"},  // CYRILLIC SMALL LETTER KA
    {0x043C, "m"},  // CYRILLIC SMALL LETTER EM
    {0x043F, "n"},  // CYRILLIC SMALL LETTER PE
    {0x0442, "t"},  // CYRILLIC SMALL LETTER TE
    {0x044B, "bl"},  // CYRILLIC SMALL LETTER YERU
    {0x044C, "b"},  // CYRILLIC SMALL LETTER SOFT SIGN
    {0x0452, "h"},  // CYRILLIC SMALL LETTER DJE
    {0x045B, "h"},  // CYRILLIC SMALL LETTER TSHE
    {0x0473, "o"},  // CYRILLIC SMALL LETTER FITA
    {0x049D, "k"},  // CYRILLIC SMALL LETTER KA WITH VERTICAL STROKE
    {0x049F, "k"},  // CYRILLIC SMALL LETTER KA WITH STROKE
    {0x04AB, "c"},  // CYRILLIC SMALL LETTER ES WITH DESCENDER
    {0x04B1, "y"},  // CYRILLIC SMALL LETTER STRAIGHT U WITH STROKE
    {0x04B3, "x"},  // CYRILLIC SMALL LETTER HA WITH DESCENDER
    {0x04BF, "e"},  // CYRILLIC SMALL LETTER ABKHASIAN CHE WITH DESCENDER
    {0x04E1, "3"},  // CYRILLIC SMALL LETTER ABKHASIAN DZE
    {0x04E9, "o"},  // CYRILLIC SMALL LETTER BARRED O
    {0x04FD, "x"},  // CYRILLIC SMALL LETTER HA WITH HOOK
    {0x04FF, "x"},  // CYRILLIC SMALL LETTER HA WITH STROKE
    {0x1D00, "a"},  // LATIN LETTER SMALL CAPITAL A
    {0x1D05, "d"},  // LATIN LETTER SMALL CAPITAL D
    {0x1D07, "e"},  // LATIN LETTER SMALL CAPITAL E
    {0x1D0A, "j"},  // LATIN LETTER SMALL CAPITAL J
    {0x1D0B, "k"},  // LATIN LETTER SMALL CAPITAL K
    {0x1D0D, "m"},  // LATIN LETTER SMALL CAPITAL M
    {0x1D18, "p"},  // LATIN LETTER SMALL CAPITAL P
    {0x1D1B, "t"},  // LATIN LETTER SMALL CAPITAL T
    {0xAB70, "d"},  // CHEROKEE SMALL LETTER A
    {0xAB71, "r"},  // CHEROKEE SMALL LETTER E
    {0xAB72, "t"},  // CHEROKEE SMALL LETTER I
    {0xAB79, "y"},  // CHEROKEE SMALL LETTER GI
    {0xAB7A, "a"},  // CHEROKEE SMALL LETTER GO
    {0xAB7B, "j"},  // CHEROKEE SMALL LETTER GU
    {0xAB7C, "e"},  // CHEROKEE SMALL LETTER GV
    {0xAB87, "m"},  // CHEROKEE SMALL LETTER LU
    {0xAB8B, "h"},  // CHEROKEE SMALL LETTER MI
    {0xAB8D, "y"},  // CHEROKEE SMALL LETTER MU
    {0xAB90, "g"},  // CHEROKEE SMALL LETTER NAH
    {0xAB92, "h"},  // CHEROKEE SMALL LETTER NI
    {0xAB9E, "4"},  // CHEROKEE SMALL LETTER SE
    {0xAB9F, "b"},  // CHEROKEE SMALL LETTER SI
    {0xABA2, "r"},  // CHEROKEE SMALL LETTER SV
    {0xABA4, "w"},  // CHEROKEE SMALL LETTER TA
    {0xABA5, "s"},  // CHEROKEE SMALL LETTER DE
    {0xABAE, "l"},  // CHEROKEE SMALL LETTER TLE
    {0xABB2, "p"},  // CHEROKEE SMALL LETTER TLV
    {0xABB6, "k"},  // CHEROKEE SMALL LETTER TSO
    {0xABB7, "d"},  // CHEROKEE SMALL LETTER TSU
    {0xABBE, "6"},  // CHEROKEE SMALL LETTER WV
    {0xFE63, "-"},  // SMALL HYPHEN-MINUS
};

void fail(const char* what, UErrorCode status) {
  std::fprintf(stderr, "confusables_table_generator: %s: %s\n", what, u_errorName(status));
  std::exit(1);
}

std::u16string utf16(const std::u32string& text) {
  std::u16string out;
  for (const char32_t c : text) {
    UChar units[2];
    int32_t length = 0;
    U16_APPEND_UNSAFE(units, length, static_cast<UChar32>(c));
    out.append(reinterpret_cast<const char16_t*>(units), static_cast<std::size_t>(length));
  }
  return out;
}

std::u32string utf32(const std::u16string& text) {
  std::u32string out;
  for (int32_t i = 0; i < static_cast<int32_t>(text.size());) {
    UChar32 c;
    U16_NEXT(reinterpret_cast<const UChar*>(text.data()), i, static_cast<int32_t>(text.size()), c);
    out.push_back(static_cast<char32_t>(c));
  }
  return out;
}

class Generator {
 public:
  Generator() {
    UErrorCode status = U_ZERO_ERROR;
    checker_ = uspoof_open(&status);
    if (U_FAILURE(status)) {
      fail("uspoof_open", status);
    }
    nfd_ = unorm2_getNFDInstance(&status);
    nfkd_ = unorm2_getNFKDInstance(&status);
    if (U_FAILURE(status)) {
      fail("unorm2_get*Instance", status);
    }
    for (const Prototype& extra : kExtras) {
      extras_[extra.code_point] = extra.ascii;
    }
    // Every ASCII text of one or two characters, by its skeleton. The preferred text for a
    // skeleton is the shortest, then the skeleton itself, then letters before digits.
    const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::vector<std::string> texts;
    for (const char a : alphabet) {
      texts.emplace_back(1, a);
    }
    for (const char a : alphabet) {
      for (const char b : alphabet) {
        texts.push_back(std::string{a, b});
      }
    }
    for (const std::string& text : texts) {
      const std::u16string key = skeleton(utf16(std::u32string(text.begin(), text.end())));
      const auto found = ascii_by_skeleton_.find(key);
      if (found == ascii_by_skeleton_.end() || better(text, found->second, key)) {
        ascii_by_skeleton_[key] = text;
      }
    }
  }
  ~Generator() { uspoof_close(checker_); }

  // The prototype of one code point (steps 1 to 6 of the file's comment), or nothing.
  std::optional<std::string> prototype(char32_t c) {
    for (const Prototype& chosen : kOverrides) {
      if (chosen.code_point == c) {
        return chosen.ascii;
      }
    }
    const std::u32string compatible = normalize(nfkd_, c);
    if (!compatible.empty() && compatible.size() <= 2 &&
        std::all_of(compatible.begin(), compatible.end(), [](char32_t a) {
          return a < 0x80 && (is_letter_or_digit(static_cast<char>(a)) || a == '-');
        })) {
      std::string lower;
      for (const char32_t a : compatible) {
        lower += static_cast<char>(a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a);
      }
      return lower;
    }
    if (std::optional<std::string> mapped = single(c)) {
      return mapped;
    }
    for (const UNormalizer2* form : {nfd_, nfkd_}) {
      const std::u32string decomposed = normalize(form, c);
      if (decomposed != std::u32string(1, c)) {
        if (std::optional<std::string> mapped = of_text(decomposed)) {
          return mapped;
        }
      }
    }
    return std::nullopt;
  }

 private:
  static bool is_letter_or_digit(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  // Is `candidate` a better ASCII reading of `key` than `current`?
  static bool better(const std::string& candidate, const std::string& current,
                     const std::u16string& key) {
    if (candidate.size() != current.size()) {
      return candidate.size() < current.size();
    }
    const std::u16string candidate16(candidate.begin(), candidate.end());
    const std::u16string current16(current.begin(), current.end());
    if ((candidate16 == key) != (current16 == key)) {
      return candidate16 == key;
    }
    return false;  // otherwise the first in alphabet order (letters, digits, '-', capitals)
  }

  std::u16string skeleton(const std::u16string& text) {
    UErrorCode status = U_ZERO_ERROR;
    UChar out[64];
    const int32_t length =
        uspoof_getSkeleton(checker_, 0, reinterpret_cast<const UChar*>(text.data()),
                           static_cast<int32_t>(text.size()), out, 64, &status);
    if (U_FAILURE(status)) {
      return {};
    }
    return std::u16string(reinterpret_cast<const char16_t*>(out), static_cast<std::size_t>(length));
  }

  std::u32string normalize(const UNormalizer2* form, char32_t c) {
    const std::u16string in = utf16(std::u32string(1, c));
    UErrorCode status = U_ZERO_ERROR;
    UChar out[64];
    const int32_t length = unorm2_normalize(form, reinterpret_cast<const UChar*>(in.data()),
                                            static_cast<int32_t>(in.size()), out, 64, &status);
    if (U_FAILURE(status)) {
      return std::u32string(1, c);
    }
    return utf32(std::u16string(reinterpret_cast<const char16_t*>(out), static_cast<std::size_t>(length)));
  }

  // Steps 3 and 4 for one code point that is not ASCII.
  std::optional<std::string> single(char32_t c) {
    const auto found = ascii_by_skeleton_.find(skeleton(utf16(std::u32string(1, c))));
    if (found != ascii_by_skeleton_.end()) {
      std::string lower;
      for (const char a : found->second) {
        lower += static_cast<char>(a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a);
      }
      return lower;
    }
    const auto extra = extras_.find(c);
    if (extra != extras_.end()) {
      return extra->second;
    }
    return std::nullopt;
  }

  // A decomposition: combining marks dropped, ASCII kept, every other character mapped alone.
  std::optional<std::string> of_text(const std::u32string& text) {
    std::string out;
    for (const char32_t c : text) {
      if (u_charType(static_cast<UChar32>(c)) == U_NON_SPACING_MARK) {
        continue;
      }
      if (c < 0x80) {
        const char a = static_cast<char>(c);
        if (!is_letter_or_digit(a) && a != '-') {
          return std::nullopt;
        }
        out += static_cast<char>(a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a);
        continue;
      }
      const std::optional<std::string> mapped = single(c);
      if (!mapped) {
        return std::nullopt;
      }
      out += *mapped;
    }
    if (out.empty() || out.size() > 2) {
      return std::nullopt;
    }
    return out;
  }

  USpoofChecker* checker_ = nullptr;
  const UNormalizer2* nfd_ = nullptr;
  const UNormalizer2* nfkd_ = nullptr;
  std::map<char32_t, std::string> extras_;
  std::map<std::u16string, std::string> ascii_by_skeleton_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: confusables_table_generator OUTPUT\n");
    return 2;
  }
  Generator generator;
  std::map<char32_t, std::string> table;
  for (char32_t c = 0x80; c <= 0x10FFFF; ++c) {
    if ((c >= 0xD800 && c <= 0xDFFF) || !u_isdefined(static_cast<UChar32>(c))) {
      continue;
    }
    if (std::optional<std::string> prototype = generator.prototype(c)) {
      bool valid = !prototype->empty() && prototype->size() <= 2;
      for (const char a : *prototype) {
        valid = valid && ((a >= 'a' && a <= 'z') || (a >= '0' && a <= '9') || a == '-');
      }
      if (valid) {
        table[c] = *prototype;
      }
    }
  }
  std::FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  std::fprintf(out,
               "// ConfusablesTable: generated at build time by inspect/generate/"
               "confusables_table_generator.cc\n"
               "// from ICU %s (Unicode %s); do not edit.\n//\n"
               "// %zu code points that read as ASCII in a domain, with their prototype, sorted.\n"
               "#pragma once\n\n#include <cstdint>\n\nnamespace misdirect::inspect {\n\n"
               "struct ConfusableEntry {\n  char32_t code_point;\n  char prototype[3];\n};\n\n"
               "inline constexpr ConfusableEntry kConfusables[] = {\n",
               U_ICU_VERSION, U_UNICODE_VERSION, table.size());
  for (const auto& [code_point, prototype] : table) {
    char name[128] = "?";
    UErrorCode status = U_ZERO_ERROR;
    u_charName(static_cast<UChar32>(code_point), U_UNICODE_CHAR_NAME, name, sizeof name, &status);
    std::fprintf(out, "    {0x%05X, \"%s\"},  // %s\n", static_cast<unsigned>(code_point),
                 prototype.c_str(), U_SUCCESS(status) && name[0] != '\0' ? name : "?");
  }
  std::fprintf(out, "};\n\n}  // namespace misdirect::inspect\n");
  return std::fclose(out) == 0 ? 0 : 1;
}
