// ControlSocket: the control socket's listening end — the Unix socket file, its directory, mode
// and group — from set-up to removal. Connections it accepts are the server's (control_server.h).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace misdirect::control {

class ControlSocket {
 public:
  // Creates the socket's directory (0750) when missing, removes a stale socket (refusing when a
  // live sensor still answers on it), binds the socket with mode 0660 and `group`, and listens.
  // Throws std::runtime_error with one clear line on any set-up failure.
  ControlSocket(std::string path, std::optional<gid_t> group);
  // Closes the socket and removes its file, unless a successor has already replaced it.
  ~ControlSocket();
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  // A non-blocking, close-on-exec connection, or -1 when none is waiting (EAGAIN) or it died in
  // the backlog.
  int accept() noexcept;

  int fd() const noexcept { return fd_; }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  dev_t device_ = 0;  // the socket file we made, so the destructor removes only that one
  ino_t inode_ = 0;
};

}  // namespace misdirect::control
