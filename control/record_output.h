// RecordOutput: the live sensor's records on their way out of the control thread — to the EVE
// file sink (dataplane/output/eve_file.h, the one replay uses: buffered, retried with back-off and
// on SIGHUP, counted) and to the subscribers of the control socket, which get every record
// whatever the file's state — and, with --evidence-dir, the evidence pcaps the workers' rings
// carry (dataplane/output/evidence_writer.h, the writer replay uses).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "control/control_server.h"
#include "control/sensor_control.h"
#include "dataplane/output/eve_file.h"
#include "dataplane/output/evidence_writer.h"
#include "dataplane/output/record_sink.h"

namespace misdirect::dataplane {
class StatsNode;
}

namespace misdirect::control {

class RecordOutput {
 public:
  // `path` empty: no file; "-": stdout.
  RecordOutput(const std::string& path, ControlServer* server);
  RecordOutput(const RecordOutput&) = delete;
  RecordOutput& operator=(const RecordOutput&) = delete;

  // Opens --eve (appending); false after a line naming the problem.
  bool open();
  void set_server(ControlServer* server) { server_ = server; }
  // --evidence-dir: pcaps of the flows that alerted are written from now on (write_evidence).
  void keep_evidence(const dataplane::EvidenceWriterConfig& config) { evidence_.emplace(config); }

  void emit(dataplane::RecordType type, std::string_view line);
  void flush();
  // SIGHUP and the control socket's `reopen`: the file is closed and opened again at its path
  // (log rotation). When that fails the answer says why, and the sink keeps the records in its
  // buffer and tries again with back-off (retry()), so output resumes once the path is usable.
  ReopenResult reopen();
  // Every loop: a file that could not be written is tried again once its back-off has passed.
  void retry();
  // Writes the evidence frames waiting in one worker's ring (this thread is its one consumer);
  // returns how many entries it took. Without --evidence-dir: nothing.
  std::size_t write_evidence(dataplane::EvidenceRing& ring);
  // The sink's counters (and the bytes it holds now) under `misdirect.output` of a stats record,
  // and the evidence writer's under `misdirect.evidence` (next to the workers' evidence figures).
  void collect_stats(dataplane::StatsNode& record) const;
  // The end: false (after a line naming the path) when any record did not reach the file.
  bool close();

 private:
  std::unique_ptr<dataplane::EveFile> file_;
  ControlServer* server_;
  std::optional<dataplane::EvidenceWriter> evidence_;
};

}  // namespace misdirect::control
