// JsonLineWriter: fixed-buffer JSON with UTF-8 validation of wire bytes.
#include "dataplane/output/json_line_writer.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace misdirect::dataplane {
namespace {

constexpr std::string_view kReplacementCharacter = "\\ufffd";

// Length of the valid UTF-8 sequence starting at `text[0]`, or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF are invalid).
std::size_t valid_utf8_length(std::string_view text) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  uint32_t minimum = 0;
  uint32_t code_point = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    minimum = 0x80;
    code_point = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    minimum = 0x800;
    code_point = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    minimum = 0x10000;
    code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) {
      return 0;
    }
    code_point = (code_point << 6) | (byte(i) & 0x3f);
  }
  if (code_point < minimum || code_point > 0x10ffff ||
      (code_point >= 0xd800 && code_point <= 0xdfff)) {
    return 0;
  }
  return length;
}

// Printable ASCII other than '"' and '\\': copied as it is.
constexpr bool is_plain(unsigned char c) noexcept { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; }

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighBits = 0x8080808080808080ull;

// True when one of the eight bytes of `word` is not plain: below 0x20, '"', '\\', 0x7f or
// non-ASCII. Each term sets a byte's high bit for its case ("below 0x20", "equals", "0x7f or
// above"); borrows and carries only ever spread from a byte that is already caught, so a plain
// word is never taken for one that needs escaping.
bool has_escape(uint64_t word) noexcept {
  const uint64_t quote = word ^ (kOnes * '"');
  const uint64_t backslash = word ^ (kOnes * '\\');
  const uint64_t caught = ((word - kOnes * 0x20) & ~word) | ((quote - kOnes) & ~quote) |
                          ((backslash - kOnes) & ~backslash) | word | (word + kOnes);
  return (caught & kHighBits) != 0;
}

uint64_t load_word(const char* bytes) noexcept {
  uint64_t word;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}

constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace

#if defined(__SSE2__)
namespace {

// Lanes of `block` that are not plain, as a movemask.
int escape_lanes(__m128i block) noexcept {
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(block, _mm_set1_epi8(0x1f)), block);
  const __m128i high = _mm_cmpeq_epi8(_mm_max_epu8(block, _mm_set1_epi8(0x7f)), block);
  const __m128i quote = _mm_cmpeq_epi8(block, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(block, _mm_set1_epi8('\\'));
  return _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(control, high), _mm_or_si128(quote, backslash)));
}

}  // namespace
#endif

bool JsonLineWriter::is_plain_text(std::string_view text) noexcept {
  const char* data = text.data();
  const std::size_t size = text.size();
#if defined(__SSE2__)
  // Sixteen bytes a step (8 to 15 bytes as two overlapping halves; the last block overlapping),
  // never reading outside the text.
  if (size >= 16) {
    for (std::size_t i = 0;; i += 16) {
      const std::size_t at = size - i > 16 ? i : size - 16;
      if (escape_lanes(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + at))) != 0) {
        return false;
      }
      if (at == size - 16) {
        return true;
      }
    }
  }
  if (size >= 8) {
    return escape_lanes(_mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(data)),
                                           _mm_loadl_epi64(reinterpret_cast<const __m128i*>(data + size - 8)))) == 0;
  }
#else
  if (size >= 8) {
    for (std::size_t i = 0; size - i > 8; i += 8) {
      if (has_escape(load_word(data + i))) {
        return false;
      }
    }
    return !has_escape(load_word(data + size - 8));
  }
#endif
  for (std::size_t i = 0; i < size; ++i) {
    if (!is_plain(static_cast<unsigned char>(data[i]))) {
      return false;
    }
  }
  return true;
}

void JsonLineWriter::string(std::string_view value) noexcept {
  if (take_separator()) {
    put(',');
  }
  const std::size_t size = value.size();
  const char* in = value.data();
  std::size_t i = 0;
  if (buffer_.size() - length_ >= size + 2) {
    // The unescaped form fits: copy plain runs straight into the buffer, eight bytes at a time;
    // the last word overlaps the one before it rather than going byte by byte.
    char* const out = buffer_.data() + length_ + 1;
    out[-1] = '"';
    if (size >= 8) {
      for (; size - i > 8; i += 8) {
        const uint64_t word = load_word(in + i);
        if (has_escape(word)) {
          break;
        }
        std::memcpy(out + i, &word, 8);
      }
      if (size - i <= 8) {
        const uint64_t last = load_word(in + size - 8);
        if (!has_escape(last)) {
          std::memcpy(out + size - 8, &last, 8);
          out[size] = '"';
          length_ += size + 2;
          return;
        }
      }
    }
    while (i < size && is_plain(static_cast<unsigned char>(in[i]))) {
      out[i] = in[i];
      ++i;
    }
    if (i == size) {
      out[size] = '"';
      length_ += size + 2;
      return;
    }
    length_ += i + 1;
  } else {
    put('"');
  }
  escape_rest(value.substr(i));
}

void JsonLineWriter::escape_rest(std::string_view value) noexcept {
  std::size_t i = 0;
  while (i < value.size()) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (is_plain(c)) {
      put(static_cast<char>(c));
      ++i;
    } else if (c == '"' || c == '\\') {
      put('\\');
      put(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      const char escaped[6] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xf]};
      put(std::string_view(escaped, sizeof escaped));
      ++i;
    } else if (const std::size_t length = valid_utf8_length(value.substr(i)); length != 0) {
      put(value.substr(i, length));
      i += length;
    } else {
      put(kReplacementCharacter);
      ++i;
    }
  }
  put('"');
}

void JsonLineWriter::signed_number(int64_t value) noexcept {
  // The magnitude as unsigned: also right for the most negative value.
  const bool negative = value < 0;
  const uint64_t magnitude = negative ? ~static_cast<uint64_t>(value) + 1 : static_cast<uint64_t>(value);
  const std::size_t count = digit_count(magnitude);
  char* out = value_space(count + (negative ? 1 : 0));
  if (out == nullptr) {
    return;
  }
  if (negative) {
    *out++ = '-';
  }
  put_digits(out, count, magnitude);
}

void JsonLineWriter::decimal(double value, int digits) noexcept {
  if (!std::isfinite(value)) {
    null();
    return;
  }
  char text[48];
  const int length = std::snprintf(text, sizeof text, "%.*f", digits, value);
  if (length > 0 && static_cast<std::size_t>(length) < sizeof text) {
    raw(std::string_view(text, static_cast<std::size_t>(length)));
  } else {
    null();
  }
}

}  // namespace misdirect::dataplane
