// Record settings a whole run shares, for both sensors (replay and live): the sensor's name
// written as `host`, the Community ID seed, and the flow_id salt every worker of the run uses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace misdirect::control {

// The machine's hostname (what `host` says without --sensor-name); "" when it cannot be read.
std::string default_sensor_name();

// A fresh random salt for this run's flow ids (from the kernel's random source).
uint64_t new_flow_id_salt();

// --sensor-name: printable text of 1-255 bytes. "" when `text` is one, otherwise the problem
// ("is empty", ...), worded for CommandLine.
std::string sensor_name_problem(std::string_view text);

}  // namespace misdirect::control
