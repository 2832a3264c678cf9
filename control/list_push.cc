// List pushes' meaning: validation of pushed lists and the add/remove merge.
#include "control/list_push.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace misdirect::control {

namespace {

// Validates both lists as a whole replacement; the error answer names the bad element.
std::optional<inspect::DomainLists> validated_lists(const std::vector<std::string>& protected_domains,
                                                    const std::vector<std::string>& allow,
                                                    const JsonValue& id, std::string& error_answer) {
  inspect::ListParseResult checked_protected =
      inspect::validate_domain_list(protected_domains, "protected");
  if (!checked_protected.ok()) {
    error_answer = make_error_response(id, ErrorCode::kInvalidDomain, checked_protected.error);
    return std::nullopt;
  }
  inspect::ListParseResult checked_allow = inspect::validate_domain_list(allow, "allow");
  if (!checked_allow.ok()) {
    error_answer = make_error_response(id, ErrorCode::kInvalidDomain, checked_allow.error);
    return std::nullopt;
  }
  if (checked_protected.domains.empty()) {
    error_answer = make_error_response(id, ErrorCode::kEmptyProtected,
                                       "protected: the list is empty; the sensor would protect nothing");
    return std::nullopt;
  }
  inspect::DomainLists lists;
  lists.protected_domains = std::move(checked_protected.domains);
  lists.allow = std::move(checked_allow.domains);
  return lists;
}

}  // namespace

bool is_push(const Request& request) noexcept {
  return std::holds_alternative<ListsSetRequest>(request.body) ||
         std::holds_alternative<ListsChangeRequest>(request.body);
}

PreparedPush prepare_push(const Request& request, inspect::DomainLists current) {
  const JsonValue& id = request.id;
  PreparedPush prepared;
  std::string& error_answer = prepared.error_answer;
  if (const auto* set = std::get_if<ListsSetRequest>(&request.body)) {
    prepared.lists = validated_lists(set->protected_domains, set->allow, id, error_answer);
    return prepared;
  }
  const auto& change = std::get<ListsChangeRequest>(request.body);
  struct Part {
    const std::optional<std::vector<std::string>>& elements;
    const char* name;
    std::vector<std::string>& list;
  };
  for (const Part& part : {Part{change.protected_domains, "protected", current.protected_domains},
                           Part{change.allow, "allow", current.allow}}) {
    if (!part.elements.has_value()) {
      continue;
    }
    // Validate the whole array first so the error names the element's index in the request.
    const inspect::ListParseResult checked = inspect::validate_domain_list(*part.elements, part.name);
    if (!checked.ok()) {
      error_answer = make_error_response(id, ErrorCode::kInvalidDomain, checked.error);
      return prepared;
    }
    for (std::size_t i = 0; i < part.elements->size(); ++i) {
      const inspect::ListParseResult one =
          inspect::validate_domain_list({(*part.elements)[i]}, part.name);
      if (!one.ok() || one.domains.empty()) {
        continue;  // an element that validates to nothing (cannot happen for a valid list)
      }
      const std::string& domain = one.domains.front();
      const auto found = std::find(part.list.begin(), part.list.end(), domain);
      if (change.add) {
        if (found == part.list.end()) {
          part.list.push_back(domain);
        }
      } else if (found == part.list.end()) {
        error_answer = make_error_response(id, ErrorCode::kNotFound,
                                           std::string(part.name) + "[" + std::to_string(i) + "]: \"" +
                                               domain + "\" is not on the " + part.name + " list");
        return prepared;
      } else {
        part.list.erase(found);
      }
    }
  }
  prepared.lists = validated_lists(current.protected_domains, current.allow, id, error_answer);
  return prepared;
}

}  // namespace misdirect::control
