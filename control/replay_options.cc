// replay's option grammar (replay_options.h).
#include "control/replay_options.h"

namespace misdirect::control {

std::unique_ptr<CommandLine> make_replay_command_line(ReplayOptions& options) {
  auto made = std::make_unique<CommandLine>(
      "replay", "misdirect replay",
      "Reads pcap/pcapng captures with libpcap and writes EVE JSON lines (alert, smtp, stats) to\n"
      "stdout or --eve FILE. A capture may be gzip or zstd compressed; - reads one from standard\n"
      "input; a directory stands for the captures in it in name order (--recursive: and in its\n"
      "subdirectories). SMTP on ports other than --ports is still detected by its behaviour unless\n"
      "--no-port-detection.",
      "Progress goes to stderr when it is a terminal; a summary line always ends the run (--quiet:\n"
      "neither). Exit 0 when every capture was read to its end, 1 when a capture was cut short or\n"
      "unreadable (what was readable is processed), 2 for bad options, filters or lists.");
  CommandLine& line = *made;
  line.enable_config_file("replay");
  add_sensor_options(line, options.sensor);
  line.add_text("--bpf", "EXPR", options.bpf, "a libpcap filter applied to every capture");
  line.add_flag("--recursive", options.recursive, true, "a directory also stands for its subdirectories' captures");
  line.add_flag("--quiet", options.quiet, true, "no progress line and no summary on stderr");
  line.add_number("--workers", "N", options.workers, 1, 64,
                  "worker threads; flows are fanned out by the symmetric flow hash (default 1)");
  line.add_operands("CAPTURE|DIR|-", options.pcaps, "captures, read in the order given");
  return made;
}

}  // namespace misdirect::control
