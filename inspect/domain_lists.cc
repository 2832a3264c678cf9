// DomainLists: the protected and allow lists, validated and canonical.
//
// Both lists obey the same rules, whether they come from a file or from the control socket: every
// entry must normalise (see normalize_domain) and must have at least two labels. A bare top-level
// domain ("mil") is refused in both: protecting it would make every .mil domain "protected", and
// allowing it would silence every look-alike under it — neither is what a one-word line means.
// The first bad entry refuses the whole list; duplicates after normalisation keep the first.
#include "inspect/domain_lists.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "inspect/domain_name.h"

namespace misdirect::inspect {
namespace {

// Generous for a list (a 10,000-domain list is about 200 KiB) yet small enough to read into memory.
constexpr std::size_t kMaxListFileBytes = std::size_t{64} << 20;

// A value quoted for an error message: control bytes, quotes and backslashes escaped, and long
// values cut so one absurd line cannot flood the log.
std::string quoted(std::string_view value) {
  constexpr std::size_t kMaxQuotedBytes = 200;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text = "\"";
  for (std::size_t i = 0; i < value.size() && i < kMaxQuotedBytes; ++i) {
    const auto byte = static_cast<unsigned char>(value[i]);
    if (byte == '"' || byte == '\\') {
      text += '\\';
      text += static_cast<char>(byte);
    } else if (byte < 0x20 || byte == 0x7F) {
      text += "\\x";
      text += kHex[byte >> 4];
      text += kHex[byte & 0xF];
    } else {
      text += static_cast<char>(byte);
    }
  }
  if (value.size() > kMaxQuotedBytes) {
    text += "...";
  }
  text += '"';
  return text;
}

// Checks one entry; on success appends its canonical form (unless already present) and returns
// an empty string, otherwise the reason without the location prefix.
std::string add_entry(std::string_view value, std::unordered_set<std::string>& seen,
                      std::vector<std::string>& domains) {
  CanonicalDomain domain;
  const DomainError error = normalize_domain(value, domain);
  if (error != DomainError::kOk) {
    return quoted(value) + " is not a valid domain: " + std::string(describe(error));
  }
  if (domain.view().find('.') == std::string_view::npos) {
    return quoted(value) +
           " is not a valid domain: a bare top-level domain (one label); list whole domains "
           "such as \"army.mil\"";
  }
  std::string canonical(domain.view());
  if (seen.insert(canonical).second) {
    domains.push_back(std::move(canonical));
  }
  return {};
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

ListParseResult refused(std::string error) {
  ListParseResult result;
  result.error = std::move(error);
  return result;
}

}  // namespace

ListParseResult parse_domain_list(std::string_view text, std::string_view origin) {
  constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  if (text.starts_with(kUtf8Bom)) {
    text.remove_prefix(kUtf8Bom.size());  // editors on some systems write one; it is not data
  }
  ListParseResult result;
  std::unordered_set<std::string> seen;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    // '#' never occurs in a domain, so it starts a comment wherever it is.
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) {
      continue;
    }
    std::string error = add_entry(line, seen, result.domains);
    if (!error.empty()) {
      return refused(std::string(origin) + ":" + std::to_string(line_number) + ": " + error);
    }
  }
  return result;
}

ListParseResult read_domain_list_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return refused(path + ": cannot open: " + std::strerror(errno));
  }
  const std::string too_big = path + ": larger than " +
                              std::to_string(kMaxListFileBytes >> 20) +
                              " MiB; a domain list this big is a mistake";
  // A regular file's size is known up front; pipes and devices are bounded while reading.
  struct stat status {};
  if (::fstat(fd, &status) == 0 && S_ISREG(status.st_mode) &&
      static_cast<std::size_t>(status.st_size) > kMaxListFileBytes) {
    ::close(fd);
    return refused(too_big);
  }
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int read_errno = errno;
      ::close(fd);
      return refused(path + ": cannot read: " + std::strerror(read_errno));
    }
    if (got == 0) {
      break;
    }
    if (text.size() + static_cast<std::size_t>(got) > kMaxListFileBytes) {
      ::close(fd);
      return refused(too_big);
    }
    text.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return parse_domain_list(text, path);
}

ListParseResult validate_domain_list(const std::vector<std::string>& elements,
                                     std::string_view name) {
  ListParseResult result;
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < elements.size(); ++i) {
    std::string error = add_entry(elements[i], seen, result.domains);
    if (!error.empty()) {
      return refused(std::string(name) + "[" + std::to_string(i) + "]: " + error);
    }
  }
  return result;
}

}  // namespace misdirect::inspect
