// SPDX-License-Identifier: Apache-2.0
// The ia32 (int 0x80) probe: what `vigil probe` and every start report about
// 32-bit syscalls, which the syscalls/ tracepoints never see. No root needed.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <string>

#include "bpf/features.h"

using vigil::capture::Ia32FromConfig;
using vigil::capture::Ia32Syscalls;
using vigil::capture::ProbeIa32Syscalls;

TEST_CASE("ia32 state from the command line and the kernel config", "[unit]") {
  const std::string on =
      "CONFIG_COMPAT=y\nCONFIG_IA32_EMULATION=y\n# CONFIG_IA32_EMULATION_DEFAULT_DISABLED is not set\n";
  const std::string default_off = "CONFIG_IA32_EMULATION=y\nCONFIG_IA32_EMULATION_DEFAULT_DISABLED=y\n";
  const std::string not_built = "CONFIG_COMPAT=y\n# CONFIG_IA32_EMULATION is not set\n";
  struct Row {
    const char* cmdline;
    const std::string* config;
    Ia32Syscalls want;
    const char* note;
  } rows[] = {
      {"root=/dev/vda quiet", &on, Ia32Syscalls::kOn, "enabled by default"},
      {"root=/dev/vda ia32_emulation=0 quiet", &on, Ia32Syscalls::kOff,
       "ia32_emulation=0 on the kernel command line"},
      {"ia32_emulation=false", &on, Ia32Syscalls::kOff, "command line"},
      {"quiet ia32_emulation=1", &default_off, Ia32Syscalls::kOn, "ia32_emulation=1"},
      {"quiet", &default_off, Ia32Syscalls::kOff, "DEFAULT_DISABLED=y"},
      {"quiet", &not_built, Ia32Syscalls::kOff, "CONFIG_IA32_EMULATION is not set"},
      {"xia32_emulation=0", &on, Ia32Syscalls::kOn, "enabled by default"},  // another parameter's name
      {"ia32_emulation=0 ia32_emulation=1", &default_off, Ia32Syscalls::kOn, "ia32_emulation=1"},  // the last counts
  };
  for (const auto& r : rows) {
    std::string note;
    INFO(r.cmdline << " / " << *r.config);
    CHECK(Ia32FromConfig(r.cmdline, *r.config, &note) == r.want);
    CHECK_THAT(note, Catch::Contains(r.note));
  }
  std::string note;
  CHECK(Ia32FromConfig("quiet", "", &note) == Ia32Syscalls::kUnknown);
  CHECK_THAT(note, Catch::Contains("not readable"));
  // The command line decides even when the config cannot be read.
  CHECK(Ia32FromConfig("ia32_emulation=0", "", &note) == Ia32Syscalls::kOff);
}

#if defined(__x86_64__)
namespace {

// What systemd's SystemCallArchitectures=native installs: any call not of
// this process's own architecture kills it with SIGSYS.
bool AllowNativeOnly() {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {static_cast<unsigned short>(sizeof f / sizeof f[0]), f};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

// The kernel's own answer, asked directly: 0 ran, 1 refused (SIGSEGV), 2 other.
int DirectInt80() {
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGSEGV, SIG_DFL);  // not Catch's or ASan's handler: the kernel's answer
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
    _exit(r == static_cast<long>(syscall(SYS_getpid)) ? 0 : 2);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? 1 : 2;
}

}  // namespace

TEST_CASE("the ia32 probe agrees with the kernel, and falls back to the config under seccomp", "[unit]") {
  std::string note;
  Ia32Syscalls s = ProbeIa32Syscalls(&note);
  INFO(note);
  const int direct = DirectInt80();
  REQUIRE(direct != 2);
  CHECK(s == (direct == 0 ? Ia32Syscalls::kOn : Ia32Syscalls::kOff));

  // Under a native-only filter the probe's child is killed; the probe must not
  // read that as "refused by the kernel" but decide from the configuration.
  int pipefd[2];
  REQUIRE(pipe(pipefd) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(pipefd[0]);
    std::string n;
    Ia32Syscalls r = AllowNativeOnly() ? ProbeIa32Syscalls(&n) : Ia32Syscalls::kUnknown;
    std::string out = std::to_string(static_cast<int>(r)) + " " + n;
    (void)!write(pipefd[1], out.data(), out.size());
    _exit(0);
  }
  close(pipefd[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; (n = read(pipefd[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  close(pipefd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  INFO(got);
  REQUIRE(WIFEXITED(st));
  if (direct == 1) {
    // A kernel without ia32 emulation refuses int 0x80 (SIGSEGV) before any
    // seccomp filter sees it: the probe's own answer stands, "no".
    CHECK(got.rfind(std::to_string(static_cast<int>(Ia32Syscalls::kOff)) + " ", 0) == 0);
    return;
  }
  CHECK_THAT(got, Catch::Contains("may not test it (int 0x80 killed by SIGSYS"));
  // The configuration of this kernel, read the same way, says what the kernel showed above
  // (or cannot be read: then "unknown", never a wrong "no").
  auto starts = [&got](Ia32Syscalls v) { return got.rfind(std::to_string(static_cast<int>(v)) + " ", 0) == 0; };
  const bool unknown = starts(Ia32Syscalls::kUnknown);
  const bool agrees = starts(direct == 0 ? Ia32Syscalls::kOn : Ia32Syscalls::kOff);
  CHECK((unknown || agrees));
}
#endif
