// Tests for JsonValue: values and the writer (the parser: json_parser_test.cc).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "control/json_parser.h"
#include "control/json_value.h"

namespace misdirect::control {

BOOST_AUTO_TEST_SUITE(json_value)

BOOST_AUTO_TEST_CASE(written_numbers) {
  BOOST_TEST(JsonValue::number(int64_t{-5}).to_json() == "-5");
  BOOST_TEST(JsonValue::number(uint64_t{18446744073709551615ULL}).to_json() ==
             "18446744073709551615");
  BOOST_TEST(JsonValue::number(12.3).to_json() == "12.3");
  BOOST_TEST(JsonValue::number(HUGE_VAL).to_json() == "null");
}

BOOST_AUTO_TEST_CASE(writer_escapes_everything_json_requires) {
  std::string out;
  append_json_string(out, std::string("q\"b\\n\n\x01\x1f\x7f", 9));
  BOOST_TEST(out == R"("q\"b\\n\n\u0001\u001f\u007f")");
  out.clear();
  // Invalid UTF-8 becomes U+FFFD per byte; valid multi-byte text passes through.
  append_json_string(out, "a\xFF\xC3\xA9");
  BOOST_TEST(out == "\"a\xEF\xBF\xBD\xC3\xA9\"");
  BOOST_TEST(parse_json(out).ok());
  BOOST_TEST(JsonValue::string(std::string("\0", 1)).to_json() == R"("\u0000")");
}

BOOST_AUTO_TEST_CASE(numbers_by_text_and_as_integers) {
  BOOST_TEST(JsonValue::number_text("-12").as_int64().value() == -12);
  BOOST_TEST(!JsonValue::number_text("1e3").as_int64().has_value());
  BOOST_TEST(JsonValue::number_text("1e400").as_double() == HUGE_VAL);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::control
