// SensorOptions: the options `misdirect replay` and `misdirect live` share — the lists, the EVE
// output, what the workers inspect and how the matcher judges — declared once, so the two commands
// take the same flags with the same meaning and word a bad value the same way.
//
// To add a flag both commands take: a field here (with its default), one CommandLine::add_* call in
// add_sensor_options(), and a line in docs/ (docs/live.md's option table, README's synopsis). The
// flag is then also a top-level key of the configuration file and in the man pages; the example
// etc/misdirect.toml.example needs a commented line for it (a unit test says so). A flag
// only one command takes goes into that command's own options (ReplayOptions, LiveOptions).
#pragma once

#include <string>

#include "dataplane/output/evidence_writer.h"
#include "dataplane/worker.h"
#include "inspect/matcher.h"

namespace misdirect::control {

class CommandLine;

struct SensorOptions {
  std::string protected_path;  // --protected FILE
  std::string allow_path;      // --allow FILE
  std::string eve_path = "-";  // --eve FILE|-   ("-": stdout)
  // --ports, --smtp-log, --no-port-detection, --max-flows, --sensor-name, --community-id-seed;
  // live copies it into each worker.
  dataplane::WorkerConfig worker;
  // --no-edit-distance, --matcher-engine, --public-suffix-list.
  inspect::MatcherOptions matcher;
  // --evidence-dir, --evidence-max-mb, --evidence-max-files (directory empty: no evidence). The
  // directory is also in worker.evidence_dir (the alerts name the files).
  dataplane::EvidenceWriterConfig evidence;
};

// Declares the shared flags on `line`; parsing fills `options`.
void add_sensor_options(CommandLine& line, SensorOptions& options);

// After parsing: what is wrong with a combination of the shared flags (empty when nothing is),
// worded for CommandLine::print_error.
std::string sensor_options_problem(const SensorOptions& options);

}  // namespace misdirect::control
