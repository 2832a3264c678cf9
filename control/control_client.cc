// ControlClient: one connection's non-blocking reads, line framing and buffered writes.
#include "control/control_client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace misdirect::control {

ControlClient::Received ControlClient::receive(std::size_t max_bytes) {
  constexpr std::size_t kChunkBytes = 64 * 1024;
  char chunk[kChunkBytes];
  for (;;) {
    const ssize_t got = ::recv(fd_, chunk, std::min(sizeof(chunk), max_bytes), 0);
    if (got > 0) {
      input_.append(chunk, static_cast<std::size_t>(got));
      return Received::kBytes;
    }
    if (got == 0) {
      read_closed_ = true;
      return Received::kEnded;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return Received::kWouldBlock;
    }
    return Received::kFailed;
  }
}

std::optional<std::string> ControlClient::take_line() {
  const std::size_t newline = input_.find('\n', scanned_);
  if (newline == std::string::npos) {
    scanned_ = input_.size();
    return std::nullopt;
  }
  std::string line = input_.substr(0, newline);
  input_.erase(0, newline + 1);
  scanned_ = 0;
  return line;
}

void ControlClient::queue_line(std::string_view line) {
  if (closed()) {
    return;
  }
  output_.append(line);
  output_.push_back('\n');
}

ControlClient::Sent ControlClient::send_pending() {
  Sent result = Sent::kAll;
  while (pending() > 0) {
    const ssize_t sent =
        ::send(fd_, output_.data() + output_sent_, pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) {
      output_sent_ += static_cast<std::size_t>(sent);
      subscription.note_progress();
      continue;
    }
    if (sent < 0 && errno == EINTR) {
      continue;
    }
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      result = Sent::kWouldBlock;
      break;
    }
    return Sent::kFailed;
  }
  // Drop what was sent once it is most of the buffer, so appends stay amortised O(1).
  if (output_sent_ > 0 && output_sent_ * 2 >= output_.size()) {
    output_.erase(0, output_sent_);
    output_sent_ = 0;
  }
  return result;
}

void ControlClient::close() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace misdirect::control
