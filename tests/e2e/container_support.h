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

#include "engine/non_copyable.h"
#include "tests/e2e/vigil_harness.h"

namespace vigil::e2e {

// Runs `cmd` with /bin/sh; returns its stdout (trailing newlines cut) and its
// exit code (-1 when it did not exit normally).
std::pair<std::string, int> Sh(const std::string& cmd);

// A new directory /tmp/<prefix>-XXXXXX; throws std::runtime_error when it
// cannot be made.
std::string MakeTestDir(const std::string& prefix);

// Everything a podman test creates outside its directory goes away with it,
// also when a REQUIRE fails: the containers, the image, the API service, dir.
struct PodmanFixture : NonCopyable {
  std::string dir, image, sock;
  std::vector<std::string> names;
  pid_t service = -1;

  // dir: MakeTestDir(prefix); sock: the API socket's path in it.
  explicit PodmanFixture(const std::string& prefix);
  ~PodmanFixture();
  // Starts `podman system service` on unix://`sock` (vigil's podman_socket
  // reads container metadata, e.g. container.privileged, from it) and waits
  // up to 10 s for the socket. "" or why not.
  std::string StartService();
  // Imports the rootfs at `rootfs` as `image_ref` (the fixture removes it).
  // "" or podman's output.
  std::string ImportImage(const std::string& rootfs, const std::string& image_ref);
};

// How the tests run a podman container (append the flags, name, image,
// command): crun refuses this host's cgroup v1 hybrid layout; podman's
// default RLIMIT_NOFILE/NPROC exceed what runc may set here.
inline constexpr const char* kPodmanRun =
    "podman run --runtime runc --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 ";

// vigil's `containers:` section with only podman's socket (`podman_sock`, ""
// for none) and `more` (indented lines, each ending in a newline) after it.
std::string PodmanOnlyConfig(const std::string& podman_sock, const std::string& more = "");

// The daemon tests' one skip: `start()` starts the test's daemon (`name`) and
// returns "" once it answers, else why not. When it cannot start on this host,
// SKIP and the reason are printed, `cleanup()` runs and the process exits with
// 77 (the tests' SKIP_RETURN_CODE); else how long it took is printed.
void StartDaemonOrSkip(const std::string& name, const std::function<std::string()>& start,
                       const std::function<void()>& cleanup);

// Starts `args` (args[0] looked up in PATH) as a child whose stdout and
// stderr go to `log` (created, truncated): the daemon a test runs. Its pid, or
// -1 when fork failed.
pid_t SpawnDaemon(const std::vector<std::string>& args, const std::string& log);

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

// What a container's marker alert (kMarkerRule) must carry.
struct ExpectedContainer {
  std::string name, id, image, repo, tag;
  std::string privileged;  // "true" or "false"
  std::string mount;       // a part of container.mounts; "" for any
};

// "" when the marker alert of `want` (found by the short id) carries its id,
// name, image, repository, tag, privileged flag and mount; else what differs.
std::string MarkerMismatches(const std::vector<SeenAlert>& alerts, const ExpectedContainer& want);

// The first alert of `rule` whose container id is `short_id` (12 hex), or null;
// with `evt_type`, only an alert of that event type.
const SeenAlert* FindContainerAlert(const std::vector<SeenAlert>& alerts, const std::string& rule,
                                    const std::string& short_id, const std::string& evt_type = "");

}  // namespace vigil::e2e
