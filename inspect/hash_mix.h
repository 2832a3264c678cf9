// HashMix: the finaliser that spreads a polynomial string hash over all 64 bits.
//
// The matcher's indexes hash domains with cheap multiply-add polynomials (so that every suffix, or
// every one-character deletion, of a domain costs one step each); this mixes the result so that
// its top bits (the slot) and low bits (the tag) are both usable.
#pragma once

#include <cstdint>

namespace misdirect::inspect {

// MurmurHash3's 64-bit finaliser (public domain): a bijection, so distinct inputs stay distinct.
constexpr uint64_t mix_hash(uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// The multiplier of the polynomial hashes (odd, so multiplication is invertible mod 2^64).
inline constexpr uint64_t kPolynomialBase = 0x9E3779B97F4A7C15ULL;

}  // namespace misdirect::inspect
