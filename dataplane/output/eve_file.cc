// EveFile: the EVE file sink shared by replay and live — buffering, write errors, reopen, back-off.
#include "dataplane/output/eve_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "dataplane/output/stats_tree.h"

namespace misdirect::dataplane {

EveFile::EveFile(std::string path, std::string program, std::size_t buffer_bytes, std::FILE* warnings)
    : path_(std::move(path)),
      program_(std::move(program)),
      warnings_(warnings),
      buffer_(new char[buffer_bytes]),
      capacity_(buffer_bytes) {}

EveFile::~EveFile() { close_fd(); }

bool EveFile::open_fd(int& error_number) {
  if (path_ == "-") {
    fd_ = STDOUT_FILENO;
    owns_fd_ = false;
    return true;
  }
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    error_number = errno;
    return false;
  }
  fd_ = fd;
  owns_fd_ = true;
  return true;
}

void EveFile::close_fd() {
  if (fd_ >= 0 && owns_fd_) {
    ::close(fd_);
  }
  fd_ = -1;
  owns_fd_ = false;
}

bool EveFile::open(std::string& error) {
  int error_number = 0;
  if (!open_fd(error_number)) {
    error = path_ + ": " + std::strerror(error_number);
    return false;
  }
  return true;
}

bool EveFile::append(std::string_view line, uint64_t now_ns) {
  const std::size_t needed = line.size() + 1;
  if (capacity_ - start_ - size_ < needed && healthy()) {
    flush(now_ns);  // make room by writing, when writing works
  }
  if (capacity_ - size_ < needed) {
    counters_.add(EveFileCounter::kRecordsLost);
    warn(needed > capacity_ ? "a record larger than the whole output buffer was dropped"
                            : "the output buffer is full: records are being dropped",
         now_ns);
    return false;
  }
  if (capacity_ - start_ - size_ < needed) {
    std::memmove(buffer_.get(), buffer_.get() + start_, size_);
    start_ = 0;
  }
  char* tail = buffer_.get() + start_ + size_;
  std::memcpy(tail, line.data(), line.size());
  tail[line.size()] = '\n';
  size_ += needed;
  return true;
}

bool EveFile::write_buffered(uint64_t now_ns) {
  while (size_ > 0) {
    const ssize_t written = ::write(fd_, buffer_.get() + start_, size_);
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      fail("write", written < 0 ? errno : EIO, now_ns);
      return false;
    }
    const auto bytes = static_cast<std::size_t>(written);
    // Count the lines that are now whole in the file.
    const char* first = buffer_.get() + start_;
    counters_.add(EveFileCounter::kRecordsWritten,
                  static_cast<uint64_t>(std::count(first, first + bytes, '\n')));
    line_cut_ = first[bytes - 1] != '\n';
    start_ += bytes;
    size_ -= bytes;
  }
  start_ = 0;
  line_cut_ = false;
  return true;
}

bool EveFile::flush(uint64_t now_ns) {
  if (broken_) {
    if (now_ns >= next_retry_ns_) {
      retry(now_ns);
    }
    return !broken_;
  }
  if (fd_ < 0) {
    return false;
  }
  return write_buffered(now_ns);
}

void EveFile::drop_cut_line() {
  if (!line_cut_) {
    return;
  }
  const char* first = buffer_.get() + start_;
  const char* end = static_cast<const char*>(std::memchr(first, '\n', size_));
  const std::size_t rest = end == nullptr ? size_ : static_cast<std::size_t>(end - first) + 1;
  start_ += rest;
  size_ -= rest;
  line_cut_ = false;
  counters_.add(EveFileCounter::kRecordsLost);
}

bool EveFile::reopen(uint64_t now_ns, std::string* error) {
  if (path_ == "-") {
    return true;
  }
  close_fd();
  int error_number = 0;
  if (!open_fd(error_number)) {
    counters_.add(EveFileCounter::kReopenFailures);
    fail("reopen", error_number, now_ns);
    if (error != nullptr) {
      *error = std::strerror(error_number);
    }
    return false;
  }
  counters_.add(EveFileCounter::kReopens);
  // A new file starts with a whole line: the rest of one cut by a failed write is lost.
  drop_cut_line();
  if (write_buffered(now_ns)) {
    recovered(now_ns);
  }
  return true;
}

void EveFile::retry(uint64_t now_ns) {
  if (!broken_ || now_ns < next_retry_ns_) {
    return;
  }
  if (fd_ < 0) {
    reopen(now_ns);
    return;
  }
  if (write_buffered(now_ns)) {
    recovered(now_ns);
  }
}

void EveFile::fail(const char* what, int error_number, uint64_t now_ns) {
  if (std::strcmp(what, "write") == 0) {
    counters_.add(EveFileCounter::kWriteErrors);
  }
  if (broken_) {
    retry_wait_ns_ = std::min(retry_wait_ns_ * 2, kMaxRetryNs);
  } else {
    retry_wait_ns_ = kFirstRetryNs;
  }
  broken_ = true;
  next_retry_ns_ = now_ns + retry_wait_ns_;
  last_error_ = std::string(what) + ": " + std::strerror(error_number);
  warn(last_error_ + "; keeping records (" + std::to_string(size_) + " bytes buffered), retrying in " +
           std::to_string(retry_wait_ns_ / 1'000'000'000) + " s",
       now_ns);
}

void EveFile::warn(const std::string& message, uint64_t now_ns) {
  if (warned_ && now_ns - last_warning_ns_ < kWarningIntervalNs) {
    ++warnings_suppressed_;
    return;
  }
  std::fprintf(warnings_, "%s: EVE output %s: %s%s\n", program_.c_str(), shown_path(), message.c_str(),
               warnings_suppressed_ > 0
                   ? (" (" + std::to_string(warnings_suppressed_) + " more warnings in the last minute)").c_str()
                   : "");
  std::fflush(warnings_);
  warned_ = true;
  last_warning_ns_ = now_ns;
  warnings_suppressed_ = 0;
}

void EveFile::recovered(uint64_t now_ns) {
  if (!broken_) {
    return;
  }
  broken_ = false;
  retry_wait_ns_ = kFirstRetryNs;
  std::fprintf(warnings_, "%s: EVE output %s: writing again (%llu records lost meanwhile in all)\n",
               program_.c_str(), shown_path(),
               static_cast<unsigned long long>(counters_.get(EveFileCounter::kRecordsLost)));
  (void)now_ns;
}

bool EveFile::close(uint64_t now_ns, std::string& error) {
  bool ok = true;
  if (broken_) {
    // One last try, whatever the back-off says.
    next_retry_ns_ = now_ns;
    retry(now_ns);
  } else if (fd_ >= 0) {
    write_buffered(now_ns);
  }
  if (size_ > 0 || broken_) {
    error = std::string(shown_path()) + ": " + (last_error_.empty() ? "not writable" : last_error_) + "; " +
            std::to_string(size_ > 0 ? std::count(buffer_.get() + start_, buffer_.get() + start_ + size_, '\n') : 0) +
            " records not written";
    ok = false;
  } else if (counters_.get(EveFileCounter::kRecordsLost) > 0) {
    error = std::string(shown_path()) + ": " + std::to_string(counters_.get(EveFileCounter::kRecordsLost)) +
            " records lost while it was not writable";
    ok = false;
  }
  if (fd_ >= 0 && owns_fd_) {
    const int fd = fd_;
    fd_ = -1;
    owns_fd_ = false;
    if (::close(fd) != 0) {
      if (ok) {
        error = std::string(shown_path()) + ": close: " + std::strerror(errno);
      }
      ok = false;
    }
  } else {
    fd_ = -1;
  }
  return ok;
}

void EveFile::collect_stats(StatsNode& record) const {
  add_counter_table(record, "misdirect.output", counters_, kEveFileCounterInfo);
}

}  // namespace misdirect::dataplane
