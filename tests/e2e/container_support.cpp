// SPDX-License-Identifier: Apache-2.0
#include "tests/e2e/container_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace vigil::e2e {

std::pair<std::string, int> Sh(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {"", -1};
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return {out, WIFEXITED(st) ? WEXITSTATUS(st) : -1};
}

std::string MakeTestDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl + " failed");
  return tmpl;
}

PodmanFixture::PodmanFixture(const std::string& prefix) : dir(MakeTestDir(prefix)), sock(dir + "/podman.sock") {}

PodmanFixture::~PodmanFixture() {
  for (const auto& n : names) Sh("podman rm -f -t 0 " + n + " >/dev/null 2>&1");
  if (!image.empty()) Sh("podman rmi -f " + image + " >/dev/null 2>&1");
  if (service > 0) {
    kill(service, SIGTERM);
    waitpid(service, nullptr, 0);
  }
  if (!dir.empty()) Sh("rm -rf " + dir);
}

std::string PodmanFixture::StartService() {
  service = fork();
  if (service < 0) return "fork failed";
  if (service == 0) {
    const std::string uri = "unix://" + sock;
    execlp("podman", "podman", "system", "service", "--time=0", uri.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    struct stat st{};
    if (stat(sock.c_str(), &st) == 0) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "podman system service did not create " + sock + " within 10 s";
}

std::string PodmanFixture::ImportImage(const std::string& rootfs, const std::string& image_ref) {
  image = image_ref;
  auto r = Sh("tar -C " + rootfs + " -c . | podman import - " + image + " 2>&1");
  return r.second == 0 ? "" : "podman import " + image + ": " + r.first;
}

std::string PodmanOnlyConfig(const std::string& podman_sock, const std::string& more) {
  return "containers:\n  docker_socket: \"\"\n  podman_socket: " + (podman_sock.empty() ? "\"\"" : podman_sock) +
         "\n  containerd_socket: \"\"\n  crio_socket: \"\"\n" + more;
}

void StartDaemonOrSkip(const std::string& name, const std::function<std::string()>& start,
                       const std::function<void()>& cleanup) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string error = start();
  if (!error.empty()) {
    std::printf("SKIP: %s could not start here: %s\n", name.c_str(), error.c_str());
    std::fflush(stdout);
    cleanup();
    std::_Exit(77);
  }
  std::printf("%s answered after %.1f s\n", name.c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

pid_t SpawnDaemon(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid != 0) return pid;
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
  }
  execvp(argv[0], argv.data());
  _exit(127);
}

std::string WaitDaemon(pid_t* daemon, const std::string& name, const std::string& log, int tries,
                       const std::function<bool()>& answers) {
  for (int i = 0; i < tries; ++i) {
    int st = 0;
    if (waitpid(*daemon, &st, WNOHANG) == *daemon) {
      *daemon = -1;
      return name + " exited (status " + std::to_string(st) + "): " + Sh("tail -5 " + log).first;
    }
    if (answers()) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return name + " did not answer within " + std::to_string(tries / 10) + " s: " + Sh("tail -5 " + log).first;
}

void StopDaemon(pid_t* daemon, int tries) {
  if (*daemon <= 0) return;
  kill(*daemon, SIGTERM);
  int st = 0;
  bool gone = false;
  for (int i = 0; i < tries && !gone; ++i) {
    gone = waitpid(*daemon, &st, WNOHANG) == *daemon;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!gone) {
    kill(*daemon, SIGKILL);
    waitpid(*daemon, &st, 0);
  }
  *daemon = -1;
}

std::string MakeBusyboxRootfs(const std::string& dir) {
  auto r = Sh("mkdir -p " + dir + "/bin " + dir + "/proc " + dir + "/sys " + dir + "/dev && cp /bin/busybox " + dir +
              "/bin/busybox && ln -s busybox " + dir + "/bin/sh && ln -s busybox " + dir + "/bin/vigilctrmark 2>&1");
  return r.second == 0 ? "" : "rootfs in " + dir + ": " + r.first;
}

std::string WriteMarkerRule(const std::string& dir) {
  const std::string path = dir + "/marker.yaml";
  std::ofstream(path) << RuleYaml(kMarkerRule, "the container test's marked command",
                                  "evt.type in (execve, execveat) and proc.name = vigilctrmark",
                                  "marker (id=%container.id name=%container.name image=%container.image "
                                  "repo=%container.image.repository tag=%container.image.tag "
                                  "priv=%container.privileged mounts=%container.mounts)",
                                  "NOTICE")
                      << RuleYaml(kContainerEventRule, "vigil's synthesized container start event",
                                  "evt.type = container",
                                  "container seen (id=%container.id name=%container.name image=%container.image "
                                  "repo=%container.image.repository priv=%container.privileged proc=%proc.name)",
                                  "INFO")
                      << RuleYaml(kContainerRemovedRule, "vigil's container stop event",
                                  "evt.type = container_removed",
                                  "container removed (id=%container.id name=%container.name "
                                  "image=%container.image priv=%container.privileged type=%evt.type)",
                                  "INFO");
  return path;
}

std::string WriteEventContainerStarted(const std::string& dir) {
  const std::string path = dir + "/container_started.yaml";
  // The condition is Falco's (falco_rules.yaml before the container plugin
  // took the event type away); a later file's macro replaces the earlier one.
  std::ofstream(path) << "- macro: container_started\n"
                         "  condition: >\n"
                         "    ((evt.type = container or\n"
                         "     (spawned_process and proc.vpid=1)) and\n"
                         "     container.image.repository != incomplete)\n";
  return path;
}

std::string MarkerMismatches(const std::vector<SeenAlert>& alerts, const ExpectedContainer& want) {
  const std::string short_id = want.id.substr(0, 12);
  const SeenAlert* m = FindContainerAlert(alerts, kMarkerRule, short_id);
  if (m == nullptr) return "no marker alert for " + want.name + " (" + short_id + ")";
  std::string out;
  auto expect = [&](const char* field, const std::string& value) {
    if (m->Field(field) != value) out += std::string(field) + " is '" + m->Field(field) + "', not '" + value + "'; ";
  };
  expect("container.id", short_id);
  expect("container.name", want.name);
  expect("container.image", want.image);
  expect("container.image.repository", want.repo);
  expect("container.image.tag", want.tag);
  expect("container.privileged", want.privileged);
  if (m->Field("container.mounts").find(want.mount) == std::string::npos)
    out += "container.mounts '" + m->Field("container.mounts") + "' lacks '" + want.mount + "'; ";
  return out;
}

const SeenAlert* FindContainerAlert(const std::vector<SeenAlert>& alerts, const std::string& rule,
                                    const std::string& short_id, const std::string& evt_type) {
  for (const auto& a : alerts) {
    if (a.rule != rule) continue;
    if (a.Field("container.id") != short_id && a.container.rfind(short_id, 0) != 0) continue;
    if (!evt_type.empty() && a.Field("evt.type") != evt_type) continue;
    return &a;
  }
  return nullptr;
}

}  // namespace vigil::e2e
