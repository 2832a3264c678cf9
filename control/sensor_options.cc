// The flags `misdirect replay` and `misdirect live` share (sensor_options.h).
#include "control/sensor_options.h"

#include <optional>

#include "control/command_line.h"

namespace misdirect::control {

void add_sensor_options(CommandLine& line, SensorOptions& options) {
  line.add_text("--protected", "FILE", options.protected_path,
                "protected domains, one a line (# comments); look-alikes of these raise alerts");
  line.add_text("--allow", "FILE", options.allow_path,
                "domains that never alert even when they look like a protected one");
  line.add_text("--eve", "FILE|-", options.eve_path,
                "EVE JSON lines (alert, smtp, stats), appended; - is stdout (default)");
  line.add_number_list("--ports", "LIST", options.worker.smtp_ports, 1, 65535,
                       "SMTP ports, comma-separated (default 25,587,2525)");
  dataplane::WorkerConfig& worker = options.worker;
  line.add_choice("--smtp-log",
                  {{"all", [&worker] { worker.smtp_log = dataplane::SmtpLogMode::kAll; }},
                   {"lookalike", [&worker] { worker.smtp_log = dataplane::SmtpLogMode::kLookalike; }},
                   {"none", [&worker] { worker.smtp_log = dataplane::SmtpLogMode::kNone; }}},
                  "which transactions get an smtp record (default all)");
  line.add_flag("--no-port-detection", worker.port_agnostic_detection, false,
                "inspect only --ports; do not detect SMTP on other ports by its behaviour");
  line.add_flag("--no-edit-distance", options.matcher.edit_distance, false,
                "leave out the approximate layer (edit distance 1 of a protected domain)");
  inspect::MatcherOptions& matcher = options.matcher;
  line.add_value("--matcher-engine", "hash|hyperscan", [&matcher](std::string_view name) {
    const std::optional<inspect::MatcherEngine> engine = inspect::engine_from_name(name);
    if (!engine) {
      return std::string("is not hash or hyperscan");
    }
    matcher.engine = *engine;
    return std::string();
  }, "the matcher's engine (default hash)");
  line.add_number("--max-flows", "N", worker.max_flows, 16, 1u << 28,
                  "flows each worker tracks at once; the oldest idle one is recycled (default 1048576)");
}

}  // namespace misdirect::control
