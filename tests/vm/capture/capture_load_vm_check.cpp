// capture_load_vm_check: runs in a VM and loads vigil's capture object with the defaults, as
// `vigil events` does. The loader switches off a program this kernel's verifier refuses and
// carries on with the rest (a warning for an operator); for the BPF code that is a defect, so
// here every refused program is a failed case. Programs off for a missing hook (a tracepoint
// this kernel lacks) or superseded by another are reported, not failed.
//
// Protocol (docs/testing-vm.md): VM-RESULT lines; exit 0 iff every case passed.
#include <cstdio>
#include <string>

#include "bpf/sensor.h"

int main() {
  vigil::capture::SensorOptions options;
  std::string error;
  auto sensor = vigil::capture::Sensor::Open(options, &error);
  if (!sensor) {
    std::printf("VM-RESULT case capture_open fail %s\n", error.c_str());
    return 1;
  }
  std::printf("VM-RESULT case capture_open pass %zu programs attached\n", sensor->attached().size());
  bool ok = true;
  int refused = 0;
  for (const auto& d : sensor->disabled()) {
    bool verifier = d.reason.find("verifier") != std::string::npos;
    std::printf("VM-INFO program off %s: %s\n", d.name.c_str(), d.reason.c_str());
    if (verifier) {
      std::printf("VM-RESULT case verifier_accepts_%s fail %s\n", d.name.c_str(), d.reason.c_str());
      ok = false;
      ++refused;
    }
  }
  if (refused == 0) std::printf("VM-RESULT case verifier_accepts_all pass\n");
  // The file, network and exec families must be running.
  for (const char* need : {"vg_exit_openat", "vg_exit_renameat2", "vg_exit_mount", "vg_exit_connect", "vg_sched_exec"}) {
    bool attached = false;
    for (const auto& a : sensor->attached()) attached |= a == need;
    std::printf("VM-RESULT case attached_%s %s\n", need, attached ? "pass" : "fail");
    ok &= attached;
  }
  return ok ? 0 : 1;
}
