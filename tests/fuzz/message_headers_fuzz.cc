// Fuzz target for MessageHeaderParser: any bytes, in one piece or byte by byte, give the same
// values; every value is valid UTF-8 and within its bound.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "inspect/message_headers.h"

namespace {

using misdirect::inspect::HeaderField;
using misdirect::inspect::MessageHeaderParser;
using misdirect::inspect::MessageHeaders;

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<uint8_t>(text[i]);
    std::size_t length = b0 < 0x80 ? 1 : (b0 >= 0xC2 && b0 <= 0xDF) ? 2 : (b0 >= 0xE0 && b0 <= 0xEF) ? 3
                                     : (b0 >= 0xF0 && b0 <= 0xF4) ? 4 : 0;
    if (length == 0 || i + length > text.size()) {
      return false;
    }
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<uint8_t>(text[i + k]) & 0xC0) != 0x80) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

std::string run(const uint8_t* data, std::size_t size, bool byte_by_byte, MessageHeaderParser::Framing framing) {
  auto headers = std::make_unique<MessageHeaders>();
  auto parser = std::make_unique<MessageHeaderParser>();
  parser->start(*headers, framing);
  if (byte_by_byte) {
    for (std::size_t i = 0; i < size; ++i) {
      parser->feed(std::span<const uint8_t>(data + i, 1));
    }
  } else {
    parser->feed(std::span<const uint8_t>(data, size));
  }
  parser->finish();
  std::string out;
  for (std::size_t i = 0; i < misdirect::inspect::kHeaderFieldCount; ++i) {
    const auto field = static_cast<HeaderField>(i);
    const std::string_view value = headers->get(field);
    if (value.size() > misdirect::inspect::kHeaderFieldBytes[i]) {
      __builtin_trap();
    }
    std::string_view rest = value;
    for (std::string_view item = misdirect::inspect::next_list_item(rest); !item.empty();
         item = misdirect::inspect::next_list_item(rest)) {
      if (!valid_utf8(item)) {
        __builtin_trap();
      }
    }
    out += std::string(value) + '\x01';
  }
  out += static_cast<char>(headers->end());
  out += headers->truncated() ? 'T' : 't';
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const auto framing = (data[0] & 1) != 0 ? MessageHeaderParser::Framing::kDotStuffed : MessageHeaderParser::Framing::kRaw;
  if (run(data + 1, size - 1, false, framing) != run(data + 1, size - 1, true, framing)) {
    __builtin_trap();  // chunking changed the values
  }
  return 0;
}
