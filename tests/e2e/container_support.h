// SPDX-License-Identifier: Apache-2.0
// What the real-runtime container tests share (container_podman_test,
// container_docker_test, falco_container_actions_test): a shell helper, the
// podman fixture, the busybox-static rootfs their images are imported from
// (nothing is pulled), the rules they load, and finding a container's alert.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tests/e2e/vigil_harness.h"

namespace vigil::e2e {

// Runs `cmd` with /bin/sh; returns its stdout (trailing newlines cut) and its
// exit code (-1 when it did not exit normally).
std::pair<std::string, int> Sh(const std::string& cmd);

// Everything a podman test creates outside its directory goes away with it,
// also when a REQUIRE fails: the containers, the image, the API service, dir.
struct PodmanFixture {
  std::string dir, image, sock;
  std::vector<std::string> names;
  pid_t service = -1;

  PodmanFixture() = default;
  PodmanFixture(const PodmanFixture&) = delete;
  PodmanFixture& operator=(const PodmanFixture&) = delete;
  ~PodmanFixture();
  // Starts `podman system service` on unix://`sock` (vigil's podman_socket
  // reads container metadata, e.g. container.privileged, from it) and waits
  // up to 10 s for the socket. "" or why not.
  std::string StartService();
};

// Waits up to `tries` x 100 ms for the daemon the test started (`*daemon`, a
// child; `name` for the messages, its log at `log`) to answer: `answers()`
// true. "" once it does, else why not with the log's last lines (*daemon is
// -1 when it exited).
std::string WaitDaemon(pid_t* daemon, const std::string& name, const std::string& log, int tries,
                       const std::function<bool()>& answers);

// SIGTERM to the daemon, SIGKILL if it has not exited after `tries` x 100 ms;
// *daemon is -1 after. Nothing when it is not running (<= 0).
void StopDaemon(pid_t* daemon, int tries);

// A rootfs in `dir` for `docker import`/`podman import`: /bin/busybox (from
// busybox-static), /bin/sh, and /bin/vigilctrmark, the marked command (busybox
// knows no such applet and exits 127; the exec is what counts). "" or why not.
std::string MakeBusyboxRootfs(const std::string& dir);

// The marker rule: the marked exec with the container fields in its output;
// kContainerEventRule: every `container` event, with the same fields; and
// kContainerRemovedRule: every `container_removed` event (a container exited).
// Writes <dir>/marker.yaml and returns its path.
inline constexpr const char* kMarkerRule = "Container Marker";
inline constexpr const char* kContainerEventRule = "Container Event";
inline constexpr const char* kContainerRemovedRule = "Container Removed";
std::string WriteMarkerRule(const std::string& dir);

// Falco's container_started macro as Falco wrote it while it had the
// `container` event type (a container event or a container init's exec, with
// the image known), to be loaded after Falco's rule files so that Launch
// Privileged Container and Launch Sensitive Mount Container use it. Writes
// <dir>/container_started.yaml and returns its path.
std::string WriteEventContainerStarted(const std::string& dir);

// The first alert of `rule` whose container id is `short_id` (12 hex), or null;
// with `evt_type`, only an alert of that event type.
const SeenAlert* FindContainerAlert(const std::vector<SeenAlert>& alerts, const std::string& rule,
                                    const std::string& short_id, const std::string& evt_type = "");

}  // namespace vigil::e2e
