// RecordOutput: the live sensor's records to the EVE file and the socket's subscribers (see
// record_output.h).
#include "control/record_output.h"

#include <cerrno>
#include <cstring>

namespace misdirect::control {

bool RecordOutput::open() {
  if (path_.empty()) {
    return true;
  }
  if (path_ == "-") {
    file_ = stdout;
    return true;
  }
  file_ = std::fopen(path_.c_str(), "a");
  if (file_ == nullptr) {
    std::fprintf(stderr, "misdirect live: --eve %s: %s\n", path_.c_str(), std::strerror(errno));
    return false;
  }
  return true;
}

ReopenResult RecordOutput::reopen() {
  ReopenResult result;
  result.path = path_;
  if (path_.empty() || path_ == "-") {
    result.ok = true;  // nothing to reopen
    return result;
  }
  if (failed_) {
    result.error = "EVE output to " + path_ + " stopped after an earlier failure (see the sensor's log)";
    return result;
  }
  std::fclose(file_);
  file_ = nullptr;
  if (!open()) {
    failed_ = true;
    result.error = "--eve " + path_ + ": " + std::strerror(errno);
    return result;
  }
  result.ok = true;
  result.reopened = true;
  return result;
}

void RecordOutput::emit(dataplane::RecordType type, std::string_view line) {
  if (file_ != nullptr && !failed_) {
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
        std::fputc('\n', file_) == EOF) {
      failed_ = true;
      std::fprintf(stderr, "misdirect live: writing EVE output to %s failed: %s\n",
                   path_ == "-" ? "stdout" : path_.c_str(), std::strerror(errno));
    }
  }
  if (server_ != nullptr) {
    server_->broadcast(type, line);
  }
}

void RecordOutput::flush() {
  if (file_ != nullptr && !failed_) {
    std::fflush(file_);
  }
}

void RecordOutput::close() {
  if (file_ != nullptr) {
    std::fflush(file_);
    if (file_ != stdout) {
      std::fclose(file_);
    }
    file_ = nullptr;
  }
}

}  // namespace misdirect::control
