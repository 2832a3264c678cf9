// CounterTable: a unit's counters as one table — an enum class plus a constexpr array of
// {name, help} — so stats records list every counter without anyone writing them twice.
//
// Each unit declares:
//   enum class DecodeCounter : uint16_t { kPackets, kNotIp, ..., kCount };
//   inline constexpr CounterInfo kDecodeCounterInfo[] = {{"packets", "frames decoded"}, ...};
// and keeps a CounterArray<DecodeCounter>. Counters are plain integers owned by one worker.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace misdirect::dataplane {

struct CounterInfo {
  std::string_view name;  // snake_case, used as the JSON key in stats
  std::string_view help;
};

template <typename Enum>
class CounterArray {
 public:
  static constexpr std::size_t kSize = static_cast<std::size_t>(Enum::kCount);

  void add(Enum counter, uint64_t amount = 1) noexcept {
    values_[static_cast<std::size_t>(counter)] += amount;
  }
  uint64_t get(Enum counter) const noexcept { return values_[static_cast<std::size_t>(counter)]; }
  std::span<const uint64_t, kSize> values() const noexcept { return values_; }
  void merge(const CounterArray& other) noexcept {
    for (std::size_t i = 0; i < kSize; ++i) {
      values_[i] += other.values_[i];
    }
  }

 private:
  std::array<uint64_t, kSize> values_{};
};

}  // namespace misdirect::dataplane
