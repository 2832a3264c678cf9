// Reading --protected and --allow (list_files.h).
#include "control/list_files.h"

#include <utility>

namespace misdirect::control {

ListFilesResult read_list_files(const std::string& protected_path, const std::string& allow_path) {
  ListFilesResult result;
  inspect::ListParseResult protected_list = inspect::read_domain_list_file(protected_path);
  if (!protected_list.ok()) {
    result.error = std::move(protected_list.error);
    return result;
  }
  if (protected_list.domains.empty()) {
    // Empty, or only comments: the sensor would protect nothing (a push is refused the same way).
    result.error = protected_path + ": no protected domains";
    return result;
  }
  if (!allow_path.empty()) {
    inspect::ListParseResult allow_list = inspect::read_domain_list_file(allow_path);
    if (!allow_list.ok()) {
      result.error = std::move(allow_list.error);
      return result;
    }
    result.lists.allow = std::move(allow_list.domains);
  }
  result.lists.protected_domains = std::move(protected_list.domains);
  return result;
}

}  // namespace misdirect::control
