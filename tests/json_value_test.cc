// Tests for JsonValue: the bounded parser and the writer.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

#include "control/json_value.h"

namespace misdirect::control {
namespace {

JsonValue parse_ok(std::string_view text) {
  JsonParseResult result = parse_json(text);
  BOOST_TEST_INFO("input: " << text << " error: " << result.error);
  BOOST_REQUIRE(result.ok());
  return std::move(result.value);
}

JsonParseResult parse_bad(std::string_view text, const JsonParseLimits& limits = {}) {
  JsonParseResult result = parse_json(text, limits);
  BOOST_TEST_INFO("input: " << text);
  BOOST_REQUIRE(!result.ok());
  BOOST_TEST(result.value.is_null());
  return result;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_value)

BOOST_AUTO_TEST_CASE(parses_every_kind) {
  const JsonValue value =
      parse_ok(R"( {"a": null, "b": true, "c": false, "d": -12.5e+3, "e": "x", "f": [1, []], "g": {}} )");
  BOOST_REQUIRE(value.is_object());
  BOOST_TEST(value.as_object().size() == 7U);
  BOOST_TEST(value.find("a")->is_null());
  BOOST_TEST(value.find("b")->as_bool() == true);
  BOOST_TEST(value.find("c")->as_bool() == false);
  BOOST_TEST(value.find("d")->number_text() == "-12.5e+3");
  BOOST_TEST(value.find("d")->as_double() == -12500.0);
  BOOST_TEST(value.find("e")->as_string() == "x");
  BOOST_TEST(value.find("f")->as_array().size() == 2U);
  BOOST_TEST(value.find("f")->as_array()[1].as_array().empty());
  BOOST_TEST(value.find("g")->as_object().empty());
  BOOST_TEST(value.find("missing") == nullptr);
}

BOOST_AUTO_TEST_CASE(writes_compact_json_that_parses_back_the_same) {
  const std::string text = R"({"a":null,"b":[true,false,0,-1.5e-7],"c":{"d":"e\"\\\n"}})";
  BOOST_TEST(parse_ok(text).to_json() == text);
}

BOOST_AUTO_TEST_CASE(simple_escapes) {
  const JsonValue value = parse_ok(R"("\"\\\/\b\f\n\r\t")");
  BOOST_TEST(value.as_string() == std::string("\"\\/\b\f\n\r\t"));
}

BOOST_AUTO_TEST_CASE(unicode_escapes_and_surrogate_pairs) {
  BOOST_TEST(parse_ok(R"("\u0041\u00e9\u20AC")").as_string() == "A\xC3\xA9\xE2\x82\xAC");
  // U+1F600 as a surrogate pair.
  BOOST_TEST(parse_ok(R"("\ud83d\ude00")").as_string() == "\xF0\x9F\x98\x80");
  BOOST_TEST(parse_ok(R"("\u0000")").as_string() == std::string(1, '\0'));
}

BOOST_AUTO_TEST_CASE(unpaired_surrogates_are_refused_at_the_escape) {
  BOOST_TEST(parse_bad(R"("ab\ud83d")").error == "unpaired high surrogate in a \\u escape");
  BOOST_TEST(parse_bad(R"("ab\ud83d")").offset == 3U);
  BOOST_TEST(parse_bad(R"("\ude00")").error == "unpaired low surrogate in a \\u escape");
  BOOST_TEST(parse_bad(R"("\ud83d\u0041")").error ==
             "high surrogate not followed by a low surrogate");
  BOOST_TEST(parse_bad(R"("\u12G4")").error == "invalid hex digit in a \\u escape");
  BOOST_TEST(parse_bad(R"("\u12)").error == "unexpected end of input in a \\u escape");
}

BOOST_AUTO_TEST_CASE(bad_strings) {
  BOOST_TEST(parse_bad("\"a\nb\"").error == "control character in a string (must be escaped)");
  BOOST_TEST(parse_bad(R"("\x")").error == "invalid escape in a string");
  BOOST_TEST(parse_bad(R"("abc)").error == "unexpected end of input in a string");
  // Overlong '/', a UTF-16 surrogate in UTF-8, a stray continuation byte, a cut sequence.
  BOOST_TEST(parse_bad("\"\xC0\xAF\"").error == "invalid UTF-8 in a string");
  BOOST_TEST(parse_bad("\"\xED\xA0\x80\"").error == "invalid UTF-8 in a string");
  BOOST_TEST(parse_bad("\"a\x80\"").offset == 2U);
  BOOST_TEST(parse_bad("\"\xE2\x82\"").error == "invalid UTF-8 in a string");
  BOOST_TEST(parse_ok("\"\xF4\x8F\xBF\xBF\"").as_string() == "\xF4\x8F\xBF\xBF");
  BOOST_TEST(parse_bad("\"\xF4\x90\x80\x80\"").error == "invalid UTF-8 in a string");
}

BOOST_AUTO_TEST_CASE(numbers_follow_the_grammar) {
  for (const char* good : {"0", "-0", "7", "-12", "1.5", "0.25", "1e9", "1E+2", "-3e-4",
                           "12345678901234567890123"}) {
    BOOST_TEST(parse_ok(good).number_text() == good);
  }
  BOOST_TEST(parse_bad("01").error == "leading zero in a number");
  BOOST_TEST(parse_bad("-").error == "unexpected end of input in a number");
  BOOST_TEST(parse_bad("-a").error == "expected a digit");
  BOOST_TEST(parse_bad("1.").error == "expected a digit after the decimal point");
  BOOST_TEST(parse_bad("1e").error == "expected a digit in the exponent");
  BOOST_TEST(parse_bad("+1").error == "unexpected character, expected a value");
  BOOST_TEST(parse_bad(".5").error == "unexpected character, expected a value");
  BOOST_TEST(parse_bad("NaN").error == "unexpected character, expected a value");
}

BOOST_AUTO_TEST_CASE(integers_read_exactly_and_big_ids_echo_exactly) {
  BOOST_TEST(parse_ok("-9223372036854775808").as_int64().value() == INT64_MIN);
  BOOST_TEST(!parse_ok("9223372036854775808").as_int64().has_value());
  BOOST_TEST(!parse_ok("1.0").as_int64().has_value());
  BOOST_TEST(parse_ok("12345678901234567890").to_json() == "12345678901234567890");
  BOOST_TEST(parse_ok("1e400").as_double() == HUGE_VAL);
  BOOST_TEST(parse_ok("-1e400").as_double() == -HUGE_VAL);
}

BOOST_AUTO_TEST_CASE(written_numbers) {
  BOOST_TEST(JsonValue::number(int64_t{-5}).to_json() == "-5");
  BOOST_TEST(JsonValue::number(uint64_t{18446744073709551615ULL}).to_json() ==
             "18446744073709551615");
  BOOST_TEST(JsonValue::number(12.3).to_json() == "12.3");
  BOOST_TEST(JsonValue::number(HUGE_VAL).to_json() == "null");
}

BOOST_AUTO_TEST_CASE(trailing_garbage_and_structure_errors) {
  BOOST_TEST(parse_bad("{} x").error == "unexpected text after the JSON value");
  BOOST_TEST(parse_bad("{} x").offset == 3U);
  BOOST_TEST(parse_bad("1 2").error == "unexpected text after the JSON value");
  BOOST_TEST(parse_bad("").error == "unexpected end of input, expected a value");
  BOOST_TEST(parse_bad("   ").offset == 3U);
  BOOST_TEST(parse_bad("[1,]").error == "unexpected character, expected a value");
  BOOST_TEST(parse_bad("[1 2]").error == "expected ',' or ']' in an array");
  BOOST_TEST(parse_bad("{\"a\" 1}").error == "expected ':' after a member name");
  BOOST_TEST(parse_bad("{a:1}").error == "expected a member name in quotes");
  BOOST_TEST(parse_bad("{\"a\":1,}").error == "expected a member name in quotes");
  BOOST_TEST(parse_bad("{\"a\":1").error == "unexpected end of input in an object");
  BOOST_TEST(parse_bad("tru").error == "invalid literal");
  BOOST_TEST(parse_bad("nul").offset == 0U);
}

BOOST_AUTO_TEST_CASE(depth_limit) {
  JsonParseLimits limits;
  limits.max_depth = 4;
  BOOST_TEST(parse_json("[[[[1]]]]", limits).ok());
  const JsonParseResult deep = parse_bad("[[[[[1]]]]]", limits);
  BOOST_TEST(deep.error == "nesting deeper than 4 levels");
  BOOST_TEST(deep.offset == 4U);
  BOOST_TEST(parse_bad(R"({"a":{"b":{"c":{"d":{}}}}})", limits).offset == 20U);
  // The default limit keeps a hostile document from exhausting the stack.
  BOOST_TEST(parse_bad(std::string(100000, '[')).error == "nesting deeper than 32 levels");
}

BOOST_AUTO_TEST_CASE(size_limit) {
  JsonParseLimits limits;
  limits.max_bytes = 8;
  BOOST_TEST(parse_json("[1,2,3]", limits).ok());
  const JsonParseResult big = parse_bad("[1,2,3,4]", limits);
  BOOST_TEST(big.error == "document larger than 8 bytes");
  BOOST_TEST(big.offset == 8U);
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

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::control
