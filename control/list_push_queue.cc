// ListPushQueue: the push job's steps (prepare, compile, answer and save) and the FIFO behind it.
#include "control/list_push_queue.h"

#include <chrono>
#include <cstdio>
#include <exception>
#include <system_error>
#include <utility>

namespace misdirect::control {

std::optional<std::string> ListPushQueue::submit(uint64_t client, Request request) {
  if (job_.has_value()) {
    counters_.add(ControlCounter::kPushesQueued);
    queue_.push_back(Waiting{client, std::move(request)});
    return std::nullopt;
  }
  return start(client, std::move(request));
}

std::optional<std::string> ListPushQueue::start(uint64_t client, Request request) {
  const JsonValue id = request.id;
  try {
    // lists.add/remove start from the lists judging now, read here on the control thread.
    inspect::DomainLists current;
    if (std::holds_alternative<ListsChangeRequest>(request.body)) {
      current = sensor_.current_lists();
    }
    std::future<PreparedPush> preparing =
        std::async(std::launch::async, [request = std::move(request), current = std::move(current)] {
          return prepare_push(request, current);
        });
    job_ = Job{client, id, {}, std::move(preparing), false, std::nullopt, {}};
    return std::nullopt;
  } catch (const std::exception& failure) {
    // Copying the lists allocates, and starting the helper starts a thread; neither may take the
    // sensor down.
    counters_.add(ControlCounter::kErrors);
    return make_error_response(id, ErrorCode::kInternal, failure.what());
  }
}

std::vector<ListPushQueue::Answer> ListPushQueue::poll(
    const std::function<bool(uint64_t client)>& connected) {
  std::vector<Answer> answers;
  if (job_.has_value()) {
    if (std::optional<std::string> answer = step(); answer.has_value()) {
      answers.push_back(Answer{job_->client, std::move(*answer)});
      job_.reset();
    }
  }
  while (!job_.has_value() && !queue_.empty()) {
    Waiting next = std::move(queue_.front());
    queue_.pop_front();
    if (!connected(next.client)) {
      continue;  // its client hung up before its turn: nothing was started, nothing to answer
    }
    if (std::optional<std::string> refused = start(next.client, std::move(next.request));
        refused.has_value()) {
      answers.push_back(Answer{next.client, std::move(*refused)});
    }
  }
  return answers;
}

std::optional<std::string> ListPushQueue::step() {
  Job& job = *job_;
  if (!job.compiling) {
    if (job.preparing.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      return std::nullopt;
    }
    std::string answer;
    try {
      PreparedPush prepared = job.preparing.get();
      if (prepared.lists.has_value()) {
        sensor_.start_list_swap(*prepared.lists);
        job.lists = std::move(*prepared.lists);
        job.compiling = true;
        return std::nullopt;
      }
      answer = std::move(prepared.error_answer);  // a bad domain, an empty result: nothing changes
    } catch (const std::exception& failure) {
      answer = make_error_response(job.id, ErrorCode::kInternal, failure.what());
    }
    counters_.add(ControlCounter::kErrors);
    return answer;
  }
  try {
    if (!job.swapped.has_value()) {
      std::optional<ListSwapResult> result = sensor_.finish_list_swap();
      if (!result.has_value()) {
        return std::nullopt;
      }
      if (!result->ok || store_ == nullptr) {
        return answer_swap(job.id, job.lists, *result, nullptr);
      }
      job.swapped = std::move(result);
      try {
        job.saving = std::async(std::launch::async,
                                [store = store_, lists = &job.lists] { return store->save(*lists); });
      } catch (const std::system_error&) {
        // No thread to be had: save here rather than not at all.
        const std::string error = store_->save(job.lists);
        return answer_swap(job.id, job.lists, *job.swapped, &error);
      }
      return std::nullopt;
    }
    if (job.saving.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      return std::nullopt;
    }
    const std::string error = job.saving.get();
    return answer_swap(job.id, job.lists, *job.swapped, &error);
  } catch (const std::exception& failure) {
    counters_.add(ControlCounter::kErrors);
    return make_error_response(job.id, ErrorCode::kInternal, failure.what());
  }
}

std::string ListPushQueue::answer_swap(const JsonValue& id, const inspect::DomainLists& lists,
                                       const ListSwapResult& swap, const std::string* persist_error) {
  if (!swap.ok) {
    counters_.add(ControlCounter::kErrors);
    return make_error_response(id, ErrorCode::kListsRejected, swap.error);
  }
  counters_.add(ControlCounter::kListSwaps);
  JsonValue fields = JsonValue::object();
  fields.set("generation", JsonValue::number(swap.generation));
  fields.set("patterns", JsonValue::number(static_cast<uint64_t>(swap.pattern_count)));
  fields.set("compile_ms", JsonValue::number(swap.compile_milliseconds));
  fields.set("protected", JsonValue::number(static_cast<uint64_t>(lists.protected_domains.size())));
  fields.set("allow", JsonValue::number(static_cast<uint64_t>(lists.allow.size())));
  if (persist_error != nullptr) {
    // The swap already happened; a failed save is reported, not undone, and the next successful
    // push writes the file again.
    const std::string& error = *persist_error;
    fields.set("persisted", JsonValue::boolean(error.empty()));
    if (!error.empty()) {
      counters_.add(ControlCounter::kPersistFailures);
      std::fprintf(stderr, "misdirect: control: lists accepted but not saved: %s\n", error.c_str());
      fields.set("persist_error", JsonValue::string(error));
    }
  }
  return make_ok_response(id, std::move(fields));
}

}  // namespace misdirect::control
