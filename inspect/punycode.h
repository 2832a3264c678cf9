// Punycode: RFC 3492 Bootstring encoding of one IDN label, on caller-supplied fixed buffers.
//
// These functions work on the part after the "xn--" prefix; encode_a_label adds the prefix.
// They never allocate and never throw: they run on the hot path inside normalize_domain.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace misdirect::inspect {

// An A-label is at most 63 bytes, 4 of them "xn--", and every decoded code point costs at least one
// encoded character, so 63 code points always suffice for one decoded label.
inline constexpr std::size_t kMaxLabelCodePoints = 63;

enum class PunycodeError : uint8_t {
  kOk,
  kBadInput,        // not a valid Punycode string, or a code point that is not a Unicode scalar
  kOverflow,        // an integer overflow that RFC 3492 §6.4 says to refuse
  kOutputTooSmall,  // `out` cannot hold the result
};

struct PunycodeResult {
  PunycodeError error = PunycodeError::kOk;
  std::size_t length = 0;  // code points (decode) or bytes (encode) written to `out`
  bool ok() const noexcept { return error == PunycodeError::kOk; }
};

// Encodes `input` (Unicode scalar values) as Punycode, without the "xn--" prefix. Basic code points
// are copied unchanged (their case too); digits are written in lowercase.
PunycodeResult punycode_encode(std::span<const char32_t> input, std::span<char> out) noexcept;

// Decodes a Punycode string (without "xn--"). Letters are accepted in either case as digits.
// Refuses decoded values that are surrogates, above U+10FFFF, or basic code points.
PunycodeResult punycode_decode(std::string_view input, std::span<char32_t> out) noexcept;

// One label as it goes into a domain: ASCII-only labels are copied as they are, others become
// "xn--" + punycode_encode. Does not validate the label (see normalize_domain for that).
PunycodeResult encode_a_label(std::span<const char32_t> label, std::span<char> out) noexcept;

}  // namespace misdirect::inspect
