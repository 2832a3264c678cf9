// CommandLine: CLI11 for the grammar, misdirect's wording for the problems (command_line.h).
#include "control/command_line.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "control/build_info.h"
#include "control/config_file.h"

namespace misdirect::control {
namespace {

// CLI11's "--eve: 1 required FILE missing" becomes "--eve needs a value", as it always read.
std::string reword(const CLI::ParseError& error) {
  std::string message = error.what();
  const std::size_t colon = message.find(": ");
  if (colon != std::string::npos && message.ends_with(" missing") &&
      message.find(" required ", colon) != std::string::npos) {
    return message.substr(0, colon) + " needs a value";
  }
  return message;
}

}  // namespace

CommandLine::CommandLine(std::string command, std::string usage_name, std::string description,
                         std::string footer)
    : command_(std::move(command)),
      usage_name_(usage_name),
      description_(description),
      footer_(footer),
      app_(std::make_unique<CLI::App>(std::move(description), std::move(usage_name))) {
  app_->footer(std::move(footer));
  app_->set_help_flag("-h,--help", "print this help and exit");
  app_->set_version_flag("--version", "", "print the version and exit");
  app_->allow_extras();  // unknown options are named by parse(), in our wording
  app_->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app_->get_formatter()->column_width(28);
}

CommandLine::~CommandLine() = default;

// Each option goes to CLI11 and to the table; both call the same `apply`, whose answer is the
// problem after the option's name ("\"8\" is not a number from 16 to 268435456").
void CommandLine::add_spec(OptionSpec spec) {
  spec.shared = declaring_shared_;
  if (!spec.config_only) {
    const std::string name = spec.name;
    if (spec.kind == OptionKind::kFlag) {
      app_->add_flag_callback(name, [apply = spec.apply] { apply(""); }, spec.help)->disable_flag_override();
    } else {
      app_->add_option_function<std::string>(
              name,
              [name, apply = spec.apply](const std::string& value) {
                const std::string problem = apply(value);
                if (!problem.empty()) {
                  throw CLI::ValidationError(name + ": " + problem);
                }
              },
              spec.help)
          ->type_name(spec.value_name);
    }
  }
  options_.push_back(std::move(spec));
}

namespace {

OptionSpec spec_of(const std::string& name, const std::string& value_name, const std::string& help,
                   OptionKind kind, ValueParser apply) {
  OptionSpec spec;
  spec.name = name;
  spec.value_name = value_name;
  spec.help = help;
  spec.kind = kind;
  spec.apply = std::move(apply);
  return spec;
}

}  // namespace

void CommandLine::add_text(const std::string& name, const std::string& value_name, std::string& out,
                           const std::string& help) {
  add_spec(spec_of(name, value_name, help, OptionKind::kText, [&out](std::string_view value) {
    out = std::string(value);
    return std::string();
  }));
}

namespace {

ValueParser quoting(ValueParser parse) {
  return [parse = std::move(parse)](std::string_view value) {
    const std::string problem = parse(value);
    return problem.empty() ? problem : "\"" + std::string(value) + "\" " + problem;
  };
}

}  // namespace

void CommandLine::add_value(const std::string& name, const std::string& value_name, ValueParser parse,
                            const std::string& help) {
  add_parsed(name, value_name, std::move(parse), help, OptionKind::kValue);
}

void CommandLine::add_parsed(const std::string& name, const std::string& value_name, ValueParser parse,
                             const std::string& help, OptionKind kind) {
  add_spec(spec_of(name, value_name, help, kind, quoting(std::move(parse))));
}

void CommandLine::add_number_list(const std::string& name, const std::string& value_name,
                                  std::vector<uint16_t>& out, uint64_t min, uint64_t max,
                                  const std::string& help) {
  add_spec(spec_of(name, value_name, help, OptionKind::kNumberList, [&out, min, max](std::string_view text) {
              std::vector<uint16_t> numbers;
              while (!text.empty()) {
                const std::size_t comma = text.find(',');
                const std::string_view item = text.substr(0, comma);
                uint64_t number = 0;
                const std::string problem = parse_number(item, min, max, number);
                if (!problem.empty()) {
                  return "\"" + std::string(item) + "\" " + problem;
                }
                numbers.push_back(static_cast<uint16_t>(number));
                text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
              }
              if (numbers.empty()) {
                return std::string("empty list");
              }
              out = std::move(numbers);
              return std::string();
            }));
}

void CommandLine::add_choice(const std::string& name,
                             std::vector<std::pair<std::string, std::function<void()>>> choices,
                             const std::string& help) {
  std::string value_name;
  std::string alternatives;
  std::vector<std::string> words;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    value_name += (i == 0 ? "" : "|") + choices[i].first;
    alternatives += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i].first;
    words.push_back(choices[i].first);
  }
  OptionSpec spec = spec_of(name, value_name, help, OptionKind::kChoice,
                            quoting([choices = std::move(choices), alternatives](std::string_view value) {
                              for (const auto& [word, choose] : choices) {
                                if (value == word) {
                                  choose();
                                  return std::string();
                                }
                              }
                              return "is not " + alternatives;
                            }));
  spec.choices = std::move(words);
  add_spec(std::move(spec));
}

void CommandLine::add_flag(const std::string& name, bool& out, bool value, const std::string& help) {
  add_spec(spec_of(name, "", help, OptionKind::kFlag, [&out, value](std::string_view) {
    out = value;
    return std::string();
  }));
}

void CommandLine::add_config_list(const std::string& key, const std::string& value_name,
                                  std::vector<std::string>& out, const std::string& help) {
  OptionSpec spec = spec_of(key, value_name, help, OptionKind::kTextList,
                            [](std::string_view) { return std::string("takes an array of strings"); });
  spec.config_only = true;
  spec.text_list = &out;
  add_spec(std::move(spec));
}

void CommandLine::add_operands(const std::string& value_name, std::vector<std::string>& out,
                               const std::string& help) {
  app_->add_option(value_name, out, help)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void CommandLine::enable_config_file(std::string section) {
  config_section_ = std::move(section);
  app_->add_option("--config", config_path_,
                   "read options from this TOML file first (misdirect.toml(5)); flags given here override it")
      ->type_name("FILE");
}

const OptionSpec* CommandLine::find_key(std::string_view key) const {
  for (const OptionSpec& spec : options_) {
    if (spec.key() == key) {
      return &spec;
    }
  }
  return nullptr;
}

std::string CommandLine::config_path_in(const std::vector<std::string>& args) const {
  std::string path;
  for (std::size_t i = 0; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "-h" || args[i] == "--help") {
      return {};  // help is shown whatever the file says
    }
    if (args[i] == "--config" && i + 1 < args.size()) {
      path = args[++i];
    } else if (args[i].starts_with("--config=")) {
      path = args[i].substr(std::string_view("--config=").size());
    }
  }
  return path;
}

int CommandLine::parse(const std::vector<std::string>& args) {
  // The file first, so that CLI11 then writes the flags given over it.
  if (!config_section_.empty()) {
    if (const std::string path = config_path_in(args); !path.empty()) {
      CommandLine* const lines[] = {this};
      const std::vector<std::string> problems = apply_config_file(path, lines);
      for (const std::string& problem : problems) {
        print_error(problem);
      }
      if (!problems.empty()) {
        return 2;
      }
    }
  }
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them back to front
  try {
    app_->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::fputs(help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::fputs(version_text(build_info()).c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& error) {
    // A value check runs before CLI11 looks at --help; asking for help still gets it.
    if (app_->get_help_ptr()->count() > 0) {
      std::fputs(help().c_str(), stdout);
      return 0;
    }
    print_error(reword(error));
    return 2;
  }
  for (const std::string& extra : app_->remaining()) {
    if (extra == "--") {
      continue;  // CLI11 keeps the end-of-options mark among the extras
    }
    if (extra.size() > 1 && extra.front() == '-') {
      const std::string option = extra.substr(0, extra.find('='));
      print_error("unknown option " + option + unknown_option_hint_ + "; see --help");
    } else {
      print_error("unexpected argument \"" + extra + "\"; see --help");
    }
    return 2;
  }
  return -1;
}

void CommandLine::print_error(std::string_view message) const {
  std::fprintf(errors_, "misdirect %s: %.*s\n", command_.c_str(), static_cast<int>(message.size()),
               message.data());
}

std::string CommandLine::help() const {
  std::string text = app_->help();
  if (!text.empty() && text.back() != '\n') {
    text.push_back('\n');
  }
  return text;
}

std::string CommandLine::parse_number(std::string_view text, uint64_t min, uint64_t max, uint64_t& out) {
  uint64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size() ||
      value < min || value > max) {
    return "is not a number from " + std::to_string(min) + " to " + std::to_string(max);
  }
  out = value;
  return {};
}

}  // namespace misdirect::control
