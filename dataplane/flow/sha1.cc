// Sha1: FIPS 180-4 section 6.1, one 64-byte block at a time.
#include "dataplane/flow/sha1.h"

#include <algorithm>
#include <cstring>

namespace misdirect::dataplane {
namespace {

constexpr uint32_t rotate_left(uint32_t value, int bits) noexcept {
  return (value << bits) | (value >> (32 - bits));
}

}  // namespace

void Sha1::compress(const uint8_t* block) noexcept {
  uint32_t schedule[80];
  for (int t = 0; t < 16; ++t) {
    schedule[t] = (uint32_t{block[4 * t]} << 24) | (uint32_t{block[4 * t + 1]} << 16) |
                  (uint32_t{block[4 * t + 2]} << 8) | uint32_t{block[4 * t + 3]};
  }
  for (int t = 16; t < 80; ++t) {
    schedule[t] = rotate_left(schedule[t - 3] ^ schedule[t - 8] ^ schedule[t - 14] ^ schedule[t - 16], 1);
  }
  uint32_t a = state_[0];
  uint32_t b = state_[1];
  uint32_t c = state_[2];
  uint32_t d = state_[3];
  uint32_t e = state_[4];
  for (int t = 0; t < 80; ++t) {
    uint32_t f;
    uint32_t k;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999u;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1u;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdcu;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6u;
    }
    const uint32_t next = rotate_left(a, 5) + f + e + k + schedule[t];
    e = d;
    d = c;
    c = rotate_left(b, 30);
    b = a;
    a = next;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
}

void Sha1::update(std::span<const uint8_t> bytes) noexcept {
  total_bytes_ += bytes.size();
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    const std::size_t take = std::min(block_.size() - block_used_, bytes.size() - offset);
    std::memcpy(block_.data() + block_used_, bytes.data() + offset, take);
    block_used_ += take;
    offset += take;
    if (block_used_ == block_.size()) {
      compress(block_.data());
      block_used_ = 0;
    }
  }
}

Sha1::Digest Sha1::finish() noexcept {
  // Padding: 0x80, zeros up to 56 bytes into a block, then the message length in bits (64-bit BE).
  const uint64_t bit_length = total_bytes_ * 8;
  block_[block_used_++] = 0x80;
  if (block_used_ > 56) {
    std::memset(block_.data() + block_used_, 0, block_.size() - block_used_);
    compress(block_.data());
    block_used_ = 0;
  }
  std::memset(block_.data() + block_used_, 0, 56 - block_used_);
  for (int i = 0; i < 8; ++i) {
    block_[56 + static_cast<std::size_t>(i)] = static_cast<uint8_t>(bit_length >> (56 - 8 * i));
  }
  compress(block_.data());
  Digest digest;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    digest[4 * i] = static_cast<uint8_t>(state_[i] >> 24);
    digest[4 * i + 1] = static_cast<uint8_t>(state_[i] >> 16);
    digest[4 * i + 2] = static_cast<uint8_t>(state_[i] >> 8);
    digest[4 * i + 3] = static_cast<uint8_t>(state_[i]);
  }
  return digest;
}

}  // namespace misdirect::dataplane
