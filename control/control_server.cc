// ControlServer: the control socket's connections, requests and subscriber fan-out.
#include "control/control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>
#include <optional>
#include <stdexcept>
#include <utility>

#include "inspect/domain_lists.h"

namespace misdirect::control {

// One connection. Input is kept only up to one line past the last complete one; output is kept
// up to subscriber_buffer_bytes (a single answer may overshoot it once).
struct ControlServer::Client {
  uint64_t serial = 0;  // never reused, so a finished compile finds its client or none
  int fd = -1;
  PeerCredentials peer;
  std::string input;
  std::size_t scanned = 0;  // input[0, scanned) holds no newline
  std::string output;
  std::size_t output_sent = 0;  // output[0, output_sent) already written
  uint8_t events = 0;           // EventKind mask; 0: not a subscriber
  uint64_t dropped_unreported = 0;
  uint64_t dropped_since_progress = 0;
  uint64_t last_request_ms = 0;  // accepted, or last complete request line
  bool read_closed = false;
  bool closed = false;
  // A push of this client compiles (awaiting_swap) or waits for another's to end (waiting_push).
  // Either way its later lines stay unread until the push is answered, keeping answers in order.
  bool awaiting_swap = false;
  std::optional<Request> waiting_push;

  std::size_t pending() const noexcept { return output.size() - output_sent; }
  bool busy() const noexcept { return awaiting_swap || waiting_push.has_value(); }
};

namespace {

constexpr int kListenBacklog = 64;
constexpr std::size_t kReadChunkBytes = 64 * 1024;
// Per poll_once and client, so one client streaming requests cannot starve the others.
constexpr std::size_t kReadBudgetBytes = 256 * 1024;
constexpr int kAcceptsPerPoll = 64;

[[noreturn]] void fail_setup(const std::string& what, const std::string& path) {
  throw std::runtime_error("control socket: " + what + " " + path + ": " + std::strerror(errno));
}

std::string parent_directory(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  if (slash == 0) {
    return "/";
  }
  return path.substr(0, slash);
}

sockaddr_un socket_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    throw std::runtime_error("control socket: path '" + path + "' must be 1 to " +
                             std::to_string(sizeof(address.sun_path) - 1) + " bytes long");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// A socket file left by a sensor that died is removed; one that still answers belongs to a live
// sensor, and taking it over would cut that sensor off from its operators.
void remove_stale_socket(const std::string& path, const sockaddr_un& address) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) {
    if (errno == ENOENT) {
      return;
    }
    fail_setup("cannot inspect", path);
  }
  if (!S_ISSOCK(status.st_mode)) {
    throw std::runtime_error("control socket: " + path + " exists and is not a socket");
  }
  const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0) {
    fail_setup("cannot create a probe socket for", path);
  }
  const int connected =
      ::connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int connect_errno = errno;
  ::close(probe);
  if (connected == 0 || connect_errno == EAGAIN || connect_errno == EINPROGRESS) {
    throw std::runtime_error("control socket: another process is listening on " + path +
                             " (is another sensor running?)");
  }
  if (connect_errno != ECONNREFUSED) {
    errno = connect_errno;
    fail_setup("cannot probe", path);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    fail_setup("cannot remove the stale socket", path);
  }
}

void prepare_directory(const std::string& directory, std::optional<gid_t> group) {
  if (::mkdir(directory.c_str(), 0750) == 0) {
    // The umask may have narrowed the mode; the group needs its search bit to reach the socket.
    if (::chmod(directory.c_str(), 0750) != 0) {
      fail_setup("cannot set the mode of", directory);
    }
    if (group.has_value() && ::chown(directory.c_str(), static_cast<uid_t>(-1), *group) != 0) {
      fail_setup("cannot give the control group", directory);
    }
    return;
  }
  if (errno != EEXIST) {
    fail_setup("cannot create the directory", directory);
  }
  struct stat status {};
  if (::stat(directory.c_str(), &status) != 0 || !S_ISDIR(status.st_mode)) {
    throw std::runtime_error("control socket: " + directory + " is not a directory");
  }
}

JsonValue string_array(const std::vector<std::string>& values) {
  JsonValue array = JsonValue::array();
  for (const std::string& value : values) {
    array.push_back(JsonValue::string(value));
  }
  return array;
}

uint8_t event_bit(dataplane::RecordType type) noexcept {
  switch (type) {
    case dataplane::RecordType::kAlert:
      return static_cast<uint8_t>(EventKind::kAlert);
    case dataplane::RecordType::kSmtp:
    case dataplane::RecordType::kDns:  // protocol records: subscribers of "smtp" get dns too
      return static_cast<uint8_t>(EventKind::kSmtp);
    case dataplane::RecordType::kStats:
      return static_cast<uint8_t>(EventKind::kStats);
  }
  return 0;
}

}  // namespace

ControlServer::ControlServer(const ControlServerConfig& config, SensorControl& sensor)
    : config_(config),
      sensor_(sensor),
      group_(config.group.empty() ? std::nullopt : std::optional<gid_t>(resolve_group(config.group))),
      policy_(::geteuid(), group_) {
  if (config_.max_message_bytes == 0 || config_.subscriber_buffer_bytes == 0 ||
      config_.max_clients == 0) {
    throw std::runtime_error("control socket: message size, buffer size and client limit must be > 0");
  }
  if (!config_.state_dir.empty()) {
    store_ = std::make_unique<ListStore>(config_.state_dir);
    if (std::string error = store_->prepare(); !error.empty()) {
      throw std::runtime_error(error);
    }
  }
  const sockaddr_un address = socket_address(config_.socket_path);
  prepare_directory(parent_directory(config_.socket_path), group_);
  remove_stale_socket(config_.socket_path, address);

  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    fail_setup("cannot create a socket for", config_.socket_path);
  }
  const auto close_and_fail = [&](const std::string& what) {
    const int saved = errno;
    ::close(listen_fd_);
    listen_fd_ = -1;
    errno = saved;
    fail_setup(what, config_.socket_path);
  };
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    close_and_fail("cannot bind");
  }
  // Until listen(2) every connect is refused, so setting mode and group here leaves no window in
  // which the socket is reachable with the umask's permissions.
  const auto unlink_and_fail = [&](const std::string& what) {
    const int saved = errno;
    ::unlink(config_.socket_path.c_str());
    errno = saved;
    close_and_fail(what);
  };
  if (::chmod(config_.socket_path.c_str(), 0660) != 0) {
    unlink_and_fail("cannot set the mode of");
  }
  if (group_.has_value() &&
      ::chown(config_.socket_path.c_str(), static_cast<uid_t>(-1), *group_) != 0) {
    unlink_and_fail("cannot give the control group");
  }
  struct stat status {};
  if (::stat(config_.socket_path.c_str(), &status) != 0) {
    unlink_and_fail("cannot inspect");
  }
  socket_device_ = status.st_dev;
  socket_inode_ = status.st_ino;
  if (::listen(listen_fd_, kListenBacklog) != 0) {
    unlink_and_fail("cannot listen on");
  }
}

ControlServer::~ControlServer() {
  for (auto& client : clients_) {
    if (!client->closed) {
      ::close(client->fd);
    }
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    // Remove the socket only if it is still ours; a successor may already have replaced it.
    struct stat status {};
    if (::lstat(config_.socket_path.c_str(), &status) == 0 && status.st_dev == socket_device_ &&
        status.st_ino == socket_inode_) {
      ::unlink(config_.socket_path.c_str());
    }
  }
}

void ControlServer::poll_once(int timeout_ms) {
  poll_swap();
  std::vector<pollfd> fds;
  fds.reserve(clients_.size() + 1);
  fds.push_back({listen_fd_, POLLIN, 0});
  for (const auto& client : clients_) {
    short events = 0;
    if (!client->read_closed && !client->busy() &&
        client->pending() < config_.subscriber_buffer_bytes) {
      events |= POLLIN;
    }
    if (client->pending() > 0) {
      events |= POLLOUT;
    }
    fds.push_back({client->fd, events, 0});
  }
  const int ready = ::poll(fds.data(), fds.size(), std::max(timeout_ms, 0));
  if (ready < 0) {
    return;  // EINTR: the caller loops
  }
  // Clients accepted below are not in `fds`; they are served from the next call on.
  const std::size_t polled_clients = clients_.size();
  for (std::size_t i = 0; i < polled_clients; ++i) {
    Client& client = *clients_[i];
    const short revents = fds[i + 1].revents;
    if (revents & POLLOUT) {
      flush(client);
    }
    // Without new bytes, output that drained may still let held-back lines be answered.
    if (!client.closed) {
      read_from(client, (revents & (POLLIN | POLLHUP | POLLERR)) != 0);
    }
    if (!client.closed && (revents & (POLLHUP | POLLERR))) {
      // Both directions are shut: nothing more can be read or delivered. Closing now also keeps
      // poll from reporting the hang-up again on every call.
      close_client(client);
    }
    if (!client.closed && client.read_closed && client.events == 0 && client.pending() == 0 &&
        !client.busy()) {
      close_client(client);  // the peer said all it had to say and has every answer
    }
  }
  if (fds[0].revents & POLLIN) {
    accept_clients();
  }
  close_idle_clients();
  prune_closed();
}

uint64_t ControlServer::now_ms() const {
  if (config_.clock_ms != nullptr) {
    return config_.clock_ms();
  }
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000 + static_cast<uint64_t>(now.tv_nsec) / 1'000'000;
}

void ControlServer::close_idle_clients() {
  if (config_.idle_timeout_ms == 0) {
    return;
  }
  const uint64_t now = now_ms();
  for (const auto& client : clients_) {
    if (!client->closed && client->events == 0 && client->pending() == 0 && !client->busy() &&
        now - client->last_request_ms >= config_.idle_timeout_ms) {
      counters_.add(ControlCounter::kIdleTimeouts);
      close_client(*client);
    }
  }
}

void ControlServer::accept_clients() {
  for (int i = 0; i < kAcceptsPerPoll; ++i) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
    std::size_t open_clients = 0;
    for (const auto& client : clients_) {
      open_clients += client->closed ? 0 : 1;
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
      ::close(fd);
      continue;
    }
    counters_.add(ControlCounter::kAccepted);
    auto client = std::make_unique<Client>();
    client->serial = next_client_serial_++;
    client->fd = fd;
    client->peer = *peer;
    client->last_request_ms = now_ms();
    clients_.push_back(std::move(client));
  }
}

// A line past max_message_bytes: answered, counted, and the connection closed (whatever follows
// cannot be trusted to start a request).
void ControlServer::refuse_oversized(Client& client) {
  counters_.add(ControlCounter::kOversized);
  counters_.add(ControlCounter::kErrors);
  queue_response(client, make_error_response(JsonValue::null(), ErrorCode::kMessageTooLarge,
                                             "request line longer than " +
                                                 std::to_string(config_.max_message_bytes) +
                                                 " bytes"));
  flush(client);
  close_client(client);
}

// Answers every complete line while the output has room, then (when `readable`) reads what the
// budget allows and answers again.
void ControlServer::read_from(Client& client, bool readable) {
  std::size_t budget = kReadBudgetBytes;
  bool saw_eof = client.read_closed;
  while (!client.closed) {
    // Answer the complete lines already here first; stop while the peer is not reading answers,
    // and while a push of this client is not answered yet.
    while (!client.closed && !client.busy() && client.pending() < config_.subscriber_buffer_bytes) {
      const std::size_t newline = client.input.find('\n', client.scanned);
      if (newline == std::string::npos) {
        client.scanned = client.input.size();
        break;
      }
      std::string line = client.input.substr(0, newline);
      client.input.erase(0, newline + 1);
      client.scanned = 0;
      if (line.size() > config_.max_message_bytes) {
        refuse_oversized(client);
        return;
      }
      handle_line(client, line);
    }
    if (client.closed || client.busy()) {
      return;  // a busy client's lines wait where they are; poll_once does not read it meanwhile
    }
    if (client.input.size() > config_.max_message_bytes) {
      // No newline within the limit: whatever follows cannot be a valid request.
      refuse_oversized(client);
      return;
    }
    if (saw_eof) {
      if (!client.input.empty()) {
        counters_.add(ControlCounter::kIncompleteLines);
        counters_.add(ControlCounter::kErrors);
        queue_response(client, make_error_response(JsonValue::null(), ErrorCode::kIncompleteLine,
                                                   "connection ended in the middle of a line"));
        flush(client);
        close_client(client);
      }
      return;
    }
    if (!readable || client.read_closed || budget == 0 ||
        client.pending() >= config_.subscriber_buffer_bytes) {
      return;
    }
    char chunk[kReadChunkBytes];
    const ssize_t got = ::recv(client.fd, chunk, std::min(sizeof(chunk), budget), 0);
    if (got > 0) {
      client.input.append(chunk, static_cast<std::size_t>(got));
      budget -= static_cast<std::size_t>(got);
      continue;
    }
    if (got == 0) {
      client.read_closed = true;
      saw_eof = true;
      continue;  // answer what is complete, then judge the rest
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    }
    close_client(client);  // ECONNRESET and friends: the peer is gone
    return;
  }
}

void ControlServer::handle_line(Client& client, std::string_view line) {
  client.last_request_ms = now_ms();
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);  // tolerate CRLF from interactive tools
  }
  if (line.find_first_not_of(" \t") == std::string_view::npos) {
    return;  // blank lines are keep-alives, not requests
  }
  counters_.add(ControlCounter::kRequests);
  JsonParseLimits limits;
  limits.max_bytes = config_.max_message_bytes;
  RequestParseResult parsed = parse_request(line, limits);
  if (!parsed.ok()) {
    counters_.add(ControlCounter::kErrors);
    queue_response(client, make_error_response(parsed.request.id, *parsed.error, parsed.message));
    return;
  }
  if (is_push(parsed.request)) {
    begin_push(client, std::move(parsed.request));
    return;
  }
  std::string response;
  try {
    response = answer(client, parsed.request);
  } catch (const std::exception& failure) {
    // The sensor's list code may allocate and throw; a request must never take the sensor down.
    counters_.add(ControlCounter::kErrors);
    response = make_error_response(parsed.request.id, ErrorCode::kInternal, failure.what());
  }
  queue_response(client, std::move(response));
}

std::string ControlServer::answer(Client& client, const Request& request) {
  const JsonValue& id = request.id;
  if (std::holds_alternative<PingRequest>(request.body)) {
    JsonValue fields = JsonValue::object();
    fields.set("pong", JsonValue::boolean(true));
    fields.set("generation", JsonValue::number(sensor_.generation()));
    return make_ok_response(id, std::move(fields));
  }
  if (std::holds_alternative<ListsGetRequest>(request.body)) {
    const inspect::DomainLists lists = sensor_.current_lists();
    JsonValue fields = JsonValue::object();
    fields.set("generation", JsonValue::number(sensor_.generation()));
    fields.set("protected", string_array(lists.protected_domains));
    fields.set("allow", string_array(lists.allow));
    return make_ok_response(id, std::move(fields));
  }
  if (std::holds_alternative<StatsRequest>(request.body)) {
    return answer_stats(id);
  }
  const auto& subscribe = std::get<SubscribeRequest>(request.body);
  client.events = subscribe.events;
  JsonValue events = JsonValue::array();
  for (const auto& [bit, name] : {std::pair{EventKind::kAlert, "alert"},
                                  std::pair{EventKind::kSmtp, "smtp"},
                                  std::pair{EventKind::kStats, "stats"}}) {
    if (subscribe.events & static_cast<uint8_t>(bit)) {
      events.push_back(JsonValue::string(name));
    }
  }
  JsonValue fields = JsonValue::object();
  fields.set("events", std::move(events));
  return make_ok_response(id, std::move(fields));
}

bool ControlServer::is_push(const Request& request) noexcept {
  return std::holds_alternative<ListsSetRequest>(request.body) ||
         std::holds_alternative<ListsChangeRequest>(request.body);
}

namespace {
PreparedPush prepare_push(const Request& request, inspect::DomainLists current);
}  // namespace

// Starts preparing the push (then poll_swap compiles it), or queues it behind the one in flight.
// A push refused before any compile (a bad domain, an empty result) is answered once prepared.
void ControlServer::begin_push(Client& client, Request request) {
  if (swap_.has_value()) {
    counters_.add(ControlCounter::kPushesQueued);
    client.waiting_push = std::move(request);
    push_queue_.push_back(client.serial);
    return;
  }
  const JsonValue id = request.id;
  try {
    // Validating 20,000 domains (UTS #46, public suffixes) takes longer than a control-loop turn
    // should, so it runs on a helper thread too; lists.add/remove start from the lists judging now.
    inspect::DomainLists current;
    if (std::holds_alternative<ListsChangeRequest>(request.body)) {
      current = sensor_.current_lists();
    }
    std::future<PreparedPush> preparing =
        std::async(std::launch::async, [request = std::move(request), current = std::move(current)] {
          return prepare_push(request, current);
        });
    swap_ = Swap{client.serial, id, {}, std::move(preparing), false};
    client.awaiting_swap = true;
  } catch (const std::exception& failure) {
    // Copying the lists allocates, and starting the helper starts a thread; neither may take the
    // sensor down.
    counters_.add(ControlCounter::kErrors);
    queue_response(client, make_error_response(id, ErrorCode::kInternal, failure.what()));
  }
}

namespace {

// Validates both lists as a whole replacement; the error answer names the bad element.
std::optional<inspect::DomainLists> validated_lists(const std::vector<std::string>& protected_domains,
                                                    const std::vector<std::string>& allow,
                                                    const JsonValue& id, std::string& error_answer) {
  inspect::ListParseResult checked_protected =
      inspect::validate_domain_list(protected_domains, "protected");
  if (!checked_protected.ok()) {
    error_answer = make_error_response(id, ErrorCode::kInvalidDomain, checked_protected.error);
    return std::nullopt;
  }
  inspect::ListParseResult checked_allow = inspect::validate_domain_list(allow, "allow");
  if (!checked_allow.ok()) {
    error_answer = make_error_response(id, ErrorCode::kInvalidDomain, checked_allow.error);
    return std::nullopt;
  }
  if (checked_protected.domains.empty()) {
    error_answer = make_error_response(id, ErrorCode::kEmptyProtected,
                                       "protected: the list is empty; the sensor would protect nothing");
    return std::nullopt;
  }
  inspect::DomainLists lists;
  lists.protected_domains = std::move(checked_protected.domains);
  lists.allow = std::move(checked_allow.domains);
  return lists;
}

}  // namespace

namespace {

// lists.set replaces both lists; lists.add and lists.remove change the lists judging now (the
// result of every earlier push, since pushes run one at a time).
// Runs on a helper thread: touches nothing of the server.
PreparedPush prepare_push(const Request& request, inspect::DomainLists current) {
  const JsonValue& id = request.id;
  PreparedPush prepared;
  std::string& error_answer = prepared.error_answer;
  if (const auto* set = std::get_if<ListsSetRequest>(&request.body)) {
    prepared.lists = validated_lists(set->protected_domains, set->allow, id, error_answer);
    return prepared;
  }
  const auto& change = std::get<ListsChangeRequest>(request.body);
  struct Part {
    const std::optional<std::vector<std::string>>& elements;
    const char* name;
    std::vector<std::string>& list;
  };
  for (const Part& part : {Part{change.protected_domains, "protected", current.protected_domains},
                           Part{change.allow, "allow", current.allow}}) {
    if (!part.elements.has_value()) {
      continue;
    }
    // Validate the whole array first so the error names the element's index in the request.
    const inspect::ListParseResult checked = inspect::validate_domain_list(*part.elements, part.name);
    if (!checked.ok()) {
      error_answer = make_error_response(id, ErrorCode::kInvalidDomain, checked.error);
      return prepared;
    }
    for (std::size_t i = 0; i < part.elements->size(); ++i) {
      const inspect::ListParseResult one =
          inspect::validate_domain_list({(*part.elements)[i]}, part.name);
      if (!one.ok() || one.domains.empty()) {
        continue;  // an element that validates to nothing (cannot happen for a valid list)
      }
      const std::string& domain = one.domains.front();
      const auto found = std::find(part.list.begin(), part.list.end(), domain);
      if (change.add) {
        if (found == part.list.end()) {
          part.list.push_back(domain);
        }
      } else if (found == part.list.end()) {
        error_answer = make_error_response(id, ErrorCode::kNotFound,
                                           std::string(part.name) + "[" + std::to_string(i) + "]: \"" +
                                               domain + "\" is not on the " + part.name + " list");
        return prepared;
      } else {
        part.list.erase(found);
      }
    }
  }
  prepared.lists = validated_lists(current.protected_domains, current.allow, id, error_answer);
  return prepared;
}

}  // namespace

// Picks up a finished compile: answers its client (whose held lines are then read on), and starts
// the next queued push.
void ControlServer::poll_swap() {
  if (!swap_.has_value()) {
    return;
  }
  std::string response;
  if (!swap_->compiling) {
    if (swap_->preparing.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      return;
    }
    try {
      PreparedPush prepared = swap_->preparing.get();
      if (prepared.lists.has_value()) {
        sensor_.start_list_swap(*prepared.lists);
        swap_->lists = std::move(*prepared.lists);
        swap_->compiling = true;
        return;
      }
      response = std::move(prepared.error_answer);  // a bad domain, an empty result: nothing changes
    } catch (const std::exception& failure) {
      response = make_error_response(swap_->id, ErrorCode::kInternal, failure.what());
    }
    counters_.add(ControlCounter::kErrors);
  } else {
    std::optional<ListSwapResult> result = sensor_.finish_list_swap();
    if (!result.has_value()) {
      return;
    }
    try {
      response = answer_swap(swap_->id, swap_->lists, *result);
    } catch (const std::exception& failure) {
      counters_.add(ControlCounter::kErrors);
      response = make_error_response(swap_->id, ErrorCode::kInternal, failure.what());
    }
  }
  Swap done = std::move(*swap_);
  swap_.reset();
  Client* owner = find_client(done.client);  // null when it hung up: the push still counts
  if (owner != nullptr) {
    owner->awaiting_swap = false;
    queue_response(*owner, std::move(response));
  }
  // The queue goes first, so a client pushing again right after its answer waits behind others.
  while (!swap_.has_value() && !push_queue_.empty()) {
    Client* next = find_client(push_queue_.front());
    push_queue_.pop_front();
    if (next == nullptr || !next->waiting_push.has_value()) {
      continue;
    }
    Request request = std::move(*next->waiting_push);
    next->waiting_push.reset();
    begin_push(*next, std::move(request));
    if (!next->busy()) {
      read_from(*next, false);  // refused at once: its next lines may be answered now
    }
    poll_swap();  // a push refused by validation at once lets the next one start
  }
  if (owner != nullptr) {
    read_from(*owner, false);
  }
}

std::string ControlServer::answer_swap(const JsonValue& id, const inspect::DomainLists& lists,
                                       const ListSwapResult& swap) {
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
  if (store_ != nullptr) {
    // The swap already happened; a failed save is reported, not undone, and the next successful
    // push writes the file again.
    const std::string error = store_->save(lists);
    fields.set("persisted", JsonValue::boolean(error.empty()));
    if (!error.empty()) {
      counters_.add(ControlCounter::kPersistFailures);
      std::fprintf(stderr, "misdirect: control: lists accepted but not saved: %s\n", error.c_str());
      fields.set("persist_error", JsonValue::string(error));
    }
  }
  return make_ok_response(id, std::move(fields));
}

ControlServer::Client* ControlServer::find_client(uint64_t serial) noexcept {
  for (const auto& client : clients_) {
    if (client->serial == serial && !client->closed) {
      return client.get();
    }
  }
  return nullptr;
}

std::string ControlServer::answer_stats(const JsonValue& id) {
  // The sensor's record and the server's counters are trees written by the stats writer, placed
  // into the answer as they are: never parsed again.
  JsonValue fields = JsonValue::object();
  fields.set("generation", JsonValue::number(sensor_.generation()));
  std::string answer = make_ok_response(id, std::move(fields));
  answer.pop_back();  // the closing brace: the two trees follow
  dataplane::StatsNode record;
  sensor_.collect_stats(record);
  answer += ",\"sensor\":";
  dataplane::write_stats_json(record, answer);
  answer += ",\"control\":";
  dataplane::write_stats_json(counters_tree(), answer);
  answer += '}';
  return answer;
}

void ControlServer::queue_response(Client& client, std::string line) {
  if (client.closed) {
    return;
  }
  client.output.append(line);
  client.output.push_back('\n');
}

void ControlServer::flush(Client& client) {
  while (!client.closed && client.pending() > 0) {
    const ssize_t sent = ::send(client.fd, client.output.data() + client.output_sent,
                                client.pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) {
      client.output_sent += static_cast<std::size_t>(sent);
      client.dropped_since_progress = 0;
      continue;
    }
    if (sent < 0 && errno == EINTR) {
      continue;
    }
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    }
    counters_.add(ControlCounter::kWriteErrors);
    close_client(client);
    return;
  }
  // Drop what was sent once it is most of the buffer, so appends stay amortised O(1).
  if (client.output_sent > 0 && client.output_sent * 2 >= client.output.size()) {
    client.output.erase(0, client.output_sent);
    client.output_sent = 0;
  }
  if (!client.closed && client.dropped_unreported > 0 &&
      client.pending() < config_.subscriber_buffer_bytes / 2) {
    queue_response(client, make_overflow_event(client.dropped_unreported));
    client.dropped_unreported = 0;
  }
}

void ControlServer::broadcast(dataplane::RecordType type, std::string_view json_line) {
  const uint8_t bit = event_bit(type);
  for (auto& owned : clients_) {
    Client& client = *owned;
    if (client.closed || (client.events & bit) == 0) {
      continue;
    }
    if (client.pending() + json_line.size() + 1 > config_.subscriber_buffer_bytes) {
      counters_.add(ControlCounter::kSubscriberDrops);
      ++client.dropped_unreported;
      ++client.dropped_since_progress;
      if (client.dropped_since_progress >= config_.subscriber_drop_limit) {
        counters_.add(ControlCounter::kSubscriberDisconnects);
        std::fprintf(stderr,
                     "misdirect: control: disconnected a subscriber (pid %d uid %u) that dropped "
                     "%llu records without reading\n",
                     static_cast<int>(client.peer.pid), static_cast<unsigned>(client.peer.uid),
                     static_cast<unsigned long long>(client.dropped_since_progress));
        close_client(client);
      }
      continue;
    }
    if (client.dropped_unreported > 0) {
      queue_response(client, make_overflow_event(client.dropped_unreported));
      client.dropped_unreported = 0;
    }
    counters_.add(ControlCounter::kEventsSent);
    client.output.append(json_line);
    client.output.push_back('\n');
  }
}

void ControlServer::close_client(Client& client) {
  if (client.closed) {
    return;
  }
  ::close(client.fd);
  client.fd = -1;
  client.closed = true;
}

void ControlServer::prune_closed() {
  std::erase_if(clients_, [](const std::unique_ptr<Client>& client) { return client->closed; });
}

ControlServerStats ControlServer::stats() const {
  ControlServerStats stats;
  for (const auto& client : clients_) {
    if (!client->closed) {
      ++stats.clients;
      stats.subscribers += client->events != 0 ? 1 : 0;
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
