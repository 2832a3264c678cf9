// JsonValue: one JSON document — the control socket's request and response type — and its
// writer. Documents are read by parse_json (json_parser.h, nlohmann-json underneath).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace misdirect::control {

class JsonValue {
 public:
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  using Array = std::vector<JsonValue>;
  // Members in document order. Duplicate names are kept; callers that care (request validation)
  // reject them, so the parser stays linear.
  using Member = std::pair<std::string, JsonValue>;
  using Object = std::vector<Member>;

  // A number keeps its source text (already checked against the JSON grammar), so an `id` such as
  // 12345678901234567890 is echoed back exactly instead of rounded through a double.
  struct Number {
    std::string text;
  };

  JsonValue() noexcept = default;
  static JsonValue null() { return JsonValue(); }
  static JsonValue boolean(bool value);
  static JsonValue number(int64_t value);
  static JsonValue number(uint64_t value);
  static JsonValue number(double value);  // non-finite values become null
  // `text` must already be a valid JSON number (the parser's output).
  static JsonValue number_text(std::string text);
  static JsonValue string(std::string value);
  static JsonValue array(Array elements = {});
  static JsonValue object(Object members = {});

  Kind kind() const noexcept { return static_cast<Kind>(value_.index()); }
  bool is_null() const noexcept { return kind() == Kind::kNull; }
  bool is_bool() const noexcept { return kind() == Kind::kBool; }
  bool is_number() const noexcept { return kind() == Kind::kNumber; }
  bool is_string() const noexcept { return kind() == Kind::kString; }
  bool is_array() const noexcept { return kind() == Kind::kArray; }
  bool is_object() const noexcept { return kind() == Kind::kObject; }

  // Accessors assume the kind was checked first.
  bool as_bool() const noexcept { return std::get<bool>(value_); }
  const std::string& number_text() const noexcept { return std::get<Number>(value_).text; }
  const std::string& as_string() const noexcept { return std::get<std::string>(value_); }
  const Array& as_array() const noexcept { return std::get<Array>(value_); }
  Array& as_array() noexcept { return std::get<Array>(value_); }
  const Object& as_object() const noexcept { return std::get<Object>(value_); }
  Object& as_object() noexcept { return std::get<Object>(value_); }

  // A number as a double (always representable, possibly rounded or infinite for huge exponents).
  double as_double() const noexcept;
  // A number that is an integer in range (no fraction, no exponent); nullopt otherwise.
  std::optional<int64_t> as_int64() const noexcept;

  // The first member with this name, or null when absent or not an object.
  const JsonValue* find(std::string_view name) const noexcept;
  // Appends a member (objects) or an element (arrays) and returns *this for chaining.
  JsonValue& set(std::string name, JsonValue value);
  JsonValue& push_back(JsonValue value);

  // Compact JSON, no trailing newline.
  std::string to_json() const;
  void append_json(std::string& out) const;

  // A short name of the kind for messages ("a string", "an array").
  static std::string_view describe(Kind kind) noexcept;

 private:
  std::variant<std::monostate, bool, Number, std::string, Array, Object> value_;
};

// Appends `value` as a JSON string literal: quotes, backslash and control characters escaped,
// invalid UTF-8 replaced by U+FFFD, so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view value);

}  // namespace misdirect::control
