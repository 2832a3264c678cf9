// LiveSensorControl: the control socket's requests carried out on the live sensor (see
// live_sensor_control.h).
#include "control/live_sensor_control.h"

#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include "dataplane/clock.h"

namespace misdirect::control {

LiveSensorControl::LiveSensorControl(dataplane::LiveSensor& sensor, const inspect::MatcherOptions& options,
                                     RecordOutput& output)
    : sensor_(sensor),
      options_(options),
      output_(output),
      started_wall_ns_(dataplane::wall_clock_ns()),
      started_monotonic_ns_(dataplane::monotonic_clock_ns()) {}

void LiveSensorControl::start_list_swap(inspect::DomainLists lists) {
  building_ = std::async(std::launch::async, [lists = std::move(lists), options = options_] {
    return build_matcher_timed(lists, options);
  });
}

std::optional<ListSwapResult> LiveSensorControl::finish_list_swap() {
  if (published_.has_value()) {
    if (sensor_.matchers().reclaim() != 0) {
      return std::nullopt;
    }
    std::optional<ListSwapResult> done = std::move(published_);
    published_.reset();
    return done;
  }
  if (!building_.valid() ||
      building_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return std::nullopt;
  }
  TimedMatcherBuild timed = building_.get();
  inspect::MatcherBuildResult& built = timed.built;
  ListSwapResult result;
  result.generation = generation();
  if (!built.matcher) {
    result.error = built.error;
    return result;
  }
  result.pattern_count = built.matcher->pattern_count();
  result.compile_milliseconds = static_cast<double>(timed.compile_ns) / 1e6;
  try {
    result.generation = sensor_.matchers().publish(std::move(built.matcher), timed.compile_ns);
  } catch (const std::exception& error) {
    result.error = std::string("cannot publish the new matcher: ") + error.what();
    return result;
  }
  result.ok = true;
  published_ = std::move(result);
  return finish_list_swap();
}

inspect::DomainLists LiveSensorControl::current_lists() const {
  const dataplane::MatcherGeneration* current = sensor_.matchers().current();
  return current != nullptr ? current->matcher->lists() : inspect::DomainLists{};
}

uint64_t LiveSensorControl::generation() const {
  const dataplane::MatcherGeneration* current = sensor_.matchers().current();
  return current != nullptr ? current->generation : 0;
}

void LiveSensorControl::collect_stats(dataplane::StatsNode& record) const {
  sensor_.collect_stats(record, dataplane::wall_clock_ns(), dataplane::monotonic_clock_ns(), false);
  output_.collect_stats(record);
}

std::vector<CheckAnswer> LiveSensorControl::check(const std::vector<std::string>& inputs) {
  const dataplane::MatcherGeneration* current = sensor_.matchers().current();
  std::vector<CheckAnswer> answers;
  if (current == nullptr) {
    return answers;
  }
  if (scratch_generation_ != current->generation || !scratch_.ready()) {
    scratch_ = current->matcher->make_scratch();
    scratch_generation_ = current->generation;
  }
  answers.reserve(inputs.size());
  for (const std::string& input : inputs) {
    answers.push_back(check_lookalike(*current->matcher, scratch_, input));
  }
  return answers;
}

ReopenResult LiveSensorControl::reopen_output() { return output_.reopen(); }

SensorUptime LiveSensorControl::uptime() const {
  return SensorUptime{started_wall_ns_, dataplane::monotonic_clock_ns() - started_monotonic_ns_};
}

}  // namespace misdirect::control
