// SPDX-License-Identifier: Apache-2.0
// What the VM drivers share (lsm_probe_driver, enforce_vm_driver): the VM-RESULT lines of the
// harness protocol (docs/testing-vm.md) and the main() that also serves as the program the exec
// cases run (`DRIVER --child-exit N` exits N at once).
#pragma once

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

namespace vigil::vm {

// Prints "VM-RESULT <formatted>\n" in one write, so kernel messages on the same console cannot
// split the line.
void Result(const char* format, ...) __attribute__((format(printf, 1, 2)));
inline void Result(const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  const std::string line = std::string("VM-RESULT ") + buffer + "\n";
  (void)!write(STDOUT_FILENO, line.data(), line.size());
}

// A driver's main: `--child-exit N` returns N; otherwise argc must be `argc_wanted` (else
// `usage` on stderr and 2) and run() gives the exit code.
inline int DriverMain(int argc, char** argv, int argc_wanted, const char* usage,
                      const std::function<int()>& run) {
  if (argc == 3 && std::strcmp(argv[1], "--child-exit") == 0) return std::atoi(argv[2]);
  if (argc != argc_wanted) {
    std::fprintf(stderr, "usage: %s\n", usage);
    return 2;
  }
  return run();
}

}  // namespace vigil::vm
