// placeholder: being written
#include <cstdio>
#include "control/commands.h"
namespace misdirect::control {
int run_variants_command(int, char**) {
  std::fputs("misdirect: 'variants' is not built yet\n", stderr);
  return 2;
}
}  // namespace misdirect::control
