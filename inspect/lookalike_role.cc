// LookalikeRole: role names and the --roles list.
#include "inspect/lookalike_role.h"

#include <array>

namespace misdirect::inspect {
namespace {

constexpr std::array<std::string_view, kLookalikeRoleCount> kRoleNames = {
    "recipient", "sender", "header-from", "reply-to", "dns-query", "dns-learned", "tls-sni",
};

}  // namespace

std::string_view role_name(LookalikeRole role) noexcept {
  const auto index = static_cast<std::size_t>(role);
  return index < kRoleNames.size() ? kRoleNames[index] : "recipient";
}

std::optional<LookalikeRole> role_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kRoleNames.size(); ++i) {
    if (kRoleNames[i] == name) {
      return static_cast<LookalikeRole>(i);
    }
  }
  return std::nullopt;
}

std::optional<RoleSet> parse_roles(std::string_view text, std::string& error) {
  if (text == "all") {
    return RoleSet{};
  }
  if (text.empty()) {
    error = "is empty (use 'all', names like 'recipient,dns-query', or '-tls-sni')";
    return std::nullopt;
  }
  RoleSet roles(text.front() == '-' ? RoleSet::kAll : 0);
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string_view element = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    const bool off = !element.empty() && element.front() == '-';
    const std::string_view name = off ? element.substr(1) : element;
    const std::optional<LookalikeRole> role = role_from_name(name);
    if (!role) {
      error = "has an unknown role '" + std::string(element) +
              "' (roles: recipient, sender, header-from, reply-to, dns-query, dns-learned, tls-sni)";
      return std::nullopt;
    }
    roles.set(*role, !off);
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return roles;
}

std::string roles_text(RoleSet roles) {
  std::string out;
  for (int i = 0; i < kLookalikeRoleCount; ++i) {
    const auto role = static_cast<LookalikeRole>(i);
    if (roles.has(role)) {
      if (!out.empty()) {
        out += ',';
      }
      out += role_name(role);
    }
  }
  return out;
}

}  // namespace misdirect::inspect
