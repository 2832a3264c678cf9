// JsonLineWriter: builds one JSON object into a fixed buffer — the EVE record formatter's only
// output primitive. Never allocates; on overflow it stops writing and reports it.
//
// Records are written per recipient of every transaction, so the structural calls (keys,
// brackets, commas, short literals) are inline and reserve their room once per call: a comma,
// a key and a short value are one bounds check. string() copies runs that need no escaping eight
// bytes at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "dataplane/short_copy.h"

namespace misdirect::dataplane {

class JsonLineWriter {
 public:
  explicit JsonLineWriter(std::span<char> buffer) noexcept : buffer_(buffer) {}

  void reset() noexcept {
    length_ = 0;
    overflowed_ = false;
    depth_ = 0;
    comma_due_ = false;
  }

  void begin_object() noexcept { open('{'); }
  void end_object() noexcept { close('}'); }
  void begin_array() noexcept { open('['); }
  void end_array() noexcept { close(']'); }
  // Inside an object: the member name that the next value belongs to. Names are the program's
  // own literals: they are written as given, not escaped.
  void key(std::string_view name) noexcept {
    char* out = value_space(name.size() + 3);
    if (out != nullptr) {
      put_name(out, name);
    }
    comma_due_ = false;  // the value that follows is part of this member
  }

  // Bytes from the wire may be anything: control characters are escaped and invalid UTF-8 is
  // replaced by U+FFFD, so every line is valid JSON.
  void string(std::string_view value) noexcept;
  // A string known to need no escaping (see is_plain_text): canonical domains, the program's own
  // names, text checked once when it was stored. Copied as it is.
  void plain_string(std::string_view value) noexcept {
    char* out = value_space(value.size() + 2);
    if (out != nullptr) {
      put_quoted(out, value);
    }
  }
  // True when string() would copy `text` unchanged: printable ASCII other than '"' and '\\'.
  static bool is_plain_text(std::string_view text) noexcept;
  void number(uint64_t value) noexcept {
    const std::size_t count = digit_count(value);
    char* out = value_space(count);
    if (out != nullptr) {
      put_digits(out, count, value);
    }
  }
  void signed_number(int64_t value) noexcept;
  void decimal(double value, int digits) noexcept;
  void boolean(bool value) noexcept { raw(value ? std::string_view("true") : std::string_view("false")); }
  void null() noexcept { raw("null"); }
  // A value already formatted as JSON (a nested record).
  void raw(std::string_view json) noexcept {
    char* out = value_space(json.size());
    if (out != nullptr) {
      copy(out, json.data(), json.size());
    }
  }

  // A whole object member — key and value — with one bounds check (not after key()).
  void member_plain_string(std::string_view name, std::string_view value) noexcept {
    char* out = value_space(name.size() + 3 + value.size() + 2);
    if (out != nullptr) {
      put_quoted(put_name(out, name), value);
    }
  }
  void member_number(std::string_view name, uint64_t value) noexcept {
    const std::size_t count = digit_count(value);
    char* out = value_space(name.size() + 3 + count);
    if (out != nullptr) {
      put_digits(put_name(out, name), count, value);
    }
  }
  // `json` is already JSON: null, true, false, a number.
  void member_raw(std::string_view name, std::string_view json) noexcept {
    char* out = value_space(name.size() + 3 + json.size());
    if (out != nullptr) {
      copy(put_name(out, name), json.data(), json.size());
    }
  }

  // Room for one whole value of exactly `count` bytes that the caller writes itself, as JSON
  // (the comma before it, when due, is written here): for pieces with a fixed shape written
  // per recipient. Null when it does not fit (the overflow is flagged).
  char* value_bytes(std::size_t count) noexcept { return value_space(count); }
  // Helpers for filling value_bytes(): each returns where the next byte goes.
  static char* append(char* out, std::string_view text) noexcept {
    copy(out, text.data(), text.size());
    return out + text.size();
  }
  static std::size_t digit_count(uint64_t value) noexcept {
    std::size_t count = 1;
    while (value >= 100) {
      value /= 100;
      count += 2;
    }
    return count + (value >= 10 ? 1 : 0);
  }
  static char* append_digits(char* out, std::size_t count, uint64_t value) noexcept {
    put_digits(out, count, value);
    return out + count;
  }

  bool overflowed() const noexcept { return overflowed_; }
  std::string_view view() const noexcept { return {buffer_.data(), length_}; }

 private:
  static constexpr int kMaxDepth = 16;

  // The comma that separates this value from the one before it, if one is due. One flag is
  // enough for every level: a comma is due after any value, key–value member or closed
  // container, and never right after an opening bracket or a key.
  bool take_separator() noexcept {
    const bool comma = comma_due_;
    comma_due_ = true;
    return comma;
  }
  // Room for a value of `count` bytes and the comma before it (written here): where the value
  // goes, or null with the overflow flagged.
  char* value_space(std::size_t count) noexcept {
    const bool comma = take_separator();
    char* out = reserve(count + (comma ? 1 : 0));
    if (out == nullptr) {
      return nullptr;
    }
    if (comma) {
      *out++ = ',';
    }
    return out;
  }
  void open(char bracket) noexcept {
    char* out = value_space(1);
    if (out != nullptr) {
      *out = bracket;
    }
    if (depth_ + 1 < kMaxDepth) {
      ++depth_;
    } else {
      overflowed_ = true;
    }
    comma_due_ = false;
  }
  void close(char bracket) noexcept {
    put(bracket);
    if (depth_ > 0) {
      --depth_;
    }
    comma_due_ = true;
  }
  // Room for `count` more bytes: where to write them (the length already includes them), or
  // null with the overflow flagged and nothing written.
  char* reserve(std::size_t count) noexcept {
    if (buffer_.size() - length_ < count) {
      overflowed_ = true;
      return nullptr;
    }
    char* out = buffer_.data() + length_;
    length_ += count;
    return out;
  }
  void put(char c) noexcept {
    if (length_ < buffer_.size()) {
      buffer_[length_++] = c;
    } else {
      overflowed_ = true;
    }
  }
  void put(std::string_view text) noexcept {
    char* out = reserve(text.size());
    if (out != nullptr) {
      copy(out, text.data(), text.size());
    }
  }
  // `"name":` at `out`; returns what follows it.
  static char* put_name(char* out, std::string_view name) noexcept {
    out[0] = '"';
    copy(out + 1, name.data(), name.size());
    out[name.size() + 1] = '"';
    out[name.size() + 2] = ':';
    return out + name.size() + 3;
  }
  static void put_quoted(char* out, std::string_view value) noexcept {
    out[0] = '"';
    copy(out + 1, value.data(), value.size());
    out[value.size() + 1] = '"';
  }
  // "00" "01" … "99": two digits per division.
  static constexpr std::array<char, 200> kDigitPairs = [] {
    std::array<char, 200> pairs{};
    for (int i = 0; i < 100; ++i) {
      pairs[static_cast<std::size_t>(2 * i)] = static_cast<char>('0' + i / 10);
      pairs[static_cast<std::size_t>(2 * i + 1)] = static_cast<char>('0' + i % 10);
    }
    return pairs;
  }();
  // The `count` digits of `value` (count from digit_count) at `out`, last pair first.
  static void put_digits(char* out, std::size_t count, uint64_t value) noexcept {
    std::size_t i = count;
    while (value >= 100) {
      const auto pair = static_cast<std::size_t>(value % 100);
      value /= 100;
      i -= 2;
      std::memcpy(out + i, kDigitPairs.data() + 2 * pair, 2);
    }
    if (value >= 10) {
      std::memcpy(out + i - 2, kDigitPairs.data() + 2 * value, 2);
    } else {
      out[i - 1] = static_cast<char>('0' + value);
    }
  }
  static void copy(char* out, const char* in, std::size_t size) noexcept {
    copy_short(out, in, size);
  }
  // The escaping path of string(): from the first byte that is not plain printable ASCII.
  void escape_rest(std::string_view value) noexcept;

  std::span<char> buffer_;
  std::size_t length_ = 0;
  bool overflowed_ = false;
  int depth_ = 0;
  bool comma_due_ = false;
};

}  // namespace misdirect::dataplane
