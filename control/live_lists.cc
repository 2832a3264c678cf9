// The lists `misdirect live` starts with (see live_lists.h).
#include "control/live_lists.h"

#include <cstdio>
#include <utility>

#include "control/list_files.h"
#include "control/list_store.h"

namespace misdirect::control {

bool load_live_lists(const LiveOptions& options, inspect::DomainLists& lists) {
  if (!options.shared.protected_path.empty()) {
    ListFilesResult files = read_list_files(options.shared.protected_path, options.shared.allow_path);
    if (!files.ok()) {
      std::fprintf(stderr, "misdirect live: %s\n", files.error.c_str());
      return false;
    }
    lists = std::move(files.lists);
    return true;
  }
  const ListLoadResult saved = ListStore(options.state_dir).load();
  if (!saved.ok()) {
    std::fprintf(stderr, "misdirect live: %s\n", saved.error.c_str());
    return false;
  }
  if (!saved.lists.has_value()) {
    std::fprintf(stderr,
                 "misdirect live: no --protected given and no lists saved in %s yet\n",
                 options.state_dir.c_str());
    return false;
  }
  lists = *saved.lists;
  std::fprintf(stderr, "misdirect live: lists loaded from %s (%zu protected, %zu allowed)\n",
               options.state_dir.c_str(), lists.protected_domains.size(), lists.allow.size());
  return true;
}

}  // namespace misdirect::control
