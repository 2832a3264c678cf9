// BuildInfo: what this binary is — its version, the git revision it was built from, the build
// type, and the DPDK and Hyperscan it runs with. Printed by `misdirect --version` and
// `misdirect version`, answered by the control socket's `version`, and shown in metrics.
#pragma once

#include <string>
#include <string_view>

namespace misdirect::control {

struct BuildInfo {
  std::string_view version;       // the meson project version
  std::string_view git_revision;  // `git describe --always --dirty` at build time, or "unknown"
  std::string_view build_type;    // meson's buildtype (debug, debugoptimized, release, ...)
  bool assertions = true;         // false when built with NDEBUG
  std::string dpdk;               // rte_version() of the DPDK linked at run time, "DPDK " dropped
  std::string hyperscan;          // hs_version(): "5.4.0 2023-01-31"
};

BuildInfo build_info();

// Four lines, each "name value", the first "misdirect VERSION (git REVISION)".
std::string version_text(const BuildInfo& info);

}  // namespace misdirect::control
