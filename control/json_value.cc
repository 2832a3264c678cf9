// JsonValue: bounded JSON parser and writer for the control socket.
#include "control/json_value.h"

#include <charconv>
#include <cmath>

namespace misdirect::control {

// Each factory emplaces into a default value rather than moving a whole variant in: simpler code,
// and it keeps GCC 12's -Wmaybe-uninitialized quiet under sanitizers.
JsonValue JsonValue::boolean(bool value) {
  JsonValue out;
  out.value_.emplace<bool>(value);
  return out;
}

JsonValue JsonValue::number(int64_t value) { return number_text(std::to_string(value)); }

JsonValue JsonValue::number(uint64_t value) { return number_text(std::to_string(value)); }

JsonValue JsonValue::number(double value) {
  if (!std::isfinite(value)) {
    return JsonValue();
  }
  // The shortest text that reads back as the same double ("12.3", "1e+20"): valid JSON.
  char text[32];
  const auto result = std::to_chars(text, text + sizeof(text), value);
  return number_text(std::string(text, result.ptr));
}

JsonValue JsonValue::number_text(std::string text) {
  JsonValue out;
  out.value_.emplace<Number>(Number{std::move(text)});
  return out;
}

JsonValue JsonValue::string(std::string value) {
  JsonValue out;
  out.value_.emplace<std::string>(std::move(value));
  return out;
}

JsonValue JsonValue::array(Array elements) {
  JsonValue out;
  out.value_.emplace<Array>(std::move(elements));
  return out;
}

JsonValue JsonValue::object(Object members) {
  JsonValue out;
  out.value_.emplace<Object>(std::move(members));
  return out;
}

double JsonValue::as_double() const noexcept {
  // from_chars accepts every JSON number and, unlike strtod, ignores the locale. Out-of-range
  // values leave `value` untouched, so they read as infinities.
  const std::string& text = number_text();
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    const bool negative_exponent = text.find("e-") != std::string::npos ||
                                   text.find("E-") != std::string::npos;
    if (negative_exponent) {
      return 0.0;
    }
    return text.front() == '-' ? -HUGE_VAL : HUGE_VAL;
  }
  return value;
}

std::optional<int64_t> JsonValue::as_int64() const noexcept {
  const std::string& text = number_text();
  int64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

const JsonValue* JsonValue::find(std::string_view name) const noexcept {
  if (!is_object()) {
    return nullptr;
  }
  for (const Member& member : as_object()) {
    if (member.first == name) {
      return &member.second;
    }
  }
  return nullptr;
}

JsonValue& JsonValue::set(std::string name, JsonValue value) {
  as_object().emplace_back(std::move(name), std::move(value));
  return *this;
}

JsonValue& JsonValue::push_back(JsonValue value) {
  as_array().push_back(std::move(value));
  return *this;
}

std::string_view JsonValue::describe(Kind kind) noexcept {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "a boolean";
    case Kind::kNumber:
      return "a number";
    case Kind::kString:
      return "a string";
    case Kind::kArray:
      return "an array";
    case Kind::kObject:
      return "an object";
  }
  return "a value";
}

namespace {

// Decodes one UTF-8 sequence at `text[i]`; returns its length, or 0 when it is not well-formed
// (overlong forms, surrogates and code points above U+10FFFF are not).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) {
    return 1;
  }
  std::size_t length = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) {
      min_second = 0xA0;  // overlong
    } else if (lead == 0xED) {
      max_second = 0x9F;  // UTF-16 surrogates
    }
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) {
      min_second = 0x90;  // overlong
    } else if (lead == 0xF4) {
      max_second = 0x8F;  // above U+10FFFF
    }
  } else {
    return 0;
  }
  if (text.size() - i < length) {
    return 0;
  }
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) {
    return 0;
  }
  for (std::size_t k = 2; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      return 0;
    }
  }
  return length;
}

void append_utf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Recursive descent over the text. Depth is bounded by the limits, so recursion is too. Every
// failure records the first error and unwinds by returning false.
class Parser {
 public:
  Parser(std::string_view text, const JsonParseLimits& limits) : text_(text), limits_(limits) {}

  bool parse_document(JsonValue& out) {
    skip_whitespace();
    if (!parse_value(out, 1)) {
      return false;
    }
    skip_whitespace();
    if (pos_ != text_.size()) {
      return fail("unexpected text after the JSON value");
    }
    return true;
  }

  const std::string& error() const noexcept { return error_; }
  std::size_t error_offset() const noexcept { return error_offset_; }

 private:
  bool fail(std::string_view message) { return fail_at(pos_, message); }

  bool fail_at(std::size_t offset, std::string_view message) {
    if (error_.empty()) {
      error_ = message;
      error_offset_ = offset;
    }
    return false;
  }

  bool at_end() const noexcept { return pos_ >= text_.size(); }
  char peek() const noexcept { return text_[pos_]; }

  void skip_whitespace() noexcept {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++pos_;
    }
  }

  bool parse_value(JsonValue& out, int depth) {
    if (at_end()) {
      return fail("unexpected end of input, expected a value");
    }
    switch (peek()) {
      case '{':
        return parse_object(out, depth);
      case '[':
        return parse_array(out, depth);
      case '"': {
        std::string text;
        if (!parse_string(text)) {
          return false;
        }
        out = JsonValue::string(std::move(text));
        return true;
      }
      case 't':
        return parse_literal("true", JsonValue::boolean(true), out);
      case 'f':
        return parse_literal("false", JsonValue::boolean(false), out);
      case 'n':
        return parse_literal("null", JsonValue::null(), out);
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) {
          return parse_number(out);
        }
        return fail("unexpected character, expected a value");
    }
  }

  bool parse_literal(std::string_view word, JsonValue value, JsonValue& out) {
    if (text_.substr(pos_, word.size()) != word) {
      return fail("invalid literal");
    }
    pos_ += word.size();
    out = std::move(value);
    return true;
  }

  bool digits() {
    const std::size_t start = pos_;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      ++pos_;
    }
    return pos_ > start;
  }

  // number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
  bool parse_number(JsonValue& out) {
    const std::size_t start = pos_;
    if (peek() == '-') {
      ++pos_;
    }
    if (at_end()) {
      return fail("unexpected end of input in a number");
    }
    if (peek() == '0') {
      ++pos_;
      if (!at_end() && peek() >= '0' && peek() <= '9') {
        return fail("leading zero in a number");
      }
    } else if (!digits()) {
      return fail("expected a digit");
    }
    if (!at_end() && peek() == '.') {
      ++pos_;
      if (!digits()) {
        return fail("expected a digit after the decimal point");
      }
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++pos_;
      if (!at_end() && (peek() == '+' || peek() == '-')) {
        ++pos_;
      }
      if (!digits()) {
        return fail("expected a digit in the exponent");
      }
    }
    out = JsonValue::number_text(std::string(text_.substr(start, pos_ - start)));
    return true;
  }

  bool hex4(uint32_t& value) {
    if (text_.size() - pos_ < 4) {
      return fail("unexpected end of input in a \\u escape");
    }
    value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_];
      uint32_t digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return fail("invalid hex digit in a \\u escape");
      }
      value = value * 16 + digit;
      ++pos_;
    }
    return true;
  }

  // At the 'u' of a \u escape: one code point, joining a surrogate pair.
  bool parse_unicode_escape(std::string& out) {
    const std::size_t escape_start = pos_ - 1;
    ++pos_;  // 'u'
    uint32_t unit = 0;
    if (!hex4(unit)) {
      return false;
    }
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
      return fail_at(escape_start, "unpaired low surrogate in a \\u escape");
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") {
        return fail_at(escape_start, "unpaired high surrogate in a \\u escape");
      }
      pos_ += 2;
      uint32_t low = 0;
      if (!hex4(low)) {
        return false;
      }
      if (low < 0xDC00 || low > 0xDFFF) {
        return fail_at(escape_start, "high surrogate not followed by a low surrogate");
      }
      unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, unit);
    return true;
  }

  bool parse_string(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (at_end()) {
        return fail("unexpected end of input in a string");
      }
      const auto c = static_cast<unsigned char>(peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        return fail("control character in a string (must be escaped)");
      }
      if (c == '\\') {
        ++pos_;
        if (at_end()) {
          return fail("unexpected end of input in an escape");
        }
        const char escape = peek();
        switch (escape) {
          case '"':
          case '\\':
          case '/':
            out.push_back(escape);
            break;
          case 'b':
            out.push_back('\b');
            break;
          case 'f':
            out.push_back('\f');
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case 't':
            out.push_back('\t');
            break;
          case 'u':
            if (!parse_unicode_escape(out)) {
              return false;
            }
            continue;  // parse_unicode_escape advanced past the digits
          default:
            return fail("invalid escape in a string");
        }
        ++pos_;
        continue;
      }
      const std::size_t length = utf8_sequence_length(text_, pos_);
      if (length == 0) {
        return fail("invalid UTF-8 in a string");
      }
      out.append(text_.substr(pos_, length));
      pos_ += length;
    }
  }

  bool enter(int depth) {
    if (depth > limits_.max_depth) {
      return fail("nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    return true;
  }

  bool parse_array(JsonValue& out, int depth) {
    if (!enter(depth)) {
      return false;
    }
    ++pos_;  // '['
    JsonValue::Array elements;
    skip_whitespace();
    if (!at_end() && peek() == ']') {
      ++pos_;
      out = JsonValue::array(std::move(elements));
      return true;
    }
    while (true) {
      skip_whitespace();
      JsonValue element;
      if (!parse_value(element, depth + 1)) {
        return false;
      }
      elements.push_back(std::move(element));
      skip_whitespace();
      if (at_end()) {
        return fail("unexpected end of input in an array");
      }
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        out = JsonValue::array(std::move(elements));
        return true;
      }
      return fail("expected ',' or ']' in an array");
    }
  }

  bool parse_object(JsonValue& out, int depth) {
    if (!enter(depth)) {
      return false;
    }
    ++pos_;  // '{'
    JsonValue::Object members;
    skip_whitespace();
    if (!at_end() && peek() == '}') {
      ++pos_;
      out = JsonValue::object(std::move(members));
      return true;
    }
    while (true) {
      skip_whitespace();
      if (at_end()) {
        return fail("unexpected end of input in an object");
      }
      if (peek() != '"') {
        return fail("expected a member name in quotes");
      }
      std::string name;
      if (!parse_string(name)) {
        return false;
      }
      skip_whitespace();
      if (at_end() || peek() != ':') {
        return fail("expected ':' after a member name");
      }
      ++pos_;
      skip_whitespace();
      JsonValue value;
      if (!parse_value(value, depth + 1)) {
        return false;
      }
      members.emplace_back(std::move(name), std::move(value));
      skip_whitespace();
      if (at_end()) {
        return fail("unexpected end of input in an object");
      }
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        out = JsonValue::object(std::move(members));
        return true;
      }
      return fail("expected ',' or '}' in an object");
    }
  }

  std::string_view text_;
  JsonParseLimits limits_;
  std::size_t pos_ = 0;
  std::string error_;
  std::size_t error_offset_ = 0;
};

}  // namespace

JsonParseResult parse_json(std::string_view text, const JsonParseLimits& limits) noexcept {
  JsonParseResult result;
  try {
    if (text.size() > limits.max_bytes) {
      result.error = "document larger than " + std::to_string(limits.max_bytes) + " bytes";
      result.offset = limits.max_bytes;
      return result;
    }
    Parser parser(text, limits);
    if (!parser.parse_document(result.value)) {
      result.value = JsonValue();
      result.error = parser.error();
      result.offset = parser.error_offset();
    }
  } catch (...) {
    // Only allocation can throw here; a request too big to hold is refused like any bad request.
    // The message fits the small-string buffer, so setting it cannot throw again.
    result.value = JsonValue();
    result.error = "out of memory";
    result.offset = 0;
  }
  return result;
}

void append_json_string(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < value.size()) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      switch (c) {
        case '\b':
          out.append("\\b");
          break;
        case '\f':
          out.append("\\f");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default:
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
      }
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else {
      const std::size_t length = utf8_sequence_length(value, i);
      if (length == 0) {
        out.append("\xEF\xBF\xBD");  // U+FFFD for each byte that starts no valid sequence
        ++i;
      } else {
        out.append(value.substr(i, length));
        i += length;
      }
    }
  }
  out.push_back('"');
}

void JsonValue::append_json(std::string& out) const {
  switch (kind()) {
    case Kind::kNull:
      out.append("null");
      return;
    case Kind::kBool:
      out.append(as_bool() ? "true" : "false");
      return;
    case Kind::kNumber:
      out.append(number_text());
      return;
    case Kind::kString:
      append_json_string(out, as_string());
      return;
    case Kind::kArray: {
      out.push_back('[');
      bool first = true;
      for (const JsonValue& element : as_array()) {
        if (!first) {
          out.push_back(',');
        }
        first = false;
        element.append_json(out);
      }
      out.push_back(']');
      return;
    }
    case Kind::kObject: {
      out.push_back('{');
      bool first = true;
      for (const Member& member : as_object()) {
        if (!first) {
          out.push_back(',');
        }
        first = false;
        append_json_string(out, member.first);
        out.push_back(':');
        member.second.append_json(out);
      }
      out.push_back('}');
      return;
    }
  }
}

std::string JsonValue::to_json() const {
  std::string out;
  append_json(out);
  return out;
}

}  // namespace misdirect::control
