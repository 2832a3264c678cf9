// ListPushQueue: list pushes as jobs the control loop polls (STYLE.md 21). A push is prepared
// (validated and merged, list_push.h) on a helper thread, then compiled by the sensor
// (SensorControl::start_list_swap) on another; each poll looks at the job without waiting. One
// push runs at a time: a push submitted while one runs waits in a FIFO queue (one per client,
// since a client's later lines stay unread until its push is answered, so at most max_clients).
// An accepted push is saved to the state directory before it is answered; the save (write,
// fsync, rename, fsync) runs on a helper thread too, since a busy disk can hold fsync for long.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "control/control_counters.h"
#include "control/control_protocol.h"
#include "control/list_push.h"
#include "control/list_store.h"
#include "control/sensor_control.h"
#include "inspect/domain_lists.h"

namespace misdirect::control {

class ListPushQueue {
 public:
  // `store` may be null (no --state-dir). Counts errors, swaps, queued pushes and persistence
  // failures in `counters`.
  ListPushQueue(SensorControl& sensor, const ListStore* store, ControlCounters& counters) noexcept
      : sensor_(sensor), store_(store), counters_(counters) {}

  // Starts `request` (a push, list_push.h's is_push) of client `client`, or queues it behind the
  // push in flight. Returns the answer at once only when the push could not even start (no
  // thread, no memory); otherwise poll() hands it back later.
  std::optional<std::string> submit(uint64_t client, Request request);

  struct Answer {
    uint64_t client = 0;  // the client may be gone: the push applied all the same
    std::string line;
  };
  // Picks up a finished preparation (and starts the compile) or a finished compile (answer), then
  // starts the next queued push whose client `connected` still says is there. Never waits.
  std::vector<Answer> poll(const std::function<bool(uint64_t client)>& connected);

  // True while a push is prepared or compiled (the caller may poll with a shorter timeout).
  bool in_flight() const noexcept { return job_.has_value(); }

 private:
  // The push being prepared (on a helper thread), compiled, then saved (on a helper thread).
  struct Job {
    uint64_t client = 0;
    JsonValue id;
    inspect::DomainLists lists;           // once prepared
    std::future<PreparedPush> preparing;  // until prepared
    bool compiling = false;
    std::optional<ListSwapResult> swapped;  // once published, while it is saved
    // Declared after `lists`, which it reads: destroyed (and so waited for) first.
    std::future<std::string> saving;
  };
  struct Waiting {
    uint64_t client = 0;
    Request request;
  };

  std::optional<std::string> start(uint64_t client, Request request);
  // The job's answer once it is over; nullopt while it runs.
  std::optional<std::string> step();
  // `persist_error`: null without a state directory, else the save's error ("" when saved).
  std::string answer_swap(const JsonValue& id, const inspect::DomainLists& lists,
                          const ListSwapResult& swap, const std::string* persist_error);

  SensorControl& sensor_;
  const ListStore* store_;
  ControlCounters& counters_;
  std::optional<Job> job_;
  std::deque<Waiting> queue_;
};

}  // namespace misdirect::control
