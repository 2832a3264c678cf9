// JsonLineWriter: builds one JSON object into a fixed buffer — the EVE record formatter's only
// output primitive. Never allocates; on overflow it stops writing and reports it.
//
// Records are written per recipient of every transaction, so the structural calls (keys,
// brackets, commas, short literals) are inline and check the room once per call, and string()
// copies runs that need no escaping eight bytes at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace misdirect::dataplane {

class JsonLineWriter {
 public:
  explicit JsonLineWriter(std::span<char> buffer) noexcept : buffer_(buffer) {}

  void reset() noexcept {
    length_ = 0;
    overflowed_ = false;
    depth_ = 0;
    after_key_ = false;
    need_comma_[0] = false;
  }

  void begin_object() noexcept { open('{'); }
  void end_object() noexcept { close('}'); }
  void begin_array() noexcept { open('['); }
  void end_array() noexcept { close(']'); }
  // Inside an object: the member name that the next value belongs to. Names are the program's
  // own literals: they are written as given, not escaped.
  void key(std::string_view name) noexcept {
    before_value();
    char* out = reserve(name.size() + 3);
    if (out != nullptr) {
      out[0] = '"';
      std::memcpy(out + 1, name.data(), name.size());
      out[name.size() + 1] = '"';
      out[name.size() + 2] = ':';
    }
    after_key_ = true;
  }

  // Bytes from the wire may be anything: control characters are escaped and invalid UTF-8 is
  // replaced by U+FFFD, so every line is valid JSON.
  void string(std::string_view value) noexcept;
  void number(uint64_t value) noexcept;
  void signed_number(int64_t value) noexcept;
  void decimal(double value, int digits) noexcept;
  void boolean(bool value) noexcept {
    before_value();
    put(value ? std::string_view("true") : std::string_view("false"));
  }
  void null() noexcept {
    before_value();
    put("null");
  }
  // A value already formatted as JSON (a nested record).
  void raw(std::string_view json) noexcept {
    before_value();
    put(json);
  }

  bool overflowed() const noexcept { return overflowed_; }
  std::string_view view() const noexcept { return {buffer_.data(), length_}; }

 private:
  static constexpr int kMaxDepth = 16;

  void before_value() noexcept {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (need_comma_[depth_]) {
      put(',');
    }
    need_comma_[depth_] = true;
  }
  void open(char bracket) noexcept {
    before_value();
    put(bracket);
    if (depth_ + 1 < kMaxDepth) {
      ++depth_;
    } else {
      overflowed_ = true;
    }
    need_comma_[depth_] = false;
  }
  void close(char bracket) noexcept {
    put(bracket);
    if (depth_ > 0) {
      --depth_;
    }
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
    if (out != nullptr && !text.empty()) {
      std::memcpy(out, text.data(), text.size());
    }
  }
  // The escaping path of string(): from the first byte that is not plain printable ASCII.
  void escape_rest(std::string_view value) noexcept;

  std::span<char> buffer_;
  std::size_t length_ = 0;
  bool overflowed_ = false;
  int depth_ = 0;
  bool need_comma_[kMaxDepth] = {};
  bool after_key_ = false;
};

}  // namespace misdirect::dataplane
