// ByteReader: bounds-checked big-endian loads from untrusted packet bytes.
//
// Headers are decoded by reading fields into host-order values, never by casting packet memory to
// a struct: packet memory has no alignment guarantee and its length is whatever the capture held.
// The pattern is "check, then read": callers ask `has(offset, n)` for the whole header first and
// count a malformed or truncated packet when it fails; the loads themselves are checked again and
// return 0 past the end, so a missed check yields a wrong value, never an out-of-bounds read.
#pragma once

#include <cstdint>

namespace misdirect::dataplane {

class ByteReader {
 public:
  constexpr ByteReader() noexcept = default;
  constexpr ByteReader(const uint8_t* data, uint32_t size) noexcept
      : data_(data), size_(data == nullptr ? 0 : size) {}

  constexpr const uint8_t* data() const noexcept { return data_; }
  constexpr uint32_t size() const noexcept { return size_; }

  // True when bytes [offset, offset + count) are all present. Written so that it cannot overflow.
  constexpr bool has(uint32_t offset, uint32_t count) const noexcept {
    return offset <= size_ && count <= size_ - offset;
  }

  constexpr uint8_t u8(uint32_t offset) const noexcept { return has(offset, 1) ? data_[offset] : 0; }

  constexpr uint16_t be16(uint32_t offset) const noexcept {
    if (!has(offset, 2)) {
      return 0;
    }
    return static_cast<uint16_t>((uint32_t{data_[offset]} << 8) | data_[offset + 1]);
  }

  constexpr uint32_t be32(uint32_t offset) const noexcept {
    if (!has(offset, 4)) {
      return 0;
    }
    return (uint32_t{data_[offset]} << 24) | (uint32_t{data_[offset + 1]} << 16) |
           (uint32_t{data_[offset + 2]} << 8) | uint32_t{data_[offset + 3]};
  }

  // Little-endian, for the few host-order fields captures carry (DLT_NULL's address family).
  constexpr uint32_t le32(uint32_t offset) const noexcept {
    if (!has(offset, 4)) {
      return 0;
    }
    return uint32_t{data_[offset]} | (uint32_t{data_[offset + 1]} << 8) |
           (uint32_t{data_[offset + 2]} << 16) | (uint32_t{data_[offset + 3]} << 24);
  }

  // Copies `count` bytes at `offset` into `out`; false (and nothing copied) when they are not all
  // present.
  bool copy(uint32_t offset, uint32_t count, uint8_t* out) const noexcept {
    if (!has(offset, count)) {
      return false;
    }
    for (uint32_t i = 0; i < count; ++i) {
      out[i] = data_[offset + i];
    }
    return true;
  }

  // The bytes from `offset` on (empty when `offset` is past the end).
  constexpr ByteReader from(uint32_t offset) const noexcept {
    if (offset >= size_) {
      return ByteReader(nullptr, 0);
    }
    return ByteReader(data_ + offset, size_ - offset);
  }

  // At most `count` bytes from the start.
  constexpr ByteReader first(uint32_t count) const noexcept {
    return ByteReader(data_, count < size_ ? count : size_);
  }

 private:
  const uint8_t* data_ = nullptr;
  uint32_t size_ = 0;
};

}  // namespace misdirect::dataplane
