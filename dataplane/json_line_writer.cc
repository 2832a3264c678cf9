// JsonLineWriter: fixed-buffer JSON with UTF-8 validation of wire bytes.
#include "dataplane/json_line_writer.h"

#include <charconv>
#include <cmath>
#include <cstdio>

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

}  // namespace

void JsonLineWriter::reset() noexcept {
  length_ = 0;
  overflowed_ = false;
  depth_ = 0;
  after_key_ = false;
  need_comma_[0] = false;
}

void JsonLineWriter::put(char c) noexcept {
  if (length_ < buffer_.size()) {
    buffer_[length_++] = c;
  } else {
    overflowed_ = true;
  }
}

void JsonLineWriter::put(std::string_view text) noexcept {
  if (buffer_.size() - length_ < text.size()) {
    overflowed_ = true;
    return;
  }
  for (const char c : text) {
    buffer_[length_++] = c;
  }
}

void JsonLineWriter::before_value() noexcept {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (need_comma_[depth_]) {
    put(',');
  }
  need_comma_[depth_] = true;
}

void JsonLineWriter::begin_object() noexcept {
  before_value();
  put('{');
  if (depth_ + 1 < kMaxDepth) {
    ++depth_;
  } else {
    overflowed_ = true;
  }
  need_comma_[depth_] = false;
}

void JsonLineWriter::end_object() noexcept {
  put('}');
  if (depth_ > 0) {
    --depth_;
  }
}

void JsonLineWriter::begin_array() noexcept {
  before_value();
  put('[');
  if (depth_ + 1 < kMaxDepth) {
    ++depth_;
  } else {
    overflowed_ = true;
  }
  need_comma_[depth_] = false;
}

void JsonLineWriter::end_array() noexcept {
  put(']');
  if (depth_ > 0) {
    --depth_;
  }
}

void JsonLineWriter::key(std::string_view name) noexcept {
  before_value();
  put('"');
  put(name);
  put('"');
  put(':');
  after_key_ = true;
}

void JsonLineWriter::string(std::string_view value) noexcept {
  before_value();
  put('"');
  std::size_t i = 0;
  while (i < value.size()) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      put('\\');
      put(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      put(std::string_view(escaped, 6));
      ++i;
    } else if (c < 0x80) {
      put(static_cast<char>(c));
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

void JsonLineWriter::number(uint64_t value) noexcept {
  before_value();
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  put(std::string_view(digits, static_cast<std::size_t>(result.ptr - digits)));
}

void JsonLineWriter::signed_number(int64_t value) noexcept {
  before_value();
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  put(std::string_view(digits, static_cast<std::size_t>(result.ptr - digits)));
}

void JsonLineWriter::decimal(double value, int digits) noexcept {
  before_value();
  if (!std::isfinite(value)) {
    put("null");
    return;
  }
  char text[48];
  const int length = std::snprintf(text, sizeof text, "%.*f", digits, value);
  if (length > 0 && static_cast<std::size_t>(length) < sizeof text) {
    put(std::string_view(text, static_cast<std::size_t>(length)));
  } else {
    put("null");
  }
}

void JsonLineWriter::boolean(bool value) noexcept {
  before_value();
  put(value ? std::string_view("true") : std::string_view("false"));
}

void JsonLineWriter::null() noexcept {
  before_value();
  put("null");
}

void JsonLineWriter::raw(std::string_view json) noexcept {
  before_value();
  put(json);
}

}  // namespace misdirect::dataplane
