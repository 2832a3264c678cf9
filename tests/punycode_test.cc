// Tests for Punycode (RFC 3492): the §7.1 samples, A-label encoding and every refusal.
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/punycode.h"

namespace misdirect::inspect {

std::ostream& boost_test_print_type(std::ostream& stream, PunycodeError error) {
  return stream << static_cast<int>(error);
}

namespace {

std::string encode(std::u32string_view input) {
  char out[256];
  const PunycodeResult result = punycode_encode(input, out);
  BOOST_TEST_REQUIRE(result.ok());
  return std::string(out, result.length);
}

std::u32string decode(std::string_view input) {
  char32_t out[256];
  const PunycodeResult result = punycode_decode(input, out);
  BOOST_TEST_REQUIRE(result.ok());
  return std::u32string(out, result.length);
}

PunycodeError decode_error(std::string_view input) {
  char32_t out[256];
  return punycode_decode(input, out).error;
}

struct Sample {
  std::u32string_view decoded;
  std::string_view encoded;
};

// RFC 3492 §7.1, samples (A), (B), (C), (D), (E), (L), (R) and (S). The RFC prints some samples
// with mixed-case annotations; ours are the plain (lowercase-digit) encodings.
const Sample kRfc3492Samples[] = {
    {U"\u0644\u064A\u0647\u0645\u0627\u0628\u062A\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628"
     U"\u064A\u061F",
     "egbpdaj6bu4bxfgehfvwxn"},
    {U"\u4ED6\u4EEC\u4E3A\u4EC0\u4E48\u4E0D\u8BF4\u4E2D\u6587", "ihqwcrb4cv8a8dqg056pqjye"},
    {U"\u4ED6\u5011\u7232\u4EC0\u9EBD\u4E0D\u8AAA\u4E2D\u6587", "ihqwctvzc91f659drss3x8bo0yb"},
    {U"Pro\u010Dprost\u011Bnemluv\u00ED\u010Desky", "Proprostnemluvesky-uyb24dma41a"},
    {U"\u05DC\u05DE\u05D4\u05D4\u05DD\u05E4\u05E9\u05D5\u05D8\u05DC\u05D0\u05DE\u05D3\u05D1\u05E8"
     U"\u05D9\u05DD\u05E2\u05D1\u05E8\u05D9\u05EA",
     "4dbcagdahymbxekheh6e0a7fei0b"},
    {U"3\u5E74B\u7D44\u91D1\u516B\u5148\u751F", "3B-ww4c5e180e575a65lsy2b"},
    {U"\u305D\u306E\u30B9\u30D4\u30FC\u30C9\u3067", "d9juau41awczczp"},
    {U"-> $1.00 <-", "-> $1.00 <--"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(punycode)

BOOST_AUTO_TEST_CASE(rfc3492_samples_encode_and_decode) {
  for (const Sample& sample : kRfc3492Samples) {
    BOOST_TEST(encode(sample.decoded) == sample.encoded);
    BOOST_TEST((decode(sample.encoded) == sample.decoded));
  }
}

BOOST_AUTO_TEST_CASE(known_labels) {
  BOOST_TEST(encode(U"b\u00FCcher") == "bcher-kva");
  BOOST_TEST(encode(U"\u0430rmy") == "rmy-5cd");  // Cyrillic а + "rmy"
  BOOST_TEST(encode(U"\u00FC") == "tda");
  BOOST_TEST(encode(U"abc") == "abc-");  // RFC 3492 keeps the delimiter after basic code points
  BOOST_TEST(encode(U"") == "");
  BOOST_TEST((decode("rmy-5cd") == U"\u0430rmy"));
  BOOST_TEST((decode("BCHER-KVA") == U"B\u00FCCHER"));  // basic code points keep their case
}

BOOST_AUTO_TEST_CASE(decode_accepts_uppercase_digits) {
  BOOST_TEST((decode("bcher-KVA") == U"b\u00FCcher"));
}

BOOST_AUTO_TEST_CASE(a_labels) {
  char out[64];
  const char32_t cyrillic[] = {U'\u0430', U'r', U'm', U'y'};
  PunycodeResult result = encode_a_label(cyrillic, out);
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST(std::string_view(out, result.length) == "xn--rmy-5cd");

  const char32_t ascii[] = {U'a', U'r', U'm', U'y'};
  result = encode_a_label(ascii, out);
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST(std::string_view(out, result.length) == "army");

  result = encode_a_label(cyrillic, std::span<char>(out, 10));
  BOOST_TEST(result.error == PunycodeError::kOutputTooSmall);
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused) {
  BOOST_TEST(decode_error("bcher-kv") == PunycodeError::kBadInput);    // digits run out
  BOOST_TEST(decode_error("bcher-k_a") == PunycodeError::kBadInput);   // not a digit
  BOOST_TEST(decode_error("b\xC3\xBC-kva") == PunycodeError::kBadInput);  // non-basic before '-'
  BOOST_TEST(decode_error("99999999999") == PunycodeError::kOverflow);
  // A delta that lands on a surrogate (U+D800) or past U+10FFFF is not a scalar value.
  BOOST_TEST(decode_error("ib9b") == PunycodeError::kBadInput);
  BOOST_TEST((decode("a-h023p") == U"a\U0010FFFF"));
  BOOST_TEST(decode_error("a-h023q") == PunycodeError::kBadInput);
  const char32_t surrogate[] = {0xD800};
  char out[64];
  BOOST_TEST(punycode_encode(surrogate, out).error == PunycodeError::kBadInput);
  const char32_t too_big[] = {0x110000};
  BOOST_TEST(punycode_encode(too_big, out).error == PunycodeError::kBadInput);
}

BOOST_AUTO_TEST_CASE(small_outputs_are_refused_not_overrun) {
  char32_t decoded[3];
  BOOST_TEST(punycode_decode("bcher-kva", decoded).error == PunycodeError::kOutputTooSmall);
  char encoded[5];
  const char32_t label[] = {U'b', U'\u00FC', U'c', U'h', U'e', U'r'};
  BOOST_TEST(punycode_encode(label, encoded).error == PunycodeError::kOutputTooSmall);
}

BOOST_AUTO_TEST_CASE(round_trip_of_every_bmp_letter_after_ascii) {
  // Every scalar value in the first planes, each after "a": decode(encode(x)) == x.
  char encoded[64];
  char32_t decoded[64];
  for (char32_t c = 0x80; c < 0x30000; c += 7) {
    if (c >= 0xD800 && c <= 0xDFFF) {
      continue;
    }
    const char32_t label[] = {U'a', c, U'b', c};
    const PunycodeResult encode_result = punycode_encode(label, encoded);
    BOOST_TEST_REQUIRE(encode_result.ok());
    const PunycodeResult decode_result =
        punycode_decode(std::string_view(encoded, encode_result.length), decoded);
    BOOST_TEST_REQUIRE(decode_result.ok());
    BOOST_TEST_REQUIRE(decode_result.length == 4u);
    BOOST_TEST_REQUIRE((decoded[1] == c && decoded[3] == c));
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::inspect
