// Tests for parse_json: nlohmann-json underneath, with the bounds (size, depth), exact numbers
// and readable messages json_parser.cc adds around it.
#include <boost/test/unit_test.hpp>

#include <string>

#include "control/json_parser.h"
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

BOOST_AUTO_TEST_SUITE(json_parser)

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

BOOST_AUTO_TEST_CASE(nested_containers_keep_their_member_names_and_order) {
  const JsonValue value = parse_ok(R"({"a":{"b":[1,{"c":2}],"d":3},"e":[],"a":4})");
  BOOST_TEST(value.to_json() == R"({"a":{"b":[1,{"c":2}],"d":3},"e":[],"a":4})");
  // Duplicates are kept in order; the request checker refuses them.
  BOOST_TEST(value.as_object().size() == 3U);
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

BOOST_AUTO_TEST_CASE(unpaired_surrogates_are_refused) {
  const std::string high = "syntax error while parsing value - invalid string: surrogate U+D800..U+DBFF "
                           "must be followed by U+DC00..U+DFFF";
  BOOST_TEST(parse_bad(R"("ab\ud83d")").error == high);
  BOOST_TEST(parse_bad(R"("ab\ud83d")").offset == 9U);
  BOOST_TEST(parse_bad(R"("\ud83d\u0041")").error == high);
  BOOST_TEST(parse_bad(R"("\ude00")").error ==
             "syntax error while parsing value - invalid string: surrogate U+DC00..U+DFFF must follow "
             "U+D800..U+DBFF");
  const std::string hex = "syntax error while parsing value - invalid string: '\\u' must be followed by 4 hex digits";
  BOOST_TEST(parse_bad(R"("\u12G4")").error == hex);
  BOOST_TEST(parse_bad(R"("\u12)").error == hex);
}

BOOST_AUTO_TEST_CASE(bad_strings) {
  BOOST_TEST(parse_bad("\"a\nb\"").error ==
             "syntax error while parsing value - invalid string: control character U+000A (LF) must be "
             "escaped to \\u000A or \\n");
  BOOST_TEST(parse_bad(R"("\x")").error ==
             "syntax error while parsing value - invalid string: forbidden character after backslash");
  BOOST_TEST(parse_bad(R"("abc)").error ==
             "syntax error while parsing value - invalid string: missing closing quote");
  // Overlong '/', a UTF-16 surrogate in UTF-8, a stray continuation byte, a cut sequence, above
  // U+10FFFF.
  const std::string utf8 = "syntax error while parsing value - invalid string: ill-formed UTF-8 byte";
  BOOST_TEST(parse_bad("\"\xC0\xAF\"").error == utf8);
  BOOST_TEST(parse_bad("\"\xED\xA0\x80\"").error == utf8);
  BOOST_TEST(parse_bad("\"a\x80\"").offset == 2U);
  BOOST_TEST(parse_bad("\"\xE2\x82\"").error == utf8);
  BOOST_TEST(parse_ok("\"\xF4\x8F\xBF\xBF\"").as_string() == "\xF4\x8F\xBF\xBF");
  BOOST_TEST(parse_bad("\"\xF4\x90\x80\x80\"").error == utf8);
}

BOOST_AUTO_TEST_CASE(messages_never_quote_the_input) {
  // nlohmann's "last read" echo would quote a whole string token: up to max_bytes.
  const std::string long_string = "\"" + std::string(100000, 'a');
  const JsonParseResult cut = parse_bad(long_string);
  BOOST_TEST(cut.error == "syntax error while parsing value - invalid string: missing closing quote");
  BOOST_TEST(cut.offset == long_string.size());
  BOOST_TEST(parse_bad("\"" + std::string(100000, 'a') + "\x01\"").error.size() < 200U);
}

BOOST_AUTO_TEST_CASE(numbers_follow_the_grammar) {
  for (const char* good : {"0", "7", "-12", "1.5", "0.25", "1e9", "1E+2", "-3e-4",
                           "12345678901234567890123"}) {
    BOOST_TEST(parse_ok(good).number_text() == good);
  }
  // The one integer whose digits are not kept (json_parser.cc): it is still zero.
  BOOST_TEST(parse_ok("-0").number_text() == "0");
  BOOST_TEST(parse_bad("01").error ==
             "syntax error while parsing value - unexpected number literal; expected end of input");
  BOOST_TEST(parse_bad("-").error == "syntax error while parsing value - invalid number; expected digit after '-'");
  BOOST_TEST(parse_bad("-a").error == "syntax error while parsing value - invalid number; expected digit after '-'");
  BOOST_TEST(parse_bad("1.").error == "syntax error while parsing value - invalid number; expected digit after '.'");
  BOOST_TEST(parse_bad("1e").error ==
             "syntax error while parsing value - invalid number; expected '+', '-', or digit after exponent");
  for (const char* bad : {"+1", ".5", "NaN", "tru"}) {
    BOOST_TEST(parse_bad(bad).error == "syntax error while parsing value - invalid literal");
  }
}

BOOST_AUTO_TEST_CASE(integers_read_exactly_and_big_ids_echo_exactly) {
  BOOST_TEST(parse_ok("-9223372036854775808").as_int64().value() == INT64_MIN);
  BOOST_TEST(!parse_ok("9223372036854775808").as_int64().has_value());
  BOOST_TEST(parse_ok("18446744073709551615").to_json() == "18446744073709551615");
  BOOST_TEST(!parse_ok("1.0").as_int64().has_value());
  BOOST_TEST(parse_ok("12345678901234567890").to_json() == "12345678901234567890");
  BOOST_TEST(parse_ok("[123456789012345678901234567890]").to_json() == "[123456789012345678901234567890]");
  BOOST_TEST(parse_ok("-123456789012345678901234567890").to_json() == "-123456789012345678901234567890");
}

BOOST_AUTO_TEST_CASE(numbers_beyond_a_double_are_refused) {
  // nlohmann refuses them (out_of_range.406); the old parser read 1e400 as infinity.
  BOOST_TEST(parse_bad("1e400").error == "number overflow parsing '1e400'");
  BOOST_TEST(parse_bad("[-1e400]").error == "number overflow parsing '-1e400'");
}

BOOST_AUTO_TEST_CASE(trailing_garbage_and_structure_errors) {
  BOOST_TEST(parse_bad("{} x").error ==
             "syntax error while parsing value - invalid literal; expected end of input");
  BOOST_TEST(parse_bad("{} x").offset == 3U);
  BOOST_TEST(parse_bad("1 2").error ==
             "syntax error while parsing value - unexpected number literal; expected end of input");
  BOOST_TEST(parse_bad("").error ==
             "syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal");
  BOOST_TEST(parse_bad("   ").offset == 3U);
  BOOST_TEST(parse_bad("[1,]").error ==
             "syntax error while parsing value - unexpected ']'; expected '[', '{', or a literal");
  BOOST_TEST(parse_bad("[1 2]").error ==
             "syntax error while parsing array - unexpected number literal; expected ']'");
  BOOST_TEST(parse_bad("{\"a\" 1}").error ==
             "syntax error while parsing object separator - unexpected number literal; expected ':'");
  BOOST_TEST(parse_bad("{a:1}").error ==
             "syntax error while parsing object key - invalid literal; expected string literal");
  BOOST_TEST(parse_bad("{\"a\":1,}").error ==
             "syntax error while parsing object key - unexpected '}'; expected string literal");
  BOOST_TEST(parse_bad("{\"a\":1").error ==
             "syntax error while parsing object - unexpected end of input; expected '}'");
  BOOST_TEST(parse_bad("{\"a\":1").offset == 6U);
  BOOST_TEST(parse_bad("nul").offset == 3U);
  BOOST_TEST(parse_bad("// comment\n{}").error ==
             "syntax error while parsing value - invalid literal");  // no comments in JSON
}

BOOST_AUTO_TEST_CASE(depth_limit) {
  JsonParseLimits limits;
  limits.max_depth = 4;
  BOOST_TEST(parse_json("[[[[1]]]]", limits).ok());
  BOOST_TEST(parse_json(R"({"a":[{"b":[]}]})", limits).ok());
  const JsonParseResult deep = parse_bad("[[[[[1]]]]]", limits);
  BOOST_TEST(deep.error == "nesting deeper than 4 levels");
  BOOST_TEST(deep.offset == 4U);
  BOOST_TEST(parse_bad(R"({"a":{"b":{"c":{"d":{}}}}})", limits).offset == 20U);
  BOOST_TEST(parse_bad(R"( [ [ [ [ {"x": 1} ] ] ] ])", limits).offset == 9U);
  // The default limit refuses a hostile document long before it is read whole.
  const JsonParseResult hostile = parse_bad(std::string(100000, '['));
  BOOST_TEST(hostile.error == "nesting deeper than 32 levels");
  BOOST_TEST(hostile.offset == 32U);
}

BOOST_AUTO_TEST_CASE(size_limit) {
  JsonParseLimits limits;
  limits.max_bytes = 8;
  BOOST_TEST(parse_json("[1,2,3]", limits).ok());
  const JsonParseResult big = parse_bad("[1,2,3,4]", limits);
  BOOST_TEST(big.error == "document larger than 8 bytes");
  BOOST_TEST(big.offset == 8U);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::control
