// Domain and mailbox normalisation: the one canonical form every comparison uses.
//
// Canonical = lowercase ASCII, no trailing dot, IDN labels as validated A-labels ("xn--…").
// SMTPUTF8 U-labels (raw UTF-8) are mapped with UTS #46 (libidn2) and converted to A-labels, as
// a mail server maps them before it looks the name up; names sent as A-labels are decoded and
// validated by libidn2 the same way (an A-label of fullwidth, NFD or capital letters is refused,
// as the lookup refuses it). An ASCII name never allocates; a name with
// a byte at or above 0x80 is the rare path and does (domain_name.cc says why that is accepted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace misdirect::inspect {

inline constexpr std::size_t kMaxDomainBytes = 253;
inline constexpr std::size_t kMaxLabelBytes = 63;
// The most bytes of a non-ASCII name given to the IDNA library: four UTF-8 bytes for every byte
// of the longest domain. Longer is refused (kTooLong) before the call.
inline constexpr std::size_t kMaxIdnaInputBytes = 4 * kMaxDomainBytes;

enum class DomainError : uint8_t {
  kOk,
  kEmpty,
  kTooLong,
  kEmptyLabel,
  kLabelTooLong,
  kInvalidCharacter,
  kHyphenAtLabelEdge,
  kInvalidUtf8,
  kInvalidPunycode,
  kNumericTld,
  kIdnaUnavailable,  // libidn2 failed for want of memory
};
std::string_view describe(DomainError error) noexcept;

// A canonical domain in fixed storage.
class CanonicalDomain {
 public:
  // Only the length and the first byte are set: a domain is made per recipient on the hot path,
  // and zeroing all 254 bytes each time cost more than normalising a short name.
  CanonicalDomain() noexcept { bytes_[0] = '\0'; }

  std::string_view view() const noexcept { return {bytes_, length_}; }
  bool empty() const noexcept { return length_ == 0; }
  // True when normalize_domain took the rare non-ASCII path (libidn2, which allocates), whatever
  // its outcome; the packet path counts these.
  bool idna_mapped() const noexcept { return idna_mapped_; }
  // True when an ASCII name held an "xn--" label and libidn2 decoded and validated it (the other
  // rare path, which allocates too), whatever its outcome; counted apart from idna_mapped.
  bool a_labels_checked() const noexcept { return a_labels_checked_; }

  // Copies text that is already canonical (a list entry, a generated variant, a skeleton). It does
  // not validate: untrusted input goes through normalize_domain. Returns false, leaving the domain
  // empty, when `canonical` is longer than kMaxDomainBytes.
  bool assign(std::string_view canonical) noexcept;

  friend bool operator==(const CanonicalDomain& a, const CanonicalDomain& b) noexcept {
    return a.view() == b.view();
  }

 private:
  friend DomainError normalize_domain(std::string_view, CanonicalDomain&) noexcept;
  char bytes_[kMaxDomainBytes + 1];
  uint8_t length_ = 0;
  bool idna_mapped_ = false;
  bool a_labels_checked_ = false;
};

// The most bytes unicode_form writes: every byte of the longest domain as four UTF-8 bytes.
inline constexpr std::size_t kMaxUnicodeDomainBytes = 4 * kMaxDomainBytes;

// The Unicode form of a canonical domain for people to read: each "xn--" label decoded and
// written as UTF-8, other labels as they are ("xn--rmy-5cd.mil" → "аrmy.mil"). Returns the
// length written to `out`, or 0 when the domain has no A-label (its Unicode form is itself),
// an A-label does not decode, or `out` is too small. Never allocates (alerts are written with it).
std::size_t unicode_form(std::string_view canonical, std::span<char> out) noexcept;

// Normalises `raw` (as sent on the wire or written in a list) into `out`.
// Address literals ("[192.0.2.1]") are refused with kInvalidCharacter. A refused name leaves
// `out` empty.
DomainError normalize_domain(std::string_view raw, CanonicalDomain& out) noexcept;

}  // namespace misdirect::inspect
