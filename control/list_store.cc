// ListStore: atomic persistence of the accepted lists.
#include "control/list_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "control/json_parser.h"
#include "control/json_value.h"

namespace misdirect::control {
namespace {

constexpr const char* kFormat = "misdirect-lists/1";
constexpr std::size_t kMaxFileBytes = 64 << 20;

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

JsonValue string_array(const std::vector<std::string>& values) {
  JsonValue array = JsonValue::array();
  for (const std::string& value : values) {
    array.push_back(JsonValue::string(value));
  }
  return array;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

// Reads `name` from the saved document as a list of strings and re-validates it.
bool read_list(const JsonValue& document, const char* name, const std::string& path,
               std::vector<std::string>& out, std::string& error) {
  const JsonValue* value = document.find(name);
  if (value == nullptr) {
    error = path + ": missing \"" + name + "\"";
    return false;
  }
  if (!value->is_array()) {
    error = path + ": \"" + name + "\" is not an array";
    return false;
  }
  std::vector<std::string> elements;
  for (std::size_t i = 0; i < value->as_array().size(); ++i) {
    const JsonValue& element = value->as_array()[i];
    if (!element.is_string()) {
      error = path + ": " + name + "[" + std::to_string(i) + "] is not a string";
      return false;
    }
    elements.push_back(element.as_string());
  }
  inspect::ListParseResult checked = inspect::validate_domain_list(elements, name);
  if (!checked.ok()) {
    error = path + ": " + checked.error;
    return false;
  }
  out = std::move(checked.domains);
  return true;
}

}  // namespace

ListStore::ListStore(std::string state_dir)
    : dir_(std::move(state_dir)), path_(dir_ + "/" + kFileName) {}

std::string ListStore::prepare() const {
  // Like `mkdir -p`, each missing level 0750: /var/lib/misdirect/sensor1 on a fresh machine.
  for (std::size_t slash = dir_.find('/', 1); ; slash = dir_.find('/', slash + 1)) {
    const std::string level = dir_.substr(0, slash);
    if (!level.empty() && ::mkdir(level.c_str(), 0750) != 0 && errno != EEXIST) {
      return errno_text("--state-dir: cannot create", level);
    }
    if (slash == std::string::npos) {
      break;
    }
  }
  struct stat status {};
  if (::stat(dir_.c_str(), &status) != 0) {
    return errno_text("--state-dir: cannot use", dir_);
  }
  if (!S_ISDIR(status.st_mode)) {
    return "--state-dir: " + dir_ + " is not a directory";
  }
  if (::access(dir_.c_str(), W_OK | X_OK) != 0) {
    return errno_text("--state-dir: cannot write to", dir_);
  }
  return {};
}

std::string ListStore::save(const inspect::DomainLists& lists) const {
  JsonValue document = JsonValue::object();
  document.set("format", JsonValue::string(kFormat));
  document.set("protected", string_array(lists.protected_domains));
  document.set("allow", string_array(lists.allow));
  std::string text = document.to_json();
  text.push_back('\n');

  // The temporary is made anew, never opened through a symlink: whatever sits at its name (a
  // leftover of a crash, or a link planted to make the sensor overwrite another file) is removed
  // first (unlink does not follow links), and O_EXCL | O_NOFOLLOW refuse anything that appears
  // there in between.
  const std::string temporary = path_ + ".tmp";
  if (::unlink(temporary.c_str()) != 0 && errno != ENOENT) {
    return errno_text("cannot remove the old", temporary);
  }
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) {
    return errno_text("cannot create", temporary);
  }
  if (!write_all(fd, text)) {
    std::string error = errno_text("cannot write", temporary);
    ::close(fd);
    ::unlink(temporary.c_str());
    return error;
  }
  // The data must be on disk before the rename makes it the saved lists; otherwise a crash could
  // leave a renamed but empty file.
  if (::fsync(fd) != 0) {
    std::string error = errno_text("cannot fsync", temporary);
    ::close(fd);
    ::unlink(temporary.c_str());
    return error;
  }
  if (::close(fd) != 0) {
    std::string error = errno_text("cannot close", temporary);
    ::unlink(temporary.c_str());
    return error;
  }
  if (::rename(temporary.c_str(), path_.c_str()) != 0) {
    std::string error = errno_text("cannot rename over", path_);
    ::unlink(temporary.c_str());
    return error;
  }
  // The rename itself lives in the directory; fsync it so the new name survives a crash.
  const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return errno_text("cannot open", dir_);
  }
  const bool synced = ::fsync(dir_fd) == 0;
  std::string error = synced ? std::string() : errno_text("cannot fsync", dir_);
  ::close(dir_fd);
  return error;
}

ListLoadResult ListStore::load() const {
  ListLoadResult result;
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) {
      result.error = errno_text("cannot open", path_);
    }
    return result;
  }
  std::string text;
  char chunk[65536];
  while (true) {
    const ssize_t got = ::read(fd, chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      result.error = errno_text("cannot read", path_);
      ::close(fd);
      return result;
    }
    if (got == 0) {
      break;
    }
    text.append(chunk, static_cast<std::size_t>(got));
    if (text.size() > kMaxFileBytes) {
      result.error = path_ + ": larger than " + std::to_string(kMaxFileBytes) + " bytes";
      ::close(fd);
      return result;
    }
  }
  ::close(fd);

  JsonParseLimits limits;
  limits.max_bytes = kMaxFileBytes;
  JsonParseResult parsed = parse_json(text, limits);
  if (!parsed.ok()) {
    result.error = path_ + ": invalid JSON at byte " + std::to_string(parsed.offset) + ": " +
                   parsed.error;
    return result;
  }
  const JsonValue* format = parsed.value.find("format");
  if (format == nullptr || !format->is_string() || format->as_string() != kFormat) {
    result.error = path_ + ": not a misdirect lists file (expected \"format\": \"" +
                   std::string(kFormat) + "\")";
    return result;
  }
  inspect::DomainLists lists;
  if (!read_list(parsed.value, "protected", path_, lists.protected_domains, result.error) ||
      !read_list(parsed.value, "allow", path_, lists.allow, result.error)) {
    return result;
  }
  if (lists.protected_domains.empty()) {
    result.error = path_ + ": no protected domains";
    return result;
  }
  result.lists = std::move(lists);
  return result;
}

}  // namespace misdirect::control
