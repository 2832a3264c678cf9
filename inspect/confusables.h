// Confusables: the IDN homoglyph skeleton of a domain (the Unicode TR39 idea, reduced to ASCII).
//
// Enumerating every Unicode look-alike of a protected domain explodes; instead a recipient's IDN
// labels are decoded and each confusable code point replaced by its ASCII prototype, so
// "xn--rmy-5cd.mil" (Cyrillic а + "rmy") has the skeleton "army.mil" and is matched as that.
// Only non-ASCII code points are mapped here: ASCII-to-ASCII look-alikes ("rn" → "m", "l" → "1")
// are variants the look-alike generator lists.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "inspect/domain_name.h"

namespace misdirect::inspect {

// The ASCII prototype of one code point: one or two lowercase letters, digits or '-' ("a" for
// U+0430, "ae" for U+00E6), or empty when the code point is ASCII or not a known confusable.
std::string_view confusable_prototype(char32_t code_point) noexcept;

// Writes the skeleton of a canonical domain (see normalize_domain) and returns true iff at least
// one code point was mapped to a prototype. Every "xn--" label is decoded; mapped code points
// become their prototypes; a label left with unmapped non-ASCII is re-encoded as an A-label, so
// the skeleton is again canonical-looking text. When nothing maps (no "xn--" label at all, no
// confusable, or an undecodable label) it returns false and leaves `skeleton` empty. A domain
// without "xn--" costs one substring search. Hot path: no allocation.
bool confusable_skeleton(std::string_view canonical_domain, CanonicalDomain& skeleton) noexcept;

// Cold, for the look-alike generator: the confusable code points whose prototype is exactly
// `ascii` (one character), in code point order, as many as fit in `out`. Returns how many were
// written. The table lists many diacritic forms, so callers wanting a few pick the first ones
// from the scripts they care about.
std::size_t confusables_of(char ascii, std::span<char32_t> out) noexcept;

// The number of entries in the generated table.
std::size_t confusable_table_size() noexcept;

}  // namespace misdirect::inspect
