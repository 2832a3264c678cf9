// EAL memory for `misdirect live`: hugepages are used when the machine has them; without any,
// EAL would refuse to start, so the sensor runs on ordinary memory (--no-huge, and -m 512 unless a
// memory size was given).
#pragma once

#include <vector>

namespace misdirect::control {

// Adds --no-huge (and -m 512) to the EAL arguments when /proc/meminfo shows no hugepages and the
// arguments choose no memory source themselves; says so on stderr.
void add_no_huge_when_needed(std::vector<char*>& eal_argv);

}  // namespace misdirect::control
