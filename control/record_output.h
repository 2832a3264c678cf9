// RecordOutput: the live sensor's records on their way out of the control thread — to the EVE
// file (reopened on SIGHUP) and to the subscribers of the control socket.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "control/control_server.h"
#include "control/sensor_control.h"
#include "dataplane/output/record_sink.h"

namespace misdirect::control {

class RecordOutput {
 public:
  RecordOutput(std::string path, ControlServer* server) : path_(std::move(path)), server_(server) {}
  ~RecordOutput() { close(); }
  RecordOutput(const RecordOutput&) = delete;
  RecordOutput& operator=(const RecordOutput&) = delete;

  // Opens --eve (appending; "-" is stdout); false after a line naming the problem.
  bool open();
  // SIGHUP and the control socket's `reopen`: the file is closed and opened again at its path
  // (log rotation). Once a write or a reopen failed, output stays stopped (the exit code is 1).
  ReopenResult reopen();
  void set_server(ControlServer* server) { server_ = server; }

  void emit(dataplane::RecordType type, std::string_view line);
  void flush();
  void close();
  // A record could not be written to the file.
  bool failed() const { return failed_; }

 private:
  std::string path_;
  ControlServer* server_;
  std::FILE* file_ = nullptr;
  bool failed_ = false;
};

}  // namespace misdirect::control
