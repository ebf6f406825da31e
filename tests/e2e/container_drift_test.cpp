// SPDX-License-Identifier: Apache-2.0
// Drift in a real container (label root): podman + runc with podman's overlay
// storage, an image imported from a busybox-static rootfs, and the real
// `vigil run` with Falco's falco_rules.yaml. A binary copied into the
// container's file system at run time lives in the overlay's upper layer:
// its exec has proc.is_exe_upper_layer true and Falco's "Drop and execute new
// binary in container" fires; the image's own /bin/busybox is in a lower
// layer (false), and the rule stays quiet for it. Before issue 18 the field
// was always <NA> and the rule could never fire.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/e2e/container_support.h"
#include "tests/e2e/vigil_harness.h"

#ifndef VIGIL_FALCO_RULES_DIR
#error "VIGIL_FALCO_RULES_DIR must point at shared/corpus/falco-rules"
#endif

namespace {

// Sh, VigilProcess, SeenAlert, FindContainerAlert and the marker rules.
using namespace vigil::e2e;

constexpr const char* kLayerRule = "Container Exe Layer";
constexpr const char* kFalcoDrift = "Drop and execute new binary in container";

// Every exec in a container, with the executable's layer and inode.
std::string WriteLayerRule(const std::string& dir) {
  const std::string output =
      "exe layer (exe=%proc.exepath args=%proc.args upper=%proc.is_exe_upper_layer ino=%proc.exe_ino "
      "ctime=%proc.exe_ino.ctime since=%proc.exe_ino.ctime_duration_proc_start)";
  const std::string path = dir + "/layer.yaml";
  std::ofstream(path) << RuleYaml(kLayerRule, "the drift test's view of each container exec",
                                  "evt.type in (execve, execveat) and container.id != host", output, "INFO");
  return path;
}

const SeenAlert* Find(const std::vector<SeenAlert>& alerts, const std::string& rule, const std::string& exe,
                      const std::string& args_contains) {
  for (const auto& a : alerts)
    if (a.rule == rule && a.Field("proc.exepath") == exe && a.output.find(args_contains) != std::string::npos)
      return &a;
  return nullptr;
}

}  // namespace

TEST_CASE("podman: a binary dropped into a container runs from the upper layer; Falco's drift rule fires", "[root]") {
  if (Sh("command -v podman && command -v runc").second != 0) FAIL("podman and runc are required (scripts/install-deps.sh)");
  const std::string driver = Sh("podman info --format '{{.Store.GraphDriverName}}'").first;
  INFO("podman storage driver: " << driver);
  REQUIRE(driver == "overlay");  // vfs would give no overlay layers to tell apart

  PodmanFixture fx("vigil-drift");
  const std::string tag = std::to_string(getpid());
  const std::string rootfs = fx.dir + "/rootfs";
  REQUIRE(vigil::e2e::MakeBusyboxRootfs(rootfs) == "");
  REQUIRE(fx.ImportImage(rootfs, "localhost/vigil-drift-test:" + tag) == "");

  VigilProcess vigil(fx.dir, {vigil::e2e::WriteSentinelRule(fx.dir), WriteLayerRule(fx.dir),
                              std::string(VIGIL_FALCO_RULES_DIR) + "/falco_rules.yaml"});
  vigil.set_extra_config(PodmanOnlyConfig(""));  // the layers need no runtime metadata
  const std::string started = vigil.Start();
  INFO(started);
  REQUIRE(started == "");

  const std::string name = "vigil-drift-" + tag;
  fx.names = {name};
  // The image's busybox runs first (lower layer), then a copy made in the
  // container (upper layer; busybox picks the applet by its file name, so
  // the copy keeps it), each with a marking argument. The copy is not the
  // script's last command, which the shell would exec in its own process
  // (started before the copy: ctime_duration_proc_start <NA>).
  const std::string script =
      "/bin/busybox echo vigil-lower-mark; /bin/busybox mkdir /drop && /bin/busybox cp /bin/busybox /drop/busybox && "
      "/drop/busybox echo vigil-upper-mark; /bin/busybox true";
  auto r = Sh(kPodmanRun + std::string("--name ") + name + " " + fx.image + " /bin/sh -c '" + script + "' 2>&1");
  INFO(r.first);
  REQUIRE(r.second == 0);
  CHECK(r.first.find("vigil-upper-mark") != std::string::npos);

  std::vector<SeenAlert> alerts;
  REQUIRE(FinishSteps(vigil, fx.dir, &alerts) == "");
  INFO(vigil.LogTail(20000));

  const SeenAlert* lower = Find(alerts, kLayerRule, "/bin/busybox", "vigil-lower-mark");
  const SeenAlert* upper = Find(alerts, kLayerRule, "/drop/busybox", "vigil-upper-mark");
  REQUIRE(lower != nullptr);
  REQUIRE(upper != nullptr);
  INFO("lower: " << lower->output << "\nupper: " << upper->output);
  CHECK(lower->Field("proc.is_exe_upper_layer") == "false");
  CHECK(upper->Field("proc.is_exe_upper_layer") == "true");
  // Both inodes known and distinct; the copy was made (its ctime) just
  // before the shell forked the process that ran it: seconds at most.
  CHECK_FALSE(lower->Field("proc.exe_ino").empty());
  CHECK_FALSE(upper->Field("proc.exe_ino").empty());
  CHECK(lower->Field("proc.exe_ino") != upper->Field("proc.exe_ino"));
  const std::string since = upper->Field("proc.exe_ino.ctime_duration_proc_start");
  REQUIRE_FALSE(since.empty());
  CHECK(std::stoll(since) > 0);
  CHECK(std::stoll(since) < 60'000'000'000LL);

  // Falco's rule: the dropped binary, not the image's.
  CHECK(Find(alerts, kFalcoDrift, "/drop/busybox", "vigil-upper-mark") != nullptr);
  CHECK(Find(alerts, kFalcoDrift, "/bin/busybox", "vigil-lower-mark") == nullptr);
}
