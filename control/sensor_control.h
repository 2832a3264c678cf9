// SensorControl: what the control socket may ask of a running sensor. Implemented by the live
// sensor; every call comes from the control thread, never from a worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "inspect/domain_lists.h"

namespace misdirect::control {

struct ListSwapResult {
  bool ok = false;
  std::string error;        // names the bad element or the compile failure; state unchanged
  uint64_t generation = 0;  // the generation now judging
  std::size_t pattern_count = 0;
  double compile_milliseconds = 0;
};

class SensorControl {
 public:
  virtual ~SensorControl() = default;

  // Compiles `lists` (the live sensor compiles on a helper thread and keeps moving records while
  // it waits; the call returns when the compile is done), publishes the result with one atomic
  // store, and frees the old matcher once every worker has passed a quiescent state. On failure
  // nothing changes.
  virtual ListSwapResult replace_lists(const inspect::DomainLists& lists) = 0;
  virtual inspect::DomainLists current_lists() const = 0;
  virtual uint64_t generation() const = 0;
  // One EVE `stats` record (a JSON object, no newline): per port and per worker counters.
  virtual std::string stats_json() const = 0;
};

}  // namespace misdirect::control
