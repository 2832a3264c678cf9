// misdirect(8) and misdirect.toml(5) from the option tables (man_page.h).
#include "control/man_page.h"

#include <string_view>

#include "control/command_line.h"
#include "control/live_options.h"
#include "control/replay_options.h"

namespace misdirect::control {
namespace {

// The page's date is left out on purpose: a build from the same sources gives the same page.
std::string title(std::string_view name, int section, const ManPageInputs& inputs) {
  return ".TH " + roff_escape(name) + " " + std::to_string(section) + " \"\" \"misdirect " +
         roff_escape(inputs.version) + "\" \"" + (section == 5 ? "File Formats" : "System Administration") +
         "\"\n";
}

// Each line of `text` escaped, one roff input line each (a last line without '\n' too).
std::string escaped_lines(std::string_view text) {
  std::string out;
  std::string line;
  for (const char c : text) {
    if (c == '\n') {
      out += roff_escape(line) + "\n";
      line.clear();
    } else {
      line.push_back(c);
    }
  }
  if (!line.empty()) {
    out += roff_escape(line) + "\n";
  }
  return out;
}

// A paragraph of prose; line breaks in the source text are kept as spaces, blank lines as breaks.
std::string paragraph(std::string_view text) { return ".PP\n" + escaped_lines(text); }

std::string verbatim(std::string_view text) {
  return ".PP\n.nf\n.RS 4\n" + escaped_lines(text) + ".RE\n.fi\n";
}

std::string flag_entry(const OptionSpec& spec) {
  std::string out = ".TP\n\\fB" + roff_escape(spec.name) + "\\fR";
  if (!spec.value_name.empty()) {
    out += " \\fI" + roff_escape(spec.value_name) + "\\fR";
  }
  return out + "\n" + roff_escape(spec.help) + "\n";
}

// What a key takes in the file, by the option's kind.
std::string toml_type(const OptionSpec& spec) {
  switch (spec.kind) {
    case OptionKind::kText: return "string";
    case OptionKind::kValue:
      // Numbers with a check of their own (a power of two, seconds to nanoseconds) are integers.
      for (const std::string_view unit : {"N", "MS", "SECONDS", "BYTES"}) {
        if (spec.value_name == unit) {
          return "integer";
        }
      }
      return "string";
    case OptionKind::kNumber: return "integer";
    case OptionKind::kNumberList: return "array of integers";
    case OptionKind::kFlag: return "boolean";
    case OptionKind::kTextList: return "array of strings";
    case OptionKind::kChoice: {
      std::string words;
      for (std::size_t i = 0; i < spec.choices.size(); ++i) {
        words += (i == 0 ? "\"" : i + 1 == spec.choices.size() ? "\" or \"" : "\", \"") + spec.choices[i];
      }
      return words + "\"";
    }
  }
  return "string";
}

std::string key_entry(const OptionSpec& spec) {
  std::string out = ".TP\n\\fB" + roff_escape(spec.key()) + "\\fR = \\fI" + roff_escape(toml_type(spec)) + "\\fR\n" +
                    roff_escape(spec.help);
  if (!spec.config_only) {
    out += " (\\fB" + roff_escape(spec.name) + "\\fR" +
           (spec.kind == OptionKind::kFlag ? "; true sets it, false leaves the default" : "") + ")";
  }
  return out + "\n";
}

// The two commands' grammars, built as the commands build them.
struct Tables {
  Tables() : live(make_live_command_line(live_options)), replay(make_replay_command_line(replay_options)) {}
  LiveOptions live_options;
  ReplayOptions replay_options;
  std::unique_ptr<CommandLine> live;
  std::unique_ptr<CommandLine> replay;
};

}  // namespace

std::string roff_escape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 0 && (c == '.' || c == '\'')) {
      out += "\\&";
    }
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string render_misdirect_page(const ManPageInputs& inputs) {
  const Tables tables;
  std::string page = title("MISDIRECT", 8, inputs);
  page += ".SH NAME\nmisdirect \\- catch mail addressed to look\\-alike domains on the wire\n";
  page += ".SH SYNOPSIS\n.nf\n"
          "\\fBmisdirect replay\\fR [\\fB\\-\\-config\\fR \\fIFILE\\fR] [\\fIOPTIONS\\fR] \\fICAPTURE\\fR|\\fIDIR\\fR|\\fB\\-\\fR...\n"
          "\\fBmisdirect live\\fR [\\fB\\-\\-config\\fR \\fIFILE\\fR] [\\fIEAL ARGS\\fR] \\fB\\-\\-\\fR [\\fIOPTIONS\\fR]\n"
          "\\fBmisdirect config check\\fR \\fIFILE\\fR...\n"
          "\\fBmisdirect variants\\fR [\\fIOPTIONS\\fR] \\fIDOMAIN\\fR...\n"
          "\\fBmisdirect check\\fR \\fIADDRESS\\fR|\\fIDOMAIN\\fR... \\fB\\-\\-protected\\fR \\fIFILE\\fR\n"
          "\\fBmisdirect version\\fR\n.fi\n";
  page += ".SH DESCRIPTION\n";
  page += paragraph(
      "misdirect reads SMTP sessions (and DNS and TLS) on a span port or in captures and raises an alert\n"
      "the moment a recipient, sender or looked-up name imitates a protected domain (x@army.ml for\n"
      "army.mil), saying whether the server accepted the recipient and whether the message was\n"
      "delivered. Records are EVE JSON lines in Suricata's layout: alert, smtp, dns and stats.");
  page += paragraph(
      "misdirect live is the DPDK poll-mode sensor, run as a systemd service (misdirect.service, or\n"
      "misdirect@NAME.service for one sensor per port group) and driven at run time by\n"
      "misdirect-ctl(8). misdirect replay reads pcap and pcapng captures with libpcap, without root or\n"
      "DPDK, and fits a shell pipeline: zcat big.pcap.gz | misdirect replay --protected FILE - | jq.");
  page += ".SH COMMANDS\n";
  page += ".SS \"misdirect replay\"\n" + paragraph(tables.replay->description());
  page += ".SS \"misdirect live\"\n" + paragraph(tables.live->description());
  page += ".SS \"misdirect config check\"\n" +
          paragraph("Reads each FILE as live and replay would (the top level and the [live] and [replay]\n"
                    "tables), starts nothing, and names every bad key, type or value with its line; an\n"
                    "unknown key gets the closest known one. Exit 0 when every file is good, 2 otherwise.\n"
                    "See misdirect.toml(5).");
  page += ".SS \"misdirect variants\"\n" + verbatim(inputs.variants_help);
  page += ".SS \"misdirect check\"\n" + verbatim(inputs.check_help);
  page += ".SS \"misdirect version\"\n" +
          paragraph("Prints the version, the git revision, the build type and the DPDK and Hyperscan versions\n"
                    "(also misdirect --version, and --version after any command).");

  page += ".SH \"OPTIONS OF REPLAY AND LIVE\"\n";
  page += paragraph("Both commands take these, with the same meaning; each is also a top-level key of the\n"
                    "configuration file (misdirect.toml(5)). Given twice, the last counts.");
  page += ".TP\n\\fB\\-\\-config\\fR \\fIFILE\\fR\nRead options from this TOML file first; flags given on the "
          "command line override it. live also takes it before the EAL arguments, as the units give it.\n";
  for (const OptionSpec& spec : tables.replay->options()) {
    if (spec.shared) {
      page += flag_entry(spec);
    }
  }
  page += ".SH \"OPTIONS OF REPLAY\"\n";
  for (const OptionSpec& spec : tables.replay->options()) {
    if (!spec.shared && !spec.config_only) {
      page += flag_entry(spec);
    }
  }
  page += ".SH \"OPTIONS OF LIVE\"\n";
  page += paragraph("EAL arguments come before --, misdirect's own after it. The configuration file's\n"
                    "[live] eal array is put before the EAL arguments of the command line.");
  for (const OptionSpec& spec : tables.live->options()) {
    if (!spec.shared && !spec.config_only) {
      page += flag_entry(spec);
    }
  }
  page += ".SH SIGNALS\n";
  page += paragraph("live: SIGINT and SIGTERM stop reading, drain the rings, flush every open flow, write the\n"
                    "final stats and exit 0; SIGHUP reopens the EVE file (logrotate, systemctl reload).\n"
                    "Under systemd the sensor sends READY=1, STATUS=, WATCHDOG=1 and STOPPING=1.");
  page += ".SH \"EXIT STATUS\"\n";
  page += paragraph("replay: " + tables.replay->footer());
  page += paragraph("live: " + tables.live->footer());
  page += ".SH FILES\n";
  page += ".TP\n/etc/misdirect/misdirect.toml\nThe service's configuration (misdirect.toml(5)); "
          "/etc/misdirect/NAME.toml for misdirect@NAME.service.\n";
  page += ".TP\n/etc/misdirect/misdirect.toml.example\nEvery key, commented.\n";
  page += ".TP\n/run/misdirect/control.sock\nThe control socket (misdirect\\-ctl(8)).\n";
  page += ".TP\n/var/lib/misdirect\nLists saved by the last push (\\fB\\-\\-state\\-dir\\fR).\n";
  page += ".TP\n/var/log/misdirect/eve.json\nThe service's records (\\fB\\-\\-eve\\fR).\n";
  page += ".SH \"SEE ALSO\"\n\\fBmisdirect.toml\\fR(5), \\fBmisdirect\\-ctl\\fR(8), \\fBsystemctl\\fR(1), "
          "\\fBjq\\fR(1)\n";
  return page;
}

std::string render_config_page(const ManPageInputs& inputs) {
  const Tables tables;
  std::string page = title("MISDIRECT.TOML", 5, inputs);
  page += ".SH NAME\nmisdirect.toml \\- configuration file of misdirect(8)\n";
  page += ".SH SYNOPSIS\n/etc/misdirect/misdirect.toml\n.br\n/etc/misdirect/\\fINAME\\fR.toml\n";
  page += ".SH DESCRIPTION\n";
  page += paragraph(
      "misdirect live --config FILE (the systemd units give it /etc/misdirect/misdirect.toml, or\n"
      "/etc/misdirect/NAME.toml for misdirect@NAME.service) and misdirect replay --config FILE read\n"
      "this TOML file before their command line: a flag given on the command line overrides the file.");
  page += paragraph(
      "Every key is a command-line option without its leading dashes and takes the same values, checked\n"
      "the same way. Keys at the top level are the options both commands share; the [live] and\n"
      "[replay] tables hold any option of that command, and a shared option there overrides the top\n"
      "level for that command. A command reads the top level and its own table.");
  page += paragraph(
      "Values: a string as on the command line; an integer for a number; an array of integers for a\n"
      "list of ports (or the command line's \"25,587\"); true for a flag (false leaves the default).\n"
      "Unknown keys are refused with the closest known one; misdirect config check FILE names every\n"
      "bad key, type or value with its line and starts nothing.");
  page += ".SH \"TOP-LEVEL KEYS\"\n";
  for (const OptionSpec& spec : tables.replay->options()) {
    if (spec.shared) {
      page += key_entry(spec);
    }
  }
  page += ".SH \"KEYS OF [live]\"\n";
  for (const OptionSpec& spec : tables.live->options()) {
    if (!spec.shared) {
      page += key_entry(spec);
    }
  }
  page += ".SH \"KEYS OF [replay]\"\n";
  for (const OptionSpec& spec : tables.replay->options()) {
    if (!spec.shared) {
      page += key_entry(spec);
    }
  }
  page += ".SH EXAMPLE\n" + verbatim(inputs.example_config);
  page += ".SH \"SEE ALSO\"\n\\fBmisdirect\\fR(8), \\fBmisdirect\\-ctl\\fR(8), https://toml.io/\n";
  return page;
}

}  // namespace misdirect::control
