// CommandLine: one subcommand's option grammar, parsed with CLI11, with misdirect's own error
// wording. CLI11 (Debian libcli11-dev, header-only) gives operators what they expect of a command
// line — `--opt=value`, `--` ending the options, `--help` built from each option's own help text,
// `--version` — while the value checks stay ours, so every command words a bad value the same way:
// `--workers: "0" is not a number from 1 to 64`. Cold path only: it runs once, before the sensor.
//
// Adding a flag is one call next to the field it fills (see sensor_options.cc):
//   line.add_number("--hash-seed", options.hash_seed, 0, UINT64_MAX, "seed of the flow hash");
//
// Every option is also kept in a table (options()), with its kind and the same value parser CLI11
// calls: the configuration file (config_file.h) takes a key for each option from that table, and
// the man pages and the example configuration are checked against it, so a new flag is a config
// key and a documented one without a second list.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace CLI {
class App;
}

namespace misdirect::control {

// Parses an option's value; returns an empty string when it was taken, otherwise the problem
// ("is not ...") without the option's name, which CommandLine puts in front.
using ValueParser = std::function<std::string(std::string_view value)>;

// What an option's value is, which decides the TOML types its configuration key takes.
enum class OptionKind {
  kText,        // any text (a path, a name)
  kValue,       // text our own parser checks; numbers among them may be written as TOML integers
  kNumber,      // an unsigned number (a TOML integer, or a string for values past 2^63)
  kNumberList,  // comma-separated numbers (a TOML array of integers, or that string)
  kChoice,      // one of `choices`
  kFlag,        // no value on the command line; `key = true` in the file
  kTextList,    // configuration file only: an array of strings (live's EAL arguments)
};

struct OptionSpec {
  std::string name;        // "--eve"; a configuration-only key has no dashes ("eal")
  std::string value_name;  // "FILE|-", shown in --help and the man pages
  std::string help;
  OptionKind kind = OptionKind::kText;
  std::vector<std::string> choices;  // kChoice
  // Shared by replay and live (add_sensor_options): a top-level key in the configuration file.
  bool shared = false;
  bool config_only = false;  // not a command-line option
  std::vector<std::string>* text_list = nullptr;  // kTextList: set whole from the file's array
  // Takes the value as the command line spells it ("25,587"; a flag gets ""); returns the problem.
  ValueParser apply;

  // The configuration file's key: the long name without its dashes.
  std::string key() const { return name.starts_with("--") ? name.substr(2) : name; }
};

class CommandLine {
 public:
  // `command` names the subcommand in messages ("misdirect replay: ..."); `usage_name` starts the
  // help's usage line, before CLI11's "[OPTIONS]" ("misdirect live [EAL ARGS] --"); `footer` ends
  // the help (exit codes, where to read more).
  CommandLine(std::string command, std::string usage_name, std::string description, std::string footer);
  ~CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  // Where problems are written (stderr unless a test gives its own file).
  void set_error_output(std::FILE* file) { errors_ = file; }
  // Said after "unknown option X" (live: where EAL arguments go).
  void set_unknown_option_hint(std::string hint) { unknown_option_hint_ = std::move(hint); }
  // Options declared while this is on are shared by replay and live (add_sensor_options).
  void set_declaring_shared(bool shared) { declaring_shared_ = shared; }
  // Adds --config FILE: the file's top-level keys and its [section] table are applied before
  // the command line, so a flag given overrides the file (config_file.h).
  void enable_config_file(std::string section);
  const std::string& config_section() const { return config_section_; }

  // Options. `name` is the long name with its dashes ("--eve"); `value_name` is shown in --help.
  // Given twice, the last value counts.
  void add_text(const std::string& name, const std::string& value_name, std::string& out,
                const std::string& help);
  void add_value(const std::string& name, const std::string& value_name, ValueParser parse,
                 const std::string& help);
  // An unsigned number in [min, max].
  template <typename Number>
  void add_number(const std::string& name, const std::string& value_name, Number& out, uint64_t min,
                  uint64_t max, const std::string& help) {
    add_parsed(name, value_name, [&out, min, max](std::string_view text) {
      uint64_t value = 0;
      std::string problem = parse_number(text, min, max, value);
      if (problem.empty()) {
        out = static_cast<Number>(value);
      }
      return problem;
    }, help, OptionKind::kNumber);
  }
  // A comma-separated list of numbers in [min, max], at least one.
  void add_number_list(const std::string& name, const std::string& value_name,
                       std::vector<uint16_t>& out, uint64_t min, uint64_t max, const std::string& help);
  // One of a fixed set of words; `choices` pairs each word with what it sets.
  void add_choice(const std::string& name, std::vector<std::pair<std::string, std::function<void()>>> choices,
                  const std::string& help);
  // A flag without a value: sets `out` to `value`.
  void add_flag(const std::string& name, bool& out, bool value, const std::string& help);
  // A configuration-file-only key holding an array of strings (not a command-line option).
  void add_config_list(const std::string& key, const std::string& value_name, std::vector<std::string>& out,
                       const std::string& help);
  // The arguments that are not options (replay's captures), in order.
  void add_operands(const std::string& value_name, std::vector<std::string>& out, const std::string& help);

  // Parses `args` (the program name not included). Returns -1 when the command should run, or the
  // exit code to return now: 0 after --help or --version, 2 after a bad command line (one line
  // on stderr naming the problem).
  int parse(const std::vector<std::string>& args);
  int parse(int argc, char** argv) { return parse(std::vector<std::string>(argv, argv + argc)); }

  // "misdirect COMMAND: message" on stderr, for the checks a command makes after parsing.
  void print_error(std::string_view message) const;
  std::string help() const;

  // "is not a number from MIN to MAX" unless `text` is one; the value goes to `out`.
  static std::string parse_number(std::string_view text, uint64_t min, uint64_t max, uint64_t& out);

  // Every option, in the order declared (the operands and --help/--version/--config not among them).
  const std::vector<OptionSpec>& options() const { return options_; }
  // The option whose configuration key is `key`, or null.
  const OptionSpec* find_key(std::string_view key) const;
  const std::string& command() const { return command_; }
  // As given to the constructor, for the man pages.
  const std::string& usage_name() const { return usage_name_; }
  const std::string& description() const { return description_; }
  const std::string& footer() const { return footer_; }

 private:
  void add_spec(OptionSpec spec);
  void add_parsed(const std::string& name, const std::string& value_name, ValueParser parse,
                  const std::string& help, OptionKind kind);
  // The last --config value before "--" ("" without one, or when help is asked for).
  std::string config_path_in(const std::vector<std::string>& args) const;

  std::string command_;
  std::string usage_name_;
  std::string description_;
  std::string footer_;
  std::string unknown_option_hint_;
  std::vector<OptionSpec> options_;
  bool declaring_shared_ = false;
  std::string config_section_;  // empty: no --config
  std::string config_path_;     // CLI11's copy; parse() reads --config before CLI11 does
  std::FILE* errors_ = stderr;
  std::unique_ptr<CLI::App> app_;
};

}  // namespace misdirect::control
