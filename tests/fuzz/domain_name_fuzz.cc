// Domain fuzz target: any bytes as a recipient domain, through normalisation and the skeleton.
//
// Checks the invariants the matcher relies on, not only the absence of crashes: a normalised
// domain normalises to itself, is at most 253 bytes of lowercase LDH and dots, and its skeleton
// (when there is one) is ASCII of at most 253 bytes. The input is copied into a buffer of exactly
// its length so AddressSanitizer sees any read past it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "inspect/confusables.h"
#include "inspect/domain_name.h"
#include "inspect/punycode.h"

namespace {

using misdirect::inspect::CanonicalDomain;
using misdirect::inspect::DomainError;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

bool is_canonical_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::unique_ptr<char[]> copy(new char[size]);
  std::memcpy(copy.get(), data, size);
  const std::string_view raw(copy.get(), size);

  CanonicalDomain domain;
  const DomainError error = misdirect::inspect::normalize_domain(raw, domain);
  if (error != DomainError::kOk) {
    check(domain.empty());
  } else {
    check(!domain.empty() && domain.view().size() <= misdirect::inspect::kMaxDomainBytes);
    for (const char c : domain.view()) {
      check(is_canonical_byte(c));
    }
    CanonicalDomain again;
    check(misdirect::inspect::normalize_domain(domain.view(), again) == DomainError::kOk);
    check(again == domain);

    CanonicalDomain skeleton;
    if (misdirect::inspect::confusable_skeleton(domain.view(), skeleton)) {
      check(!skeleton.empty() && skeleton.view().size() <= misdirect::inspect::kMaxDomainBytes);
      for (const char c : skeleton.view()) {
        check(static_cast<unsigned char>(c) < 0x80);
      }
    } else {
      check(skeleton.empty());
    }
  }

  // The raw bytes as a Punycode string: whatever decodes must re-encode without error.
  char32_t decoded[misdirect::inspect::kMaxLabelCodePoints];
  const auto decode = misdirect::inspect::punycode_decode(raw, decoded);
  if (decode.ok()) {
    char encoded[512];
    check(misdirect::inspect::punycode_encode(std::span(decoded, decode.length), encoded).ok());
  }
  return 0;
}
