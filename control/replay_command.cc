// placeholder: being written
#include <cstdio>
#include "control/commands.h"
namespace misdirect::control {
int run_replay_command(int, char**) {
  std::fputs("misdirect: 'replay' is not built yet\n", stderr);
  return 2;
}
}  // namespace misdirect::control
