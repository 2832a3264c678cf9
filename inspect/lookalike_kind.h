// LookalikeKind: how a variant imitates a protected domain.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace misdirect::inspect {

enum class LookalikeKind : uint8_t {
  kTldSwap,
  kOmission,
  kInsertion,
  kReplacement,
  kTransposition,
  kRepetition,
  kHyphenation,
  kVowelSwap,
  kBitsquatting,
  kHomoglyph,
  kDotOmission,
  kDotInsertion,
  kSubdomainLabel,
  kEditDistance,
};
inline constexpr int kLookalikeKindCount = 14;

// The names used in alerts, `misdirect variants` and docs: "tld-swap", "omission", …
std::string_view kind_name(LookalikeKind kind) noexcept;
std::optional<LookalikeKind> kind_from_name(std::string_view name) noexcept;

}  // namespace misdirect::inspect
