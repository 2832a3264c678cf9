// The configuration file, /etc/misdirect/misdirect.toml (misdirect.toml(5)): every option of
// `misdirect replay` and `misdirect live` as a TOML key, read with toml++ (Debian
// libtomlplusplus-dev) — a well-kept parser that gives each key and value its line, so a problem is
// named where it is. Cold path only: it runs once, before the sensor.
//
// The keys are not listed here: each is an option of a CommandLine's table (command_line.h), named
// as the long flag without its dashes, and its value goes through the same parser as the flag's.
//   - top level: the options replay and live share (--protected, --eve, --ports, ...);
//   - [live] and [replay]: any option of that command (a shared one here overrides the top level).
// A command reads the top level and its own table; `misdirect config check` reads both tables.
// Values: strings as on the command line, integers for numbers, arrays for lists, `true` for a
// flag (false leaves the default). Unknown keys are refused with the closest known one.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace misdirect::control {

class CommandLine;

// The tables the file may have besides the top level, one per command that reads the file.
inline constexpr std::string_view kConfigSections[] = {"live", "replay"};

// The file is read whole; a larger one is refused (a configuration is a few kilobytes).
inline constexpr std::size_t kMaxConfigBytes = 1u << 20;

// Reads `path` and applies it to each line in `lines`: the top level's shared options to all, the
// table named by a line's config_section() to that line. Returns the problems, each
// "PATH:LINE:COLUMN: what" in file order; empty when every key was taken.
std::vector<std::string> apply_config_file(const std::string& path, std::span<CommandLine* const> lines);
// The same for text already read; `source_name` stands for the path in problems.
std::vector<std::string> apply_config_text(std::string_view text, const std::string& source_name,
                                           std::span<CommandLine* const> lines);

// Levenshtein distance, for the suggestion after an unknown key.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace misdirect::control
