// LookalikeKind names: the one spelling used in alerts, the CLI and the docs.
#include "inspect/lookalike_kind.h"

namespace misdirect::inspect {

namespace {

constexpr std::string_view kKindNames[kLookalikeKindCount] = {
    "tld-swap",    "omission",     "insertion",    "replacement",    "transposition",
    "repetition",  "hyphenation",  "vowel-swap",   "bitsquatting",   "homoglyph",
    "dot-omission", "dot-insertion", "subdomain-label", "edit-distance",
};

}  // namespace

std::string_view kind_name(LookalikeKind kind) noexcept {
  const auto index = static_cast<std::size_t>(kind);
  if (index >= static_cast<std::size_t>(kLookalikeKindCount)) {
    return "unknown";
  }
  return kKindNames[index];
}

std::optional<LookalikeKind> kind_from_name(std::string_view name) noexcept {
  for (int index = 0; index < kLookalikeKindCount; ++index) {
    if (kKindNames[index] == name) {
      return static_cast<LookalikeKind>(index);
    }
  }
  return std::nullopt;
}

}  // namespace misdirect::inspect
