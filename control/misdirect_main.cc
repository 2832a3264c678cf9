// misdirect: catches mail addressed to look-alike domains on the wire.
#include <cstdio>
#include <cstring>

#include "control/build_info.h"
#include "control/commands.h"

namespace {

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: misdirect COMMAND [ARGS]\n"
      "\n"
      "  replay [--config FILE] --protected FILE [--allow FILE] [--eve FILE|-] PCAP...\n"
      "      inspect captures with libpcap (no root, no DPDK) and write EVE JSON lines\n"
      "  live [--config FILE] [EAL ARGS] -- --protected FILE [--control PATH] [--eve FILE] ...\n"
      "      the DPDK poll-mode sensor on span ports\n"
      "  variants [--list] DOMAIN...\n"
      "      the look-alikes misdirect generates for protected domains, counted per kind\n"
      "  check ADDRESS|DOMAIN... --protected FILE [--allow FILE] [--json]\n"
      "      the verdict the sensor would give each address or domain, and why\n"
      "  config check FILE...\n"
      "      check a configuration file (misdirect.toml(5)) without starting anything\n"
      "  version (or --version)\n"
      "      version, git revision, build type, DPDK and Hyperscan versions\n"
      "\n"
      "  misdirect COMMAND --help shows a command's options.\n",
      out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const char* command = argv[1];
  if (std::strcmp(command, "replay") == 0) {
    return misdirect::control::run_replay_command(argc - 1, argv + 1);
  }
  if (std::strcmp(command, "live") == 0) {
    return misdirect::control::run_live_command(argc - 1, argv + 1);
  }
  if (std::strcmp(command, "check") == 0) {
    return misdirect::control::run_check_command(argc - 1, argv + 1);
  }
  if (std::strcmp(command, "config") == 0) {
    return misdirect::control::run_config_command(argc - 1, argv + 1);
  }
  if (std::strcmp(command, "variants") == 0) {
    return misdirect::control::run_variants_command(argc - 1, argv + 1);
  }
  if (std::strcmp(command, "version") == 0 || std::strcmp(command, "--version") == 0) {
    if (argc > 2) {
      std::fprintf(stderr, "misdirect version: takes no arguments\n");
      return 2;
    }
    std::fputs(misdirect::control::version_text(misdirect::control::build_info()).c_str(), stdout);
    return 0;
  }
  if (std::strcmp(command, "--help") == 0 || std::strcmp(command, "-h") == 0 ||
      std::strcmp(command, "help") == 0) {
    print_usage(stdout);
    return 0;
  }
  std::fprintf(stderr, "misdirect: unknown command '%s'\n", command);
  print_usage(stderr);
  return 2;
}
