// KeyboardLayouts: neighbour tables derived from each layout's staggered rows.
#include "inspect/keyboard_layouts.h"

#include <array>
#include <string>

namespace misdirect::inspect {

namespace {

struct Rows {
  std::string_view rows[4];
};

// Each row is offset half a key to the right of the one above, so the key at column c touches
// columns c and c+1 of the row above and c-1 and c of the row below.
constexpr Rows kLayoutRows[3] = {
    {{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"}},
    {{"1234567890", "azertyuiop", "qsdfghjklm", "wxcvbn"}},
    {{"1234567890", "qwertzuiop", "asdfghjkl", "yxcvbnm"}},
};

using Table = std::array<std::string, 128>;

Table build_table(const Rows& layout) {
  Table table;
  auto add = [&table](char key, std::string_view row, int column) {
    if (column >= 0 && column < static_cast<int>(row.size())) {
      table[static_cast<unsigned char>(key)].push_back(row[column]);
    }
  };
  for (int r = 0; r < 4; ++r) {
    const std::string_view row = layout.rows[r];
    for (int c = 0; c < static_cast<int>(row.size()); ++c) {
      const char key = row[c];
      if (r > 0) {
        add(key, layout.rows[r - 1], c);
        add(key, layout.rows[r - 1], c + 1);
      }
      add(key, row, c - 1);
      add(key, row, c + 1);
      if (r < 3) {
        add(key, layout.rows[r + 1], c - 1);
        add(key, layout.rows[r + 1], c);
      }
    }
  }
  return table;
}

const std::array<Table, 3>& tables() {
  static const std::array<Table, 3> kTables = {build_table(kLayoutRows[0]),
                                               build_table(kLayoutRows[1]),
                                               build_table(kLayoutRows[2])};
  return kTables;
}

}  // namespace

std::string_view keyboard_neighbours(KeyboardLayout layout, char key) noexcept {
  const auto index = static_cast<unsigned char>(key);
  if (index >= 128) {
    return {};
  }
  return tables()[static_cast<std::size_t>(layout)][index];
}

int all_keyboard_neighbours(char key, char* out) noexcept {
  int count = 0;
  for (KeyboardLayout layout : {KeyboardLayout::kQwerty, KeyboardLayout::kAzerty,
                                KeyboardLayout::kQwertz}) {
    for (char neighbour : keyboard_neighbours(layout, key)) {
      bool seen = false;
      for (int i = 0; i < count; ++i) {
        seen = seen || out[i] == neighbour;
      }
      if (!seen && count < 32) {
        out[count++] = neighbour;
      }
    }
  }
  return count;
}

}  // namespace misdirect::inspect
