// Tests for the generated man pages (control/man_page.h): every option of both commands is in
// misdirect(8) under its flag and in misdirect.toml(5) under its key, and text is made safe for roff.
#include <boost/test/unit_test.hpp>

#include <string>

#include "control/live_options.h"
#include "control/man_page.h"
#include "control/replay_options.h"

namespace misdirect::control {
namespace {

ManPageInputs inputs() {
  ManPageInputs in;
  in.version = "9.8.7";
  in.variants_help = "usage: misdirect variants DOMAIN...\n";
  in.check_help = "usage: misdirect check ADDRESS...\n";
  in.example_config = "protected = \"/etc/misdirect/protected.txt\"\n";
  return in;
}

BOOST_AUTO_TEST_SUITE(man_page)

BOOST_AUTO_TEST_CASE(every_option_is_in_both_pages) {
  const std::string command_page = render_misdirect_page(inputs());
  const std::string config_page = render_config_page(inputs());
  LiveOptions live;
  ReplayOptions replay;
  const std::unique_ptr<CommandLine> lines[] = {make_live_command_line(live), make_replay_command_line(replay)};
  for (const auto& line : lines) {
    for (const OptionSpec& spec : line->options()) {
      BOOST_TEST_CONTEXT(spec.name) {
        if (!spec.config_only) {
          BOOST_TEST(command_page.find("\\fB" + roff_escape(spec.name) + "\\fR") != std::string::npos);
        }
        BOOST_TEST(config_page.find("\\fB" + roff_escape(spec.key()) + "\\fR = ") != std::string::npos);
        BOOST_TEST((command_page.find(roff_escape(spec.help)) != std::string::npos ||
                    config_page.find(roff_escape(spec.help)) != std::string::npos));
      }
    }
  }
  BOOST_TEST(command_page.starts_with(".TH MISDIRECT 8 \"\" \"misdirect 9.8.7\""));
  BOOST_TEST(config_page.starts_with(".TH MISDIRECT.TOML 5 \"\" \"misdirect 9.8.7\""));
  BOOST_TEST(command_page.find("usage: misdirect variants DOMAIN...") != std::string::npos);
  BOOST_TEST(config_page.find("protected = \"/etc/misdirect/protected.txt\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(roff_escape_protects_control_characters) {
  BOOST_TEST(roff_escape("--eve") == "\\-\\-eve");
  BOOST_TEST(roff_escape("a\\b") == "a\\eb");
  BOOST_TEST(roff_escape(".TH x") == "\\&.TH x");
  BOOST_TEST(roff_escape("'quoted") == "\\&'quoted");
  BOOST_TEST(roff_escape("mid.dle") == "mid.dle");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace misdirect::control
