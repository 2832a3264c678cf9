// ControlServer: the control socket's reactor loop — accept, read lines, answer, flush — and the
// fan-out of records to subscribers. What each step does lives with its concern (see the header).
#include "control/control_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <utility>

#include "dataplane/clock.h"

namespace misdirect::control {

namespace {

// Per poll_once and client, so one client streaming requests cannot starve the others.
constexpr std::size_t kReadBudgetBytes = 256 * 1024;
constexpr int kAcceptsPerPoll = 64;
// Lines longer than this are parsed on a helper thread (a list push); shorter ones, which parse
// in well under a millisecond, right here.
constexpr std::size_t kInlineParseBytes = 16 * 1024;

const ControlServerConfig& checked(const ControlServerConfig& config) {
  if (config.max_message_bytes == 0 || config.subscriber_buffer_bytes == 0 ||
      config.max_clients == 0) {
    throw std::runtime_error("control socket: message size, buffer size and client limit must be > 0");
  }
  return config;
}

std::unique_ptr<ListStore> prepared_store(const std::string& state_dir) {
  if (state_dir.empty()) {
    return nullptr;
  }
  auto store = std::make_unique<ListStore>(state_dir);
  if (std::string error = store->prepare(); !error.empty()) {
    throw std::runtime_error(error);
  }
  return store;
}

}  // namespace

ControlServer::ControlServer(const ControlServerConfig& config, SensorControl& sensor)
    : config_(checked(config)),
      sensor_(sensor),
      group_(config.group.empty() ? std::nullopt : std::optional<gid_t>(resolve_group(config.group))),
      policy_(::geteuid(), group_),
      store_(prepared_store(config_.state_dir)),
      socket_(std::make_unique<ControlSocket>(config_.socket_path, group_)),
      dispatcher_(sensor),
      pushes_(sensor, store_.get(), counters_) {}

ControlServer::~ControlServer() = default;

void ControlServer::poll_once(int timeout_ms) {
  poll_parses();
  poll_pushes();
  std::vector<pollfd> fds;
  fds.reserve(clients_.size() + 1);
  fds.push_back({socket_->fd(), POLLIN, 0});
  for (const auto& client : clients_) {
    short events = 0;
    if (!client->read_closed() && !client->held() &&
        client->pending() < config_.subscriber_buffer_bytes) {
      events |= POLLIN;
    }
    if (client->pending() > 0) {
      events |= POLLOUT;
    }
    fds.push_back({client->fd(), events, 0});
  }
  const int ready = ::poll(fds.data(), fds.size(), std::max(timeout_ms, 0));
  if (ready < 0) {
    return;  // EINTR: the caller loops
  }
  // Clients accepted below are not in `fds`; they are served from the next call on.
  const std::size_t polled_clients = clients_.size();
  for (std::size_t i = 0; i < polled_clients; ++i) {
    serve(*clients_[i], fds[i + 1].revents);
  }
  if (fds[0].revents & POLLIN) {
    accept_clients();
  }
  close_idle_clients();
  prune_closed();
}

void ControlServer::serve(ControlClient& client, short revents) {
  if (revents & POLLOUT) {
    flush(client);
  }
  // Without new bytes, output that drained may still let held-back lines be answered.
  if (!client.closed()) {
    read_from(client, (revents & (POLLIN | POLLHUP | POLLERR)) != 0);
  }
  if (!client.closed() && (revents & (POLLHUP | POLLERR))) {
    // Both directions are shut: nothing more can be read or delivered. Closing now also keeps
    // poll from reporting the hang-up again on every call.
    client.close();
  }
  if (!client.closed() && client.read_closed() && !client.subscription.active() &&
      client.pending() == 0 && !client.held()) {
    client.close();  // the peer said all it had to say and has every answer
  }
}

uint64_t ControlServer::now_ms() const {
  if (config_.clock_ms != nullptr) {
    return config_.clock_ms();
  }
  return dataplane::monotonic_clock_ns() / 1'000'000;
}

void ControlServer::close_idle_clients() {
  if (config_.idle_timeout_ms == 0) {
    return;
  }
  const uint64_t now = now_ms();
  for (const auto& client : clients_) {
    if (!client->closed() && !client->subscription.active() && client->pending() == 0 &&
        !client->held() && now - client->last_request_ms >= config_.idle_timeout_ms) {
      counters_.add(ControlCounter::kIdleTimeouts);
      client->close();
    }
  }
}

void ControlServer::accept_clients() {
  for (int i = 0; i < kAcceptsPerPoll; ++i) {
    const int fd = socket_->accept();
    if (fd < 0) {
      return;  // EAGAIN, or a connection that died in the backlog
    }
    const std::optional<PeerCredentials> peer = read_peer_credentials(fd);
    if (!peer.has_value() || !policy_.allows(*peer)) {
      counters_.add(ControlCounter::kRefused);
      const uint64_t now = now_ms();
      if (refusal_logged_ && now - last_refusal_log_ms_ < kRefusalLogIntervalMs) {
        ++refusals_not_logged_;
      } else {
        std::FILE* log = config_.log != nullptr ? config_.log : stderr;
        char since[96] = "";
        if (refusals_not_logged_ > 0) {
          std::snprintf(since, sizeof since, " (%llu more refused since the last line)",
                        static_cast<unsigned long long>(refusals_not_logged_));
        }
        if (peer.has_value()) {
          std::fprintf(log,
                       "misdirect: control: refused a connection from pid %d uid %u gid %u (not root, "
                       "the sensor's user or in the control group)%s\n",
                       static_cast<int>(peer->pid), static_cast<unsigned>(peer->uid),
                       static_cast<unsigned>(peer->gid), since);
        } else {
          std::fprintf(log, "misdirect: control: refused a connection with no peer credentials%s\n", since);
        }
        std::fflush(log);
        refusal_logged_ = true;
        last_refusal_log_ms_ = now;
        refusals_not_logged_ = 0;
      }
      ::close(fd);
      continue;
    }
    if (!admit(fd, *peer)) {
      ::close(fd);
    }
  }
}

// A permitted peer becomes a client unless max_clients are connected.
bool ControlServer::admit(int fd, const PeerCredentials& peer) {
  std::size_t open_clients = 0;
  for (const auto& client : clients_) {
    open_clients += client->closed() ? 0 : 1;
  }
  if (open_clients >= config_.max_clients) {
    counters_.add(ControlCounter::kTooManyClients);
    const std::string refusal =
        make_error_response(JsonValue::null(), ErrorCode::kInternal,
                            "too many control clients (" + std::to_string(config_.max_clients) +
                                "); try again later") +
        "\n";
    // Best effort: a fresh socket's buffer takes this short line.
    [[maybe_unused]] const ssize_t sent = ::send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL);
    return false;
  }
  counters_.add(ControlCounter::kAccepted);
  clients_.push_back(std::make_unique<ControlClient>(next_client_serial_++, fd, peer, now_ms()));
  return true;
}

// A line past max_message_bytes: answered, counted, and the connection closed (whatever follows
// cannot be trusted to start a request).
void ControlServer::refuse_oversized(ControlClient& client) {
  counters_.add(ControlCounter::kOversized);
  counters_.add(ControlCounter::kErrors);
  client.queue_line(make_error_response(JsonValue::null(), ErrorCode::kMessageTooLarge,
                                        "request line longer than " +
                                            std::to_string(config_.max_message_bytes) + " bytes"));
  flush(client);
  client.close();
}

// Answers every complete line while the output has room, then (when `readable`) reads what the
// budget allows and answers again.
void ControlServer::read_from(ControlClient& client, bool readable) {
  std::size_t budget = kReadBudgetBytes;
  bool saw_eof = client.read_closed();
  while (!client.closed()) {
    // Answer the complete lines already here first; stop while the peer is not reading answers,
    // and while a push of this client is not answered yet.
    while (!client.closed() && !client.held() &&
           client.pending() < config_.subscriber_buffer_bytes) {
      std::optional<std::string> line = client.take_line();
      if (!line.has_value()) {
        break;
      }
      if (line->size() > config_.max_message_bytes) {
        refuse_oversized(client);
        return;
      }
      handle_line(client, std::move(*line));
    }
    if (client.closed() || client.held()) {
      return;  // a busy client's lines wait where they are; poll_once does not read it meanwhile
    }
    if (client.buffered_input() > config_.max_message_bytes) {
      // No newline within the limit: whatever follows cannot be a valid request.
      refuse_oversized(client);
      return;
    }
    if (saw_eof) {
      if (client.buffered_input() != 0) {
        counters_.add(ControlCounter::kIncompleteLines);
        counters_.add(ControlCounter::kErrors);
        client.queue_line(make_error_response(JsonValue::null(), ErrorCode::kIncompleteLine,
                                              "connection ended in the middle of a line"));
        flush(client);
        client.close();
      }
      return;
    }
    if (!readable || client.read_closed() || budget == 0 ||
        client.pending() >= config_.subscriber_buffer_bytes) {
      return;
    }
    const std::size_t before = client.buffered_input();
    switch (client.receive(budget)) {
      case ControlClient::Received::kBytes:
        budget -= client.buffered_input() - before;
        break;
      case ControlClient::Received::kEnded:
        saw_eof = true;  // answer what is complete, then judge the rest
        break;
      case ControlClient::Received::kWouldBlock:
        return;
      case ControlClient::Received::kFailed:
        client.close();  // ECONNRESET and friends: the peer is gone
        return;
    }
  }
}

void ControlServer::handle_line(ControlClient& client, std::string line) {
  client.last_request_ms = now_ms();
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();  // tolerate CRLF from interactive tools
  }
  if (line.find_first_not_of(" \t") == std::string::npos) {
    return;  // blank lines are keep-alives, not requests
  }
  counters_.add(ControlCounter::kRequests);
  JsonParseLimits limits;
  limits.max_bytes = config_.max_message_bytes;
  if (line.size() > kInlineParseBytes) {
    // Parsing a 20,000-domain push takes some 15 ms of CPU: long enough for the scheduler to
    // take the control thread off the CPU mid-parse on a busy machine, so every other client
    // would wait for it (docs/benchmarks.md). The client is held until the parse is back.
    auto text = std::make_shared<const std::string>(std::move(line));
    try {
      parses_.push_back(OffloadedParse{
          client.serial(),
          std::async(std::launch::async, [text, limits] { return parse_request(*text, limits); })});
      client.parse_pending = true;
      counters_.add(ControlCounter::kParsedOffLoop);
      return;
    } catch (const std::exception&) {
      dispatch(client, parse_request(*text, limits));  // no thread to be had: parse it here
      return;
    }
  }
  dispatch(client, parse_request(line, limits));
}

// Answers the long lines whose parse came back; each client's held-back lines are then read on.
void ControlServer::poll_parses() {
  for (std::size_t i = 0; i < parses_.size();) {
    OffloadedParse& parse = parses_[i];
    if (parse.result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      ++i;
      continue;
    }
    RequestParseResult parsed = parse.result.get();  // parse_request never throws
    const uint64_t serial = parse.client;
    parses_.erase(parses_.begin() + static_cast<std::ptrdiff_t>(i));
    ControlClient* client = find_client(serial);
    if (client == nullptr) {
      continue;  // it hung up: its request is dropped unanswered, as any line of a closed client
    }
    client->parse_pending = false;
    dispatch(*client, std::move(parsed));
    if (!client->held()) {
      read_from(*client, false);
    }
  }
}

void ControlServer::dispatch(ControlClient& client, RequestParseResult parsed) {
  if (!parsed.ok()) {
    counters_.add(ControlCounter::kErrors);
    client.queue_line(make_error_response(parsed.request.id, *parsed.error, parsed.message));
    return;
  }
  if (is_push(parsed.request)) {
    std::optional<std::string> refused = pushes_.submit(client.serial(), std::move(parsed.request));
    if (refused.has_value()) {
      client.queue_line(*refused);
    } else {
      client.push_pending = true;
    }
    return;
  }
  std::string response;
  try {
    RequestContext context{client.subscription, [this] { return counters_tree(); }};
    response = dispatcher_.answer(parsed.request, context);
  } catch (const std::exception& failure) {
    // The sensor's list code may allocate and throw; a request must never take the sensor down.
    counters_.add(ControlCounter::kErrors);
    response = make_error_response(parsed.request.id, ErrorCode::kInternal, failure.what());
  }
  client.queue_line(response);
}

// Answers the pushes that ended; each pushing client's held-back lines are then read on.
void ControlServer::poll_pushes() {
  std::vector<ListPushQueue::Answer> answers =
      pushes_.poll([this](uint64_t serial) { return find_client(serial) != nullptr; });
  for (ListPushQueue::Answer& answer : answers) {
    ControlClient* owner = find_client(answer.client);  // null when it hung up
    if (owner == nullptr) {
      continue;
    }
    owner->push_pending = false;
    owner->queue_line(answer.line);
    read_from(*owner, false);
  }
}

ControlClient* ControlServer::find_client(uint64_t serial) noexcept {
  for (const auto& client : clients_) {
    if (client->serial() == serial && !client->closed()) {
      return client.get();
    }
  }
  return nullptr;
}

void ControlServer::flush(ControlClient& client) {
  if (client.closed()) {
    return;
  }
  if (client.send_pending() == ControlClient::Sent::kFailed) {
    counters_.add(ControlCounter::kWriteErrors);
    client.close();
    return;
  }
  report_overflow(client, FanoutLimits{config_.subscriber_buffer_bytes, config_.subscriber_drop_limit});
}

void ControlServer::broadcast(dataplane::RecordType type, std::string_view json_line) {
  const FanoutLimits limits{config_.subscriber_buffer_bytes, config_.subscriber_drop_limit};
  for (auto& owned : clients_) {
    ControlClient& client = *owned;
    if (client.closed() || !client.subscription.wants(type)) {
      continue;
    }
    switch (deliver_record(client, json_line, limits)) {
      case Delivery::kQueued:
        counters_.add(ControlCounter::kEventsSent);
        break;
      case Delivery::kDropped:
        counters_.add(ControlCounter::kSubscriberDrops);
        break;
      case Delivery::kDisconnected:
        counters_.add(ControlCounter::kSubscriberDrops);
        counters_.add(ControlCounter::kSubscriberDisconnects);
        std::fprintf(stderr,
                     "misdirect: control: disconnected a subscriber (pid %d uid %u) that dropped "
                     "%llu records without reading\n",
                     static_cast<int>(client.peer().pid), static_cast<unsigned>(client.peer().uid),
                     static_cast<unsigned long long>(client.subscription.dropped_since_progress));
        client.close();
        break;
    }
  }
}

void ControlServer::prune_closed() {
  std::erase_if(clients_, [](const std::unique_ptr<ControlClient>& client) { return client->closed(); });
}

ControlServerStats ControlServer::stats() const {
  ControlServerStats stats;
  for (const auto& client : clients_) {
    if (!client->closed()) {
      ++stats.clients;
      stats.subscribers += client->subscription.active() ? 1 : 0;
    }
  }
  stats.accepted = counters_.get(ControlCounter::kAccepted);
  stats.refused = counters_.get(ControlCounter::kRefused);
  stats.requests = counters_.get(ControlCounter::kRequests);
  stats.errors = counters_.get(ControlCounter::kErrors);
  stats.subscriber_drops = counters_.get(ControlCounter::kSubscriberDrops);
  stats.disconnects = counters_.get(ControlCounter::kSubscriberDisconnects);
  stats.counters = counters_;
  return stats;
}

dataplane::StatsNode ControlServer::counters_tree() const {
  const ControlServerStats current = stats();
  dataplane::StatsNode tree;
  tree.add("clients", current.clients);
  tree.add("subscribers", current.subscribers);
  dataplane::add_counter_table(tree, "", counters_, kControlCounterInfo);
  return tree;
}

}  // namespace misdirect::control
