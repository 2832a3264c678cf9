// DomainLists: the protected and allow lists, validated and canonical.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace misdirect::inspect {

struct DomainLists {
  std::vector<std::string> protected_domains;  // canonical, deduplicated, in list order
  std::vector<std::string> allow;              // canonical, deduplicated
};

// The outcome of reading or validating a list: on error nothing is usable and `error` names the
// bad element ("lists/protected.txt:7: \"ar my.mil\" is not a valid domain: invalid character").
struct ListParseResult {
  std::vector<std::string> domains;
  std::string error;
  bool ok() const noexcept { return error.empty(); }
};

// One domain per line, '#' comments, blank lines; U-labels converted to A-labels.
// `origin` names the source in errors (a file path).
ListParseResult parse_domain_list(std::string_view text, std::string_view origin);
ListParseResult read_domain_list_file(const std::string& path);

// Validates a list given as separate elements (the control socket's JSON arrays); errors name
// the element as `name[index]: "value" is not a valid domain: reason`.
ListParseResult validate_domain_list(const std::vector<std::string>& elements,
                                     std::string_view name);

}  // namespace misdirect::inspect
