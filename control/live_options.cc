// live's option grammar (live_options.h).
#include "control/live_options.h"

#include <string_view>

namespace misdirect::control {

std::unique_ptr<CommandLine> make_live_command_line(LiveOptions& options) {
  auto made = std::make_unique<CommandLine>(
      "live", "misdirect live [EAL ARGS] --",
      "The DPDK poll-mode sensor. EAL arguments come first (ports are any ethdev: -a PCI, --vdev\n"
      "net_pcap0,rx_pcap=FILE, --vdev net_af_packet0,iface=IF), then --, then misdirect's own.\n"
      "Without --protected, the lists the last push saved in --state-dir are used. --config FILE\n"
      "may also stand before -- (as the systemd units give it).",
      "SIGINT/SIGTERM stop RX, drain the rings, flush every open flow, write final stats, exit 0;\n"
      "SIGHUP reopens --eve. Exit 2 for bad options, lists or set-up failures; 1 when EVE output\n"
      "could not be written. docs/live.md and docs/control.md say more.");
  CommandLine& line = *made;
  line.set_unknown_option_hint(" (EAL arguments go before --)");
  line.enable_config_file("live");
  add_sensor_options(line, options.shared);
  dataplane::LiveSensorConfig& sensor = options.sensor;
  line.add_text("--control", "PATH", options.control_path, "serve the control socket (docs/control.md)");
  line.add_text("--control-group", "NAME", options.control_group,
                "the group whose members may use the control socket");
  line.add_text("--state-dir", "DIR", options.state_dir, "where pushed lists are saved and found again");
  line.add_value("--metrics-listen", "ADDR:PORT", [&options](std::string_view text) {
    MetricsListen listen;
    std::string problem = parse_metrics_listen(text, listen);
    if (problem.empty()) {
      options.metrics_listen = listen;
    }
    return problem;
  }, "serve Prometheus metrics at http://ADDR:PORT/metrics (no ADDR: 127.0.0.1; off by default)");
  line.add_number("--workers", "N", sensor.workers, 1, dataplane::LiveSensor::kMaxWorkers,
                  "worker lcores (default 1); software fan-out needs one more RX lcore");
  line.add_number("--burst", "N", sensor.burst, 1, dataplane::LiveSensor::kMaxBurst,
                  "frames per rte_eth_rx_burst (default 32)");
  line.add_number("--mbufs", "N", sensor.mbufs, 1023, 1u << 26,
                  "mbuf pool size (default: sized from descriptors, rings and bursts)");
  line.add_number("--max-frame", "BYTES", sensor.max_frame_bytes, 1518, 65000,
                  "data room of each mbuf past the headroom (default 9216)");
  line.add_number("--rx-descriptors", "N", sensor.rx_descriptors, 32, 32768,
                  "RX descriptors per queue (default 1024)");
  line.add_value("--ring-size", "N", [&sensor](std::string_view text) {
    uint64_t slots = 0;
    std::string problem = CommandLine::parse_number(text, 64, 1u << 20, slots);
    if (problem.empty() && (slots & (slots - 1)) != 0) {
      problem = "is not a power of two";
    }
    if (problem.empty()) {
      sensor.fanout_ring_size = static_cast<uint32_t>(slots);
    }
    return problem;
  }, "slots in each fan-out ring, a power of two (default 1024)");
  line.add_number_list("--port-ids", "LIST", sensor.port_ids, 0, 65534,
                       "ethdev port ids to read (default: every probed port)");
  line.add_number("--stats-interval", "SECONDS", options.stats_interval_s, 0, 86400,
                  "a stats record every SECONDS (default 60; 0: only at exit)");
  line.add_flag("--exit-on-eof", options.exit_on_eof, true,
                "stop when every port has been quiet for --eof-idle-ms: the end of a net_pcap file");
  line.add_value("--eof-idle-ms", "MS", [&sensor](std::string_view text) {
    uint64_t milliseconds = 0;
    std::string problem = CommandLine::parse_number(text, 50, 3'600'000, milliseconds);
    sensor.eof_idle_ns = problem.empty() ? milliseconds * 1'000'000 : sensor.eof_idle_ns;
    return problem;
  }, "how long every port must stay quiet before --exit-on-eof stops (default 500)");
  line.add_flag("--lossless", sensor.lossless, true,
                "a full fan-out ring makes RX wait instead of drop (for files)");
  line.add_flag("--software-fanout", sensor.software_fanout, true,
                "fan every port out in software by the inner flow, even one with RSS queues for every "
                "worker: for a mirror's tunnels, whose shared outer header RSS hashes");
  line.add_flag("--wall-clock", sensor.wall_clock, true,
                "packet time from the clock even on net_pcap (default there: the capture's timestamps)");
  line.add_config_list("eal", "ARGS", options.eal_args,
                       "EAL arguments (configuration file only: lcores, -a PCI, --vdev, --file-prefix); "
                       "those on the command line come after them");
  return made;
}

int parse_live_options(const std::vector<std::string>& args, LiveOptions& options) {
  const std::unique_ptr<CommandLine> made = make_live_command_line(options);
  CommandLine& line = *made;
  dataplane::LiveSensorConfig& sensor = options.sensor;
  if (const int code = line.parse(args); code >= 0) {
    return code;
  }
  sensor.worker = options.shared.worker;
  if (options.shared.protected_path.empty() && options.state_dir.empty()) {
    line.print_error("--protected FILE is required (or --state-dir DIR holding lists saved by a push)");
    return 2;
  }
  if (!options.shared.allow_path.empty() && options.shared.protected_path.empty()) {
    line.print_error("--allow needs --protected");
    return 2;
  }
  if (const std::string problem = sensor_options_problem(options.shared); !problem.empty()) {
    line.print_error(problem);
    return 2;
  }
  return -1;
}

}  // namespace misdirect::control
