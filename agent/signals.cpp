// SPDX-License-Identifier: Apache-2.0
#include "agent/signals.h"

#include <signal.h>

#include <atomic>

#ifdef VIGIL_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace vigil::agent {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
std::atomic<bool> g_reopen{false};
static_assert(std::atomic<bool>::is_always_lock_free, "flags are set from signal handlers");

void OnSignal(int sig) {
  switch (sig) {
    case SIGINT:
    case SIGTERM:
      g_stop.store(true);
      break;
    case SIGHUP:
      g_reload.store(true);
      break;
    case SIGUSR1:
      g_reopen.store(true);
      break;
    default:
      break;
  }
}

}  // namespace

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: let epoll_wait return EINTR promptly
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaction(sig, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool StopRequested() { return g_stop.load(); }
bool TakeReloadRequest() { return g_reload.exchange(false); }
bool TakeReopenRequest() { return g_reopen.exchange(false); }

void NotifyServiceManager(const char* state) {
#ifdef VIGIL_HAVE_SYSTEMD
  sd_notify(0, state);
#else
  (void)state;
#endif
}

}  // namespace vigil::agent
