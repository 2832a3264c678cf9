// The lists `misdirect live` starts with: from --protected/--allow, or else the ones the last push
// saved in --state-dir.
#pragma once

#include "control/live_options.h"
#include "inspect/domain_lists.h"

namespace misdirect::control {

// Fills `lists`, or writes one line naming the problem to stderr and returns false.
bool load_live_lists(const LiveOptions& options, inspect::DomainLists& lists);

}  // namespace misdirect::control
