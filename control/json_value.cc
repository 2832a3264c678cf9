// JsonValue: the control socket's JSON values and their writer (json_parser.cc reads them).
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

}  // namespace

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
