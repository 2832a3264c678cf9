// RecordOutput: the live sensor's records to the EVE file sink and the socket's subscribers (see
// record_output.h).
#include "control/record_output.h"

#include <cstdio>

#include "dataplane/clock.h"
#include "dataplane/output/stats_tree.h"

namespace misdirect::control {

RecordOutput::RecordOutput(const std::string& path, ControlServer* server) : server_(server) {
  if (!path.empty()) {
    file_ = std::make_unique<dataplane::EveFile>(path, "misdirect live");
  }
}

bool RecordOutput::open() {
  std::string error;
  if (file_ && !file_->open(error)) {
    std::fprintf(stderr, "misdirect live: --eve %s\n", error.c_str());
    return false;
  }
  return true;
}

void RecordOutput::emit(dataplane::RecordType type, std::string_view line) {
  if (file_) {
    file_->append(line, dataplane::monotonic_clock_ns());
  }
  if (server_ != nullptr) {
    server_->broadcast(type, line);
  }
}

void RecordOutput::flush() {
  if (file_) {
    file_->flush(dataplane::monotonic_clock_ns());
  }
}

ReopenResult RecordOutput::reopen() {
  ReopenResult result;
  if (!file_ || file_->path() == "-") {
    result.ok = true;  // nothing to reopen
    return result;
  }
  result.path = file_->path();
  std::string error;
  if (!file_->reopen(dataplane::monotonic_clock_ns(), &error)) {
    result.error = "--eve " + result.path + ": " + error;
    return result;
  }
  result.ok = true;
  result.reopened = true;
  return result;
}

void RecordOutput::retry() {
  if (file_ && !file_->healthy()) {
    file_->retry(dataplane::monotonic_clock_ns());
  }
}

std::size_t RecordOutput::write_evidence(dataplane::EvidenceRing& ring) {
  return evidence_ ? evidence_->drain(ring) : 0;
}

void RecordOutput::collect_stats(dataplane::StatsNode& record) const {
  if (file_) {
    file_->collect_stats(record);
    record.at_path("misdirect.output").add("buffered_bytes", file_->buffered_bytes());
  }
  if (evidence_) {
    dataplane::add_counter_table(record, "misdirect.evidence", evidence_->counters(),
                                 dataplane::kEvidenceFileCounterInfo);
  }
}

bool RecordOutput::close() {
  if (evidence_) {
    evidence_->close_all();
  }
  std::string error;
  if (file_ && !file_->close(dataplane::monotonic_clock_ns(), error)) {
    std::fprintf(stderr, "misdirect live: writing EVE output failed: %s\n", error.c_str());
    return false;
  }
  return true;
}

}  // namespace misdirect::control
