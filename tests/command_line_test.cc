// Tests for CommandLine and the shared SensorOptions: the grammar operators expect (--opt=value,
// --, the last of a repeated option), misdirect's own wording for every problem, and the shared
// flags meaning the same thing whichever command declares them.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "control/command_line.h"
#include "control/sensor_options.h"

namespace misdirect::control {
namespace {

// A command line like replay's: the shared options plus operands, problems caught in a file.
struct Replayish {
  Replayish() : line("replay", "misdirect replay", "test", "") {
    errors = std::tmpfile();
    line.set_error_output(errors);
    add_sensor_options(line, options);
    line.add_operands("PCAP", operands, "captures");
  }
  ~Replayish() { std::fclose(errors); }

  int parse(std::vector<std::string> args) { return line.parse(args); }
  std::string problems() const {
    std::string text;
    std::rewind(errors);
    char buffer[512];
    while (std::fgets(buffer, sizeof(buffer), errors) != nullptr) {
      text += buffer;
    }
    return text;
  }

  CommandLine line;
  SensorOptions options;
  std::vector<std::string> operands;
  std::FILE* errors;
};

BOOST_AUTO_TEST_SUITE(command_line)

BOOST_AUTO_TEST_CASE(shared_options_fill_the_struct_in_both_spellings) {
  Replayish cli;
  BOOST_TEST(cli.parse({"--protected=p.txt", "--allow", "a.txt", "--eve=-", "--ports", "25,2525",
                        "--smtp-log=lookalike", "--no-port-detection", "--no-edit-distance",
                        "--matcher-engine", "hyperscan", "--max-flows=64", "one.pcap", "two.pcap"}) == -1);
  BOOST_TEST(cli.problems() == "");
  BOOST_TEST(cli.options.protected_path == "p.txt");
  BOOST_TEST(cli.options.allow_path == "a.txt");
  BOOST_TEST(cli.options.eve_path == "-");
  BOOST_TEST((cli.options.worker.smtp_ports == std::vector<uint16_t>{25, 2525}));
  BOOST_TEST((cli.options.worker.smtp_log == dataplane::SmtpLogMode::kLookalike));
  BOOST_TEST(!cli.options.worker.port_agnostic_detection);
  BOOST_TEST(!cli.options.matcher.edit_distance);
  BOOST_TEST((cli.options.matcher.engine == inspect::MatcherEngine::kHyperscan));
  BOOST_TEST(cli.options.worker.max_flows == 64U);
  BOOST_TEST((cli.operands == std::vector<std::string>{"one.pcap", "two.pcap"}));
}

BOOST_AUTO_TEST_CASE(defaults_stay_when_a_flag_is_not_given) {
  Replayish cli;
  BOOST_TEST(cli.parse({"--protected", "p.txt", "x.pcap"}) == -1);
  BOOST_TEST(cli.options.eve_path == "-");
  BOOST_TEST((cli.options.worker.smtp_ports == std::vector<uint16_t>{25, 587, 2525}));
  BOOST_TEST(cli.options.worker.port_agnostic_detection);
  BOOST_TEST(cli.options.matcher.edit_distance);
}

BOOST_AUTO_TEST_CASE(double_dash_ends_the_options) {
  Replayish cli;
  BOOST_TEST(cli.parse({"--protected", "p.txt", "--", "--odd-name.pcap", "-"}) == -1);
  BOOST_TEST((cli.operands == std::vector<std::string>{"--odd-name.pcap", "-"}));
}

BOOST_AUTO_TEST_CASE(a_repeated_option_keeps_its_last_value) {
  Replayish cli;
  BOOST_TEST(cli.parse({"--eve", "first.json", "--eve", "second.json"}) == -1);
  BOOST_TEST(cli.options.eve_path == "second.json");
}

BOOST_AUTO_TEST_CASE(a_bad_number_is_named_with_its_range) {
  Replayish cli;
  BOOST_TEST(cli.parse({"--max-flows", "8"}) == 2);
  BOOST_TEST(cli.problems() == "misdirect replay: --max-flows: \"8\" is not a number from 16 to 268435456\n");
}

BOOST_AUTO_TEST_CASE(a_bad_port_names_the_element) {
  Replayish cli;
  BOOST_TEST(cli.parse({"--ports=25,0"}) == 2);
  BOOST_TEST(cli.problems() == "misdirect replay: --ports: \"0\" is not a number from 1 to 65535\n");
  Replayish empty;
  BOOST_TEST(empty.parse({"--ports", ""}) == 2);
  BOOST_TEST(empty.problems() == "misdirect replay: --ports: empty list\n");
  Replayish no_value;
  BOOST_TEST(no_value.parse({"--ports="}) == 2);
  BOOST_TEST(no_value.problems() == "misdirect replay: --ports needs a value\n");
}

BOOST_AUTO_TEST_CASE(tunnel_ports_and_depth_fill_the_worker_config) {
  Replayish defaults;
  BOOST_TEST(defaults.parse({"x.pcap"}) == -1);
  BOOST_TEST((defaults.options.worker.vxlan_ports == std::vector<uint16_t>{4789}));
  BOOST_TEST((defaults.options.worker.geneve_ports == std::vector<uint16_t>{6081}));
  BOOST_TEST(defaults.options.worker.max_encapsulation_depth == 4U);
  BOOST_TEST(sensor_options_problem(defaults.options) == "");
  Replayish cli;
  BOOST_TEST(cli.parse({"--vxlan-ports=4789,8472", "--geneve-ports", "6081,6082", "--max-encapsulation-depth=16"}) == -1);
  BOOST_TEST((cli.options.worker.vxlan_ports == std::vector<uint16_t>{4789, 8472}));
  BOOST_TEST((cli.options.worker.geneve_ports == std::vector<uint16_t>{6081, 6082}));
  BOOST_TEST(cli.options.worker.max_encapsulation_depth == 16U);
  BOOST_TEST(sensor_options_problem(cli.options) == "");
}

BOOST_AUTO_TEST_CASE(bad_tunnel_options_are_named) {
  Replayish deep;
  BOOST_TEST(deep.parse({"--max-encapsulation-depth", "17"}) == 2);
  BOOST_TEST(deep.problems() == "misdirect replay: --max-encapsulation-depth: \"17\" is not a number from 1 to 16\n");
  Replayish zero;
  BOOST_TEST(zero.parse({"--vxlan-ports", "0"}) == 2);
  BOOST_TEST(zero.problems() == "misdirect replay: --vxlan-ports: \"0\" is not a number from 1 to 65535\n");
  Replayish both;
  BOOST_TEST(both.parse({"--vxlan-ports", "4789,6081"}) == -1);
  BOOST_TEST(sensor_options_problem(both.options) == "port 6081 is in both --vxlan-ports and --geneve-ports");
  Replayish many;
  BOOST_TEST(many.parse({"--geneve-ports", "1,2,3,4,5,6,7,8,9"}) == -1);
  BOOST_TEST(sensor_options_problem(many.options) == "--geneve-ports: at most 8 ports");
}

BOOST_AUTO_TEST_CASE(a_bad_choice_lists_the_alternatives) {
  Replayish cli;
  BOOST_TEST(cli.parse({"--smtp-log", "some"}) == 2);
  BOOST_TEST(cli.problems() == "misdirect replay: --smtp-log: \"some\" is not all, lookalike or none\n");
  Replayish engine;
  BOOST_TEST(engine.parse({"--matcher-engine=regex"}) == 2);
  BOOST_TEST(engine.problems() == "misdirect replay: --matcher-engine: \"regex\" is not hash or hyperscan\n");
}

BOOST_AUTO_TEST_CASE(a_missing_value_is_named) {
  Replayish cli;
  BOOST_TEST(cli.parse({"x.pcap", "--protected"}) == 2);
  BOOST_TEST(cli.problems() == "misdirect replay: --protected needs a value\n");
}

BOOST_AUTO_TEST_CASE(an_unknown_option_is_named_with_the_hint) {
  Replayish cli;
  cli.line.set_unknown_option_hint(" (EAL arguments go before --)");
  BOOST_TEST(cli.parse({"--protected", "p.txt", "--vdev=net_null0", "x.pcap"}) == 2);
  BOOST_TEST(cli.problems() ==
             "misdirect replay: unknown option --vdev (EAL arguments go before --); see --help\n");
}

BOOST_AUTO_TEST_CASE(help_and_version_end_the_command_with_success) {
  Replayish help;
  BOOST_TEST(help.parse({"--help"}) == 0);
  // Asking for help wins over a bad value given with it.
  Replayish help_with_bad_value;
  BOOST_TEST(help_with_bad_value.parse({"--max-flows", "1", "-h"}) == 0);
  BOOST_TEST(help_with_bad_value.problems() == "");
  Replayish version;
  BOOST_TEST(version.parse({"--version"}) == 0);
}

BOOST_AUTO_TEST_CASE(help_lists_every_shared_option) {
  Replayish cli;
  const std::string text = cli.line.help();
  for (const char* name : {"--protected", "--allow", "--eve", "--ports", "--smtp-log",
                           "--no-port-detection", "--no-edit-distance", "--matcher-engine",
                           "--max-flows", "--version"}) {
    BOOST_TEST_INFO(name);
    BOOST_TEST(text.find(name) != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace misdirect::control
