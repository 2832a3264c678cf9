// PeerCredentials: SO_PEERCRED and the control socket's access policy.
#include "control/peer_credentials.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <stdexcept>
#include <vector>

namespace misdirect::control {

std::optional<PeerCredentials> read_peer_credentials(int socket_fd) noexcept {
  struct ucred credentials {};
  socklen_t length = sizeof(credentials);
  if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0 ||
      length != sizeof(credentials)) {
    return std::nullopt;
  }
  return PeerCredentials{credentials.pid, credentials.uid, credentials.gid};
}

namespace {

std::size_t lookup_buffer_bytes(int name) {
  const long suggested = sysconf(name);
  return suggested > 0 ? static_cast<std::size_t>(suggested) : 16384;
}

}  // namespace

gid_t resolve_group(const std::string& group) {
  std::vector<char> buffer(lookup_buffer_bytes(_SC_GETGR_R_SIZE_MAX));
  struct group entry {};
  struct group* found = nullptr;
  while (true) {
    const int status = getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (status == ERANGE && buffer.size() < (1U << 24)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    break;
  }
  if (found != nullptr) {
    return found->gr_gid;
  }
  // A numeric gid need not have a name (containers often lack /etc/group entries).
  unsigned long gid = 0;
  const auto result = std::from_chars(group.data(), group.data() + group.size(), gid);
  if (!group.empty() && result.ec == std::errc() && result.ptr == group.data() + group.size() &&
      gid < static_cast<unsigned long>(static_cast<gid_t>(-1))) {
    return static_cast<gid_t>(gid);
  }
  throw std::runtime_error("--control-group: no group named '" + group + "'");
}

bool PeerPolicy::allows(const PeerCredentials& peer) const {
  if (peer.uid == 0 || peer.uid == own_uid_) {
    return true;
  }
  if (!group_.has_value()) {
    return false;
  }
  if (peer.gid == *group_) {
    return true;
  }
  std::vector<char> buffer(lookup_buffer_bytes(_SC_GETPW_R_SIZE_MAX));
  struct passwd entry {};
  struct passwd* found = nullptr;
  while (true) {
    const int status = getpwuid_r(peer.uid, &entry, buffer.data(), buffer.size(), &found);
    if (status == ERANGE && buffer.size() < (1U << 24)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    break;
  }
  if (found == nullptr) {
    return false;  // a user the database does not know has only its primary group
  }
  std::vector<gid_t> groups(64);
  while (true) {
    int count = static_cast<int>(groups.size());
    if (getgrouplist(found->pw_name, found->pw_gid, groups.data(), &count) >= 0) {
      groups.resize(static_cast<std::size_t>(count));
      break;
    }
    if (count <= static_cast<int>(groups.size()) || groups.size() >= 65536) {
      return false;
    }
    groups.resize(static_cast<std::size_t>(count));
  }
  for (const gid_t gid : groups) {
    if (gid == *group_) {
      return true;
    }
  }
  return false;
}

}  // namespace misdirect::control
