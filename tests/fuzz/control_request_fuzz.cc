// Fuzz target for the control socket's request parser: any bytes through the bounded JSON parser
// and request validation, then the answer line built from the result must itself parse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "control/control_protocol.h"
#include "control/json_parser.h"
#include "control/json_value.h"

namespace {

// A broken invariant must crash so the fuzzer records the input.
void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace misdirect::control;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  JsonParseLimits limits;
  limits.max_bytes = 64 * 1024;

  // Whatever the parser accepts, the writer must turn into JSON that parses to the same text.
  const JsonParseResult document = parse_json(line, limits);
  if (document.ok()) {
    const std::string written = document.value.to_json();
    JsonParseLimits rewritten_limits = limits;
    rewritten_limits.max_bytes = written.size();
    const JsonParseResult again = parse_json(written, rewritten_limits);
    require(again.ok());
    require(again.value.to_json() == written);
  } else {
    require(document.offset <= size);
  }

  const RequestParseResult request = parse_request(line, limits);
  require(request.ok() || !request.message.empty());
  const std::string answer =
      request.ok() ? make_ok_response(request.request.id, JsonValue::object())
                   : make_error_response(request.request.id, *request.error, request.message);
  JsonParseLimits answer_limits;
  answer_limits.max_bytes = answer.size();
  answer_limits.max_depth = limits.max_depth + 2;
  require(parse_json(answer, answer_limits).ok());
  require(answer.find('\n') == std::string::npos);
  return 0;
}
