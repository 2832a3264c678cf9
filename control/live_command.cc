// placeholder: being written
#include <cstdio>
#include "control/commands.h"
namespace misdirect::control {
int run_live_command(int, char**) {
  std::fputs("misdirect: 'live' is not built yet\n", stderr);
  return 2;
}
}  // namespace misdirect::control
