// SPDX-License-Identifier: Apache-2.0
// Process signals for the long-running commands, and the service manager's
// notifications. Handlers only set flags; the hot thread reads them between
// polls (Poll returns -EINTR or times out).
#pragma once

namespace vigil::agent {

// SIGINT/SIGTERM -> stop, SIGHUP -> reload (and reopen files), SIGUSR1 -> reopen files.
void InstallSignalHandlers();
bool StopRequested();
// True once per SIGHUP received since the last call.
bool TakeReloadRequest();
// True once per SIGUSR1 received since the last call.
bool TakeReopenRequest();

// sd_notify(3) `state` ("READY=1", "RELOADING=1", "STOPPING=1") when built
// with libsystemd and run under a Type=notify unit; otherwise nothing.
void NotifyServiceManager(const char* state);

}  // namespace vigil::agent
