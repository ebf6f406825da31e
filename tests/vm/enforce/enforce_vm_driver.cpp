// SPDX-License-Identifier: Apache-2.0
// enforce_vm_driver: the enforcement suite inside a VM booted by vm_harness.sh. It compiles the
// YAML rules file given as argv[1] with the real rules engine and policy compiler, installs it
// with EnforcementManager (BPF LSM path), and performs each denied action and its allowed twin
// in child processes (the manager never enforces against its own process). Then it checks that
// every refusal came back as a record naming the rule and the action.
//
// Protocol (docs/testing-vm.md): VM-RESULT kernel|lsm|hook|case lines; exit 0 iff all passed.
// `enforce_vm_driver --child-exit N` exits N at once (the exec cases' program).
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bpf/enforce/enforcement.h"
#include "bpf/sensor.h"
#include "engine/policy/policy.h"
#include "tests/support/bpf_objects.h"
#include "tests/vm/vm_driver.h"

namespace {

namespace fs = std::filesystem;
using vigil::enforce::EnforcementManager;

constexpr int kAllowedExit = 7;
constexpr int kNotRefused = -2;  // expect_code: anything but EPERM (the hook did not refuse; the verifier may)
const std::string kDir = "/tmp/vigil-enforce";

using vigil::vm::Result;

// What a child did: exit code (errno of the action, 0 = worked, kAllowedExit = exec'd program
// ran) or the signal that killed it.
struct Outcome {
  int code = -1;
  int signal = 0;
};

Outcome InChild(const char* comm, const std::function<int()>& action) {
  pid_t pid = fork();
  if (pid == 0) {
    if (comm) prctl(PR_SET_NAME, comm);
    _exit(action());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  Outcome o;
  if (WIFEXITED(status)) o.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  return o;
}

int Exec(const std::string& path) {
  execl(path.c_str(), path.c_str(), "--child-exit", std::to_string(kAllowedExit).c_str(), static_cast<char*>(nullptr));
  return errno;
}

int Open(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

int Connect(uint16_t port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 ? 0 : errno;
}

// The outcome of a call that returned `fd`: 0 (and the fd closed) when it is valid, else errno.
int ErrnoOf(long fd) {
  if (fd < 0) return errno;
  close(static_cast<int>(fd));
  return 0;
}

int MapCreate() { return ErrnoOf(vigil::testing::CreateArrayMap()); }

// BPF_PROG_LOAD of a tracepoint program: `padding` times `r0 = 0`, then a call of helper
// `helper`, then `r0 = 0; exit`. The padding puts the call past the helper scan's first chunk.
// 0 when it loaded, else errno.
int LoadProgCalling(uint32_t helper, int padding) {
  std::vector<bpf_insn> insns;
  const bpf_insn mov_r0_0 = {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0};
  for (int i = 0; i < padding; ++i) insns.push_back(mov_r0_0);
  insns.push_back({BPF_JMP | BPF_CALL, 0, 0, 0, static_cast<int32_t>(helper)});
  insns.push_back(mov_r0_0);
  insns.push_back({BPF_JMP | BPF_EXIT, 0, 0, 0, 0});
  static const char kLicense[] = "GPL";
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_TRACEPOINT;
  attr.insns = reinterpret_cast<uint64_t>(insns.data());
  attr.insn_cnt = static_cast<uint32_t>(insns.size());
  attr.license = reinterpret_cast<uint64_t>(kLicense);
  return ErrnoOf(vigil::testing::Bpf(BPF_PROG_LOAD, &attr));
}

// bpf(BPF_*_GET_FD_BY_ID) for one id: 0 on success, else errno.
int GetFdById(int cmd, uint32_t id) { return ErrnoOf(vigil::testing::GetFdById(cmd, id)); }

// The id of the map behind `fd`, 0 when unknown.
uint32_t MapIdOfFd(int fd) {
  bpf_map_info info;
  return vigil::testing::MapInfo(fd, &info) ? info.id : 0;
}

// PTRACE_ATTACH to `target` (then detach): 0 on success, else errno.
int PtraceAttach(pid_t target) {
  if (ptrace(PTRACE_ATTACH, target, nullptr, nullptr) != 0) return errno;
  int status = 0;
  waitpid(target, &status, 0);
  ptrace(PTRACE_DETACH, target, nullptr, nullptr);
  return 0;
}

// Module loads that can never succeed: an image that is not ELF. The LSM hooks run before the
// kernel parses it (kernel_load_data for init_module, kernel_read_file for finit_module), so a
// refusal is EPERM while a load the hook let through fails later with ENOEXEC (or another
// parse/signature error). Returns errno (0 would mean a module loaded: impossible here).
int InitModuleBogus() {
  static const char kImage[64] = "not an ELF module";
  return syscall(__NR_init_module, kImage, sizeof(kImage), "") == 0 ? 0 : errno;
}
int FinitModuleBogus(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 98;
  int rc = syscall(__NR_finit_module, fd, "", 0) == 0 ? 0 : errno;
  close(fd);
  return rc;
}

int SetUid() { return setuid(1000) == 0 ? 0 : errno; }

int Mount(const std::string& dir) { return mount("none", dir.c_str(), "tmpfs", 0, nullptr) == 0 ? 0 : errno; }

int Listen(uint16_t port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(s, 8) != 0) return -1;
  return s;
}

void LoopbackUp() {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP;
    ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  close(s);
}

int Run(const std::string& rules_path) {
  struct utsname uts {};
  uname(&uts);
  Result("kernel %s", uts.release);
  std::string lsm_list;
  vigil::enforce::BpfLsmActive(&lsm_list);
  Result("lsm %s", lsm_list.c_str());

  // Fixtures first, so exact paths resolve to file identities at install.
  fs::create_directories(kDir + "/ro_dir/sub");
  fs::create_directories(kDir + "/mnt");
  for (const char* name : {"exec_denied", "exec_killed", "exec_allowed"}) {
    fs::copy_file("/proc/self/exe", kDir + "/" + name, fs::copy_options::overwrite_existing);
    chmod((kDir + "/" + name).c_str(), 0755);
  }
  for (const std::string& f : {kDir + "/open_denied", kDir + "/open_allowed", kDir + "/ro_dir/sub/file"})
    std::ofstream(f) << "x\n";
  std::ofstream(kDir + "/bogus.ko") << std::string(256, 'x');
  // The ptrace cases' target: a child that only waits.
  pid_t tracee = fork();
  if (tracee == 0) {
    pause();
    _exit(0);
  }
  LoopbackUp();
  int l1 = Listen(4444), l2 = Listen(4445);
  if (l1 < 0 || l2 < 0) {
    std::fprintf(stderr, "enforce_vm_driver: cannot listen on 127.0.0.1:4444/4445\n");
    return 1;
  }

  vigil::Diagnostics diags;
  auto engine = vigil::RuleEngine::Load({rules_path}, &diags, vigil::HostInfo{});
  auto spec = engine ? vigil::policy::CompilePolicy(*engine, &diags) : std::nullopt;
  if (!engine || diags.HasErrors() || !spec) {
    std::fprintf(stderr, "enforce_vm_driver: rules: %s\n", diags.ToString().c_str());
    return 1;
  }
  std::string error;
  auto m = EnforcementManager::Create(vigil::enforce::EnforceOptions{}, &error);
  if (!m) {
    Result("hook all failed %s", error.c_str());
    return 1;
  }
  bool all_ok = true;
  if (!m->lsm()) {
    Result("hook bpf_lsm failed not active: bpf missing from the LSM list or LSM programs do not load");
    all_ok = false;
  }
  for (const auto& h : m->hooks()) Result("hook %s loaded", h.c_str());
  if (auto err = m->Install(*spec)) {
    Result("case install fail %s", err->c_str());
    return 1;
  }
  // The helper scan needs bpf_loop (5.17+): before that the helper rule must be reported as not
  // enforced (and then the load it names goes through).
  int kmajor = 0, kminor = 0;
  std::sscanf(uts.release, "%d.%d", &kmajor, &kminor);
  const bool has_bpf_loop = kmajor > 5 || (kmajor == 5 && kminor >= 17);
  const std::string helper_rule = "Deny loading programs that call bpf_probe_write_user";
  for (const auto& r : m->Report()) {
    if (r.rule == helper_rule && !has_bpf_loop) {
      const bool pass = r.mechanism == vigil::enforce::Mechanism::kNotEnforced &&
                        r.reason.find("bpf_loop") != std::string::npos;
      Result("case helper_rule_reported_not_enforced %s %s: %s", pass ? "pass" : "fail",
             vigil::enforce::MechanismName(r.mechanism), r.reason.c_str());
      all_ok = pass && all_ok;
      continue;
    }
    if (r.mechanism != vigil::enforce::Mechanism::kLsm) {
      Result("case mechanism_%s fail %s: %s", r.rule.c_str(), vigil::enforce::MechanismName(r.mechanism), r.reason.c_str());
      all_ok = false;
    }
  }

  struct Case {
    const char* name;
    const char* comm;  // the child's task name (nullptr: keep)
    std::function<int()> action;
    int expect_code;     // -1: expect SIGKILL
    const char* rule;    // the rule a refusal must name (nullptr: none)
  };
  const std::string dir = kDir;
  const Case cases[] = {
      {"exec_denied", nullptr, [&] { return Exec(dir + "/exec_denied"); }, EPERM, "Deny exec of a marked binary"},
      {"exec_denied_relative", nullptr, [&] { return chdir(dir.c_str()) == 0 ? Exec("./exec_denied") : 99; }, EPERM,
       "Deny exec of a marked binary"},
      {"exec_allowed", nullptr, [&] { return Exec(dir + "/exec_allowed"); }, kAllowedExit, nullptr},
      {"exec_killed", nullptr, [&] { return Exec(dir + "/exec_killed"); }, -1, "Kill exec of a marked binary"},
      {"open_denied", nullptr, [&] { return Open(dir + "/open_denied", O_RDONLY); }, EPERM, "Deny open of a secret"},
      {"open_allowed", nullptr, [&] { return Open(dir + "/open_allowed", O_RDONLY); }, 0, nullptr},
      {"open_write_denied", nullptr, [&] { return Open(dir + "/ro_dir/sub/file", O_WRONLY); }, EPERM,
       "Deny writes under a directory"},
      {"open_read_allowed", nullptr, [&] { return Open(dir + "/ro_dir/sub/file", O_RDONLY); }, 0, nullptr},
      {"connect_denied", nullptr, [&] { return Connect(4444); }, EPERM, "Deny connect to a port"},
      {"connect_allowed", nullptr, [&] { return Connect(4445); }, 0, nullptr},
      {"bpf_denied", "bpfdeny", [&] { return MapCreate(); }, EPERM, "Deny bpf map creation by name"},
      {"bpf_allowed", "bpfallow", [&] { return MapCreate(); }, 0, nullptr},
      {"setuid_denied", "setuiddeny", [&] { return SetUid(); }, EPERM, "Deny setuid by name"},
      {"setuid_allowed", "setuidallow", [&] { return SetUid(); }, 0, nullptr},
      {"mount_denied", "mountdeny", [&] { return Mount(dir + "/mnt"); }, EPERM, "Deny mount by name"},
      {"mount_allowed", "mountallow", [&] { return Mount(dir + "/mnt"); }, 0, nullptr},
      {"bpf_helper_denied", "helperload", [&] { return LoadProgCalling(36, 200); }, has_bpf_loop ? EPERM : kNotRefused,
       has_bpf_loop ? helper_rule.c_str() : nullptr},
      {"bpf_helper_allowed", "helperload", [&] { return LoadProgCalling(14, 200); }, 0, nullptr},
      {"ptrace_denied", "ptracedeny", [&] { return PtraceAttach(tracee); }, EPERM, "Deny ptrace by name"},
      {"ptrace_allowed", "ptraceallow", [&] { return PtraceAttach(tracee); }, 0, nullptr},
      {"init_module_denied", "moddeny", [&] { return InitModuleBogus(); }, EPERM, "Deny module load by name"},
      {"init_module_allowed", "modallow", [&] { return InitModuleBogus(); }, ENOEXEC, nullptr},
      {"finit_module_denied", "moddeny", [&] { return FinitModuleBogus(dir + "/bogus.ko"); }, EPERM,
       "Deny module load by name"},
      {"finit_module_allowed", "modallow", [&] { return FinitModuleBogus(dir + "/bogus.ko"); }, ENOEXEC, nullptr},
  };
  // Self-protection: the first map id that is vigil's (any id from the ve_* maps: the driver's
  // own process holds the manager, so scan the ids it can see), and a map that is not.
  uint32_t vigil_map_id = 0;
  {
    union bpf_attr attr;
    uint32_t id = 0;
    for (;;) {
      std::memset(&attr, 0, sizeof(attr));
      attr.start_id = id;
      if (syscall(__NR_bpf, BPF_MAP_GET_NEXT_ID, &attr, sizeof(attr)) != 0) break;
      id = attr.next_id;
      std::memset(&attr, 0, sizeof(attr));
      attr.map_id = id;
      long fd = syscall(__NR_bpf, BPF_MAP_GET_FD_BY_ID, &attr, sizeof(attr));  // the manager's process: allowed
      if (fd < 0) continue;
      struct bpf_map_info info;
      bool vigil = vigil::testing::MapInfo(static_cast<int>(fd), &info) &&
                   std::strncmp(info.name, "ve_config", sizeof(info.name)) == 0;
      close(static_cast<int>(fd));
      if (vigil) {
        vigil_map_id = id;
        break;
      }
    }
  }
  // A map of this process that is not vigil's (the allowed twin of self-protection).
  int own_map = vigil::testing::CreateArrayMap();
  uint32_t own_map_id = own_map >= 0 ? MapIdOfFd(own_map) : 0;
  Result("case self_ids_found %s vigil map id %u, other map id %u", vigil_map_id && own_map_id ? "pass" : "fail",
         vigil_map_id, own_map_id);
  all_ok = vigil_map_id && own_map_id && all_ok;
  {
    Outcome o = InChild(nullptr, [&] { return GetFdById(BPF_MAP_GET_FD_BY_ID, vigil_map_id); });
    bool pass = o.signal == 0 && o.code == EPERM;
    Result("case self_protect_map_denied %s exit %d (expected EPERM)", pass ? "pass" : "fail", o.code);
    all_ok = pass && all_ok;
    o = InChild(nullptr, [&] { return GetFdById(BPF_MAP_GET_FD_BY_ID, own_map_id); });
    pass = o.signal == 0 && o.code == 0;
    Result("case self_protect_other_map_allowed %s exit %d (expected success)", pass ? "pass" : "fail", o.code);
    all_ok = pass && all_ok;
  }
  std::vector<std::string> expected_rules = {"vigil self-protection"};
  // The capture sensor's objects, registered the way `vigil run` does, and the enforcement
  // object's links: another process opening any of them by id gets EPERM.
  {
    // The capture needs bpf_loop (5.17+); on older kernels only the enforcement ids are vigil's.
    int major = 0, minor = 0;
    std::sscanf(uts.release, "%d.%d", &major, &minor);
    const bool capture_supported = major > 5 || (major == 5 && minor >= 17);
    vigil::capture::SensorOptions so;
    so.seed_from_proc = false;
    so.ringbuf_bytes = 1u << 20;
    std::string serr;
    auto sensor = capture_supported ? vigil::capture::Sensor::Open(so, &serr) : nullptr;
    vigil::enforce::SelfIds cap;
    if (sensor) {
      auto ids = sensor->ObjectIds();
      cap = {ids.progs, ids.maps, ids.links, ids.link_fds};
    }
    auto reg_err = sensor ? m->RegisterSelfIds(cap) : std::optional<std::string>(serr);
    const auto own = m->OwnIds();
    const bool have = sensor && !reg_err && !cap.progs.empty() && !cap.maps.empty() && !cap.links.empty() &&
                      !own.links.empty();
    if (capture_supported) {
      Result("case self_capture_registered %s %zu programs, %zu maps, %zu links of the capture%s%s",
             have ? "pass" : "fail", cap.progs.size(), cap.maps.size(), cap.links.size(), reg_err ? ": " : "",
             reg_err ? reg_err->c_str() : "");
      all_ok = have && all_ok;
    }
    {
      Outcome o = InChild(nullptr, [&] { return own.links.empty() ? 99 : GetFdById(BPF_LINK_GET_FD_BY_ID, own.links.front()); });
      const bool pass = o.signal == 0 && o.code == EPERM;
      Result("case self_protect_enforce_link_denied %s exit %d (expected EPERM)", pass ? "pass" : "fail", o.code);
      all_ok = pass && all_ok;
      expected_rules.push_back("vigil self-protection");
    }
    if (have) {
      const std::pair<const char*, std::function<int()>> self_cases[] = {
          {"self_protect_capture_map_denied", [&] { return GetFdById(BPF_MAP_GET_FD_BY_ID, cap.maps.front()); }},
          {"self_protect_capture_prog_denied", [&] { return GetFdById(BPF_PROG_GET_FD_BY_ID, cap.progs.front()); }},
          {"self_protect_capture_link_denied", [&] { return GetFdById(BPF_LINK_GET_FD_BY_ID, cap.links.front()); }},
      };
      for (const auto& [name, action] : self_cases) {
        Outcome o = InChild(nullptr, action);
        const bool pass = o.signal == 0 && o.code == EPERM;
        Result("case %s %s exit %d (expected EPERM)", name, pass ? "pass" : "fail", o.code);
        all_ok = pass && all_ok;
        expected_rules.push_back("vigil self-protection");
      }
    }
  }
  for (const Case& c : cases) {
    Outcome o = InChild(c.comm, c.action);
    bool pass = c.expect_code == kNotRefused ? (o.signal == 0 && o.code != EPERM)
                : c.expect_code < 0          ? o.signal == SIGKILL
                                             : (o.signal == 0 && o.code == c.expect_code);
    Result("case %s %s exit %d signal %d (expected %s)", c.name, pass ? "pass" : "fail", o.code, o.signal,
           c.expect_code == kNotRefused     ? "not EPERM: the rule is not enforced here"
           : c.expect_code < 0              ? "SIGKILL"
           : c.expect_code == EPERM         ? "EPERM"
           : c.expect_code == ENOEXEC       ? "ENOEXEC: not refused, the kernel parsed the image"
           : c.expect_code == 0             ? "success"
                                            : "exit 7");
    all_ok = pass && all_ok;
    if (c.rule) expected_rules.push_back(c.rule);
  }
  umount((dir + "/mnt").c_str());
  kill(tracee, SIGKILL);
  waitpid(tracee, nullptr, 0);

  // Every refusal is a record naming its rule and action, in order.
  std::vector<std::string> seen;
  for (int i = 0; i < 5 && seen.size() < expected_rules.size(); ++i)
    m->PollRefusals(100, [&](const vigil::enforce::Refusal& r) { seen.push_back(std::string(r.rule) + "/" + r.action); });
  std::string got, want;
  for (const auto& s : seen) got += s + ";";
  for (const auto& r : expected_rules) want += r + (r.rfind("Kill", 0) == 0 ? "/kill;" : "/deny;");
  if (own_map >= 0) close(own_map);
  bool attributed = got == want;
  Result("case refusals_attributed %s %zu records%s", attributed ? "pass" : "fail", seen.size(),
         attributed ? "" : (" got " + got + " want " + want).c_str());
  all_ok = attributed && all_ok;
  close(l1);
  close(l2);
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return vigil::vm::DriverMain(argc, argv, 2, "enforce_vm_driver RULES.yaml | --child-exit N",
                               [&] { return Run(argv[1]); });
}
