// The man pages misdirect(8) and misdirect.toml(5), rendered in roff from the commands' option
// tables (command_line.h) at build time (man/meson.build), so that each option is written once:
// where it is declared. Prose that no table holds (what the program is, the files it uses) is here.
#pragma once

#include <string>

namespace misdirect::control {

struct ManPageInputs {
  std::string version;     // "0.1.0"
  std::string variants_help;  // `misdirect variants --help` and `misdirect check --help`, verbatim
  std::string check_help;
  std::string example_config;  // etc/misdirect.toml.example, shown whole in misdirect.toml(5)
};

std::string render_misdirect_page(const ManPageInputs& inputs);
std::string render_config_page(const ManPageInputs& inputs);

// Text made safe for roff: backslashes, a leading dot or quote, and dashes (as \-).
std::string roff_escape(std::string_view text);

}  // namespace misdirect::control
