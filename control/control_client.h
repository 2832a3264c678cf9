// ControlClient: one connection of the control socket — the bytes it sent that are not answered
// yet, the answers and records it has not taken yet, and the state that keeps its answers in the
// order of its requests. Pure connection I/O: what a line means is the server's business
// (control_server.h), what a subscriber gets is the fan-out's (subscriber_fanout.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "control/peer_credentials.h"
#include "control/subscriber_fanout.h"

namespace misdirect::control {

class ControlClient {
 public:
  // Takes ownership of `fd` (non-blocking).
  ControlClient(uint64_t serial, int fd, const PeerCredentials& peer, uint64_t now_ms) noexcept
      : last_request_ms(now_ms), serial_(serial), fd_(fd), peer_(peer) {}
  ~ControlClient() { close(); }
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  enum class Received : uint8_t {
    kBytes,       // appended to the input
    kWouldBlock,  // nothing more to read now
    kEnded,       // the peer shut its side: read_closed() from now on
    kFailed,      // ECONNRESET and friends: the peer is gone (the caller closes)
  };
  // One recv(2) of at most `max_bytes` (EINTR retried), appended to the input.
  Received receive(std::size_t max_bytes);
  // Takes the next complete line out of the input, without its newline; nullopt when the input
  // holds no newline (scanning each byte once however often it is asked).
  std::optional<std::string> take_line();
  // Bytes received that are not part of a taken line.
  std::size_t buffered_input() const noexcept { return input_.size(); }

  // Appends one line (a newline is added) to the output. Nothing once closed.
  void queue_line(std::string_view line);
  // Bytes queued and not yet written.
  std::size_t pending() const noexcept { return output_.size() - output_sent_; }
  enum class Sent : uint8_t { kAll, kWouldBlock, kFailed };
  // Writes what the socket takes without blocking. kFailed: a write error (the caller closes).
  Sent send_pending();

  void close() noexcept;
  bool closed() const noexcept { return fd_ < 0; }
  bool read_closed() const noexcept { return read_closed_; }

  uint64_t serial() const noexcept { return serial_; }
  int fd() const noexcept { return fd_; }
  const PeerCredentials& peer() const noexcept { return peer_; }

  Subscription subscription;
  uint64_t last_request_ms = 0;  // accepted, or last complete request line
  // A push of this client compiles or waits for another's to end, or a long line of it is parsed
  // on a helper thread. Its later lines stay unread until then, keeping its answers in order.
  bool push_pending = false;
  bool parse_pending = false;
  bool held() const noexcept { return push_pending || parse_pending; }

 private:
  uint64_t serial_ = 0;  // never reused, so a finished compile finds its client or none
  int fd_ = -1;
  PeerCredentials peer_;
  // Input is kept only up to one line past the last complete one (the server bounds it).
  std::string input_;
  std::size_t scanned_ = 0;  // input_[0, scanned_) holds no newline
  std::string output_;
  std::size_t output_sent_ = 0;  // output_[0, output_sent_) already written
  bool read_closed_ = false;
};

}  // namespace misdirect::control
