// AlertedNames: the look-alike names one flow has already alerted on, so that a flow alerts at most
// once per name whatever role the name had. Bounded: beyond kCapacity names a repeat alerts again
// (the caller counts it), which errs towards telling.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace misdirect::dataplane {

class AlertedNames {
 public:
  static constexpr std::size_t kCapacity = 32;

  enum class Seen : uint8_t { kNew, kRepeat, kFull };

  // Remembers `name` (canonical) and says whether it was new.
  Seen remember(std::string_view name) noexcept {
    const uint64_t hash = hash_of(name);
    for (uint32_t i = 0; i < count_; ++i) {
      if (hashes_[i] == hash) {
        return Seen::kRepeat;
      }
    }
    if (count_ == kCapacity) {
      return Seen::kFull;
    }
    hashes_[count_++] = hash;
    return Seen::kNew;
  }
  bool contains(std::string_view name) const noexcept {
    const uint64_t hash = hash_of(name);
    for (uint32_t i = 0; i < count_; ++i) {
      if (hashes_[i] == hash) {
        return true;
      }
    }
    return false;
  }

 private:
  static uint64_t hash_of(std::string_view name) noexcept {
    uint64_t hash = 0xcbf29ce484222325ull;
    for (const char c : name) {
      hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    }
    return hash;
  }

  uint32_t count_ = 0;
  std::array<uint64_t, kCapacity> hashes_;
};

}  // namespace misdirect::dataplane
