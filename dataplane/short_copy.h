// ShortCopy: copying the few dozen bytes of a name, address or domain without a call to memcpy.
#pragma once

#include <cstddef>
#include <cstring>

namespace misdirect::dataplane {

// Copies `size` bytes from `in` to `out` (which do not overlap). Most copies on the record path
// are short: two overlapping fixed-size moves, which compile to a few loads and stores, beat a
// call. Safe for size 0 with null pointers.
inline void copy_short(char* out, const char* in, std::size_t size) noexcept {
  if (size > 32) {
    std::memcpy(out, in, size);
  } else if (size > 16) {
    std::memcpy(out, in, 16);
    std::memcpy(out + size - 16, in + size - 16, 16);
  } else if (size >= 8) {
    std::memcpy(out, in, 8);
    std::memcpy(out + size - 8, in + size - 8, 8);
  } else if (size >= 4) {
    std::memcpy(out, in, 4);
    std::memcpy(out + size - 4, in + size - 4, 4);
  } else {
    for (std::size_t i = 0; i < size; ++i) {
      out[i] = in[i];
    }
  }
}

}  // namespace misdirect::dataplane
