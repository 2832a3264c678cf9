// parse_json: one control-socket line read into a JsonValue, bounded (size, nesting depth), with
// integers of any length kept exactly, and errors that give the byte offset.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "control/json_value.h"

namespace misdirect::control {

struct JsonParseLimits {
  std::size_t max_bytes = 1 << 20;
  int max_depth = 32;  // nested arrays and objects; the document's top level is depth 1
};

// Either a value, or an error with the byte offset where the input stopped making sense.
struct JsonParseResult {
  JsonValue value;
  std::string error;       // empty on success
  std::size_t offset = 0;  // where the error was found
  bool ok() const noexcept { return error.empty(); }
};

// Parses exactly one JSON document (RFC 8259) surrounded by optional whitespace. Strings must be
// valid UTF-8; \u escapes must pair surrogates. Nothing is thrown: even allocation failure comes
// back as an error.
JsonParseResult parse_json(std::string_view text, const JsonParseLimits& limits = {}) noexcept;

}  // namespace misdirect::control
