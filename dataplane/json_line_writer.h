// JsonLineWriter: builds one JSON object into a fixed buffer — the EVE record formatter's only
// output primitive. Never allocates; on overflow it stops writing and reports it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace misdirect::dataplane {

class JsonLineWriter {
 public:
  explicit JsonLineWriter(std::span<char> buffer) noexcept : buffer_(buffer) {}

  void reset() noexcept;

  void begin_object() noexcept;
  void end_object() noexcept;
  void begin_array() noexcept;
  void end_array() noexcept;
  // Inside an object: the member name that the next value belongs to.
  void key(std::string_view name) noexcept;

  // Bytes from the wire may be anything: control characters are escaped and invalid UTF-8 is
  // replaced by U+FFFD, so every line is valid JSON.
  void string(std::string_view value) noexcept;
  void number(uint64_t value) noexcept;
  void signed_number(int64_t value) noexcept;
  void decimal(double value, int digits) noexcept;
  void boolean(bool value) noexcept;
  void null() noexcept;
  // A value already formatted as JSON (a nested record).
  void raw(std::string_view json) noexcept;

  bool overflowed() const noexcept { return overflowed_; }
  std::string_view view() const noexcept { return {buffer_.data(), length_}; }

 private:
  static constexpr int kMaxDepth = 16;

  void before_value() noexcept;
  void put(char c) noexcept;
  void put(std::string_view text) noexcept;

  std::span<char> buffer_;
  std::size_t length_ = 0;
  bool overflowed_ = false;
  int depth_ = 0;
  bool need_comma_[kMaxDepth] = {};
  bool after_key_ = false;
};

}  // namespace misdirect::dataplane
