// KeyboardLayouts: which keys neighbour which on qwerty, azerty and qwertz keyboards.
//
// Insertion and replacement typos come from a finger landing on a neighbouring key, so the
// generator only tries neighbours rather than the whole alphabet.
#pragma once

#include <string_view>

namespace misdirect::inspect {

enum class KeyboardLayout : unsigned char { kQwerty, kAzerty, kQwertz };

// The keys next to `key` (lowercase letter or digit) on `layout`; empty for other characters.
std::string_view keyboard_neighbours(KeyboardLayout layout, char key) noexcept;

// The union over every layout, without duplicates, in a stable order (written into `out`,
// which needs room for 32 characters); returns the count.
int all_keyboard_neighbours(char key, char* out) noexcept;

}  // namespace misdirect::inspect
