// Confusables: the IDN homoglyph skeleton of a domain (the Unicode TR39 idea, reduced to ASCII).
//
// The table (confusables_table.h) is generated at build time from ICU's spoof checker (TR39
// confusables, uspoof_getSkeleton) plus our deliberate extras: accent stripping, compatibility
// decompositions and the letters TR39 does not list (inspect/generate/
// confusables_table_generator.cc). ICU runs only in the generator: the hot path is a binary
// search over about 2,800 sorted entries, no library call and no allocation.
#include "inspect/confusables.h"

#include <algorithm>
#include <cstring>

#include "inspect/confusables_table.h"
#include "inspect/punycode.h"

namespace misdirect::inspect {
namespace {

static_assert(std::is_sorted(std::begin(kConfusables), std::end(kConfusables),
                             [](const ConfusableEntry& a, const ConfusableEntry& b) {
                               return a.code_point < b.code_point;
                             }),
              "kConfusables must be sorted by code point for binary search");

constexpr std::string_view kAcePrefix = "xn--";

// Skeleton text is built in a buffer one label longer than a domain so that overflow is
// detected, not truncated.
struct SkeletonWriter {
  char bytes[kMaxDomainBytes + 1];
  std::size_t length = 0;

  bool append(std::string_view text) noexcept {
    if (length + text.size() > kMaxDomainBytes) {
      return false;
    }
    std::memcpy(bytes + length, text.data(), text.size());
    length += text.size();
    return true;
  }
};

// Maps one "xn--" label into `writer`. Returns the number of code points mapped (0 when the label
// is copied unchanged: not decodable, nothing confusable, or its skeleton too long to encode).
std::size_t map_label(std::string_view label, SkeletonWriter& writer, bool& fits) noexcept {
  char32_t decoded[kMaxLabelCodePoints];
  const PunycodeResult decode = punycode_decode(label.substr(kAcePrefix.size()), decoded);
  if (!decode.ok()) {
    fits = writer.append(label);
    return 0;
  }
  // A prototype has at most two characters, so the mapped label has at most twice as many.
  char32_t mapped[2 * kMaxLabelCodePoints];
  std::size_t mapped_length = 0;
  std::size_t mapped_count = 0;
  for (std::size_t i = 0; i < decode.length; ++i) {
    const std::string_view prototype = confusable_prototype(decoded[i]);
    if (prototype.empty()) {
      mapped[mapped_length++] = decoded[i];
      continue;
    }
    ++mapped_count;
    for (const char c : prototype) {
      mapped[mapped_length++] = static_cast<unsigned char>(c);
    }
  }
  char encoded[kMaxLabelBytes];
  const PunycodeResult encode =
      mapped_count == 0 ? PunycodeResult{PunycodeError::kOutputTooSmall, 0}
                        : encode_a_label(std::span(mapped, mapped_length), encoded);
  if (!encode.ok()) {
    // Nothing mapped, or the mapped label encodes longer than a label may be (it can, rarely,
    // when mapping moves the insertion points): keep the label as it was.
    fits = writer.append(label);
    return 0;
  }
  fits = writer.append(std::string_view(encoded, encode.length));
  return mapped_count;
}

}  // namespace

std::string_view confusable_prototype(char32_t code_point) noexcept {
  if (code_point < 0x80) {
    return {};
  }
  const auto* entry = std::lower_bound(
      std::begin(kConfusables), std::end(kConfusables), code_point,
      [](const ConfusableEntry& e, char32_t value) { return e.code_point < value; });
  if (entry == std::end(kConfusables) || entry->code_point != code_point) {
    return {};
  }
  return entry->prototype;
}

bool confusable_skeleton(std::string_view canonical_domain, CanonicalDomain& skeleton) noexcept {
  skeleton.assign({});
  if (canonical_domain.find(kAcePrefix) == std::string_view::npos) {
    return false;
  }
  SkeletonWriter writer;
  std::size_t mapped_count = 0;
  std::string_view rest = canonical_domain;
  for (bool first = true;; first = false) {
    const std::size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (!first && !writer.append(".")) {
      return false;
    }
    bool fits = true;
    if (label.starts_with(kAcePrefix)) {
      mapped_count += map_label(label, writer, fits);
    } else {
      fits = writer.append(label);
    }
    if (!fits) {
      return false;
    }
    if (dot == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(dot + 1);
  }
  if (mapped_count == 0) {
    return false;
  }
  return skeleton.assign(std::string_view(writer.bytes, writer.length));
}

std::size_t confusables_of(char ascii, std::span<char32_t> out) noexcept {
  std::size_t written = 0;
  for (const ConfusableEntry& entry : kConfusables) {
    if (written == out.size()) {
      break;
    }
    if (entry.prototype[0] == ascii && entry.prototype[1] == '\0') {
      out[written++] = entry.code_point;
    }
  }
  return written;
}

std::size_t confusable_table_size() noexcept {
  return std::size(kConfusables);
}

}  // namespace misdirect::inspect
