// SPDX-License-Identifier: Apache-2.0
// lsm_probe_driver: loads lsm_probe.bpf.c, attaches its two BPF LSM hooks, and checks, with real
// syscalls, that exec and open of the marked files fail with EPERM (refused by the expected hook,
// seen in the per-hook denial counter) while their unmarked twins still work.
//
// Runs inside a VM booted by vm_harness.sh and speaks its line protocol on stdout:
//   VM-RESULT kernel <release>
//   VM-RESULT lsm <contents of /sys/kernel/security/lsm>
//   VM-RESULT hook <name> loaded|failed [<reason>]
//   VM-RESULT case <name> pass|fail <detail>
// Exit status 0 iff every hook loaded and every case passed.
//
// `lsm_probe_driver --child-exit N` exits with N at once: the exec cases run copies of this binary
// in that mode, so an allowed exec is proven by its exit status.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lsm_probe.h"
#include "lsm_probe.skel.h"
#include "vm_driver.h"

extern char** environ;

namespace {

constexpr int kAllowedExitCode = 7;  // what a successfully exec'd twin exits with
constexpr const char* kOpenContent = "vigil-vm-lsm-probe\n";

struct SkelDeleter {
  void operator()(lsm_probe* skel) const { lsm_probe__destroy(skel); }
};
using SkelPtr = std::unique_ptr<lsm_probe, SkelDeleter>;

using vigil::vm::Result;

std::string ReadFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return "unreadable";
  return line;
}

std::optional<std::string> CopyFile(const std::string& from, const std::string& to, mode_t mode) {
  std::ifstream in(from, std::ios::binary);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  if (!in || !out) return "cannot copy " + from + " to " + to;
  out << in.rdbuf();
  out.close();
  if (!out || chmod(to.c_str(), mode) != 0) return "cannot write " + to;
  return std::nullopt;
}

std::optional<std::string> WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
  out.close();
  if (!out) return "cannot write " + path;
  return std::nullopt;
}

// Marks `path` in the deny map for `hook`, keyed as the kernel sees the file.
std::optional<std::string> MarkFile(const lsm_probe& skel, const std::string& path, lsm_probe_hook hook) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "stat " + path + ": " + std::strerror(errno);
  lsm_probe_key key{};
  key.ino = st.st_ino;
  key.dev = (major(st.st_dev) << 20) | minor(st.st_dev);  // the kernel's internal dev_t
  __u32 mask = 1u << hook;
  if (bpf_map__update_elem(skel.maps.deny_files, &key, sizeof(key), &mask, sizeof(mask), BPF_ANY) != 0) {
    return "update deny_files for " + path + ": " + std::strerror(errno);
  }
  return std::nullopt;
}

std::optional<__u64> Denials(const lsm_probe& skel, lsm_probe_hook hook) {
  __u32 key = hook;
  __u64 value = 0;
  if (bpf_map__lookup_elem(skel.maps.denials, &key, sizeof(key), &value, sizeof(value), 0) != 0) {
    return std::nullopt;
  }
  return value;
}

// Outcome of one action: errno of the refused syscall (0 = it succeeded) and, if it succeeded,
// whether the effect was the expected one.
struct Outcome {
  int error = 0;
  std::string detail;
  bool effect_ok = false;
};

Outcome SpawnAndWait(const std::string& path) {
  std::string code = std::to_string(kAllowedExitCode);
  std::vector<char*> argv = {const_cast<char*>(path.c_str()), const_cast<char*>("--child-exit"), code.data(),
                             nullptr};
  pid_t pid = 0;
  // glibc's posix_spawn reports the child's execve errno as its return value.
  int error = posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv.data(), environ);
  if (error != 0) return {error, std::string("execve: ") + std::strerror(error), false};
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return {0, "waitpid failed", false};
  bool ok = WIFEXITED(status) && WEXITSTATUS(status) == kAllowedExitCode;
  return {0, "child exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1), ok};
}

Outcome OpenAndRead(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    return {error, std::string("open: ") + std::strerror(error), false};
  }
  char buffer[64] = {};
  ssize_t n = read(fd, buffer, sizeof(buffer) - 1);
  close(fd);
  bool ok = n > 0 && std::string(buffer, static_cast<size_t>(n)) == kOpenContent;
  return {0, ok ? "read expected content" : "read unexpected content", ok};
}

struct Case {
  const char* name;
  std::function<Outcome()> action;
  lsm_probe_hook hook;  // the hook whose counter must move (denied) or stay (allowed)
  bool denied;          // expect EPERM from `hook`; else expect success and the effect
};

bool RunCase(const lsm_probe& skel, const Case& c) {
  std::optional<__u64> before = Denials(skel, c.hook);
  Outcome outcome = c.action();
  std::optional<__u64> after = Denials(skel, c.hook);
  if (!before || !after) {
    Result("case %s fail cannot read the denial counter", c.name);
    return false;
  }
  __u64 delta = *after - *before;
  bool pass = c.denied ? (outcome.error == EPERM && delta == 1)
                       : (outcome.error == 0 && outcome.effect_ok && delta == 0);
  Result("case %s %s %s; hook denials +%llu (expected %s, +%d)", c.name, pass ? "pass" : "fail",
         outcome.detail.c_str(), static_cast<unsigned long long>(delta), c.denied ? "EPERM" : "success",
         c.denied ? 1 : 0);
  return pass;
}

int LibbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  return std::vfprintf(stderr, format, args);
}

int Run() {
  struct utsname uts {};
  uname(&uts);
  Result("kernel %s", uts.release);
  const std::string lsm = ReadFirstLine("/sys/kernel/security/lsm");
  Result("lsm %s", lsm.c_str());
  // A BPF LSM program attaches even when "bpf" is not an active LSM (the trampoline sits on a
  // stub the kernel then never calls), so an attach alone does not prove enforcement.
  const bool bpf_lsm_active = ("," + lsm + ",").find(",bpf,") != std::string::npos;

  const char* tmp = std::getenv("TMPDIR");
  std::string dir_template = std::string(tmp ? tmp : "/tmp") + "/vm-lsm-probe.XXXXXX";
  if (mkdtemp(dir_template.data()) == nullptr) {
    std::fprintf(stderr, "lsm_probe_driver: mkdtemp: %s\n", std::strerror(errno));
    return 1;
  }
  const std::string dir = dir_template;
  const std::string exec_denied = dir + "/exec_denied", exec_allowed = dir + "/exec_allowed";
  const std::string open_denied = dir + "/open_denied", open_allowed = dir + "/open_allowed";
  for (auto error :
       {CopyFile("/proc/self/exe", exec_denied, 0755), CopyFile("/proc/self/exe", exec_allowed, 0755),
        WriteFile(open_denied, kOpenContent), WriteFile(open_allowed, kOpenContent)}) {
    if (error) {
      std::fprintf(stderr, "lsm_probe_driver: %s\n", error->c_str());
      return 1;
    }
  }

  libbpf_set_print(LibbpfPrint);
  SkelPtr skel(lsm_probe__open_and_load());
  if (!skel) {
    int error = errno;
    Result("hook bprm_check_security failed load: %s", std::strerror(error));
    Result("hook file_open failed load: %s", std::strerror(error));
    return 1;
  }
  for (const auto& [path, hook] :
       {std::pair{exec_denied, LSM_PROBE_HOOK_EXEC}, std::pair{open_denied, LSM_PROBE_HOOK_OPEN}}) {
    if (auto error = MarkFile(*skel, path, hook)) {
      std::fprintf(stderr, "lsm_probe_driver: %s\n", error->c_str());
      return 1;
    }
  }

  bool all_ok = true;
  struct Hook {
    const char* name;
    bpf_program* program;
    bpf_link** link;
  };
  for (const Hook& hook : {Hook{"bprm_check_security", skel->progs.deny_exec, &skel->links.deny_exec},
                           Hook{"file_open", skel->progs.deny_open, &skel->links.deny_open}}) {
    *hook.link = bpf_program__attach(hook.program);  // owned by the skeleton from here
    if (*hook.link == nullptr) {
      Result("hook %s failed attach: %s", hook.name, std::strerror(errno));
      all_ok = false;
    } else if (!bpf_lsm_active) {
      Result("hook %s failed attached but inactive: bpf not in the active LSMs", hook.name);
      all_ok = false;
    } else {
      Result("hook %s loaded", hook.name);
    }
  }

  const Case cases[] = {
      {"exec_denied", [&] { return SpawnAndWait(exec_denied); }, LSM_PROBE_HOOK_EXEC, true},
      {"exec_allowed", [&] { return SpawnAndWait(exec_allowed); }, LSM_PROBE_HOOK_EXEC, false},
      {"open_denied", [&] { return OpenAndRead(open_denied); }, LSM_PROBE_HOOK_OPEN, true},
      {"open_allowed", [&] { return OpenAndRead(open_allowed); }, LSM_PROBE_HOOK_OPEN, false},
  };
  for (const Case& c : cases) all_ok = RunCase(*skel, c) && all_ok;

  skel.reset();  // detach before cleaning up, so the marked files can be removed normally
  for (const auto& path : {exec_denied, exec_allowed, open_denied, open_allowed}) {
    unlink(path.c_str());
  }
  rmdir(dir.c_str());
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return vigil::vm::DriverMain(argc, argv, 1, "lsm_probe_driver [--child-exit N]", [&] { return Run(); });
}
