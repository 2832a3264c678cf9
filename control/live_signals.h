// The live sensor's signals: SIGINT and SIGTERM ask for an orderly stop, SIGHUP for the EVE file
// to be reopened (log rotation), SIGPIPE is ignored (a client that went away is a write error).
// The handlers only set flags; the control loop reads them each round.
#pragma once

namespace misdirect::control {

void install_live_signal_handlers();
// A stop was asked for.
bool stop_requested() noexcept;
// A reopen was asked for since the last call (the request is taken).
bool take_reopen_request() noexcept;

}  // namespace misdirect::control
