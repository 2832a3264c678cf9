// The configuration file, applied through the commands' option tables (config_file.h).
#include "control/config_file.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <tuple>

#include "control/command_line.h"

namespace misdirect::control {
namespace {

struct Problem {
  uint32_t line;
  uint32_t column;
  std::string text;
};

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// The value as the command line would spell it, or a problem naming the types the key takes.
// `given` is false for `flag = false`: nothing to apply.
struct CommandLineText {
  std::string text;
  std::string problem;
  bool given = true;
};

CommandLineText scalar_text(const toml::node& node, bool integer_allowed) {
  if (const auto* text = node.as_string()) {
    return {text->get(), {}};
  }
  if (integer_allowed) {
    if (const auto* number = node.as_integer()) {
      return {std::to_string(number->get()), {}};
    }
  }
  return {{}, std::string("takes ") + (integer_allowed ? "an integer or a string" : "a string") + ", not " +
                  std::string(type_name(node))};
}

CommandLineText command_line_text(const OptionSpec& spec, const toml::node& node) {
  switch (spec.kind) {
    case OptionKind::kFlag:
      if (const auto* flag = node.as_boolean()) {
        return {{}, {}, flag->get()};
      }
      return {{}, "takes true or false, not " + std::string(type_name(node))};
    case OptionKind::kText:
    case OptionKind::kChoice:
      return scalar_text(node, false);
    case OptionKind::kValue:
    case OptionKind::kNumber:
      return scalar_text(node, true);
    case OptionKind::kNumberList: {
      const auto* array = node.as_array();
      if (array == nullptr) {
        CommandLineText single = scalar_text(node, true);
        if (!single.problem.empty()) {
          single.problem = "takes an array of integers, not " + std::string(type_name(node));
        }
        return single;
      }
      CommandLineText joined;
      for (std::size_t i = 0; i < array->size(); ++i) {
        const auto* number = (*array)[i].as_integer();
        if (number == nullptr) {
          return {{}, "element " + std::to_string(i + 1) + " is " + std::string(type_name((*array)[i])) +
                          ", not an integer"};
        }
        joined.text += (i == 0 ? "" : ",") + std::to_string(number->get());
      }
      return joined;
    }
    case OptionKind::kTextList:
      break;  // set whole by apply_value
  }
  return {{}, "has no command-line form"};
}

// Applies one key's value through its option; returns the problem or "".
std::string apply_value(const OptionSpec& spec, const toml::node& node) {
  if (spec.kind == OptionKind::kTextList) {
    const auto* array = node.as_array();
    if (array == nullptr) {
      return "takes an array of strings, not " + std::string(type_name(node));
    }
    std::vector<std::string> items;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const auto* text = (*array)[i].as_string();
      if (text == nullptr) {
        return "element " + std::to_string(i + 1) + " is " + std::string(type_name((*array)[i])) +
               ", not a string";
      }
      items.push_back(text->get());
    }
    *spec.text_list = std::move(items);
    return {};
  }
  const CommandLineText value = command_line_text(spec, node);
  if (!value.problem.empty()) {
    return value.problem;
  }
  return value.given ? spec.apply(value.text) : std::string();
}

// `candidates` closest to `key`, when it is close enough to be what was meant.
std::string suggestion(std::string_view key, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = SIZE_MAX;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  // A wholly different word is not a typo of anything; name the manual instead.
  if (best.empty() || best_distance > std::max<std::size_t>(2, key.size() / 2)) {
    return "; the keys are listed in misdirect.toml(5)";
  }
  return "; did you mean \"" + best + "\"?";
}

class Applier {
 public:
  Applier(const std::string& source_name, std::span<CommandLine* const> lines)
      : source_name_(source_name), lines_(lines) {}

  void apply(const toml::table& root) {
    for (const auto& [key, node] : root) {
      apply_top_level(key, node);
    }
    // Tables after the top level, so that `[live] eve = ...` overrides a top-level `eve`.
    for (CommandLine* line : lines_) {
      const toml::node* section = root.get(line->config_section());
      if (section != nullptr && section->is_table()) {
        for (const auto& [key, node] : *section->as_table()) {
          apply_in_section(*line, key, node);
        }
      }
    }
  }

  std::vector<std::string> problems() {
    std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    std::vector<std::string> texts;
    for (const Problem& problem : problems_) {
      texts.push_back(source_name_ + ":" + std::to_string(problem.line) + ":" +
                      std::to_string(problem.column) + ": " + problem.text);
    }
    return texts;
  }

 private:
  void add_problem(const toml::source_region& where, std::string text) {
    problems_.push_back({where.begin.line, where.begin.column, std::move(text)});
  }

  void apply_top_level(const toml::key& key, const toml::node& node) {
    const std::string_view name = key.str();
    if (std::find(std::begin(kConfigSections), std::end(kConfigSections), name) != std::end(kConfigSections)) {
      if (!node.is_table()) {
        add_problem(node.source(), std::string(name) + ": takes a table ([" + std::string(name) + "]), not " +
                                       std::string(type_name(node)));
      }
      return;  // read by its own command
    }
    const OptionSpec* shared = nullptr;
    std::vector<std::string> owners;  // the commands that take it, when it is not a shared option
    for (CommandLine* line : lines_) {
      const OptionSpec* spec = line->find_key(name);
      if (spec != nullptr && !spec->shared) {
        owners.push_back(line->config_section());
      }
      shared = spec != nullptr && spec->shared ? spec : shared;
    }
    if (!owners.empty()) {
      std::string where;
      std::string tables;
      for (std::size_t i = 0; i < owners.size(); ++i) {
        where += (i == 0 ? "" : " and ") + owners[i];
        tables += (i == 0 ? "[" : " or [") + owners[i] + "]";
      }
      add_problem(key.source(), "\"" + std::string(name) + "\" is " +
                                    (owners.size() == 1 ? "an option of " + where + " only"
                                                        : std::string("not shared by the commands")) +
                                    "; put it under " + tables);
      return;
    }
    if (shared == nullptr) {
      std::vector<std::string> candidates(std::begin(kConfigSections), std::end(kConfigSections));
      if (!lines_.empty()) {
        for (const OptionSpec& spec : lines_.front()->options()) {
          if (spec.shared) {
            candidates.push_back(spec.key());
          }
        }
      }
      add_problem(key.source(), "unknown key \"" + std::string(name) + "\"" + suggestion(name, candidates));
      return;
    }
    // The same value for every command; a problem is said once.
    bool said = false;
    for (CommandLine* line : lines_) {
      const std::string problem = apply_value(*line->find_key(name), node);
      if (!problem.empty() && !said) {
        add_problem(node.source(), std::string(name) + ": " + problem);
        said = true;
      }
    }
  }

  void apply_in_section(CommandLine& line, const toml::key& key, const toml::node& node) {
    const std::string_view name = key.str();
    const std::string qualified = line.config_section() + "." + std::string(name);
    const OptionSpec* spec = line.find_key(name);
    if (spec == nullptr) {
      for (CommandLine* other : lines_) {
        if (other != &line && other->find_key(name) != nullptr) {
          add_problem(key.source(), "unknown key \"" + qualified + "\": " + std::string(name) +
                                        " is an option of " + other->config_section() + " only");
          return;
        }
      }
      std::vector<std::string> candidates;
      for (const OptionSpec& option : line.options()) {
        candidates.push_back(option.key());
      }
      add_problem(key.source(), "unknown key \"" + qualified + "\" (not an option of " + line.config_section() +
                                    ")" + suggestion(name, candidates));
      return;
    }
    if (const std::string problem = apply_value(*spec, node); !problem.empty()) {
      add_problem(node.source(), qualified + ": " + problem);
    }
  }

  const std::string& source_name_;
  std::span<CommandLine* const> lines_;
  std::vector<Problem> problems_;
};

}  // namespace

std::vector<std::string> apply_config_text(std::string_view text, const std::string& source_name,
                                           std::span<CommandLine* const> lines) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& error) {
    const toml::source_region& where = error.source();
    return {source_name + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column) +
            ": " + std::string(error.description())};
  }
  Applier applier(source_name, lines);
  applier.apply(root);
  return applier.problems();
}

std::vector<std::string> apply_config_file(const std::string& path, std::span<CommandLine* const> lines) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return {"cannot read " + path + ": " + std::strerror(errno)};
  }
  std::string text;
  char buffer[65536];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    text.append(buffer, got);
    if (text.size() > kMaxConfigBytes) {
      std::fclose(file);
      return {path + ": larger than " + std::to_string(kMaxConfigBytes) + " bytes; not a configuration file"};
    }
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) {
    return {"cannot read " + path + ": " + std::strerror(error)};
  }
  return apply_config_text(text, path, lines);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace misdirect::control
