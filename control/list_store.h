// ListStore: the last accepted lists, kept in --state-dir so a restarted sensor judges with what
// the operators last pushed. One JSON file, replaced atomically: a crash mid-write leaves either
// the old file or the new one, never half of either.
#pragma once

#include <optional>
#include <string>

#include "inspect/domain_lists.h"

namespace misdirect::control {

struct ListLoadResult {
  std::optional<inspect::DomainLists> lists;  // nullopt (and no error) when nothing was saved yet
  std::string error;                          // names the file and the bad element
  bool ok() const noexcept { return error.empty(); }
};

class ListStore {
 public:
  static constexpr const char* kFileName = "lists.json";

  explicit ListStore(std::string state_dir);

  // Creates the directory (mode 0750) when it is missing. Returns an error line, empty on success.
  std::string prepare() const;
  // Writes `<dir>/lists.json.tmp`, fsyncs it, renames it over lists.json and fsyncs the
  // directory. Returns an error line naming the failing step, empty on success.
  std::string save(const inspect::DomainLists& lists) const;
  // Reads and re-validates the saved lists (the same checks as a push).
  ListLoadResult load() const;

  const std::string& path() const noexcept { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace misdirect::control
