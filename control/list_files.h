// The protected and allow lists named on the command line (--protected, --allow), read the same
// way for `misdirect replay` and `misdirect live`.
#pragma once

#include <string>

#include "inspect/domain_lists.h"

namespace misdirect::control {

struct ListFilesResult {
  inspect::DomainLists lists;
  std::string error;  // names the file, the line and the bad element; empty when both were read
  bool ok() const noexcept { return error.empty(); }
};

// `allow_path` may be empty (no allow list); `protected_path` may not.
ListFilesResult read_list_files(const std::string& protected_path, const std::string& allow_path);

}  // namespace misdirect::control
