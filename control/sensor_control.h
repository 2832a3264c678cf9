// SensorControl: what the control socket may ask of a running sensor. Implemented by the live
// sensor; every call comes from the control thread, never from a worker, and none of them waits:
// a list swap is started, then polled until it is done (STYLE.md 21: the control thread is a
// reactor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/lookalike_check.h"
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

// What `reopen` (and SIGHUP) did to the EVE output.
struct ReopenResult {
  bool ok = false;        // false: `error` says why the file could not be opened again
  bool reopened = false;  // false with ok: there is no file to reopen (no --eve, or stdout)
  std::string path;       // the --eve path
  std::string error;
};

struct SensorUptime {
  uint64_t started_unix_ns = 0;  // wall clock when the sensor started
  uint64_t uptime_ns = 0;        // monotonic time since then
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
  // Judges each input (an address or a domain) with the matcher judging now, exactly as
  // `misdirect check` judges it with list files. The caller bounds the number of inputs.
  virtual std::vector<CheckAnswer> check(const std::vector<std::string>& inputs) = 0;
  // Closes and reopens the EVE file, exactly as SIGHUP does.
  virtual ReopenResult reopen_output() = 0;
  virtual SensorUptime uptime() const = 0;
};

}  // namespace misdirect::control
