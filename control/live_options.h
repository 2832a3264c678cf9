// LiveOptions: everything `misdirect live` is told — the shared SensorOptions, the control socket,
// the state directory, the sensor's lcores, rings and ports, and (from the configuration file only)
// the EAL arguments. Declared once in make_live_command_line(), which the command, `misdirect
// config check` and the man page generator all build, so the three never disagree.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/command_line.h"
#include "control/metrics_server.h"
#include "control/sensor_options.h"
#include "dataplane/live/live_sensor.h"

namespace misdirect::control {

struct LiveOptions {
  SensorOptions shared;
  std::string control_path;
  std::string control_group;
  std::string state_dir;
  std::optional<MetricsListen> metrics_listen;  // --metrics-listen; off by default
  uint64_t stats_interval_s = 60;
  bool exit_on_eof = false;
  // `eal = [...]` in [live]: put before the EAL arguments of the command line (so those win).
  std::vector<std::string> eal_args;
  dataplane::LiveSensorConfig sensor;  // its `worker` is shared.worker, copied after parsing
};

// live's option grammar, filling `options` (which must outlive it); --config reads [live].
std::unique_ptr<CommandLine> make_live_command_line(LiveOptions& options);

// Parses `args` (misdirect's own, after --, with any --config) and checks what the options need
// together. Returns -1 when the sensor should start, otherwise the exit code (after --help, or a
// problem).
int parse_live_options(const std::vector<std::string>& args, LiveOptions& options);

}  // namespace misdirect::control
