// Writes misdirect(8) and misdirect.toml(5) at build time (man/meson.build), from the option
// tables (control/man_page.h):
//   man_pages OUTDIR VERSION MISDIRECT_BINARY EXAMPLE_CONFIG
// The built binary is asked for the help of the commands that have no option table (variants,
// check), so their pages are their --help, word for word.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "control/man_page.h"

namespace {

std::string command_output(const std::string& command) {
  std::string text;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return text;
  }
  char buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    text.append(buffer, got);
  }
  ::pclose(pipe);
  return text;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: man_pages OUTDIR VERSION MISDIRECT_BINARY EXAMPLE_CONFIG\n");
    return 2;
  }
  const std::string outdir = argv[1];
  misdirect::control::ManPageInputs inputs;
  inputs.version = argv[2];
  const std::string binary = std::string("'") + argv[3] + "'";
  inputs.variants_help = command_output(binary + " variants --help");
  inputs.check_help = command_output(binary + " check --help");
  std::ifstream example(argv[4]);
  inputs.example_config.assign(std::istreambuf_iterator<char>(example), std::istreambuf_iterator<char>());
  if (inputs.variants_help.empty() || inputs.check_help.empty() || inputs.example_config.empty()) {
    std::fprintf(stderr, "man_pages: no help from %s, or no example at %s\n", argv[3], argv[4]);
    return 1;
  }
  if (!write_file(outdir + "/misdirect.8", misdirect::control::render_misdirect_page(inputs)) ||
      !write_file(outdir + "/misdirect.toml.5", misdirect::control::render_config_page(inputs))) {
    std::fprintf(stderr, "man_pages: cannot write to %s\n", outdir.c_str());
    return 1;
  }
  return 0;
}
