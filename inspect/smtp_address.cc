// SmtpPath: splitting a reverse/forward path into mailbox, domain and parameters.
#include "inspect/smtp_address.h"

#include <cstddef>
#include <cstring>

namespace misdirect::inspect {
namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_left(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size() && is_space(text[i])) {
    ++i;
  }
  return text.substr(i);
}

// The domain of a mailbox: after the last '@' outside a quoted string.
std::string_view domain_of(std::string_view mailbox) noexcept {
  bool quoted = false;
  std::size_t at = std::string_view::npos;
  for (std::size_t i = 0; i < mailbox.size(); ++i) {
    const char c = mailbox[i];
    if (quoted && c == '\\') {
      ++i;  // a quoted-pair: the next character is literal
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == '@' && !quoted) {
      at = i;
    }
  }
  return at == std::string_view::npos ? std::string_view() : mailbox.substr(at + 1);
}

// Removes "@r1,@r2:" in front of the mailbox. The route never contains quotes.
bool strip_source_route(std::string_view& mailbox) noexcept {
  if (mailbox.empty() || mailbox.front() != '@') {
    return true;
  }
  const std::size_t colon = mailbox.find(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  mailbox.remove_prefix(colon + 1);
  return true;
}

}  // namespace

bool equals_caseless(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

std::string_view percent_hack_domain(std::string_view address, std::string_view domain) noexcept {
  if (domain.empty() || address.size() <= domain.size() || !address.ends_with(domain) ||
      address[address.size() - domain.size() - 1] != '@') {
    return {};
  }
  std::string_view local = address.substr(0, address.size() - domain.size() - 1);
  if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
    local = local.substr(1, local.size() - 2);
  }
  const std::size_t percent = local.rfind('%');
  return percent == std::string_view::npos ? std::string_view() : local.substr(percent + 1);
}

SmtpPath parse_smtp_path(std::string_view argument) noexcept {
  SmtpPath path;
  std::string_view rest = trim_left(argument);
  if (rest.empty()) {
    path.error = SmtpPathError::kMissing;
    return path;
  }
  std::string_view mailbox;
  if (rest.front() == '<') {
    // The usual "<local@domain>": when no quote comes before the first '>', that '>' closes the
    // path and the domain follows the last '@'; both found by memchr/memrchr, not byte by byte.
    const char* const begin = rest.data();
    const auto* first_close = static_cast<const char*>(std::memchr(begin + 1, '>', rest.size() - 1));
    const std::size_t inside = first_close == nullptr ? 0 : static_cast<std::size_t>(first_close - begin - 1);
    if (first_close != nullptr && (inside == 0 || std::memchr(begin + 1, '"', inside) == nullptr)) {
      mailbox = std::string_view(begin + 1, inside);
      rest.remove_prefix(inside + 2);
      if (!strip_source_route(mailbox)) {
        path.error = SmtpPathError::kBadSourceRoute;
        return path;
      }
      path.address = mailbox;
      if (!mailbox.empty()) {
        const auto* at = static_cast<const char*>(memrchr(mailbox.data(), '@', mailbox.size()));
        if (at != nullptr) {
          path.domain = mailbox.substr(static_cast<std::size_t>(at - mailbox.data()) + 1);
        }
      }
      path.parameters = trim_left(rest);
      return path;
    }
    // Find the closing '>' outside quoted strings.
    bool quoted = false;
    std::size_t close = std::string_view::npos;
    for (std::size_t i = 1; i < rest.size(); ++i) {
      const char c = rest[i];
      if (quoted && c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == '>' && !quoted) {
        close = i;
        break;
      }
    }
    if (close == std::string_view::npos) {
      path.error = SmtpPathError::kUnterminated;
      return path;
    }
    mailbox = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
  } else {
    // A bare address runs to the first space outside quotes.
    bool quoted = false;
    std::size_t end = 0;
    for (; end < rest.size(); ++end) {
      const char c = rest[end];
      if (quoted && c == '\\') {
        ++end;
        if (end >= rest.size()) {
          break;
        }
      } else if (c == '"') {
        quoted = !quoted;
      } else if (is_space(c) && !quoted) {
        break;
      }
    }
    if (quoted) {
      path.error = SmtpPathError::kUnterminated;
      return path;
    }
    if (end > rest.size()) {
      end = rest.size();
    }
    mailbox = rest.substr(0, end);
    rest.remove_prefix(end);
  }
  if (!strip_source_route(mailbox)) {
    path.error = SmtpPathError::kBadSourceRoute;
    return path;
  }
  path.address = mailbox;
  path.domain = domain_of(mailbox);
  path.parameters = trim_left(rest);
  return path;
}

bool has_esmtp_keyword(std::string_view parameters, std::string_view keyword) noexcept {
  std::string_view rest = parameters;
  while (true) {
    rest = trim_left(rest);
    if (rest.empty()) {
      return false;
    }
    std::size_t end = 0;
    while (end < rest.size() && !is_space(rest[end])) {
      ++end;
    }
    std::string_view token = rest.substr(0, end);
    const std::size_t equals = token.find('=');
    if (equals != std::string_view::npos) {
      token = token.substr(0, equals);
    }
    if (equals_caseless(token, keyword)) {
      return true;
    }
    rest.remove_prefix(end);
  }
}

}  // namespace misdirect::inspect
