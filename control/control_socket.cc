// ControlSocket: set-up, accept and removal of the control socket's listening end.
#include "control/control_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace misdirect::control {

namespace {

constexpr int kListenBacklog = 64;

[[noreturn]] void fail_setup(const std::string& what, const std::string& path) {
  throw std::runtime_error("control socket: " + what + " " + path + ": " + std::strerror(errno));
}

std::string parent_directory(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  if (slash == 0) {
    return "/";
  }
  return path.substr(0, slash);
}

sockaddr_un socket_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    throw std::runtime_error("control socket: path '" + path + "' must be 1 to " +
                             std::to_string(sizeof(address.sun_path) - 1) + " bytes long");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// A socket file left by a sensor that died is removed; one that still answers belongs to a live
// sensor, and taking it over would cut that sensor off from its operators.
void remove_stale_socket(const std::string& path, const sockaddr_un& address) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) {
    if (errno == ENOENT) {
      return;
    }
    fail_setup("cannot inspect", path);
  }
  if (!S_ISSOCK(status.st_mode)) {
    throw std::runtime_error("control socket: " + path + " exists and is not a socket");
  }
  const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0) {
    fail_setup("cannot create a probe socket for", path);
  }
  const int connected =
      ::connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int connect_errno = errno;
  ::close(probe);
  if (connected == 0 || connect_errno == EAGAIN || connect_errno == EINPROGRESS) {
    throw std::runtime_error("control socket: another process is listening on " + path +
                             " (is another sensor running?)");
  }
  if (connect_errno != ECONNREFUSED) {
    errno = connect_errno;
    fail_setup("cannot probe", path);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    fail_setup("cannot remove the stale socket", path);
  }
}

void prepare_directory(const std::string& directory, std::optional<gid_t> group) {
  if (::mkdir(directory.c_str(), 0750) == 0) {
    // The umask may have narrowed the mode; the group needs its search bit to reach the socket.
    if (::chmod(directory.c_str(), 0750) != 0) {
      fail_setup("cannot set the mode of", directory);
    }
    if (group.has_value() && ::chown(directory.c_str(), static_cast<uid_t>(-1), *group) != 0) {
      fail_setup("cannot give the control group", directory);
    }
    return;
  }
  if (errno != EEXIST) {
    fail_setup("cannot create the directory", directory);
  }
  struct stat status {};
  if (::stat(directory.c_str(), &status) != 0 || !S_ISDIR(status.st_mode)) {
    throw std::runtime_error("control socket: " + directory + " is not a directory");
  }
}

}  // namespace

ControlSocket::ControlSocket(std::string path, std::optional<gid_t> group) : path_(std::move(path)) {
  const sockaddr_un address = socket_address(path_);
  prepare_directory(parent_directory(path_), group);
  remove_stale_socket(path_, address);

  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    fail_setup("cannot create a socket for", path_);
  }
  const auto close_and_fail = [&](const std::string& what) {
    const int saved = errno;
    ::close(fd_);
    fd_ = -1;
    errno = saved;
    fail_setup(what, path_);
  };
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    close_and_fail("cannot bind");
  }
  // Until listen(2) every connect is refused, so setting mode and group here leaves no window in
  // which the socket is reachable with the umask's permissions.
  const auto unlink_and_fail = [&](const std::string& what) {
    const int saved = errno;
    ::unlink(path_.c_str());
    errno = saved;
    close_and_fail(what);
  };
  if (::chmod(path_.c_str(), 0660) != 0) {
    unlink_and_fail("cannot set the mode of");
  }
  if (group.has_value() && ::chown(path_.c_str(), static_cast<uid_t>(-1), *group) != 0) {
    unlink_and_fail("cannot give the control group");
  }
  struct stat status {};
  if (::stat(path_.c_str(), &status) != 0) {
    unlink_and_fail("cannot inspect");
  }
  device_ = status.st_dev;
  inode_ = status.st_ino;
  if (::listen(fd_, kListenBacklog) != 0) {
    unlink_and_fail("cannot listen on");
  }
}

ControlSocket::~ControlSocket() {
  if (fd_ < 0) {
    return;
  }
  ::close(fd_);
  // Remove the socket only if it is still ours; a successor may already have replaced it.
  struct stat status {};
  if (::lstat(path_.c_str(), &status) == 0 && status.st_dev == device_ && status.st_ino == inode_) {
    ::unlink(path_.c_str());
  }
}

int ControlSocket::accept() noexcept {
  return ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

}  // namespace misdirect::control
