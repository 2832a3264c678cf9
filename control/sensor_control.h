// SensorControl: what the control socket may ask of a running sensor. Implemented by the live
// sensor; every call comes from the control thread, never from a worker, and none of them waits:
// a list swap is started, then polled until it is done (STYLE.md 21: the control thread is a
// reactor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "inspect/domain_lists.h"

namespace misdirect::dataplane {
class StatsNode;
}  // namespace misdirect::dataplane

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

  // Starts compiling `lists` on a helper thread and returns at once. One swap at a time: the
  // caller starts the next only after finish_list_swap() has returned this one's result.
  virtual void start_list_swap(inspect::DomainLists lists) = 0;
  // Polled from the control loop; never blocks. Empty while the compile runs. Once it is done,
  // publishes the matcher with one atomic store, and returns the result (once) when every worker
  // has passed a quiescent state since, so that what the sensor judges after the answer is judged
  // by the new lists; the old matcher is freed then. On failure nothing changes.
  virtual std::optional<ListSwapResult> finish_list_swap() = 0;
  virtual inspect::DomainLists current_lists() const = 0;
  virtual uint64_t generation() const = 0;
  // One EVE `stats` record's tree (docs/records.md): the socket's `stats` answer writes it as
  // the EVE file does.
  virtual void collect_stats(dataplane::StatsNode& record) const = 0;
};

}  // namespace misdirect::control
