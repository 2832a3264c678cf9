// TcpSeq: a TCP sequence number, compared and subtracted modulo 2^32 (RFC 1982 serial arithmetic).
//
// Two sequence numbers compare by the sign of their 32-bit difference, so 0x00000010 is after
// 0xfffffff0. The order is only meaningful for numbers less than 2^31 apart, which a TCP window
// always is; there is deliberately no operator<=> because it is not a total order.
#pragma once

#include <cstdint>

namespace misdirect::dataplane {

class TcpSeq {
 public:
  constexpr TcpSeq() noexcept = default;
  constexpr explicit TcpSeq(uint32_t value) noexcept : value_(value) {}

  constexpr uint32_t value() const noexcept { return value_; }

  constexpr TcpSeq& operator+=(uint32_t bytes) noexcept {
    value_ += bytes;
    return *this;
  }
  friend constexpr TcpSeq operator+(TcpSeq seq, uint32_t bytes) noexcept {
    return TcpSeq(seq.value_ + bytes);
  }
  friend constexpr TcpSeq operator-(TcpSeq seq, uint32_t bytes) noexcept {
    return TcpSeq(seq.value_ - bytes);
  }
  // Signed distance from `b` to `a`: positive when `a` is after `b`.
  friend constexpr int32_t operator-(TcpSeq a, TcpSeq b) noexcept {
    return static_cast<int32_t>(a.value_ - b.value_);
  }

  friend constexpr bool operator==(TcpSeq a, TcpSeq b) noexcept = default;
  friend constexpr bool operator<(TcpSeq a, TcpSeq b) noexcept { return (a - b) < 0; }
  friend constexpr bool operator>(TcpSeq a, TcpSeq b) noexcept { return (a - b) > 0; }
  friend constexpr bool operator<=(TcpSeq a, TcpSeq b) noexcept { return (a - b) <= 0; }
  friend constexpr bool operator>=(TcpSeq a, TcpSeq b) noexcept { return (a - b) >= 0; }

 private:
  uint32_t value_ = 0;
};

// Bytes from `from` forward to `to` modulo 2^32; the caller knows `to` is not before `from`.
constexpr uint32_t seq_distance(TcpSeq from, TcpSeq to) noexcept {
  return to.value() - from.value();
}

constexpr TcpSeq seq_min(TcpSeq a, TcpSeq b) noexcept { return a < b ? a : b; }
constexpr TcpSeq seq_max(TcpSeq a, TcpSeq b) noexcept { return a < b ? b : a; }

static_assert(TcpSeq(0x10) > TcpSeq(0xfffffff0u));
static_assert(TcpSeq(0xfffffff0u) + 0x20 == TcpSeq(0x10));
static_assert(seq_distance(TcpSeq(0xfffffff0u), TcpSeq(0x10)) == 0x20);

}  // namespace misdirect::dataplane
