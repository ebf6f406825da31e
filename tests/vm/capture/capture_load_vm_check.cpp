// SPDX-License-Identifier: Apache-2.0
// capture_load_vm_check: runs in a VM and loads vigil's capture object with the defaults, as
// `vigil events` does. The loader switches off a program this kernel's verifier refuses and
// carries on with the rest (a warning for an operator); for the BPF code that is a defect, so
// here every refused program is a failed case. Programs off for a missing hook (a tracepoint
// this kernel lacks) or superseded by another are reported, not failed.
//
// The BPF builds are checked: the automatic choice must be the typed build exactly where the
// kernel is 6.2 or newer (bpf_rdonly_cast), the compat build on 5.17-6.1 and the legacy build
// before 5.17 (no bpf_loop), and must load without falling back; the other builds are then
// loaded too where they can be (compat on 6.2+; the legacy build on newer kernels is the host's
// capture_*_test_legacy, a load under TCG being ~35 s), and a build this kernel
// cannot take must be refused up front, with a message naming what is missing.
//
// Protocol (docs/testing-vm.md): VM-RESULT lines; exit 0 iff every case passed.
#include <sys/utsname.h>

#include <cstdio>
#include <string>

#include "bpf/features.h"
#include "bpf/sensor.h"

namespace {

using vigil::capture::BpfBuild;
using vigil::capture::BpfBuildName;
using vigil::capture::Sensor;
using vigil::capture::SensorOptions;

// Loads `build` and reports its cases under `tag`; false when a case failed.
bool CheckLoad(BpfBuild build, const std::string& tag, BpfBuild* loaded) {
  SensorOptions options;
  options.build = build;
  options.seed_from_proc = false;
  std::string error;
  auto sensor = Sensor::Open(options, &error);
  if (!sensor) {
    std::printf("VM-RESULT case %s_open fail %s\n", tag.c_str(), error.c_str());
    return false;
  }
  *loaded = sensor->build();
  std::printf("VM-RESULT case %s_open pass %zu programs attached, %s build\n", tag.c_str(),
              sensor->attached().size(), std::string(BpfBuildName(sensor->build())).c_str());
  bool ok = true;
  int refused = 0;
  for (const auto& d : sensor->disabled()) {
    bool verifier = d.reason.find("verifier") != std::string::npos;
    std::printf("VM-INFO %s program off %s: %s\n", tag.c_str(), d.name.c_str(), d.reason.c_str());
    if (verifier) {
      std::printf("VM-RESULT case %s_verifier_accepts_%s fail %s\n", tag.c_str(), d.name.c_str(), d.reason.c_str());
      ok = false;
      ++refused;
    }
  }
  if (refused == 0) std::printf("VM-RESULT case %s_verifier_accepts_all pass\n", tag.c_str());
  // The file, network and exec families must be running.
  for (const char* need : {"vg_exit_openat", "vg_exit_renameat2", "vg_exit_mount", "vg_exit_utimensat",
                           "vg_exit_connect", "vg_sched_exec"}) {
    bool attached = false;
    for (const auto& a : sensor->attached()) attached |= a == need;
    std::printf("VM-RESULT case %s_attached_%s %s\n", tag.c_str(), need, attached ? "pass" : "fail");
    ok &= attached;
  }
  return ok;
}

}  // namespace

int main() {
  struct utsname u{};
  uname(&u);
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  const bool has_cast = major > 6 || (major == 6 && minor >= 2);
  const bool has_loop = major > 5 || (major == 5 && minor >= 17);

  BpfBuild loaded = BpfBuild::kAuto;
  bool ok = CheckLoad(BpfBuild::kAuto, "auto", &loaded);
  BpfBuild want = has_cast ? BpfBuild::kTyped : has_loop ? BpfBuild::kCompat : BpfBuild::kLegacy;
  bool right = loaded == want;
  std::printf("VM-RESULT case auto_build_is_%s %s (kernel %s, loaded %s)\n", std::string(BpfBuildName(want)).c_str(),
              right ? "pass" : "fail", u.release, std::string(BpfBuildName(loaded)).c_str());
  ok &= right;

  if (has_cast) ok &= CheckLoad(BpfBuild::kCompat, "compat", &loaded);
  if (!has_loop) {
    for (BpfBuild b : {BpfBuild::kTyped, BpfBuild::kCompat}) {
      SensorOptions options;
      options.build = b;
      options.seed_from_proc = false;
      std::string error;
      auto sensor = Sensor::Open(options, &error);
      bool refused = !sensor && error.find("no bpf_loop helper") != std::string::npos;
      std::printf("VM-RESULT case %s_refused_up_front %s %s\n", std::string(BpfBuildName(b)).c_str(),
                  refused ? "pass" : "fail", sensor ? "(it loaded)" : error.c_str());
      ok &= refused;
    }
  } else if (!has_cast) {
    SensorOptions options;
    options.build = BpfBuild::kTyped;
    options.seed_from_proc = false;
    std::string error;
    auto sensor = Sensor::Open(options, &error);
    // refused before any load, naming the kfunc and the probe's reason (a
    // kernel before 6.2 has no such function in its BTF)
    bool refused = !sensor && error.find("bpf_rdonly_cast") != std::string::npos &&
                   error.find("not in this kernel's BTF") != std::string::npos;
    std::printf("VM-RESULT case typed_refused_up_front %s %s\n", refused ? "pass" : "fail",
                sensor ? "(it loaded)" : error.c_str());
    ok &= refused;
  }

  // Debian's kernels are built with CONFIG_IA32_EMULATION=y, on by default,
  // and the harness boots them without ia32_emulation=: 32-bit syscalls run,
  // and the probe must say so (the start-up warning depends on it).
  std::string note;
  vigil::capture::Ia32Syscalls ia32 = vigil::capture::ProbeIa32Syscalls(&note);
  bool ia32_on = ia32 == vigil::capture::Ia32Syscalls::kOn;
  std::printf("VM-RESULT case ia32_syscalls_reported_on %s (%s: %s)\n", ia32_on ? "pass" : "fail",
              std::string(vigil::capture::Ia32SyscallsName(ia32)).c_str(), note.c_str());
  ok &= ia32_on;
  return ok ? 0 : 1;
}
