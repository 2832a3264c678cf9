// The `misdirect` subcommands. Each parses its own arguments and returns the process exit code.
#pragma once

namespace misdirect::control {

int run_replay_command(int argc, char** argv);
int run_live_command(int argc, char** argv);
int run_variants_command(int argc, char** argv);
int run_check_command(int argc, char** argv);
int run_config_command(int argc, char** argv);

}  // namespace misdirect::control
