// Sha1: the SHA-1 digest (FIPS 180-4), for Community ID v1 flow hashes — not for security.
//
// Our own code because it runs once per SMTP flow on the packet path: no allocation, no
// library state, two compression rounds for a Community ID input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace misdirect::dataplane {

class Sha1 {
 public:
  static constexpr std::size_t kDigestBytes = 20;
  using Digest = std::array<uint8_t, kDigestBytes>;

  void update(std::span<const uint8_t> bytes) noexcept;
  // The digest of everything given to update(); the object is spent afterwards.
  Digest finish() noexcept;

  static Digest of(std::span<const uint8_t> bytes) noexcept {
    Sha1 sha;
    sha.update(bytes);
    return sha.finish();
  }

 private:
  void compress(const uint8_t* block) noexcept;

  std::array<uint32_t, 5> state_ = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};
  std::array<uint8_t, 64> block_{};
  std::size_t block_used_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace misdirect::dataplane
