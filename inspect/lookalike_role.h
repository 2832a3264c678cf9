// LookalikeRole: where in the traffic a look-alike domain was found — the envelope, the message
// header, DNS, or TLS — as alerts name it, and the set of roles an operator lets alert (--roles).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace misdirect::inspect {

enum class LookalikeRole : uint8_t {
  kRecipient,   // RCPT TO
  kSender,      // MAIL FROM
  kHeaderFrom,  // the message's From: header
  kReplyTo,     // the message's Reply-To: header
  kDnsQuery,    // a DNS question for the name (or a name under it)
  kDnsLearned,  // an SMTP connection to an address a DNS answer for the name gave
  kTlsSni,      // the server name of a TLS ClientHello on an SMTP port
};
inline constexpr int kLookalikeRoleCount = static_cast<int>(LookalikeRole::kTlsSni) + 1;

// "recipient", "sender", "header-from", "reply-to", "dns-query", "dns-learned", "tls-sni".
std::string_view role_name(LookalikeRole role) noexcept;
std::optional<LookalikeRole> role_from_name(std::string_view name) noexcept;

// A set of roles as a bit mask; every role is on by default.
class RoleSet {
 public:
  static constexpr uint8_t kAll = (1u << kLookalikeRoleCount) - 1;

  constexpr RoleSet() noexcept = default;
  constexpr explicit RoleSet(uint8_t bits) noexcept : bits_(bits & kAll) {}
  constexpr bool has(LookalikeRole role) const noexcept { return (bits_ >> static_cast<int>(role)) & 1u; }
  constexpr void set(LookalikeRole role, bool on) noexcept {
    const uint8_t bit = static_cast<uint8_t>(1u << static_cast<int>(role));
    bits_ = static_cast<uint8_t>(on ? (bits_ | bit) : (bits_ & ~bit));
  }
  constexpr uint8_t bits() const noexcept { return bits_; }
  friend constexpr bool operator==(RoleSet, RoleSet) = default;

 private:
  uint8_t bits_ = kAll;
};

// Cold: parses --roles. "all", or a comma-separated list of role names where "-name" turns a role
// off and a plain name turns it on; a list that starts with a plain name starts from none
// ("recipient,dns-query" = only those two), one that starts with "-" from all
// ("-tls-sni" = all but tls-sni). On a bad element returns nullopt and says which in `error`
// ("has an unknown role 'sni' (roles: ...)", to follow the option's name and value).
std::optional<RoleSet> parse_roles(std::string_view text, std::string& error);
// Cold: the set as parse_roles reads it back ("recipient,sender,...").
std::string roles_text(RoleSet roles);

}  // namespace misdirect::inspect
