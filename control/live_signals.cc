// The live sensor's signals (see live_signals.h).
#include "control/live_signals.h"

#include <signal.h>

#include <csignal>

namespace misdirect::control {

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reopen = 0;

void on_stop_signal(int) { g_stop = 1; }
void on_hangup(int) { g_reopen = 1; }

}  // namespace

void install_live_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  action.sa_handler = on_hangup;
  sigaction(SIGHUP, &action, nullptr);
  action.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &action, nullptr);
}

bool stop_requested() noexcept { return g_stop != 0; }

bool take_reopen_request() noexcept {
  if (g_reopen == 0) {
    return false;
  }
  g_reopen = 0;
  return true;
}

}  // namespace misdirect::control
