// parse_json on nlohmann-json (Debian nlohmann-json3-dev), STYLE.md 24: a control message is cold
// path, so a well-kept library reads it instead of our own lexer. nlohmann checks the grammar,
// UTF-8 and surrogate pairs; what it does not do by itself is enforced around it:
// - size: the line is measured before nlohmann sees it (max_bytes);
// - depth: nlohmann's SAX parser keeps its own stack on the heap and takes any depth, so the
//   SAX handler below counts start_object/start_array and stops the parse past max_depth; the
//   input is fed through a counting iterator so that this error, too, names its byte offset;
// - exact numbers: nlohmann turns an integer beyond 64 bits into a double, but its SAX interface
//   hands number_float the token's text, which is what JsonValue keeps, so an id such as
//   12345678901234567890123 is echoed exactly. (Integers that fit 64 bits come as values and are
//   written back as decimal digits: only "-0" comes back as "0".)
// - messages: nlohmann's exception text without its "[json.exception...] ... column N:" prefix
//   and without the "last read" echo of the input (which can be as long as the line).
// The value is built by the SAX handler directly into JsonValue (members in document order,
// duplicates kept for the request checker to refuse), with no nlohmann DOM in between.
#include "control/json_parser.h"

#include <cstdint>
#include <iterator>
#include <string_view>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace misdirect::control {

namespace {

using Json = nlohmann::json;

// A byte iterator that tells how far nlohmann has read, for the depth error's offset.
class CountingIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator() = default;
  CountingIterator(const char* at, const char* begin, std::size_t* furthest)
      : at_(at), begin_(begin), furthest_(furthest) {}
  reference operator*() const noexcept { return *at_; }
  CountingIterator& operator++() noexcept {
    ++at_;
    *furthest_ = static_cast<std::size_t>(at_ - begin_);
    return *this;
  }
  CountingIterator operator++(int) noexcept {
    CountingIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const CountingIterator& other) const noexcept { return at_ == other.at_; }

 private:
  const char* at_ = nullptr;
  const char* begin_ = nullptr;
  std::size_t* furthest_ = nullptr;
};

// Builds the JsonValue tree from nlohmann's SAX events; stops past the depth limit.
class ValueBuilder final : public nlohmann::json_sax<Json> {
 public:
  ValueBuilder(int max_depth, const std::size_t& bytes_read) : max_depth_(max_depth), bytes_read_(bytes_read) {}

  bool null() override { return add(JsonValue::null()); }
  bool boolean(bool value) override { return add(JsonValue::boolean(value)); }
  bool number_integer(number_integer_t value) override {
    return add(JsonValue::number(static_cast<int64_t>(value)));
  }
  bool number_unsigned(number_unsigned_t value) override {
    return add(JsonValue::number(static_cast<uint64_t>(value)));
  }
  bool number_float(number_float_t, const string_t& text) override {
    return add(JsonValue::number_text(text));  // the token as written: nothing rounded
  }
  bool string(string_t& value) override { return add(JsonValue::string(std::move(value))); }
  bool binary(binary_t&) override { return false; }  // only for binary formats, never from JSON text
  bool start_object(std::size_t) override { return open(JsonValue::object()); }
  bool key(string_t& name) override {
    key_ = std::move(name);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(JsonValue::array()); }
  bool end_array() override { return close(); }

  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& failure) override {
    error_ = readable(failure.what(), last_token);
    // nlohmann's position counts the bytes read, the offending one included.
    offset_ = position > 0 ? position - 1 : 0;
    return false;
  }

  JsonValue take() { return std::move(root_); }
  const std::string& error() const noexcept { return error_; }
  std::size_t offset() const noexcept { return offset_; }

 private:
  // Places a finished value: into the open container, or as the document.
  bool add(JsonValue value) {
    if (open_.empty()) {
      root_ = std::move(value);
    } else if (open_.back().is_object()) {
      open_.back().set(std::move(key_), std::move(value));
    } else {
      open_.back().push_back(std::move(value));
    }
    return true;
  }

  bool open(JsonValue container) {
    if (open_.size() >= static_cast<std::size_t>(max_depth_)) {
      error_ = "nesting deeper than " + std::to_string(max_depth_) + " levels";
      offset_ = bytes_read_ > 0 ? bytes_read_ - 1 : 0;  // the bracket that went too deep
      return false;
    }
    // An object's member name is kept with the container until the container is placed.
    open_keys_.push_back(std::move(key_));
    open_.push_back(std::move(container));
    return true;
  }

  bool close() {
    JsonValue done = std::move(open_.back());
    open_.pop_back();
    key_ = std::move(open_keys_.back());
    open_keys_.pop_back();
    return add(std::move(done));
  }

  // "[json.exception.parse_error.101] parse error at line 1, column 7: syntax error while parsing
  // object - unexpected end of input; expected '}'" -> "syntax error while parsing object - ...":
  // no exception id, no line and column (a request is one line; the offset is given apart), no
  // "; last read: '<token>'" (it quotes the input), and never longer than kMaxMessageBytes.
  static std::string readable(std::string what, const std::string& last_token) {
    constexpr std::size_t kMaxMessageBytes = 160;
    const std::string echo = "; last read: '" + last_token + "'";
    if (const std::size_t at = what.find(echo); at != std::string::npos) {
      what.erase(at, echo.size());
    }
    const auto drop_through = [&what](std::string_view opening, std::string_view end) {
      const std::size_t at = what.find(end);
      if (what.starts_with(opening) && at != std::string::npos) {
        what.erase(0, at + end.size());
      }
    };
    drop_through("[json.exception.", "] ");
    drop_through("parse error at line ", ": ");
    if (what.size() > kMaxMessageBytes) {
      what.resize(kMaxMessageBytes);
      what.append("...");
    }
    return what;
  }

  int max_depth_;
  const std::size_t& bytes_read_;
  JsonValue root_;
  std::vector<JsonValue> open_;
  std::vector<std::string> open_keys_;
  std::string key_;
  std::string error_;
  std::size_t offset_ = 0;
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
    std::size_t bytes_read = 0;
    ValueBuilder builder(limits.max_depth, bytes_read);
    const char* begin = text.data();
    const bool ok = Json::sax_parse(CountingIterator(begin, begin, &bytes_read),
                                    CountingIterator(begin + text.size(), begin, &bytes_read), &builder,
                                    nlohmann::json::input_format_t::json, /*strict=*/true);
    if (ok) {
      result.value = builder.take();
      return result;
    }
    result.error = builder.error().empty() ? "invalid JSON" : builder.error();
    result.offset = builder.offset();
  } catch (...) {
    // Only allocation can throw here; a request too big to hold is refused like any bad request.
    // The message fits the small-string buffer, so setting it cannot throw again.
    result.value = JsonValue();
    result.error = "out of memory";
    result.offset = 0;
  }
  return result;
}

}  // namespace misdirect::control
