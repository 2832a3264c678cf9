// HeaderText: one unfolded message header value → UTF-8 text, as a person would read it:
// RFC 2047 encoded-words (=?charset?B|Q?text?=) decoded, the whitespace between adjacent
// encoded-words dropped, raw 8-bit text taken as UTF-8 (RFC 6532), and every byte that is not
// valid UTF-8 in its charset (and NUL) replaced by U+FFFD. Leading and trailing whitespace is trimmed.
//
// Charsets converted here (the ones mail clients send nearly always): UTF-8, US-ASCII,
// ISO-8859-1, ISO-8859-15 and Windows-1252. Text in any other charset is kept where it happens to
// be valid UTF-8 and replaced otherwise: a header decoder on the packet path must not allocate,
// so it cannot call a conversion library.
//
// Pure and allocation-free: the output is a caller's fixed buffer, cut at a character boundary
// when full.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace misdirect::inspect {

struct HeaderTextResult {
  std::size_t length = 0;    // UTF-8 bytes written
  bool truncated = false;    // the output was full before the value ended
  bool replaced = false;     // some bytes were invalid and became U+FFFD
  bool encoded_words = false;  // at least one RFC 2047 encoded-word was decoded
};

// Decodes `raw` (the value after "Name:", folding line breaks already removed) into `out`.
HeaderTextResult decode_header_text(std::string_view raw, std::span<char> out) noexcept;

// Copies `raw` as UTF-8 without decoding encoded-words (identifiers such as Message-ID, whose
// "=?" is not an encoded-word): invalid bytes replaced, whitespace trimmed.
HeaderTextResult copy_header_text(std::string_view raw, std::span<char> out) noexcept;

}  // namespace misdirect::inspect
