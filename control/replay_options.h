// ReplayOptions: everything `misdirect replay` is told — the shared SensorOptions, the captures,
// the filter, the workers. Declared once in make_replay_command_line(), which the command,
// `misdirect config check` and the man page generator all build.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "control/command_line.h"
#include "control/sensor_options.h"

namespace misdirect::control {

struct ReplayOptions {
  SensorOptions sensor;
  std::vector<std::string> pcaps;
  std::string bpf;
  bool recursive = false;
  bool quiet = false;
  uint32_t workers = 1;
};

// replay's option grammar, filling `options` (which must outlive it); --config reads [replay].
std::unique_ptr<CommandLine> make_replay_command_line(ReplayOptions& options);

}  // namespace misdirect::control
