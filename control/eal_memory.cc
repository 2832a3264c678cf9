// EAL memory for `misdirect live` (see eal_memory.h).
#include "control/eal_memory.h"

#include <cstdio>
#include <string_view>

namespace misdirect::control {

void add_no_huge_when_needed(std::vector<char*>& eal_argv) {
  static char no_huge[] = "--no-huge";
  static char memory_flag[] = "-m";
  static char memory_size[] = "512";
  bool has_memory = false;
  for (std::size_t i = 1; i < eal_argv.size(); ++i) {
    const std::string_view arg = eal_argv[i];
    if (arg == "--no-huge" || arg.starts_with("--in-memory") || arg.starts_with("--huge-dir")) {
      return;
    }
    has_memory = has_memory || arg == "-m" || arg.starts_with("--socket-mem");
  }
  std::FILE* meminfo = std::fopen("/proc/meminfo", "r");
  if (meminfo == nullptr) {
    return;
  }
  char line[256];
  long total = -1;
  while (std::fgets(line, sizeof(line), meminfo) != nullptr) {
    if (std::sscanf(line, "HugePages_Total: %ld", &total) == 1) {
      break;
    }
  }
  std::fclose(meminfo);
  if (total != 0) {
    return;
  }
  eal_argv.push_back(no_huge);
  if (!has_memory) {
    eal_argv.push_back(memory_flag);
    eal_argv.push_back(memory_size);
  }
  std::fprintf(stderr, "misdirect live: no hugepages on this machine: EAL runs with --no-huge%s\n",
               has_memory ? "" : " -m 512");
}

}  // namespace misdirect::control
