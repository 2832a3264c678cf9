// HeaderText: encoded-words, charsets and UTF-8 repair.
//
// The value is read as a sequence of tokens: an encoded-word, a run of whitespace, or one byte
// of plain text. Decoded bytes wait in a run buffer while they share a charset, so a character
// that a sender split across two adjacent encoded-words (some do, in B encoding) is converted
// whole. Cases:
//   encoded-word after encoded-word   the whitespace between them is dropped (RFC 2047 §6.2)
//   encoded-word after plain text     the whitespace between them is kept
//   "=?" that does not parse          plain text
//   unknown charset                   kept where valid UTF-8, otherwise U+FFFD per bad byte
#include "inspect/header_text.h"
#include "inspect/smtp_address.h"  // equals_caseless

#include <array>
#include <cstdint>
#include <cstring>

namespace misdirect::inspect {
namespace {

enum class Charset : uint8_t { kUtf8, kLatin1, kLatin9, kWindows1252, kUnknown };

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

Charset charset_of(std::string_view name) noexcept {
  // RFC 2231 allows "charset*language": the language is ignored.
  const std::size_t star = name.find('*');
  if (star != std::string_view::npos) {
    name = name.substr(0, star);
  }
  if (equals_caseless(name, "utf-8") || equals_caseless(name, "utf8") || equals_caseless(name, "us-ascii") ||
      equals_caseless(name, "ascii")) {
    return Charset::kUtf8;
  }
  if (equals_caseless(name, "iso-8859-1") || equals_caseless(name, "iso8859-1") ||
      equals_caseless(name, "latin1") || equals_caseless(name, "l1")) {
    return Charset::kLatin1;
  }
  if (equals_caseless(name, "iso-8859-15") || equals_caseless(name, "iso8859-15") ||
      equals_caseless(name, "latin-9") || equals_caseless(name, "latin9")) {
    return Charset::kLatin9;
  }
  if (equals_caseless(name, "windows-1252") || equals_caseless(name, "cp1252")) {
    return Charset::kWindows1252;
  }
  return Charset::kUnknown;
}

// Windows-1252 0x80-0x9F (0 where the code page leaves the byte undefined).
constexpr uint16_t kWindows1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

uint32_t latin9_code_point(uint8_t byte) noexcept {
  switch (byte) {
    case 0xA4: return 0x20AC;
    case 0xA6: return 0x0160;
    case 0xA8: return 0x0161;
    case 0xB4: return 0x017D;
    case 0xB8: return 0x017E;
    case 0xBC: return 0x0152;
    case 0xBD: return 0x0153;
    case 0xBE: return 0x0178;
    default: return byte;
  }
}

constexpr uint32_t kReplacement = 0xFFFD;

// A bounded UTF-8 writer that never cuts a character.
class Utf8Out {
 public:
  explicit Utf8Out(std::span<char> out) noexcept : out_(out) {}

  void code_point(uint32_t cp) noexcept {
    char bytes[4];
    std::size_t count;
    if (cp < 0x80) {
      bytes[0] = static_cast<char>(cp);
      count = 1;
    } else if (cp < 0x800) {
      bytes[0] = static_cast<char>(0xC0 | (cp >> 6));
      bytes[1] = static_cast<char>(0x80 | (cp & 0x3F));
      count = 2;
    } else if (cp < 0x10000) {
      bytes[0] = static_cast<char>(0xE0 | (cp >> 12));
      bytes[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      bytes[2] = static_cast<char>(0x80 | (cp & 0x3F));
      count = 3;
    } else {
      bytes[0] = static_cast<char>(0xF0 | (cp >> 18));
      bytes[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      bytes[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      bytes[3] = static_cast<char>(0x80 | (cp & 0x3F));
      count = 4;
    }
    put(bytes, count);
  }
  void put(const char* bytes, std::size_t count) noexcept {
    if (full_ || out_.size() - length_ < count) {
      full_ = true;
      return;
    }
    std::memcpy(out_.data() + length_, bytes, count);
    length_ += count;
  }
  void replacement() noexcept {
    replaced_ = true;
    code_point(kReplacement);
  }
  std::size_t length() const noexcept { return length_; }
  bool full() const noexcept { return full_; }
  bool replaced() const noexcept { return replaced_; }
  char* data() noexcept { return out_.data(); }

 private:
  std::span<char> out_;
  std::size_t length_ = 0;
  bool full_ = false;
  bool replaced_ = false;
};

// Length of the well-formed UTF-8 sequence at `bytes` (Unicode Table 3-7), or 0.
std::size_t utf8_sequence_length(const uint8_t* bytes, std::size_t available) noexcept {
  const uint8_t b0 = bytes[0];
  if (b0 < 0x80) {
    return 1;
  }
  std::size_t length;
  uint8_t low = 0x80;
  uint8_t high = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) low = 0xA0;
    if (b0 == 0xED) high = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) low = 0x90;
    if (b0 == 0xF4) high = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (available < length || bytes[1] < low || bytes[1] > high) {
    return 0;
  }
  for (std::size_t i = 2; i < length; ++i) {
    if (bytes[i] < 0x80 || bytes[i] > 0xBF) {
      return 0;
    }
  }
  return length;
}

// Bytes in `charset` to UTF-8.
void convert(const uint8_t* bytes, std::size_t count, Charset charset, Utf8Out& out) noexcept {
  std::size_t i = 0;
  while (i < count && !out.full()) {
    const uint8_t byte = bytes[i];
    if (byte == 0) {
      // NUL separates the addresses of a list value (MessageHeaders): never part of a value.
      out.replacement();
      ++i;
      continue;
    }
    switch (charset) {
      case Charset::kLatin1:
        out.code_point(byte);
        ++i;
        continue;
      case Charset::kLatin9:
        out.code_point(latin9_code_point(byte));
        ++i;
        continue;
      case Charset::kWindows1252:
        if (byte >= 0x80 && byte < 0xA0) {
          const uint16_t cp = kWindows1252High[byte - 0x80];
          if (cp == 0) {
            out.replacement();
          } else {
            out.code_point(cp);
          }
        } else {
          out.code_point(byte);
        }
        ++i;
        continue;
      case Charset::kUtf8:
      case Charset::kUnknown:
        break;
    }
    const std::size_t length = utf8_sequence_length(bytes + i, count - i);
    if (length == 0) {
      out.replacement();
      ++i;
    } else {
      out.put(reinterpret_cast<const char*>(bytes + i), length);
      i += length;
    }
  }
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

struct EncodedWord {
  std::string_view charset;
  char encoding = 0;  // 'B' or 'Q'
  std::string_view text;
  std::size_t end = 0;  // index after "?="
};

// An encoded-word starting at raw[start] ("=?"), or false. Tokens may not hold spaces; the
// text may not hold '?'.
bool parse_encoded_word(std::string_view raw, std::size_t start, EncodedWord& word) noexcept {
  std::size_t i = start + 2;
  const std::size_t charset_start = i;
  while (i < raw.size() && raw[i] != '?' && !is_space(raw[i])) {
    ++i;
  }
  if (i >= raw.size() || raw[i] != '?' || i == charset_start) {
    return false;
  }
  word.charset = raw.substr(charset_start, i - charset_start);
  ++i;
  if (i + 1 >= raw.size() || raw[i + 1] != '?') {
    return false;
  }
  const char encoding = static_cast<char>(raw[i] & 0xDF);
  if (encoding != 'B' && encoding != 'Q') {
    return false;
  }
  word.encoding = encoding;
  i += 2;
  const std::size_t text_start = i;
  while (i < raw.size() && raw[i] != '?' && !is_space(raw[i])) {
    ++i;
  }
  if (i + 1 >= raw.size() || raw[i] != '?' || raw[i + 1] != '=') {
    return false;
  }
  word.text = raw.substr(text_start, i - text_start);
  word.end = i + 2;
  return true;
}

// Decodes the word's text into `bytes` (room for text.size() bytes always suffices).
std::size_t decode_word(const EncodedWord& word, uint8_t* bytes) noexcept {
  std::size_t count = 0;
  if (word.encoding == 'Q') {
    for (std::size_t i = 0; i < word.text.size(); ++i) {
      const char c = word.text[i];
      if (c == '_') {
        bytes[count++] = ' ';
      } else if (c == '=' && i + 2 < word.text.size() && hex_value(word.text[i + 1]) >= 0 &&
                 hex_value(word.text[i + 2]) >= 0) {
        bytes[count++] = static_cast<uint8_t>(hex_value(word.text[i + 1]) * 16 + hex_value(word.text[i + 2]));
        i += 2;
      } else {
        bytes[count++] = static_cast<uint8_t>(c);
      }
    }
    return count;
  }
  // B: padding and stray characters are skipped; a trailing partial group yields its whole bytes.
  uint32_t accumulator = 0;
  int bits = 0;
  for (const char c : word.text) {
    const int value = base64_value(c);
    if (value < 0) {
      continue;
    }
    accumulator = (accumulator << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[count++] = static_cast<uint8_t>(accumulator >> bits);
    }
  }
  return count;
}

// Decoded bytes waiting for conversion, all in one charset.
class Run {
 public:
  static constexpr std::size_t kBytes = 4096;

  void add(Charset charset, const uint8_t* bytes, std::size_t count, Utf8Out& out) noexcept {
    if (length_ > 0 && charset != charset_) {
      flush(out);
    }
    charset_ = charset;
    while (count > 0) {
      const std::size_t take = count < kBytes - length_ ? count : kBytes - length_;
      std::memcpy(bytes_.data() + length_, bytes, take);
      length_ += take;
      bytes += take;
      count -= take;
      if (length_ == kBytes) {
        flush(out);
      }
    }
  }
  void flush(Utf8Out& out) noexcept {
    convert(bytes_.data(), length_, charset_, out);
    length_ = 0;
  }

 private:
  std::array<uint8_t, kBytes> bytes_;
  std::size_t length_ = 0;
  Charset charset_ = Charset::kUtf8;
};

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

HeaderTextResult result_of(const Utf8Out& out, bool encoded_words) noexcept {
  HeaderTextResult result;
  result.length = out.length();
  result.truncated = out.full();
  result.replaced = out.replaced();
  result.encoded_words = encoded_words;
  return result;
}

}  // namespace

HeaderTextResult decode_header_text(std::string_view raw, std::span<char> out_buffer) noexcept {
  raw = trim(raw);
  Utf8Out out(out_buffer);
  Run run;
  std::array<uint8_t, 1024> word_bytes;
  bool after_encoded_word = false;
  bool any_encoded = false;
  std::size_t space_start = 0;
  std::size_t space_length = 0;
  std::size_t i = 0;
  while (i < raw.size() && !out.full()) {
    const char c = raw[i];
    if (is_space(c)) {
      if (space_length == 0) {
        space_start = i;
      }
      ++space_length;
      ++i;
      continue;
    }
    EncodedWord word;
    if (c == '=' && i + 1 < raw.size() && raw[i + 1] == '?' && parse_encoded_word(raw, i, word) &&
        word.text.size() <= word_bytes.size()) {
      if (!after_encoded_word && space_length > 0) {
        run.add(Charset::kUtf8, reinterpret_cast<const uint8_t*>(raw.data() + space_start), space_length, out);
      }
      space_length = 0;
      const std::size_t count = decode_word(word, word_bytes.data());
      run.add(charset_of(word.charset), word_bytes.data(), count, out);
      after_encoded_word = true;
      any_encoded = true;
      i = word.end;
      continue;
    }
    if (space_length > 0) {
      run.add(Charset::kUtf8, reinterpret_cast<const uint8_t*>(raw.data() + space_start), space_length, out);
      space_length = 0;
    }
    run.add(Charset::kUtf8, reinterpret_cast<const uint8_t*>(raw.data() + i), 1, out);
    after_encoded_word = false;
    ++i;
  }
  run.flush(out);
  // Text that ran past the output is truncated too, even when the cut fell on a token boundary.
  const bool cut = i < raw.size();
  HeaderTextResult result = result_of(out, any_encoded);
  result.truncated = result.truncated || cut;
  return result;
}

HeaderTextResult copy_header_text(std::string_view raw, std::span<char> out_buffer) noexcept {
  raw = trim(raw);
  Utf8Out out(out_buffer);
  convert(reinterpret_cast<const uint8_t*>(raw.data()), raw.size(), Charset::kUtf8, out);
  return result_of(out, false);
}

}  // namespace misdirect::inspect
