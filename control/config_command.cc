// `misdirect config check FILE...`: reads a configuration file as live and replay would, through
// the same option tables (config_file.h), and names every bad key with its line. Nothing is
// started; exit 0 when the file is good, 2 when it is not.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "control/commands.h"
#include "control/config_file.h"
#include "control/live_options.h"
#include "control/replay_options.h"

namespace misdirect::control {
namespace {

constexpr const char* kUsage =
    "usage: misdirect config check FILE...\n"
    "\n"
    "Checks a configuration file (misdirect.toml(5)) as `misdirect live --config` and `misdirect\n"
    "replay --config` read it: the top-level keys and the [live] and [replay] tables. Every bad key,\n"
    "type or value is named with its line; an unknown key gets the closest known one. Nothing is\n"
    "started. Exit 0 when every file is good, 2 otherwise.\n";

// Problems of one file; every one is printed.
std::vector<std::string> check_file(const std::string& path) {
  LiveOptions live;
  ReplayOptions replay;
  const std::unique_ptr<CommandLine> live_line = make_live_command_line(live);
  const std::unique_ptr<CommandLine> replay_line = make_replay_command_line(replay);
  CommandLine* const lines[] = {live_line.get(), replay_line.get()};
  return apply_config_file(path, lines);
}

}  // namespace

int run_config_command(int argc, char** argv) {
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (argc < 3 || std::strcmp(argv[1], "check") != 0) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  int code = 0;
  for (int i = 2; i < argc; ++i) {
    const std::vector<std::string> problems = check_file(argv[i]);
    for (const std::string& problem : problems) {
      std::fprintf(stderr, "misdirect config: %s\n", problem.c_str());
    }
    if (problems.empty()) {
      std::printf("%s: ok\n", argv[i]);
    } else {
      code = 2;
    }
  }
  return code;
}

}  // namespace misdirect::control
