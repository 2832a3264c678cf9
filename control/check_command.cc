// `misdirect check ADDRESS|DOMAIN... --protected FILE [--allow FILE] [--json]`: the verdict the
// sensor would give each address or domain, from the same lists and matcher.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "control/commands.h"
#include "control/lookalike_check.h"
#include "inspect/domain_lists.h"
#include "inspect/matcher.h"

namespace misdirect::control {
namespace {

constexpr std::string_view kUsage =
    "usage: misdirect check ADDRESS|DOMAIN... --protected FILE [--allow FILE] [--json]\n"
    "                       [--no-edit-distance] [--public-suffix-list FILE]\n"
    "\n"
    "Prints the verdict the sensor would give each recipient address or domain: the look-alike's\n"
    "kind, protected domain and variant, or \"not a look-alike\" and why. --json: one JSON object\n"
    "a line. Exit 0 when none is a look-alike, 1 when at least one is, 2 for bad options or lists.\n";

}  // namespace

int run_check_command(int argc, char** argv) {
  std::string protected_path;
  std::string allow_path;
  bool json = false;
  inspect::MatcherOptions options;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    }
    if (arg == "--protected" || arg == "--allow" || arg == "--public-suffix-list") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "misdirect check: %s needs a value\n", argv[i]);
        return 2;
      }
      (arg == "--protected" ? protected_path : arg == "--allow" ? allow_path : options.public_suffix_list) = argv[++i];
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--no-edit-distance") {
      options.edit_distance = false;
    } else if (arg.starts_with("--")) {
      std::fprintf(stderr, "misdirect check: unknown option %s\n%.*s", argv[i], static_cast<int>(kUsage.size()),
                   kUsage.data());
      return 2;
    } else {
      inputs.emplace_back(arg);
    }
  }
  if (protected_path.empty() || inputs.empty()) {
    std::fprintf(stderr, "misdirect check: %s\n%.*s",
                 protected_path.empty() ? "--protected FILE is required" : "no address or domain given",
                 static_cast<int>(kUsage.size()), kUsage.data());
    return 2;
  }
  inspect::DomainLists lists;
  inspect::ListParseResult protected_list = inspect::read_domain_list_file(protected_path);
  if (!protected_list.ok()) {
    std::fprintf(stderr, "misdirect check: %s\n", protected_list.error.c_str());
    return 2;
  }
  lists.protected_domains = std::move(protected_list.domains);
  if (!allow_path.empty()) {
    inspect::ListParseResult allow_list = inspect::read_domain_list_file(allow_path);
    if (!allow_list.ok()) {
      std::fprintf(stderr, "misdirect check: %s\n", allow_list.error.c_str());
      return 2;
    }
    lists.allow = std::move(allow_list.domains);
  }
  inspect::MatcherBuildResult built = inspect::Matcher::build(lists, options);
  if (!built.matcher) {
    std::fprintf(stderr, "misdirect check: cannot build the look-alike matcher: %s\n", built.error.c_str());
    return 2;
  }
  inspect::MatcherScratch scratch = built.matcher->make_scratch();
  bool any_lookalike = false;
  for (const std::string& input : inputs) {
    const CheckAnswer answer = check_lookalike(*built.matcher, scratch, input);
    any_lookalike = any_lookalike || answer.lookalike;
    const std::string line = json ? answer_json(answer) : describe_answer(answer);
    std::printf("%s\n", line.c_str());
  }
  return any_lookalike ? 1 : 0;
}

}  // namespace misdirect::control
