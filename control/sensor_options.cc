// The flags `misdirect replay` and `misdirect live` share (sensor_options.h).
#include "control/sensor_options.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "dataplane/decode/packet_decoder.h"

#include "control/command_line.h"
#include "inspect/lookalike_role.h"
#include "control/record_settings.h"

namespace misdirect::control {

void add_sensor_options(CommandLine& line, SensorOptions& options) {
  // Shared options are the configuration file's top-level keys (config_file.h).
  line.set_declaring_shared(true);
  line.add_text("--protected", "FILE", options.protected_path,
                "protected domains, one a line (# comments); look-alikes of these raise alerts");
  line.add_text("--allow", "FILE", options.allow_path,
                "domains that never alert even when they look like a protected one");
  line.add_text("--eve", "FILE|-", options.eve_path,
                "EVE JSON lines (alert, smtp, stats), appended; - is stdout (default)");
  line.add_number_list("--ports", "LIST", options.worker.smtp_ports, 1, 65535,
                       "SMTP ports, comma-separated (default 25,587,2525; LMTP's 24 is always read)");
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
  line.add_text("--public-suffix-list", "FILE", options.matcher.public_suffix_list,
                "the Public Suffix List domains are split by (.dat or .dafsa), read at every list "
                "compile (default: Debian's /usr/share/publicsuffix/public_suffix_list.dafsa)");
  inspect::MatcherOptions& matcher = options.matcher;
  line.add_value("--matcher-engine", "hash|hyperscan", [&matcher](std::string_view name) {
    const std::optional<inspect::MatcherEngine> engine = inspect::engine_from_name(name);
    if (!engine) {
      return std::string("is not hash or hyperscan");
    }
    matcher.engine = *engine;
    return std::string();
  }, "the matcher's engine (default hash)");
  line.add_number_list("--vxlan-ports", "LIST", worker.vxlan_ports, 1, 65535,
                       "UDP destination ports decoded as VXLAN, comma-separated, at most 8 (default 4789)");
  line.add_number_list("--geneve-ports", "LIST", worker.geneve_ports, 1, 65535,
                       "UDP destination ports decoded as GENEVE, comma-separated, at most 8 (default 6081)");
  line.add_number("--max-encapsulation-depth", "N", worker.max_encapsulation_depth, 1, 16,
                  "encapsulations (tunnels, MPLS, PPPoE) walked through before a packet is dropped and "
                  "counted (default 4)");
  line.add_number("--max-flows", "N", worker.max_flows, 16, 1u << 28,
                  "flows each worker tracks at once; the oldest idle one is recycled (default 1048576)");
  line.add_number_list("--dns-ports", "LIST", worker.dns_ports, 1, 65535,
                       "DNS ports (UDP and TCP), comma-separated (default 53)");
  line.add_choice("--dns-log",
                  {{"all", [&worker] { worker.dns_log = dataplane::DnsLogMode::kAll; }},
                   {"lookalike", [&worker] { worker.dns_log = dataplane::DnsLogMode::kLookalike; }},
                   {"none", [&worker] { worker.dns_log = dataplane::DnsLogMode::kNone; }}},
                  "which DNS messages get a dns record (default lookalike: those about look-alikes)");
  line.add_number_list("--learned-ports", "LIST", worker.learned_smtp_ports, 1, 65535,
                       "SMTP ports whose connections are checked against addresses look-alikes' DNS "
                       "answers gave (default 25,465,587)");
  line.add_value("--learned-max-age", "SECONDS", [&worker](std::string_view text) {
    uint64_t seconds = 0;
    std::string problem = CommandLine::parse_number(text, 1, 7 * 86400, seconds);
    if (problem.empty()) {
      worker.learned_max_age_ns = seconds * 1'000'000'000ull;
    }
    return problem;
  }, "the longest a DNS answer is held, whatever its TTL (default 3600)");
  line.add_value("--roles", "LIST", [&worker](std::string_view text) {
    std::string error;
    const std::optional<inspect::RoleSet> roles = inspect::parse_roles(text, error);
    if (!roles) {
      return error;
    }
    worker.roles = *roles;
    return std::string();
  }, "roles a look-alike alerts in: all (default), a list (recipient,sender,header-from,reply-to,"
     "dns-query,dns-learned,tls-sni), or -role,... to turn some off");
  // Records: `host`, the Community ID seed, and the run's flow_id salt (not a flag: drawn here,
  // once per run, and shared by every worker so flow ids never repeat within the run).
  worker.sensor_name = default_sensor_name();
  worker.flow_id_salt = new_flow_id_salt();
  line.add_value("--sensor-name", "NAME", [&worker](std::string_view name) {
    std::string problem = sensor_name_problem(name);
    if (problem.empty()) {
      worker.sensor_name = std::string(name);
    }
    return problem;
  }, "written as `host` on every record (default: the machine's hostname)");
  line.add_number("--community-id-seed", "N", worker.community_id_seed, 0, 65535,
                  "seed of community_id, the Community ID v1 flow hash (default 0)");
  line.add_number("--hash-seed", "N", worker.hash_seed, 1, UINT64_MAX,
                  "secret of the flow, fragment and fan-out hashes, for reproducible runs (default: "
                  "random per run); records never depend on it");
  // Evidence pcaps (docs/records.md, "Evidence"): the directory itself is checked after parsing
  // (sensor_options_problem), before anything runs.
  dataplane::EvidenceWriterConfig& evidence = options.evidence;
  line.add_value("--evidence-dir", "DIR", [&worker, &evidence](std::string_view text) {
    const std::string directory(text);
    if (directory.empty()) {
      return std::string("empty directory name");
    }
    if (directory.size() > dataplane::kEvidenceDirMaxBytes) {
      return std::string("longer than ") + std::to_string(dataplane::kEvidenceDirMaxBytes) + " bytes";
    }
    evidence.directory = directory;
    worker.evidence_dir = directory;
    return std::string();
  }, "keep a pcap of every SMTP flow that alerted, from its first packet, as DIR/<flow_id>.pcap "
     "(the alerts name it as capture_file)");
  line.add_value("--evidence-max-mb", "N", [&evidence](std::string_view text) {
    uint64_t megabytes = 0;
    std::string problem = CommandLine::parse_number(text, 1, 1u << 20, megabytes);
    if (problem.empty()) {
      evidence.max_bytes = megabytes << 20;
    }
    return problem;
  }, "the evidence files of a run hold at most N MiB together; the oldest are removed first "
     "(default 1024)");
  line.add_number("--evidence-max-files", "N", evidence.max_files, 1, 10'000'000,
                  "at most N evidence files from a run; the oldest is removed first (default 1000)");
  line.set_declaring_shared(false);
}

std::string sensor_options_problem(const SensorOptions& options) {
  const dataplane::WorkerConfig& worker = options.worker;
  if (!options.evidence.directory.empty()) {
    std::string error;
    if (!dataplane::EvidenceWriter::check_directory(options.evidence.directory, error)) {
      return "--evidence-dir " + error;
    }
  }
  constexpr std::size_t kMaxPorts = dataplane::PacketDecoder::kMaxTunnelPorts;
  if (worker.vxlan_ports.size() > kMaxPorts) {
    return "--vxlan-ports: at most " + std::to_string(kMaxPorts) + " ports";
  }
  if (worker.geneve_ports.size() > kMaxPorts) {
    return "--geneve-ports: at most " + std::to_string(kMaxPorts) + " ports";
  }
  for (const uint16_t port : worker.vxlan_ports) {
    if (std::find(worker.geneve_ports.begin(), worker.geneve_ports.end(), port) != worker.geneve_ports.end()) {
      return "port " + std::to_string(port) + " is in both --vxlan-ports and --geneve-ports";
    }
  }
  return {};
}

}  // namespace misdirect::control
