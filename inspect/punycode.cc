// Punycode: RFC 3492 Bootstring encoding of one IDN label, on caller-supplied fixed buffers.
#include "inspect/punycode.h"

#include <cstring>
#include <limits>

namespace misdirect::inspect {
namespace {

// The Punycode parameters of RFC 3492 §5.
constexpr uint32_t kBase = 36;
constexpr uint32_t kTmin = 1;
constexpr uint32_t kTmax = 26;
constexpr uint32_t kSkew = 38;
constexpr uint32_t kDamp = 700;
constexpr uint32_t kInitialBias = 72;
constexpr uint32_t kInitialN = 0x80;
constexpr char kDelimiter = '-';
constexpr uint32_t kMaxInt = std::numeric_limits<uint32_t>::max();

bool is_scalar(uint32_t code_point) noexcept {
  return code_point <= 0x10FFFF && (code_point < 0xD800 || code_point > 0xDFFF);
}

char encode_digit(uint32_t digit) noexcept {
  return digit < 26 ? static_cast<char>('a' + digit) : static_cast<char>('0' + (digit - 26));
}

// kBase (an impossible digit) for a character that is not a Punycode digit.
uint32_t decode_digit(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return static_cast<uint32_t>(c - '0') + 26;
  }
  if (c >= 'a' && c <= 'z') {
    return static_cast<uint32_t>(c - 'a');
  }
  if (c >= 'A' && c <= 'Z') {
    return static_cast<uint32_t>(c - 'A');
  }
  return kBase;
}

// The threshold t for digit position k (RFC 3492 §6.2 and §6.3).
uint32_t threshold(uint32_t k, uint32_t bias) noexcept {
  if (k <= bias) {
    return kTmin;
  }
  if (k >= bias + kTmax) {
    return kTmax;
  }
  return k - bias;
}

// Bias adaptation, RFC 3492 §6.1.
uint32_t adapt(uint32_t delta, uint32_t num_points, bool first_time) noexcept {
  delta = first_time ? delta / kDamp : delta / 2;
  delta += delta / num_points;
  uint32_t k = 0;
  while (delta > ((kBase - kTmin) * kTmax) / 2) {
    delta /= kBase - kTmin;
    k += kBase;
  }
  return k + (kBase - kTmin + 1) * delta / (delta + kSkew);
}

}  // namespace

PunycodeResult punycode_encode(std::span<const char32_t> input, std::span<char> out) noexcept {
  if (input.size() >= kMaxInt) {
    return {PunycodeError::kOverflow, 0};
  }
  std::size_t written = 0;
  const auto emit = [&](char c) noexcept {
    if (written == out.size()) {
      return false;
    }
    out[written++] = c;
    return true;
  };

  uint32_t basic_count = 0;
  for (const char32_t code_point : input) {
    if (!is_scalar(code_point)) {
      return {PunycodeError::kBadInput, 0};
    }
    if (code_point < kInitialN) {
      if (!emit(static_cast<char>(code_point))) {
        return {PunycodeError::kOutputTooSmall, 0};
      }
      ++basic_count;
    }
  }
  uint32_t handled = basic_count;
  // RFC 3492 writes the delimiter whenever there are basic code points, even when nothing follows
  // ("abc" encodes as "abc-"); following it exactly keeps the output canonical.
  if (basic_count > 0 && !emit(kDelimiter)) {
    return {PunycodeError::kOutputTooSmall, 0};
  }

  uint32_t n = kInitialN;
  uint32_t delta = 0;
  uint32_t bias = kInitialBias;
  while (handled < input.size()) {
    uint32_t next = kMaxInt;
    for (const char32_t code_point : input) {
      if (code_point >= n && code_point < next) {
        next = code_point;
      }
    }
    if (next - n > (kMaxInt - delta) / (handled + 1)) {
      return {PunycodeError::kOverflow, 0};
    }
    delta += (next - n) * (handled + 1);
    n = next;
    for (const char32_t code_point : input) {
      if (code_point < n) {
        if (delta == kMaxInt) {
          return {PunycodeError::kOverflow, 0};
        }
        ++delta;
      }
      if (code_point == n) {
        uint32_t q = delta;
        for (uint32_t k = kBase;; k += kBase) {
          const uint32_t t = threshold(k, bias);
          if (q < t) {
            break;
          }
          if (!emit(encode_digit(t + (q - t) % (kBase - t)))) {
            return {PunycodeError::kOutputTooSmall, 0};
          }
          q = (q - t) / (kBase - t);
        }
        if (!emit(encode_digit(q))) {
          return {PunycodeError::kOutputTooSmall, 0};
        }
        bias = adapt(delta, handled + 1, handled == basic_count);
        delta = 0;
        ++handled;
      }
    }
    ++delta;
    ++n;
  }
  return {PunycodeError::kOk, written};
}

PunycodeResult punycode_decode(std::string_view input, std::span<char32_t> out) noexcept {
  if (input.size() >= kMaxInt) {
    return {PunycodeError::kOverflow, 0};
  }
  // Basic code points are everything before the last delimiter (RFC 3492 §6.2).
  std::size_t basic_end = 0;
  const std::size_t last_delimiter = input.rfind(kDelimiter);
  if (last_delimiter != std::string_view::npos) {
    basic_end = last_delimiter;
  }
  if (basic_end > out.size()) {
    return {PunycodeError::kOutputTooSmall, 0};
  }
  for (std::size_t j = 0; j < basic_end; ++j) {
    const auto byte = static_cast<unsigned char>(input[j]);
    if (byte >= kInitialN) {
      return {PunycodeError::kBadInput, 0};
    }
    out[j] = byte;
  }
  std::size_t length = basic_end;

  uint32_t n = kInitialN;
  uint32_t i = 0;
  uint32_t bias = kInitialBias;
  std::size_t in = basic_end > 0 ? basic_end + 1 : 0;
  while (in < input.size()) {
    const uint32_t old_i = i;
    uint32_t w = 1;
    for (uint32_t k = kBase;; k += kBase) {
      if (in >= input.size()) {
        return {PunycodeError::kBadInput, 0};
      }
      const uint32_t digit = decode_digit(input[in++]);
      if (digit >= kBase) {
        return {PunycodeError::kBadInput, 0};
      }
      if (digit > (kMaxInt - i) / w) {
        return {PunycodeError::kOverflow, 0};
      }
      i += digit * w;
      const uint32_t t = threshold(k, bias);
      if (digit < t) {
        break;
      }
      if (w > kMaxInt / (kBase - t)) {
        return {PunycodeError::kOverflow, 0};
      }
      w *= kBase - t;
    }
    const auto points = static_cast<uint32_t>(length + 1);
    bias = adapt(i - old_i, points, old_i == 0);
    if (i / points > kMaxInt - n) {
      return {PunycodeError::kOverflow, 0};
    }
    n += i / points;
    i %= points;
    if (n < kInitialN || !is_scalar(n)) {
      return {PunycodeError::kBadInput, 0};
    }
    if (length == out.size()) {
      return {PunycodeError::kOutputTooSmall, 0};
    }
    std::memmove(out.data() + i + 1, out.data() + i, (length - i) * sizeof(char32_t));
    out[i] = n;
    ++i;
    ++length;
  }
  return {PunycodeError::kOk, length};
}

PunycodeResult encode_a_label(std::span<const char32_t> label, std::span<char> out) noexcept {
  bool ascii = true;
  for (const char32_t code_point : label) {
    ascii = ascii && code_point < kInitialN;
  }
  if (ascii) {
    if (label.size() > out.size()) {
      return {PunycodeError::kOutputTooSmall, 0};
    }
    for (std::size_t j = 0; j < label.size(); ++j) {
      out[j] = static_cast<char>(label[j]);
    }
    return {PunycodeError::kOk, label.size()};
  }
  constexpr std::string_view kPrefix = "xn--";
  if (out.size() < kPrefix.size()) {
    return {PunycodeError::kOutputTooSmall, 0};
  }
  std::memcpy(out.data(), kPrefix.data(), kPrefix.size());
  PunycodeResult result = punycode_encode(label, out.subspan(kPrefix.size()));
  if (result.ok()) {
    result.length += kPrefix.size();
  }
  return result;
}

}  // namespace misdirect::inspect
