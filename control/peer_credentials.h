// PeerCredentials: who is on the other end of a control connection (SO_PEERCRED) and whether the
// socket's policy lets them in: root, the sensor's own user, or a member of the control group.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace misdirect::control {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The kernel's record of the connecting process, taken at connect(2) time; nullopt if the
// socket cannot tell (not a Unix socket).
std::optional<PeerCredentials> read_peer_credentials(int socket_fd) noexcept;

// Resolves a --control-group argument (a group name or a numeric gid). Throws std::runtime_error
// naming the group when it does not exist.
gid_t resolve_group(const std::string& group);

class PeerPolicy {
 public:
  // `group`: the control group's gid, or nullopt when only root and `own_uid` may connect.
  PeerPolicy(uid_t own_uid, std::optional<gid_t> group) noexcept : own_uid_(own_uid), group_(group) {}

  // Root and the sensor's user always; otherwise the peer's primary gid or, looked up in the
  // user database with getgrouplist(3), one of its supplementary groups must be the control
  // group. The database lookup reflects group membership as configured, which is what an
  // administrator granting access through the group expects.
  bool allows(const PeerCredentials& peer) const;

 private:
  uid_t own_uid_;
  std::optional<gid_t> group_;
};

}  // namespace misdirect::control
