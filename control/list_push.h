// List pushes' meaning: what lists.set, lists.add and lists.remove make of the lists judging now.
// Pure (no sockets, no sensor): the push queue (list_push_queue.h) runs it on a helper thread,
// because validating 20,000 domains (UTS #46, public suffixes) takes longer than a control-loop
// turn should.
#pragma once

#include <optional>
#include <string>

#include "control/control_protocol.h"
#include "inspect/domain_lists.h"

namespace misdirect::control {

// The lists a push asks for, validated and merged with the current ones; or its error answer.
struct PreparedPush {
  std::optional<inspect::DomainLists> lists;
  std::string error_answer;  // a whole response line naming the bad element
};

// lists.set, lists.add and lists.remove.
bool is_push(const Request& request) noexcept;

// lists.set replaces both lists; lists.add and lists.remove change `current` (the result of every
// earlier push, since pushes run one at a time). Every element is validated as for --protected
// files; a change that would protect nothing is refused. `request` must be a push.
PreparedPush prepare_push(const Request& request, inspect::DomainLists current);

}  // namespace misdirect::control
