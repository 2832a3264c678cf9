// Domain normalisation: the one canonical form every comparison uses.
//
// Two paths, chosen by the bytes:
//   - ASCII (every byte below 0x80; nearly every recipient) is ours and never allocates: a one-pass
//     fast path for plain names, then the full rules below for A-labels and errors.
//   - A name with a byte at or above 0x80 (an SMTPUTF8 U-label, or a name typed in a list) is
//     the rare path. It is mapped by libidn2 with UTS #46 processing, nontransitional, as mail
//     servers map it before they look the name up (Postfix with SMTPUTF8 and IDNA2003
//     compatibility off, Exim, the resolvers): NFC, width folding (fullwidth ＡＲＭＹ is army),
//     case mapping as the standard says (İ is i + U+0307, not i; ß stays ß), ignored code points
//     dropped (zero-width space, soft hyphen, variation selectors), the ideographic full stops read
//     as dots, and the IDNA2008 validity rules (disallowed code points, CONTEXTJ/CONTEXTO, the
//     bidi rule, no leading combining mark). Its ASCII output is then checked again by the ASCII
//     rules, so both paths give one canonical form and one set of reasons.
//     libidn2 allocates (its output, and its NFC and UTF-32 buffers); it has no variant that
//     writes into caller storage. That is accepted here because the path is rare and bounded: the
//     input is at most kMaxIdnaInputBytes (longer is refused before the call, so each call's work
//     and memory are bounded), every buffer is freed before return, and a caller on the packet
//     path counts the names that took it (CanonicalDomain::idna_mapped, the SMTP counter
//     recipient_domains_idna), so an operator sees how often the data path called malloc.
//   - An ASCII name with an "xn--" label (an IDN sent as A-labels) is the other rare path: after
//     our ASCII rules (the A-labels' syntax only), libidn2 decodes and validates it with the same
//     UTS #46 lookup — Punycode that decodes, a label in NFC, every code point valid as it stands
//     (an A-label of fullwidth ＡＲＭＹ, of NFD "mu\u0308nchen", of capital İ or of a hidden
//     zero-width space is refused: the mail server's lookup refuses it, so nothing is delivered
//     there) — so the judgement and the Unicode form shown beside the A-label are what the server
//     works with. Bounded (an ASCII name is at most 254 bytes before the call) and counted apart
//     (CanonicalDomain::a_labels_checked, the SMTP counter recipient_domains_a_label).
//     We do not run libidn2 with IDN2_USE_STD3_ASCII_RULES: libidn2 2.3.3 then silently drops a
//     disallowed ASCII character ("bü_cher" became "bücher"); the ASCII bytes are checked before
//     the call and the output after it instead, which is what STD3 asks for.
//
// The ASCII rules, label by label (labels are split on '.'):
//   - one trailing dot is dropped (the DNS root); a second one is an empty label;
//   - ASCII is lowercased; an ASCII label must be letters, digits and hyphens (no underscore: mail
//     domains are host names), not start or end with a hyphen, and be at most 63 bytes;
//   - an "xn--" label is checked as LDH here and then by libidn2 (above). What libidn2 gives back
//     is checked once more by our own A-label rules: valid Punycode that decodes to at least one
//     non-ASCII code point and re-encodes to the same text (so every IDN has exactly one
//     spelling), lowercased with the simple Unicode lowercase mapping for Latin-1, Latin
//     Extended-A, Latin Extended Additional, Greek, Cyrillic, Armenian and fullwidth Latin, no
//     hyphen at an edge nor "--" in positions 3 and 4 (RFC 5891 §4.2.3.1), LDH ASCII, and no
//     controls, spaces, invisible format characters, noncharacters or leading combining mark —
//     a second fence that never trusts the library's output;
//   - the whole domain is at most 253 bytes and its last label is not all digits, which also
//     refuses an unbracketed IPv4 address; address literals ("[192.0.2.1]") are refused.
#include "inspect/domain_name.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <span>

#include <idn2.h>

#include "inspect/punycode.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace misdirect::inspect {
namespace {

constexpr std::string_view kAcePrefix = "xn--";

bool is_ldh(char32_t c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool starts_with_ace_prefix(std::span<const char32_t> label) noexcept {
  return label.size() >= 4 && label[0] == 'x' && label[1] == 'n' && label[2] == '-' &&
         label[3] == '-';
}

// One strict UTF-8 sequence at `text[at]`: no overlong forms, no surrogates, nothing above
// U+10FFFF. `length` is 0 when the bytes are not valid UTF-8.
struct Utf8Step {
  char32_t code_point = 0;
  std::size_t length = 0;
};

Utf8Step decode_utf8(std::string_view text, std::size_t at) noexcept {
  const auto byte = [&](std::size_t i) noexcept { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  std::size_t length = 0;
  char32_t code_point = 0;
  char32_t minimum = 0;
  if (lead < 0x80) {
    return {lead, 1};
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code_point = lead & 0x1F;
    minimum = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code_point = lead & 0x0F;
    minimum = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code_point = lead & 0x07;
    minimum = 0x10000;
  } else {
    return {};
  }
  if (text.size() - at < length) {
    return {};
  }
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char continuation = byte(at + i);
    if ((continuation & 0xC0) != 0x80) {
      return {};
    }
    code_point = (code_point << 6) | (continuation & 0x3F);
  }
  if (code_point < minimum || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return {};
  }
  return {code_point, length};
}

// The simple lowercase mapping (UnicodeData.txt field 13) for the scripts domains are most often
// written in; the ranges are listed because the pairs alternate in some blocks and not others.
// Only what an A-label decodes to goes through it (U-labels are mapped by libidn2). U+0130 (İ) is
// left as it is: its simple lowercase is a plain i, which would turn an IDN into an ASCII name
// that UTS #46 would never produce (it maps İ to i + U+0307).
char32_t to_lower(char32_t c) noexcept {
  const auto alternate = [c](char32_t first, char32_t last) noexcept {
    return c >= first && c <= last && ((c - first) & 1) == 0;
  };
  if (c < 0x80) {
    return (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
  }
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) {
    return c + 0x20;
  }
  if (alternate(0x100, 0x12E) || alternate(0x132, 0x136) || alternate(0x139, 0x147) ||
      alternate(0x14A, 0x176) || alternate(0x179, 0x17D)) {
    return c + 1;
  }
  if (c == 0x178) {
    return 0xFF;
  }
  if (alternate(0x370, 0x372) || c == 0x376 || alternate(0x3D8, 0x3EE) || c == 0x3F7 ||
      c == 0x3FA) {
    return c + 1;
  }
  if (c == 0x37F) {
    return 0x3F3;
  }
  if (c == 0x386) {
    return 0x3AC;
  }
  if (c >= 0x388 && c <= 0x38A) {
    return c + 37;
  }
  if (c == 0x38C) {
    return 0x3CC;
  }
  if (c == 0x38E || c == 0x38F) {
    return c + 63;
  }
  if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) {
    return c + 0x20;
  }
  if (c == 0x3CF) {
    return 0x3D7;
  }
  if (c == 0x3F4) {
    return 0x3B8;
  }
  if (c == 0x3F9) {
    return 0x3F2;  // capital lunate sigma: its lowercase is the "c" look-alike
  }
  if (c >= 0x3FD && c <= 0x3FF) {
    return c - 0x82;
  }
  if (c >= 0x400 && c <= 0x40F) {
    return c + 0x50;
  }
  if (c >= 0x410 && c <= 0x42F) {
    return c + 0x20;
  }
  if (alternate(0x460, 0x480) || alternate(0x48A, 0x4BE) || alternate(0x4D0, 0x52E)) {
    return c + 1;
  }
  if (c == 0x4C0) {
    return 0x4CF;
  }
  if (c >= 0x4C1 && c <= 0x4CD && ((c - 0x4C1) & 1) == 0) {
    return c + 1;
  }
  if (c >= 0x531 && c <= 0x556) {
    return c + 0x30;
  }
  if (alternate(0x1E00, 0x1E94) || alternate(0x1EA0, 0x1EFE)) {
    return c + 1;
  }
  if (c == 0x1E9E) {
    return 0xDF;  // capital sharp s
  }
  if (c >= 0xFF21 && c <= 0xFF3A) {
    return c + 0x20;
  }
  return c;
}

// Non-ASCII code points that no registered IDN label holds and that serve only to hide or to
// break the label: controls, spaces, invisible format characters, specials and noncharacters.
bool is_refused_non_ascii(char32_t c) noexcept {
  return (c <= 0x9F) || c == 0xA0 || c == 0xAD || c == 0x115F || c == 0x1160 || c == 0x1680 ||
         c == 0x180E || (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) ||
         (c >= 0x205F && c <= 0x206F) || c == 0x3000 || c == 0x3002 || c == 0x3164 ||
         (c >= 0xFDD0 && c <= 0xFDEF) || (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF ||
         c == 0xFF0E || c == 0xFF61 || c == 0xFFA0 || (c >= 0xFFF0 && c <= 0xFFFD) ||
         (c & 0xFFFE) == 0xFFFE || (c >= 0xE0000 && c <= 0xE0FFF);
}

bool is_combining_mark(char32_t c) noexcept {
  return (c >= 0x300 && c <= 0x36F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
         (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
         (c >= 0xFE20 && c <= 0xFE2F);
}

// An encoded label, ready to be appended.
struct EncodedLabel {
  char bytes[kMaxLabelBytes] = {};
  std::size_t length = 0;
};

// An all-ASCII label that is not an A-label: LDH, no hyphen at either edge.
DomainError check_ldh_label(std::span<const char32_t> label) noexcept {
  for (const char32_t c : label) {
    if (!is_ldh(c)) {
      return DomainError::kInvalidCharacter;
    }
  }
  if (label.front() == '-' || label.back() == '-') {
    return DomainError::kHyphenAtLabelEdge;
  }
  return DomainError::kOk;
}

// What an A-label decodes to (it holds non-ASCII): lowercase it in place, validate it and encode
// it again as its A-label.
DomainError encode_decoded_label(std::span<char32_t> label, EncodedLabel& encoded) noexcept {
  for (char32_t& c : label) {
    c = to_lower(c);
    if (c < 0x80 ? !is_ldh(c) : is_refused_non_ascii(c)) {
      return DomainError::kInvalidCharacter;
    }
  }
  if (is_combining_mark(label.front())) {
    return DomainError::kInvalidCharacter;
  }
  if (label.front() == '-' || label.back() == '-' ||
      (label.size() >= 4 && label[2] == '-' && label[3] == '-')) {
    return DomainError::kHyphenAtLabelEdge;
  }
  const PunycodeResult result = encode_a_label(label, encoded.bytes);
  if (result.error == PunycodeError::kOutputTooSmall) {
    return DomainError::kLabelTooLong;
  }
  if (!result.ok()) {
    return DomainError::kInvalidPunycode;
  }
  encoded.length = result.length;
  return DomainError::kOk;
}

// An "xn--" label (already lowercase LDH): its Punycode must decode, hold non-ASCII, and be the
// one encoding of what it decodes to.
DomainError encode_a_label_input(std::span<const char32_t> label, EncodedLabel& encoded) noexcept {
  char ace[kMaxLabelBytes];
  const std::span<const char32_t> punycode = label.subspan(kAcePrefix.size());
  for (std::size_t i = 0; i < punycode.size(); ++i) {
    ace[i] = static_cast<char>(punycode[i]);
  }
  const std::string_view ace_text(ace, punycode.size());
  char32_t decoded[kMaxLabelCodePoints];
  const PunycodeResult decode = punycode_decode(ace_text, decoded);
  if (!decode.ok() || decode.length == 0) {
    return DomainError::kInvalidPunycode;
  }
  const std::span<char32_t> decoded_label(decoded, decode.length);
  bool ascii = true;
  for (const char32_t c : decoded_label) {
    ascii = ascii && c < 0x80;
  }
  if (ascii) {
    return DomainError::kInvalidPunycode;
  }
  char reencoded[kMaxLabelBytes];
  const PunycodeResult encode = punycode_encode(decoded_label, reencoded);
  if (!encode.ok() || std::string_view(reencoded, encode.length) != ace_text) {
    return DomainError::kInvalidPunycode;
  }
  return encode_decoded_label(decoded_label, encoded);
}

// How normalize_ascii treats "xn--" labels: decoded and validated by our rules, or only checked as
// LDH (libidn2 decodes and validates them next).
enum class ALabels : uint8_t { kDecode, kSyntaxOnly };

// Validates and encodes one ASCII label given as code points (already lowercased).
DomainError encode_label(std::span<const char32_t> label, EncodedLabel& encoded, ALabels a_labels) noexcept {
  if (label.empty()) {
    return DomainError::kEmptyLabel;
  }
  for (const char32_t c : label) {
    if (!is_ldh(c)) {
      return DomainError::kInvalidCharacter;
    }
  }
  const bool a_label = starts_with_ace_prefix(label);
  if (a_label && a_labels == ALabels::kDecode) {
    return encode_a_label_input(label, encoded);
  }
  // An A-label's hyphens are its Punycode's business (libidn2 decides next).
  const DomainError error = a_label ? DomainError::kOk : check_ldh_label(label);
  if (error != DomainError::kOk) {
    return error;
  }
  for (std::size_t i = 0; i < label.size(); ++i) {
    encoded.bytes[i] = static_cast<char>(label[i]);
  }
  encoded.length = label.size();
  return DomainError::kOk;
}

// What a byte becomes in a plain name: letters lowercased, digits, '-' and '.' kept; 0 for every
// other byte (they all need the full rules, or are errors).
constexpr std::array<char, 256> kPlainNameBytes = [] {
  std::array<char, 256> table{};
  for (char c = 'a'; c <= 'z'; ++c) {
    table[static_cast<unsigned char>(c)] = c;
    table[static_cast<unsigned char>(c - 'a' + 'A')] = c;
  }
  for (char c = '0'; c <= '9'; ++c) {
    table[static_cast<unsigned char>(c)] = c;
  }
  table['-'] = '-';
  table['.'] = '.';
  return table;
}();

// A plain label [start, end) of `bytes`: 1 to 63 bytes, no hyphen at either edge, not an A-label.
bool is_plain_label(const char* bytes, std::size_t start, std::size_t end) noexcept {
  const std::size_t length = end - start;
  return length != 0 && length <= kMaxLabelBytes && bytes[start] != '-' && bytes[end - 1] != '-' &&
         !(length >= 4 && std::memcmp(bytes + start, kAcePrefix.data(), 4) == 0);
}

// The common case, done in one pass over the bytes: letters, digits, hyphens and dots only, no
// "xn--" label. Writes the canonical form to `bytes` and returns its length when the domain is
// valid in that form; returns 0 for anything else (another character, an A-label, any error), and
// the full rules below then decide, so both paths give the same answer for every input.
#if defined(__SSE2__)
// Sixteen name bytes at once: lowercased into `lowered`; returns a lane mask of the dots, or -1
// when a byte is not a letter, digit, '-' or '.'.
int plain_block(__m128i block, __m128i& lowered) noexcept {
  if (_mm_movemask_epi8(block) != 0) {
    return -1;  // non-ASCII (signed compares below need every byte under 0x80)
  }
  const auto in_range = [](__m128i v, char low, char high) noexcept {
    return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(low - 1))),
                         _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(high + 1))));
  };
  const __m128i upper = in_range(block, 'A', 'Z');
  lowered = _mm_or_si128(block, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
  const __m128i dots = _mm_cmpeq_epi8(lowered, _mm_set1_epi8('.'));
  const __m128i valid = _mm_or_si128(
      _mm_or_si128(in_range(lowered, 'a', 'z'), in_range(lowered, '0', '9')),
      _mm_or_si128(dots, _mm_cmpeq_epi8(lowered, _mm_set1_epi8('-'))));
  if (_mm_movemask_epi8(valid) != 0xFFFF) {
    return -1;
  }
  return _mm_movemask_epi8(dots);
}
#endif

std::size_t normalize_plain(std::string_view raw, char* bytes) noexcept {
  if (!raw.empty() && raw.back() == '.') {
    raw.remove_suffix(1);  // the root
  }
  const std::size_t size = raw.size();
  if (size == 0 || size > kMaxDomainBytes) {
    return 0;
  }
  std::size_t label_start = 0;
  std::size_t i = 0;
#if defined(__SSE2__)
  // Names of 8 bytes or more go sixteen bytes a step, never reading outside the name: a short
  // name is two overlapping 8-byte halves in one block, a long one whole blocks and a last one
  // overlapping the block before it. Rewritten bytes get the same value; dots already seen are
  // masked out. Lane k of a block holds the byte at position[k].
  const auto take_dots = [&](int dots, auto position) noexcept {
    for (; dots != 0; dots &= dots - 1) {
      const std::size_t dot = position(std::countr_zero(static_cast<unsigned>(dots)));
      if (!is_plain_label(bytes, label_start, dot)) {
        return false;
      }
      label_start = dot + 1;
    }
    return true;
  };
  if (size >= 8 && size < 16) {
    const std::size_t tail = size - 8;
    const __m128i block = _mm_unpacklo_epi64(
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(raw.data())),
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(raw.data() + tail)));
    __m128i lowered;
    int dots = plain_block(block, lowered);
    if (dots < 0) {
      return 0;
    }
    _mm_storel_epi64(reinterpret_cast<__m128i*>(bytes), lowered);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(bytes + tail), _mm_unpackhi_epi64(lowered, lowered));
    // High lanes 8 + k hold tail + k; those below position 8 repeat low lanes.
    dots &= 0xFF | (0xFFFF << (16 - tail));
    if (!take_dots(dots, [&](int lane) { return lane < 8 ? std::size_t(lane) : tail + std::size_t(lane) - 8; })) {
      return 0;
    }
    i = size;
  } else if (size >= 16) {
    while (i < size) {
      const std::size_t at = size - i >= 16 ? i : size - 16;
      __m128i lowered;
      int dots = plain_block(_mm_loadu_si128(reinterpret_cast<const __m128i*>(raw.data() + at)), lowered);
      if (dots < 0) {
        return 0;
      }
      _mm_storeu_si128(reinterpret_cast<__m128i*>(bytes + at), lowered);
      dots &= 0xFFFF << (i - at);
      if (!take_dots(dots, [&](int lane) { return at + std::size_t(lane); })) {
        return 0;
      }
      i = at + 16;
    }
  }
#endif
  for (; i < size; ++i) {
    const char c = kPlainNameBytes[static_cast<unsigned char>(raw[i])];
    if (c == 0) {
      return 0;
    }
    bytes[i] = c;
    if (c == '.') {
      if (!is_plain_label(bytes, label_start, i)) {
        return 0;
      }
      label_start = i + 1;
    }
  }
  if (!is_plain_label(bytes, label_start, size)) {
    return 0;
  }
  for (std::size_t j = label_start; j < size; ++j) {
    if (bytes[j] < '0' || bytes[j] > '9') {
      return size;
    }
  }
  return 0;  // an all-numeric top-level label: refused by the full rules
}

// The outcome of the full rules: the canonical text was written to the caller's buffer.
struct NormalizedText {
  DomainError error = DomainError::kOk;
  std::size_t length = 0;
};

// The full ASCII rules (the file's opening comment): `raw` holds only bytes below 0x80. Writes
// the canonical form to `bytes` (kMaxDomainBytes + 1 long); on error what was written is junk.
NormalizedText normalize_ascii(std::string_view raw, char* bytes, ALabels a_labels = ALabels::kDecode) noexcept {
  if (!raw.empty() && raw.back() == '.') {
    raw.remove_suffix(1);  // the root
  }
  if (raw.empty()) {
    return {DomainError::kEmpty};
  }
  // Labels are collected as code points, then encoded and appended to `bytes`.
  char32_t label[kMaxLabelCodePoints];
  std::size_t label_length = 0;
  std::size_t length = 0;
  std::size_t last_label_start = 0;
  for (std::size_t at = 0;; ++at) {
    const bool end = at == raw.size();
    if (end || raw[at] == '.') {
      EncodedLabel encoded;
      const DomainError error = encode_label(std::span(label, label_length), encoded, a_labels);
      if (error != DomainError::kOk) {
        return {error};
      }
      const std::size_t separator = length > 0 ? 1 : 0;
      if (length + separator + encoded.length > kMaxDomainBytes) {
        return {DomainError::kTooLong};
      }
      if (separator != 0) {
        bytes[length++] = '.';
      }
      last_label_start = length;
      std::memcpy(bytes + length, encoded.bytes, encoded.length);
      length += encoded.length;
      if (end) {
        break;
      }
      label_length = 0;
      continue;
    }
    if (label_length == kMaxLabelCodePoints) {
      return {DomainError::kLabelTooLong};
    }
    label[label_length++] = to_lower(static_cast<unsigned char>(raw[at]));
  }
  bool numeric_tld = true;
  for (std::size_t i = last_label_start; i < length; ++i) {
    numeric_tld = numeric_tld && bytes[i] >= '0' && bytes[i] <= '9';
  }
  if (numeric_tld) {
    return {DomainError::kNumericTld};
  }
  return {DomainError::kOk, length};
}

// The reasons libidn2 refuses a name, as ours.
DomainError idna_error(int code) noexcept {
  switch (code) {
    case IDN2_ENCODING_ERROR:
    case IDN2_NFC:
      return DomainError::kInvalidUtf8;
    case IDN2_TOO_BIG_DOMAIN:
      return DomainError::kTooLong;
    case IDN2_TOO_BIG_LABEL:
    case IDN2_PUNYCODE_BIG_OUTPUT:
      return DomainError::kLabelTooLong;
    case IDN2_2HYPHEN:
    case IDN2_HYPHEN_STARTEND:
      return DomainError::kHyphenAtLabelEdge;
    case IDN2_PUNYCODE_BAD_INPUT:
    case IDN2_PUNYCODE_OVERFLOW:
    case IDN2_INVALID_ALABEL:
    case IDN2_ALABEL_ROUNDTRIP_FAILED:
      return DomainError::kInvalidPunycode;
    case IDN2_MALLOC:
      return DomainError::kIdnaUnavailable;
    default:
      // Disallowed, unassigned, CONTEXTJ, CONTEXTO, the bidi rule, a leading combining mark.
      return DomainError::kInvalidCharacter;
  }
}

// Frees what libidn2 returned when the name's judgement is done.
struct IdnaOutput {
  uint8_t* text = nullptr;
  ~IdnaOutput() { idn2_free(text); }
};

// The rare path (the file's opening comment): a name with a byte at or above 0x80. Our checks
// come first so that every refusal the ASCII path would give is given the same way: strict UTF-8,
// and ASCII bytes only from letters, digits, hyphens and dots (UTS #46 maps ASCII only by case).
NormalizedText normalize_unicode(std::string_view raw, char* bytes) noexcept {
  if (raw.size() > kMaxIdnaInputBytes) {
    return {DomainError::kTooLong};
  }
  for (std::size_t at = 0; at < raw.size();) {
    const Utf8Step step = decode_utf8(raw, at);
    if (step.length == 0) {
      return {DomainError::kInvalidUtf8};
    }
    if (step.code_point < 0x80 && step.code_point != '.' &&
        !is_ldh(to_lower(step.code_point))) {
      return {DomainError::kInvalidCharacter};
    }
    at += step.length;
  }
  char input[kMaxIdnaInputBytes + 1];
  std::memcpy(input, raw.data(), raw.size());
  input[raw.size()] = '\0';
  IdnaOutput mapped;
  const int code = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(input), &mapped.text,
                                  IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (code != IDN2_OK) {
    return {idna_error(code)};
  }
  const std::string_view ascii(reinterpret_cast<const char*>(mapped.text));
  if (std::any_of(ascii.begin(), ascii.end(), [](char c) { return (c & 0x80) != 0; })) {
    return {DomainError::kInvalidCharacter};  // libidn2 promises ASCII; never trust, refuse
  }
  return normalize_ascii(ascii, bytes);
}

// True when an ASCII name has a label starting "xn--" (any case).
bool has_a_label(std::string_view raw) noexcept {
  for (std::size_t at = 0; at + 4 <= raw.size(); ++at) {
    if ((at == 0 || raw[at - 1] == '.') && (raw[at] | 0x20) == 'x' && (raw[at + 1] | 0x20) == 'n' &&
        raw[at + 2] == '-' && raw[at + 3] == '-') {
      return true;
    }
  }
  return false;
}

// The A-label path (the file's opening comment): an ASCII name holding an "xn--" label. Our ASCII
// rules first, so every refusal they give is worded as always; then libidn2's UTS #46 lookup,
// whose refusal of an A-label (bad Punycode, not NFC, a code point not valid as it stands) is
// kInvalidPunycode; then our rules again on its output.
NormalizedText normalize_a_labels(std::string_view raw, char* bytes) noexcept {
  const NormalizedText syntax = normalize_ascii(raw, bytes, ALabels::kSyntaxOnly);
  if (syntax.error != DomainError::kOk) {
    return syntax;
  }
  char input[kMaxDomainBytes + 1];
  std::memcpy(input, bytes, syntax.length);  // lowercase, no trailing dot, at most 253 bytes
  input[syntax.length] = '\0';
  IdnaOutput mapped;
  const int code = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(input), &mapped.text,
                                  IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (code != IDN2_OK) {
    const DomainError error = idna_error(code);
    return {error == DomainError::kIdnaUnavailable || error == DomainError::kTooLong ||
                    error == DomainError::kLabelTooLong
                ? error
                : DomainError::kInvalidPunycode};
  }
  const std::string_view ascii(reinterpret_cast<const char*>(mapped.text));
  if (std::any_of(ascii.begin(), ascii.end(), [](char c) { return (c & 0x80) != 0; })) {
    return {DomainError::kInvalidPunycode};  // libidn2 promises ASCII; never trust, refuse
  }
  return normalize_ascii(ascii, bytes);
}

}  // namespace

std::size_t unicode_form(std::string_view canonical, std::span<char> out) noexcept {
  if (canonical.substr(0, 4) != kAcePrefix && canonical.find(".xn--") == std::string_view::npos) {
    return 0;
  }
  std::size_t length = 0;
  const auto put = [&](char byte) noexcept {
    if (length == out.size()) {
      return false;
    }
    out[length++] = byte;
    return true;
  };
  for (std::size_t start = 0; start <= canonical.size();) {
    std::size_t end = canonical.find('.', start);
    if (end == std::string_view::npos) {
      end = canonical.size();
    }
    const std::string_view label = canonical.substr(start, end - start);
    if (start > 0 && !put('.')) {
      return 0;
    }
    if (label.substr(0, 4) == kAcePrefix) {
      char32_t decoded[kMaxLabelCodePoints];
      const PunycodeResult result = punycode_decode(label.substr(4), decoded);
      if (!result.ok()) {
        return 0;
      }
      for (std::size_t i = 0; i < result.length; ++i) {
        const char32_t c = decoded[i];
        const bool fits =
            c < 0x80 ? put(static_cast<char>(c))
            : c < 0x800 ? put(static_cast<char>(0xC0 | (c >> 6))) &&
                              put(static_cast<char>(0x80 | (c & 0x3F)))
            : c < 0x10000 ? put(static_cast<char>(0xE0 | (c >> 12))) &&
                                put(static_cast<char>(0x80 | ((c >> 6) & 0x3F))) &&
                                put(static_cast<char>(0x80 | (c & 0x3F)))
                          : put(static_cast<char>(0xF0 | (c >> 18))) &&
                                put(static_cast<char>(0x80 | ((c >> 12) & 0x3F))) &&
                                put(static_cast<char>(0x80 | ((c >> 6) & 0x3F))) &&
                                put(static_cast<char>(0x80 | (c & 0x3F)));
        if (!fits) {
          return 0;
        }
      }
    } else {
      for (const char byte : label) {
        if (!put(byte)) {
          return 0;
        }
      }
    }
    start = end + 1;
  }
  return length;
}

bool CanonicalDomain::assign(std::string_view canonical) noexcept {
  idna_mapped_ = false;
  a_labels_checked_ = false;
  if (canonical.size() > kMaxDomainBytes) {
    length_ = 0;
    bytes_[0] = '\0';
    return false;
  }
  std::copy(canonical.begin(), canonical.end(), bytes_);
  bytes_[canonical.size()] = '\0';
  length_ = static_cast<uint8_t>(canonical.size());
  return true;
}

std::string_view describe(DomainError error) noexcept {
  switch (error) {
    case DomainError::kOk:
      return "valid";
    case DomainError::kEmpty:
      return "empty domain";
    case DomainError::kTooLong:
      return "longer than 253 bytes";
    case DomainError::kEmptyLabel:
      return "empty label";
    case DomainError::kLabelTooLong:
      return "label longer than 63 bytes";
    case DomainError::kInvalidCharacter:
      return "invalid character";
    case DomainError::kHyphenAtLabelEdge:
      return "hyphen at the start or end of a label (or \"--\" in positions 3-4 of an IDN label)";
    case DomainError::kInvalidUtf8:
      return "invalid UTF-8";
    case DomainError::kInvalidPunycode:
      return "invalid IDN A-label (xn-- punycode)";
    case DomainError::kNumericTld:
      return "all-numeric top-level label";
    case DomainError::kIdnaUnavailable:
      return "the IDNA library could not map the name (out of memory)";
  }
  return "unknown error";
}

DomainError normalize_domain(std::string_view raw, CanonicalDomain& out) noexcept {
  out.idna_mapped_ = false;
  out.a_labels_checked_ = false;
  if (const std::size_t length = normalize_plain(raw, out.bytes_); length != 0) {
    out.bytes_[length] = '\0';
    out.length_ = static_cast<uint8_t>(length);
    return DomainError::kOk;
  }
  out.length_ = 0;
  out.bytes_[0] = '\0';
  if (raw.empty()) {
    return DomainError::kEmpty;
  }
  if (raw.front() == '[') {
    return DomainError::kInvalidCharacter;  // an address literal is not a domain
  }
  NormalizedText result;
  if (std::any_of(raw.begin(), raw.end(), [](char c) { return (c & 0x80) != 0; })) {
    out.idna_mapped_ = true;
    result = normalize_unicode(raw, out.bytes_);
  } else if (has_a_label(raw)) {
    out.a_labels_checked_ = true;
    result = normalize_a_labels(raw, out.bytes_);
  } else {
    result = normalize_ascii(raw, out.bytes_);
  }
  if (result.error != DomainError::kOk) {
    out.bytes_[0] = '\0';
    return result.error;
  }
  out.bytes_[result.length] = '\0';
  out.length_ = static_cast<uint8_t>(result.length);
  return DomainError::kOk;
}

}  // namespace misdirect::inspect
