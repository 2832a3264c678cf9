// Tests for the configuration file (config_file.h): every option of live and replay set in a file
// gives the same options as the flag (found from the option tables, so a new flag is covered
// without editing this file's list), flags override the file, each bad key, type and value is
// named with its line, and etc/misdirect.toml.example has a valid line for every option.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "control/command_line.h"
#include "control/config_file.h"
#include "control/live_options.h"
#include "control/replay_options.h"

#ifndef MISDIRECT_SOURCE_DIR
#error "tests/meson.build passes the source directory"
#endif

namespace misdirect::control {
namespace {

template <typename Numbers>
std::string joined(const Numbers& numbers) {
  std::string text;
  for (const auto& number : numbers) {
    text += (text.empty() ? "" : ",") + std::to_string(number);
  }
  return text;
}

// Every field an option can reach, as text: two option sets are the same when these are. The
// run's flow_id salt is drawn at random per SensorOptions and is not an option.
std::string describe(const SensorOptions& options) {
  const dataplane::WorkerConfig& w = options.worker;
  std::ostringstream out;
  out << "protected=" << options.protected_path << " allow=" << options.allow_path << " eve=" << options.eve_path
      << " vxlan=" << joined(w.vxlan_ports) << " geneve=" << joined(w.geneve_ports)
      << " depth=" << w.max_encapsulation_depth << " max_flows=" << w.max_flows
      << " idle=" << w.idle_timeout_ns << " closed=" << w.closed_timeout_ns
      << " stream_memcap=" << w.stream_memcap_bytes << " reassembly_memcap=" << w.reassembly_memcap_bytes
      << " gap_wait=" << w.gap_wait_ns << " smtp_ports=" << joined(w.smtp_ports)
      << " port_detection=" << w.port_agnostic_detection << " smtp_sessions=" << w.max_smtp_sessions
      << " line_bytes=" << w.max_line_bytes << " smtp_log=" << static_cast<int>(w.smtp_log)
      << " dns_ports=" << joined(w.dns_ports) << " dns_sessions=" << w.max_dns_sessions
      << " dns_tcp_sessions=" << w.max_dns_tcp_sessions << " dns_log=" << static_cast<int>(w.dns_log)
      << " roles=" << static_cast<int>(w.roles.bits()) << " learned_ports=" << joined(w.learned_smtp_ports)
      << " learned_facts=" << w.learned_facts << " learned_max_age=" << w.learned_max_age_ns
      << " pcap_filename=" << w.pcap_filename << " host=" << w.sensor_name
      << " community_id_seed=" << w.community_id_seed << " hash_seed=" << w.hash_seed
      << " edit_distance=" << options.matcher.edit_distance
      << " engine=" << static_cast<int>(options.matcher.engine)
      << " verdict_cache=" << options.matcher.verdict_cache << " psl=" << options.matcher.public_suffix_list
      << " evidence_dir=" << w.evidence_dir << "," << options.evidence.directory
      << " evidence_max_bytes=" << options.evidence.max_bytes << " evidence_max_files=" << options.evidence.max_files;
  return out.str();
}

std::string describe(const ReplayOptions& options) {
  std::ostringstream out;
  out << describe(options.sensor) << " bpf=" << options.bpf << " recursive=" << options.recursive
      << " quiet=" << options.quiet << " workers=" << options.workers << " pcaps=";
  for (const std::string& pcap : options.pcaps) {
    out << pcap << ";";
  }
  return out.str();
}

std::string describe(const LiveOptions& options) {
  const dataplane::LiveSensorConfig& s = options.sensor;
  std::ostringstream out;
  out << describe(options.shared) << " control=" << options.control_path << " group=" << options.control_group
      << " state=" << options.state_dir << " metrics="
      << (options.metrics_listen ? options.metrics_listen->host + ":" + std::to_string(options.metrics_listen->port) +
                                       (options.metrics_listen->ipv6 ? "/6" : "")
                                 : std::string("off"))
      << " stats_interval=" << options.stats_interval_s
      << " exit_on_eof=" << options.exit_on_eof << " eal=";
  for (const std::string& arg : options.eal_args) {
    out << arg << ";";
  }
  out << " workers=" << s.workers << " burst=" << s.burst << " mbufs=" << s.mbufs
      << " rx_descriptors=" << s.rx_descriptors << " ring=" << s.fanout_ring_size
      << " record_ring=" << s.record_ring_bytes << " max_frame=" << s.max_frame_bytes
      << " port_ids=" << joined(s.port_ids) << " lossless=" << s.lossless << " wall_clock=" << s.wall_clock
      << " software_fanout=" << s.software_fanout
      << " eof_idle=" << s.eof_idle_ns;
  return out.str();
}

// A command's options and grammar, built as the command builds them; problems caught in a file.
template <typename Options, std::unique_ptr<CommandLine> (*kMake)(Options&)>
struct Command {
  Command() : line(kMake(options)) {
    errors = std::tmpfile();
    line->set_error_output(errors);
  }
  ~Command() { std::fclose(errors); }
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;

  std::string problems() const {
    std::string text;
    std::rewind(errors);
    char buffer[1024];
    while (std::fgets(buffer, sizeof(buffer), errors) != nullptr) {
      text += buffer;
    }
    return text;
  }
  std::string text() const { return describe(options); }

  Options options;
  std::unique_ptr<CommandLine> line;
  std::FILE* errors;
};
using Replay = Command<ReplayOptions, make_replay_command_line>;
using Live = Command<LiveOptions, make_live_command_line>;

// A file in the temporary directory, removed with the object.
struct TempFile {
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/misdirect-config-XXXXXX";
    const int fd = mkstemp(name);
    BOOST_REQUIRE(fd >= 0);
    path = name;
    BOOST_REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
  }
  ~TempFile() { ::unlink(path.c_str()); }
  std::string path;
};

std::vector<std::string> apply_text(const std::string& text, std::initializer_list<CommandLine*> lines) {
  const std::vector<CommandLine*> all(lines);
  return apply_config_text(text, "m.toml", all);
}

std::string joined_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) {
    text += line + "\n";
  }
  return text;
}

// Values tried for an option until one is taken and changes something: the file and the flag must
// then agree. An option none of these fits fails the round trip below, naming it.
const std::vector<std::string> kNumericCandidates = {"3", "64", "1024", "4096", "100000"};
const std::vector<std::string> kTextCandidates = {"sample-value", "recipient,sender", "hyperscan", "127.0.0.1:9109",
                                                  "tcp port 25"};

// TOML for `text` as an option of this kind would be written in a file.
std::string toml_value(const OptionSpec& spec, const std::string& text) {
  const bool numeric = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  switch (spec.kind) {
    case OptionKind::kFlag: return "true";
    case OptionKind::kNumberList: return "[" + text + "]";
    case OptionKind::kNumber:
    case OptionKind::kValue: return numeric ? text : "\"" + text + "\"";
    default: return "\"" + text + "\"";
  }
}

struct Sample {
  std::string text;  // as on the command line ("" for a flag)
  bool found = false;
};

// The first candidate the option takes that changes what `Cmd` describes.
template <typename Cmd>
Sample sample_for(const std::string& key) {
  Cmd fresh;
  const OptionSpec* spec = fresh.line->find_key(key);
  std::vector<std::string> candidates = {""};
  if (spec->kind == OptionKind::kChoice) {
    candidates.assign(spec->choices.rbegin(), spec->choices.rend());
  } else if (spec->kind != OptionKind::kFlag) {
    candidates = kNumericCandidates;
    candidates.insert(candidates.end(), kTextCandidates.begin(), kTextCandidates.end());
  }
  for (const std::string& candidate : candidates) {
    Cmd trial;
    const std::string before = trial.text();
    if (trial.line->find_key(key)->apply(candidate).empty() && trial.text() != before) {
      return {candidate, true};
    }
  }
  return {};
}

// Sets every option of `Cmd` at once, in a file and as flags, and compares; then each alone.
template <typename Cmd>
void check_round_trip(const std::string& section) {
  Cmd table;
  std::string top_level;
  std::string in_section = "[" + section + "]\n";
  std::vector<std::string> flags;
  std::vector<std::pair<std::string, std::string>> singles;  // file text, flag
  for (const OptionSpec& spec : table.line->options()) {
    if (spec.kind == OptionKind::kTextList) {
      continue;  // configuration only: no flag to compare with (eal has its own test)
    }
    BOOST_TEST_CONTEXT("option " << spec.name << " of " << section) {
      const Sample sample = sample_for<Cmd>(spec.key());
      BOOST_TEST(sample.found, "no sample value is taken by " << spec.name
                                   << " and changes what describe() shows: add its field to describe() "
                                      "in tests/config_file_test.cc, or a candidate value");
      if (!sample.found) {
        continue;
      }
      const std::string assignment = spec.key() + " = " + toml_value(spec, sample.text) + "\n";
      (spec.shared ? top_level : in_section) += assignment;
      const std::string flag = spec.kind == OptionKind::kFlag ? spec.name : spec.name + "=" + sample.text;
      flags.push_back(flag);
      singles.emplace_back(spec.shared ? assignment : "[" + section + "]\n" + assignment, flag);
    }
  }
  Cmd from_file;
  BOOST_TEST(joined_lines(apply_text(top_level + in_section, {from_file.line.get()})) == "");
  Cmd from_flags;
  BOOST_TEST(from_flags.line->parse(flags) == -1);
  BOOST_TEST(from_flags.problems() == "");
  BOOST_TEST(from_file.text() == from_flags.text());
  BOOST_TEST(from_file.text() != Cmd().text());

  for (const auto& [file_text, flag] : singles) {
    BOOST_TEST_CONTEXT(flag) {
      Cmd file;
      BOOST_TEST(joined_lines(apply_text(file_text, {file.line.get()})) == "");
      Cmd cli;
      BOOST_TEST(cli.line->parse({flag}) == -1);
      BOOST_TEST(file.text() == cli.text());
    }
  }
}

BOOST_AUTO_TEST_SUITE(config_file)

BOOST_AUTO_TEST_CASE(every_replay_option_in_a_file_equals_its_flag) { check_round_trip<Replay>("replay"); }

BOOST_AUTO_TEST_CASE(every_live_option_in_a_file_equals_its_flag) { check_round_trip<Live>("live"); }

BOOST_AUTO_TEST_CASE(both_commands_share_the_top_level_keys) {
  Replay replay;
  Live live;
  std::set<std::string> replay_shared;
  std::set<std::string> live_shared;
  for (const OptionSpec& spec : replay.line->options()) {
    if (spec.shared) {
      replay_shared.insert(spec.key());
    }
  }
  for (const OptionSpec& spec : live.line->options()) {
    if (spec.shared) {
      live_shared.insert(spec.key());
    }
  }
  BOOST_TEST(replay_shared.count("protected") == 1U);
  BOOST_TEST(replay_shared.count("workers") == 0U);
  BOOST_TEST((replay_shared == live_shared));
}

BOOST_AUTO_TEST_CASE(values_take_their_natural_toml_types) {
  Live live;
  BOOST_TEST(joined_lines(apply_text("ports = [25, 2525]\n"
                                     "dns-ports = \"53,5353\"\n"
                                     "learned-max-age = 60\n"
                                     "no-edit-distance = true\n"
                                     "no-port-detection = false\n"
                                     "[live]\n"
                                     "eal = [\"--vdev\", \"net_pcap0,rx_pcap=a.pcap\"]\n"
                                     "ring-size = \"2048\"\n",
                                     {live.line.get()})) == "");
  BOOST_TEST((live.options.shared.worker.smtp_ports == std::vector<uint16_t>{25, 2525}));
  BOOST_TEST((live.options.shared.worker.dns_ports == std::vector<uint16_t>{53, 5353}));
  BOOST_TEST(live.options.shared.worker.learned_max_age_ns == 60'000'000'000ULL);
  BOOST_TEST(!live.options.shared.matcher.edit_distance);
  BOOST_TEST(live.options.shared.worker.port_agnostic_detection);  // false leaves the default
  BOOST_TEST((live.options.eal_args == std::vector<std::string>{"--vdev", "net_pcap0,rx_pcap=a.pcap"}));
  BOOST_TEST(live.options.sensor.fanout_ring_size == 2048U);
}

BOOST_AUTO_TEST_CASE(flags_override_the_file_and_a_table_overrides_the_top_level) {
  const TempFile file(
      "protected = \"file-protected.txt\"\n"
      "eve = \"top.json\"\n"
      "ports = [2525]\n"
      "smtp-log = \"none\"\n"
      "[replay]\n"
      "eve = \"replay.json\"\n"
      "workers = 3\n"
      "bpf = \"tcp\"\n");
  Replay replay;
  BOOST_TEST(replay.line->parse({"--ports", "25", "--config", file.path, "--workers=2", "x.pcap"}) == -1);
  BOOST_TEST(replay.problems() == "");
  BOOST_TEST(replay.options.sensor.protected_path == "file-protected.txt");  // file only
  BOOST_TEST(replay.options.sensor.eve_path == "replay.json");               // [replay] over top level
  BOOST_TEST((replay.options.sensor.worker.smtp_ports == std::vector<uint16_t>{25}));  // flag, even before --config
  BOOST_TEST(replay.options.workers == 2U);                                  // flag after --config
  BOOST_TEST(replay.options.bpf == "tcp");
  BOOST_TEST((replay.options.sensor.worker.smtp_log == dataplane::SmtpLogMode::kNone));
  BOOST_TEST((replay.options.pcaps == std::vector<std::string>{"x.pcap"}));

  Live live;
  BOOST_TEST(live.line->parse({"--config=" + file.path}) == -1);
  BOOST_TEST(live.options.shared.eve_path == "top.json");  // [replay] is not live's
  BOOST_TEST(live.options.sensor.workers == 1U);
}

BOOST_AUTO_TEST_CASE(a_bad_file_stops_the_command_with_every_problem_named) {
  const TempFile file("protected = \"p.txt\"\nmax-flows = 8\n[replay]\nworkrs = 2\n");
  Replay replay;
  BOOST_TEST(replay.line->parse({"--config", file.path, "x.pcap"}) == 2);
  BOOST_TEST(replay.problems() ==
             "misdirect replay: " + file.path + ":2:13: max-flows: \"8\" is not a number from 16 to 268435456\n"
             "misdirect replay: " + file.path + ":4:1: unknown key \"replay.workrs\" (not an option of replay); "
             "did you mean \"workers\"?\n");
}

BOOST_AUTO_TEST_CASE(help_is_shown_whatever_the_file_says) {
  Replay replay;
  BOOST_TEST(replay.line->parse({"--config", "/nonexistent/misdirect.toml", "--help"}) == 0);
  BOOST_TEST(replay.problems() == "");
}

// Each kind of problem, named with the file, line, column and key.
struct BadCase {
  const char* text;
  const char* problem;
};

BOOST_AUTO_TEST_CASE(each_bad_key_type_and_value_is_named_with_its_line) {
  const BadCase cases[] = {
      // Unknown keys, with the closest known one.
      {"protected = \"p\"\nprotcted = \"p\"\n", "m.toml:2:1: unknown key \"protcted\"; did you mean \"protected\"?"},
      {"[live]\ncontrl = \"/run/x\"\n",
       "m.toml:2:1: unknown key \"live.contrl\" (not an option of live); did you mean \"control\"?"},
      {"[lvie]\nworkers = 2\n", "m.toml:1:2: unknown key \"lvie\"; did you mean \"live\"?"},
      {"completely-unrelated = 1\n",
       "m.toml:1:1: unknown key \"completely-unrelated\"; the keys are listed in misdirect.toml(5)"},
      {"config = \"other.toml\"\n", "m.toml:1:1: unknown key \"config\"; the keys are listed in misdirect.toml(5)"},
      // A command's own key at the top level, or under the other command.
      {"control = \"/run/x\"\n", "m.toml:1:1: \"control\" is an option of live only; put it under [live]"},
      {"workers = 2\n", "m.toml:1:1: \"workers\" is not shared by the commands; put it under [live] or [replay]"},
      {"[live]\nbpf = \"tcp\"\n", "m.toml:2:1: unknown key \"live.bpf\": bpf is an option of replay only"},
      // Types.
      {"max-flows = \"many\"\n", "m.toml:1:13: max-flows: \"many\" is not a number from 16 to 268435456"},
      {"max-flows = 1.5\n", "m.toml:1:13: max-flows: takes an integer or a string, not a floating-point number"},
      {"protected = 7\n", "m.toml:1:13: protected: takes a string, not an integer"},
      {"no-edit-distance = \"yes\"\n", "m.toml:1:20: no-edit-distance: takes true or false, not a string"},
      {"ports = [25, \"587\"]\n", "m.toml:1:9: ports: element 2 is a string, not an integer"},
      {"ports = true\n", "m.toml:1:9: ports: takes an array of integers, not a boolean"},
      {"smtp-log = [\"all\"]\n", "m.toml:1:12: smtp-log: takes a string, not an array"},
      {"[live]\neal = \"-l 0-1\"\n", "m.toml:2:7: live.eal: takes an array of strings, not a string"},
      {"[live]\neal = [\"-l\", 1]\n", "m.toml:2:7: live.eal: element 2 is an integer, not a string"},
      {"live = 3\n", "m.toml:1:8: live: takes a table ([live]), not an integer"},
      // Values.
      {"ports = [25, 0]\n", "m.toml:1:9: ports: \"0\" is not a number from 1 to 65535"},
      {"ports = []\n", "m.toml:1:9: ports: empty list"},
      {"max-flows = -5\n", "m.toml:1:13: max-flows: \"-5\" is not a number from 16 to 268435456"},
      {"smtp-log = \"some\"\n", "m.toml:1:12: smtp-log: \"some\" is not all, lookalike or none"},
      {"matcher-engine = \"regex\"\n", "m.toml:1:18: matcher-engine: \"regex\" is not hash or hyperscan"},
      {"[live]\nring-size = 1000\n", "m.toml:2:13: live.ring-size: \"1000\" is not a power of two"},
      {"[replay]\nworkers = 0\n", "m.toml:2:11: replay.workers: \"0\" is not a number from 1 to 64"},
      // Not TOML at all.
      {"protected = \"p\"\nports = [25,\n", "m.toml:2:14: Error while parsing array: encountered end-of-file"},
      {"protected = \"a\"\nprotected = \"b\"\n", "m.toml:2:13: Error while parsing key-value pair: cannot redefine existing string 'protected'"},
  };
  for (const BadCase& bad : cases) {
    BOOST_TEST_CONTEXT(bad.text) {
      Live live;
      Replay replay;
      const std::vector<std::string> problems = apply_text(bad.text, {live.line.get(), replay.line.get()});
      BOOST_TEST(problems.size() == 1U);
      if (!problems.empty()) {
        BOOST_TEST(problems.front().starts_with(bad.problem), problems.front());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(an_unreadable_or_oversized_file_is_refused) {
  Replay replay;
  CommandLine* const lines[] = {replay.line.get()};
  const std::vector<std::string> missing = apply_config_file("/nonexistent/misdirect.toml", lines);
  BOOST_TEST(joined_lines(missing) == "cannot read /nonexistent/misdirect.toml: No such file or directory\n");
  const TempFile huge("# " + std::string(kMaxConfigBytes, 'x') + "\n");
  const std::vector<std::string> oversized = apply_config_file(huge.path, lines);
  BOOST_TEST(joined_lines(oversized) ==
             huge.path + ": larger than 1048576 bytes; not a configuration file\n");
}

BOOST_AUTO_TEST_CASE(edit_distance_counts_insertions_deletions_and_substitutions) {
  BOOST_TEST(edit_distance("", "") == 0U);
  BOOST_TEST(edit_distance("eve", "") == 3U);
  BOOST_TEST(edit_distance("protcted", "protected") == 1U);
  BOOST_TEST(edit_distance("workers", "wrokers") == 2U);
  BOOST_TEST(edit_distance("kitten", "sitting") == 3U);
}

// The shipped example: valid as it is, valid with every `#key =` line switched on, and a line for
// every option of both commands (shared ones at the top level).
BOOST_AUTO_TEST_CASE(the_example_has_a_valid_line_for_every_option) {
  const std::string path = std::string(MISDIRECT_SOURCE_DIR) + "/etc/misdirect.toml.example";
  std::ifstream in(path);
  BOOST_REQUIRE(in.good());
  const std::string example((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  {
    Live live;
    Replay replay;
    BOOST_TEST(joined_lines(apply_text(example, {live.line.get(), replay.line.get()})) == "");
  }
  const std::string switched_on = std::regex_replace(example, std::regex("^#([a-z][a-z0-9-]* =)",
                                                                         std::regex::multiline), "$1");
  Live live;
  Replay replay;
  BOOST_TEST(joined_lines(apply_text(switched_on, {live.line.get(), replay.line.get()})) == "");

  // Which keys stand where: the top level until the first table, then each table's.
  std::set<std::string> present;  // "key" at the top level, "section.key" in a table
  std::string section;
  std::istringstream lines(switched_on);
  std::string line;
  const std::regex table("^\\[([a-z]+)\\]");
  const std::regex assignment("^([a-z][a-z0-9-]*) =");
  std::smatch match;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, match, table)) {
      section = match[1];
    } else if (std::regex_search(line, match, assignment)) {
      present.insert(section.empty() ? std::string(match[1]) : section + "." + std::string(match[1]));
    }
  }
  for (CommandLine* command : {live.line.get(), replay.line.get()}) {
    for (const OptionSpec& spec : command->options()) {
      const std::string key = spec.shared ? spec.key() : command->config_section() + "." + spec.key();
      BOOST_TEST(present.count(key) == 1U,
                 "etc/misdirect.toml.example has no line for " << key << " (" << spec.name << ": " << spec.help
                     << "): add `#" << spec.key() << " = VALUE` with a comment "
                     << (spec.shared ? "in the shared part at the top" : "under [" + command->config_section() + "]"));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace misdirect::control
