// LiveSensorControl: what the control socket may ask of the running live sensor (SensorControl,
// for LiveSensor); every call is on the main lcore and none waits. A list compile (seconds for a
// large list, or with the Hyperscan engine) runs on a helper thread; the control loop polls it
// and keeps moving records and serving clients meanwhile.
#pragma once

#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "control/record_output.h"
#include "control/sensor_control.h"
#include "control/timed_matcher_build.h"
#include "dataplane/live/live_sensor.h"
#include "inspect/matcher.h"

namespace misdirect::control {

class LiveSensorControl final : public SensorControl {
 public:
  LiveSensorControl(dataplane::LiveSensor& sensor, const inspect::MatcherOptions& options,
                    RecordOutput& output);
  // Shutdown during a compile: the future's destructor waits for the helper thread (a compile
  // cannot be interrupted); its matcher is dropped unpublished.
  ~LiveSensorControl() override = default;

  void start_list_swap(inspect::DomainLists lists) override;
  // Three steps, each polled: the compile ends; the matcher is published; every worker has passed
  // a quiescent point since (the old matcher is then reclaimed). Only then is the push answered,
  // so that whatever the sensor sees after the answer is judged by the new lists.
  std::optional<ListSwapResult> finish_list_swap() override;
  inspect::DomainLists current_lists() const override;
  uint64_t generation() const override;
  // The workers' newest stats trees (LiveSensor::collect_stats never waits), and the EVE output's counters.
  void collect_stats(dataplane::StatsNode& record) const override;
  // The matcher judging now, with a scratch of the control thread's own (made again when a push
  // changed the generation). Only this thread retires matchers, so `current` stays valid here.
  std::vector<CheckAnswer> check(const std::vector<std::string>& inputs) override;
  // RecordOutput::reopen, the function SIGHUP runs.
  ReopenResult reopen_output() override;
  SensorUptime uptime() const override;

 private:
  dataplane::LiveSensor& sensor_;
  inspect::MatcherOptions options_;
  RecordOutput& output_;
  uint64_t started_wall_ns_ = 0;
  uint64_t started_monotonic_ns_ = 0;
  inspect::MatcherScratch scratch_;  // for `check`
  uint64_t scratch_generation_ = 0;
  std::future<TimedMatcherBuild> building_;
  std::optional<ListSwapResult> published_;  // waiting for the workers' grace period
};

}  // namespace misdirect::control
