// SPDX-License-Identifier: Apache-2.0
#include "actions.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include "bpf/vigil_abi.h"  // VG_INSN_CHUNK(S): how far the capture scans a program
#include "tests/support/bpf_insn.h"

namespace vigil::e2e {
namespace {

std::string Err(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Runs `body` in a forked child; returns "" when it exited 0, else a note.
// Children report their failing step on stderr and exit with its number.
std::string InChild(const std::function<int()>& body) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Err("fork");
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (WIFEXITED(status)) return "child failed at step " + std::to_string(WEXITSTATUS(status));
  return "child killed by signal " + std::to_string(WTERMSIG(status));
}

int Fail(int step, const char* what) {
  std::fprintf(stderr, "e2e child step %d (%s): %s\n", step, what, std::strerror(errno));
  return step;
}

bool WriteFile(const std::string& path, const std::string& text, int flags = O_WRONLY | O_CREAT | O_TRUNC,
               mode_t mode = 0600) {
  int fd = open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

bool CopyFile(const std::string& from, const std::string& to, mode_t mode) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  if (!WriteFile(to, ss.str(), O_WRONLY | O_CREAT | O_TRUNC, mode)) return false;
  return chmod(to.c_str(), mode) == 0;
}

// Opens and closes without reading or writing: the open is the detected act.
int OpenClose(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  close(fd);
  return 0;
}

// Child side: join the throwaway "container" cgroup.
bool EnterContainer(const Scratch& s) { return WriteFile(s.container_cgroup + "/cgroup.procs", "0\n", O_WRONLY); }

// Child side: a private mount namespace, so that later mounts are invisible
// to (and cannot propagate to) the host.
bool PrivateMounts() {
  if (unshare(CLONE_NEWNS) != 0) return false;
  return mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}

bool Tmpfs(const char* dir) { return mount("e2e-tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m") == 0; }

using vigil::testing::Bpf;
using vigil::testing::Call;
using vigil::testing::Exit;
using vigil::testing::MovImm;

// BPF_PROG_LOAD; returns the fd or -errno.
long LoadProg(uint32_t type, const std::vector<bpf_insn>& insns, const char* name, uint32_t expected_attach = 0) {
  static const char kLicense[] = "GPL";
  bpf_attr attr{};
  attr.prog_type = type;
  attr.expected_attach_type = expected_attach;
  attr.insn_cnt = static_cast<uint32_t>(insns.size());
  attr.insns = reinterpret_cast<uint64_t>(insns.data());
  attr.license = reinterpret_cast<uint64_t>(kLicense);
  // attr is zeroed, so the name stays NUL-terminated (memcpy: GCC 12 at -O3
  // flags strncpy's possible truncation).
  std::memcpy(attr.prog_name, name, std::min(std::strlen(name), sizeof(attr.prog_name) - 1));
  long fd = Bpf(BPF_PROG_LOAD, &attr);
  return fd < 0 ? -errno : fd;
}

std::string LoadNote(long fd) {
  if (fd >= 0) {
    close(static_cast<int>(fd));
    return "loaded";
  }
  return std::string("refused: ") + std::strerror(static_cast<int>(-fd));
}

long CreateMap(const char* name) {
  bpf_attr attr{};
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 8;
  attr.max_entries = 1;
  std::strncpy(attr.map_name, name, sizeof(attr.map_name) - 1);
  long fd = Bpf(BPF_MAP_CREATE, &attr);
  return fd < 0 ? -errno : fd;
}

int ConnectInet(const char* ip, uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, ip, &sa.sin_addr);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  int err = rc == 0 ? 0 : errno;
  close(fd);
  return -err;
}

// exec `argv` in a child with stdout to /dev/null; "" when it exited 0.
std::string RunQuiet(std::vector<std::string> argv) {
  return InChild([&]() {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 1);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    execv(a[0], a.data());
    return Fail(99, "execv");
  });
}

char g_victim_buffer[64] = "e2e victim";  // rewritten in a child by process_vm_writev

}  // namespace

std::string MakeScratch(Scratch* s) {
  char tmpl[] = "/tmp/vigil-e2e-XXXXXX";
  if (!mkdtemp(tmpl)) return Err("mkdtemp");
  s->dir = tmpl;
  s->tag = s->dir.substr(std::strlen("/tmp/vigil-e2e-"));
  // the cgroup v2 mount: /sys/fs/cgroup on unified hosts, .../unified on hybrid ones
  s->cgroup2.clear();
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mi, line)) {
    auto dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    std::istringstream f(line);
    std::string id, parent, devno, root, mountpoint;
    f >> id >> parent >> devno >> root >> mountpoint;
    s->cgroup2 = mountpoint;
    break;
  }
  if (s->cgroup2.empty()) return "no cgroup2 mount in /proc/self/mountinfo";
  std::mt19937_64 rng(std::random_device{}());
  std::string hex;
  for (int i = 0; i < 64; ++i) hex.push_back("0123456789abcdef"[rng() % 16]);
  s->container_id = hex.substr(0, 12);
  s->container_cgroup = s->cgroup2 + "/docker-" + hex + ".scope";
  if (mkdir(s->container_cgroup.c_str(), 0755) != 0) return Err("mkdir container cgroup");
  return "";
}

std::string RemoveScratch(const Scratch& s) {
  std::string problems;
  if (!s.container_cgroup.empty()) {
    // the cgroup empties when its last child has been reaped; retry briefly
    int rc = -1;
    for (int i = 0; i < 50 && (rc = rmdir(s.container_cgroup.c_str())) != 0 && errno == EBUSY; ++i) usleep(20000);
    if (rc != 0 && errno != ENOENT) problems += Err("rmdir container cgroup") + "; ";
  }
  if (!s.dir.empty() && s.dir.rfind("/tmp/vigil-e2e-", 0) == 0) {
    std::string cmd = "rm -rf '" + s.dir + "'";
    if (std::system(cmd.c_str()) != 0) problems += "rm -rf scratch failed; ";
  }
  return problems;
}

// --- eBPF --------------------------------------------------------------------

std::string BpfPlainLoad(const Scratch&) {
  return LoadNote(LoadProg(BPF_PROG_TYPE_SOCKET_FILTER, {MovImm(BPF_REG_0, 0), Exit()}, "e2e_plain"));
}

std::string BpfProbeWriteUser(const Scratch&) {
  // bpf_probe_write_user(dst=0, src=0, len=0): lockdown=integrity refuses the helper at load.
  return LoadNote(LoadProg(BPF_PROG_TYPE_KPROBE,
                           {MovImm(BPF_REG_1, 0), MovImm(BPF_REG_2, 0), MovImm(BPF_REG_3, 0),
                            Call(BPF_FUNC_probe_write_user), MovImm(BPF_REG_0, 0), Exit()},
                           "e2e_write_user"));
}

std::string BpfOverrideReturn(const Scratch&) {
  // r1 is the context at entry; bpf_override_return(ctx, 0). Never attached.
  std::string note = LoadNote(LoadProg(
      BPF_PROG_TYPE_KPROBE, {MovImm(BPF_REG_2, 0), Call(BPF_FUNC_override_return), MovImm(BPF_REG_0, 0), Exit()},
      "e2e_override"));
  // An fmod_ret program: without an attach target the kernel refuses it, which
  // is enough (the request is what is detected); fentry-family loads are
  // refused on this host anyway.
  note += "; fmod_ret " + LoadNote(LoadProg(BPF_PROG_TYPE_TRACING, {MovImm(BPF_REG_0, 0), Exit()}, "e2e_fmod_ret",
                                            BPF_MODIFY_RETURN));
  return note;
}

std::string BpfSendSignal(const Scratch&) {
  // bpf_send_signal(0): signal 0 delivers nothing, and the program is never attached.
  return LoadNote(LoadProg(BPF_PROG_TYPE_TRACEPOINT,
                           {MovImm(BPF_REG_1, 0), Call(BPF_FUNC_send_signal), MovImm(BPF_REG_0, 0), Exit()},
                           "e2e_send_signal"));
}

std::string BpfLargeProgram(const Scratch&) {
  std::vector<bpf_insn> prog(VG_INSN_CHUNK * VG_INSN_CHUNKS + 100, MovImm(BPF_REG_0, 0));
  prog.back() = Exit();
  return LoadNote(LoadProg(BPF_PROG_TYPE_SOCKET_FILTER, prog, "e2e_large"));
}

std::string BpfRawTracepointSysEnter(const Scratch&) {
  long prog = LoadProg(BPF_PROG_TYPE_RAW_TRACEPOINT, {MovImm(BPF_REG_0, 0), Exit()}, "e2e_raw_tp");
  if (prog < 0) return "raw_tp program " + LoadNote(prog);
  static const char kTp[] = "sys_enter";
  bpf_attr attr{};
  attr.raw_tracepoint.name = reinterpret_cast<uint64_t>(kTp);
  attr.raw_tracepoint.prog_fd = static_cast<uint32_t>(prog);
  long link = Bpf(BPF_RAW_TRACEPOINT_OPEN, &attr);  // attached for a moment: the program only returns 0
  std::string note = link >= 0 ? "attached to sys_enter" : Err("raw tracepoint open");
  if (link >= 0) close(static_cast<int>(link));
  close(static_cast<int>(prog));
  return note;
}

std::string BpfXdpLoad(const Scratch&) {
  return LoadNote(LoadProg(BPF_PROG_TYPE_XDP, {MovImm(BPF_REG_0, 2 /* XDP_PASS */), Exit()}, "e2e_xdp"));
}

std::string BpfMapByIdAndPin(const Scratch& s) {
  long map = CreateMap("e2e_map");
  if (map < 0) return std::string("map create: ") + std::strerror(static_cast<int>(-map));
  bpf_map_info info{};
  bpf_attr ia{};
  ia.info.bpf_fd = static_cast<uint32_t>(map);
  ia.info.info_len = sizeof info;
  ia.info.info = reinterpret_cast<uint64_t>(&info);
  std::string note;
  if (Bpf(BPF_OBJ_GET_INFO_BY_FD, &ia) != 0) {
    note = Err("get info");
  } else {
    bpf_attr ga{};
    ga.map_id = info.id;
    long again = Bpf(BPF_MAP_GET_FD_BY_ID, &ga);
    note = again >= 0 ? "map id " + std::to_string(info.id) + " reopened" : Err("map fd by id");
    if (again >= 0) close(static_cast<int>(again));
  }
  // Pin it in a bpffs of the child's own, in a private mount namespace.
  const std::string fs = s.dir + "/bpffs";
  mkdir(fs.c_str(), 0700);
  const std::string pin = fs + "/e2e_pin_" + s.tag;
  std::string child = InChild([&]() {
    if (!PrivateMounts()) return Fail(1, "private mounts");
    if (mount("bpf", fs.c_str(), "bpf", 0, nullptr) != 0) return Fail(2, "mount bpffs");
    bpf_attr pa{};
    pa.pathname = reinterpret_cast<uint64_t>(pin.c_str());
    pa.bpf_fd = static_cast<uint32_t>(map);
    if (Bpf(BPF_OBJ_PIN, &pa) != 0) return Fail(3, "pin");
    return 0;
  });
  close(static_cast<int>(map));
  return note + (child.empty() ? "; pinned" : "; pin: " + child);
}

std::string BpfInContainer(const Scratch& s) {
  return InChild([&]() {
    if (!EnterContainer(s)) return Fail(1, "enter container cgroup");
    long map = CreateMap("e2e_ctr_map");
    if (map < 0) return Fail(2, "map create");
    close(static_cast<int>(map));
    return 0;
  });
}

std::string OpenUnprivilegedBpfSysctl(const Scratch&) {
  int rc = OpenClose("/proc/sys/kernel/unprivileged_bpf_disabled", O_WRONLY);
  return rc == 0 ? "opened for write, nothing written" : std::string("open: ") + std::strerror(-rc);
}

// --- container escape ---------------------------------------------------------

std::string ReleaseAgentWrite(const Scratch& s) {
  return InChild([&]() {
    if (!EnterContainer(s)) return Fail(1, "enter container cgroup");
    if (OpenClose(s.dir + "/release_agent", O_WRONLY | O_CREAT) != 0) return Fail(2, "open release_agent");
    return 0;
  });
}

std::string CorePatternOpenForWrite(const Scratch&) {
  int rc = OpenClose("/proc/sys/kernel/core_pattern", O_WRONLY);
  return rc == 0 ? "opened for write, nothing written" : std::string("open: ") + std::strerror(-rc);
}

std::string ContainerSysctlAndNamespaces(const Scratch& s) {
  return InChild([&]() {
    if (!EnterContainer(s)) return Fail(1, "enter container cgroup");
    if (unshare(CLONE_NEWNET) != 0) return Fail(2, "unshare net");
    // this child's own network namespace's sysctl; opened, never written
    if (OpenClose("/proc/sys/net/ipv4/ip_forward", O_WRONLY) != 0) return Fail(3, "open ip_forward");
    return 0;
  });
}

std::string ContainerMountProc(const Scratch& s) {
  const std::string target = s.dir + "/procmnt";
  mkdir(target.c_str(), 0700);
  return InChild([&]() {
    if (!EnterContainer(s)) return Fail(1, "enter container cgroup");
    if (!PrivateMounts()) return Fail(2, "private mounts");
    if (mount("proc", target.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      return Fail(3, "mount proc");
    umount2(target.c_str(), MNT_DETACH);
    return 0;
  });
}

// Issue 17: a refused mount of a host disk still alerts. The child drops
// every capability (setresuid to nobody) before mount(2), so the kernel
// refuses it (EPERM, or EACCES when the source's lookup as nobody fails
// first, as on 6.18): nothing is mounted.
std::string ContainerMountRefused(const Scratch& s) {
  const std::string target = s.dir + "/refusedmnt";
  mkdir(target.c_str(), 0777);
  return InChild([&]() {
    if (!EnterContainer(s)) return Fail(1, "enter container cgroup");
    if (!PrivateMounts()) return Fail(2, "private mounts");
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) return Fail(3, "drop to nobody");
    if (mount("/dev/sda1", target.c_str(), "ext4", MS_RDONLY, nullptr) == 0) return Fail(4, "mount succeeded");
    if (errno != EPERM && errno != EACCES) return Fail(5, "mount failed, but not with EPERM/EACCES");
    return 0;
  });
}

std::string OpenDevMem(const Scratch&) {
  // A tmpfs over /dev in a private mount namespace holds our own /dev/mem node.
  // Where the kernel has no /dev/mem driver the node cannot be opened; a plain
  // file at that path then stands in (the rule is about the path opened).
  std::string note = "char 1:1 opened";
  std::string child = InChild([&]() {
    if (!PrivateMounts()) return Fail(1, "private mounts");
    if (!Tmpfs("/dev")) return Fail(2, "tmpfs on /dev");
    if (mknod("/dev/mem", S_IFCHR | 0400, makedev(1, 1)) == 0 && OpenClose("/dev/mem", O_RDONLY) == 0) return 0;
    unlink("/dev/mem");
    if (!WriteFile("/dev/mem", "")) return Fail(3, "stand-in /dev/mem");
    if (OpenClose("/dev/mem", O_RDONLY) != 0) return Fail(4, "open stand-in");
    return 10;  // "used the stand-in"
  });
  if (child == "child failed at step 10") return "no /dev/mem driver: a plain file at /dev/mem opened";
  return child.empty() ? note : child;
}

std::string ContainerOpensBlockDevice(const Scratch& s) {
  std::string disk;
  if (DIR* d = opendir("/sys/block")) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.rfind("vd", 0) == 0 || n.rfind("sd", 0) == 0 || n.rfind("nvme", 0) == 0 || n.rfind("xvd", 0) == 0) {
        disk = "/dev/" + n;
        break;
      }
    }
    closedir(d);
  }
  if (disk.empty()) return "no disk device on this host";
  std::string child = InChild([&]() {
    if (!EnterContainer(s)) return Fail(1, "enter container cgroup");
    // read-only open, nothing read
    if (OpenClose(disk, O_RDONLY) != 0) return Fail(2, "open disk");
    return 0;
  });
  return child.empty() ? disk + " opened read-only" : child;
}

std::string ContainerRuntimeSocket(const Scratch& s) {
  return InChild([&]() {
    if (!EnterContainer(s)) return Fail(1, "enter container cgroup");
    if (!PrivateMounts()) return Fail(2, "private mounts");
    if (!Tmpfs("/run")) return Fail(3, "tmpfs on /run");
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strcpy(sa.sun_path, "/run/docker.sock");
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    if (srv < 0 || bind(srv, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(srv, 1) != 0)
      return Fail(4, "fake docker.sock");
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (c < 0 || connect(c, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return Fail(5, "connect");
    return 0;
  });
}

std::string FinitModuleBadFd(const Scratch&) {
  long rc = syscall(SYS_finit_module, -1, "", 0);
  return rc == 0 ? "finit_module succeeded?!" : Err("finit_module(-1)");
}

namespace {
pid_t SleepingChild() {
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}
void Reap(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}
}  // namespace

std::string PtraceChild(const Scratch&) {
  pid_t child = SleepingChild();
  if (child < 0) return Err("fork");
  std::string note;
  if (ptrace(PTRACE_ATTACH, child, nullptr, nullptr) != 0) {
    note = Err("PTRACE_ATTACH");
  } else {
    waitpid(child, nullptr, __WALL);
    ptrace(PTRACE_DETACH, child, nullptr, nullptr);
    note = "attached and detached";
  }
  Reap(child);
  return note;
}

std::string ProcMemWrite(const Scratch&) {
  pid_t child = SleepingChild();
  if (child < 0) return Err("fork");
  std::string note;
  int rc = OpenClose("/proc/" + std::to_string(child) + "/mem", O_WRONLY);
  note = rc == 0 ? "mem opened for write" : std::string("open mem: ") + std::strerror(-rc);
  // rewrite the child's copy of a buffer (the same address after fork)
  char text[] = "e2e overwritten";
  iovec local{text, sizeof text};
  iovec remote{g_victim_buffer, sizeof text};
  ssize_t n = process_vm_writev(child, &local, 1, &remote, 1, 0);
  note += n > 0 ? "; process_vm_writev wrote " + std::to_string(n) : "; " + Err("process_vm_writev");
  Reap(child);
  return note;
}

std::string ContainerProcSelfFdWrite(const Scratch& s) {
  const std::string target = s.dir + "/runc-stand-in";
  return InChild([&]() {
    if (!EnterContainer(s)) return Fail(1, "enter container cgroup");
    int fd = open(target.c_str(), O_RDONLY | O_CREAT, 0600);  // a scratch file, not runc
    if (fd < 0) return Fail(2, "scratch file");
    if (OpenClose("/proc/self/fd/" + std::to_string(fd), O_WRONLY) != 0) return Fail(3, "reopen for write");
    return 0;
  });
}

std::string ContainerSetuidCapsetExec(const Scratch& s) {
  return InChild([&]() {
    if (!EnterContainer(s)) return Fail(1, "enter container cgroup");
    if (setuid(0) != 0) return Fail(2, "setuid");
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &hdr, data) != 0) return Fail(3, "capget");
    if (syscall(SYS_capset, &hdr, data) != 0) return Fail(4, "capset");  // the same set again
    execl("/bin/true", "true", static_cast<char*>(nullptr));
    return Fail(5, "exec");
  });
}

// --- credentials, persistence, evasion ----------------------------------------

std::string CatShadow(const Scratch&) { return RunQuiet({"/bin/cat", "/etc/shadow"}); }

std::string PersistenceInPrivateEtc(const Scratch& s) {
  const std::string t = s.tag;
  return InChild([&]() {
    if (!PrivateMounts()) return Fail(1, "private mounts");
    // Everything below is written to tmpfs mounts that only this child sees.
    if (!Tmpfs("/etc") || !Tmpfs("/root")) return Fail(2, "tmpfs on /etc, /root");
    for (const char* d : {"/etc/cron.d", "/etc/systemd", "/etc/systemd/system", "/etc/profile.d",
                          "/etc/sudoers.d", "/root/.ssh"})
      if (mkdir(d, 0755) != 0) return Fail(3, d);
    if (!WriteFile("/etc/cron.d/e2e-" + t, "* * * * * root true\n")) return Fail(4, "cron");
    if (!WriteFile("/etc/systemd/system/e2e-" + t + ".service", "[Service]\nExecStart=/bin/true\n"))
      return Fail(5, "unit");
    if (!WriteFile("/etc/profile.d/e2e-" + t + ".sh", "true\n")) return Fail(6, "profile.d");
    if (!WriteFile("/etc/sudoers.d/e2e-" + t, "# e2e\n")) return Fail(7, "sudoers.d");
    if (!WriteFile("/etc/ld.so.preload", "", O_WRONLY | O_CREAT | O_APPEND)) return Fail(8, "ld.so.preload");
    if (!WriteFile("/root/.ssh/authorized_keys", "ssh-ed25519 AAAA e2e\n", O_WRONLY | O_CREAT | O_APPEND))
      return Fail(9, "authorized_keys");
    if (!WriteFile("/root/.ssh/id_ed25519", "not a key\n")) return Fail(10, "key file");
    if (OpenClose("/root/.ssh/id_ed25519", O_RDONLY) != 0) return Fail(11, "read key");
    return 0;
  });
}

std::string KubeTokenRead(const Scratch& s) {
  std::string dir = s.dir + "/var/run/secrets/kubernetes.io/serviceaccount";
  std::string cmd = "mkdir -p '" + dir + "'";
  if (std::system(cmd.c_str()) != 0) return "mkdir failed";
  if (!WriteFile(dir + "/token", "e2e-token")) return Err("token");
  int rc = OpenClose(dir + "/token", O_RDONLY);
  return rc == 0 ? "" : std::string("open: ") + std::strerror(-rc);
}

std::string LogTruncate(const Scratch& s) {
  const std::string log = "/var/log/e2e-" + s.tag + ".log";
  return InChild([&]() {
    if (!PrivateMounts()) return Fail(1, "private mounts");
    if (!Tmpfs("/var/log")) return Fail(2, "tmpfs on /var/log");
    if (!WriteFile(log, "line\n", O_WRONLY | O_CREAT | O_APPEND)) return Fail(3, "log");
    if (OpenClose(log, O_WRONLY | O_TRUNC) != 0) return Fail(4, "truncate");
    return 0;
  });
}

std::string HistoryTruncate(const Scratch& s) {
  const std::string h = s.dir + "/.bash_history";
  if (!WriteFile(h, "ls\n", O_WRONLY | O_CREAT | O_APPEND)) return Err("history");
  int rc = OpenClose(h, O_WRONLY | O_TRUNC);
  return rc == 0 ? "" : std::string("truncate: ") + std::strerror(-rc);
}

std::string ChmodSetuid(const Scratch& s) {
  const std::string f = s.dir + "/suid-" + s.tag;
  if (!WriteFile(f, "")) return Err("create");
  return chmod(f.c_str(), 04755) == 0 ? "" : Err("chmod");
}

// `setcap cap_net_raw+ep` for real (libcap2-bin) on a scratch copy of a
// binary: the security.capability extended attribute (issue 17, T1548).
std::string SetcapOnCopy(const Scratch& s) {
  const std::string f = s.dir + "/capped-" + s.tag;
  if (!CopyFile("/bin/true", f, 0755)) return "copy of /bin/true failed";
  std::string r = RunQuiet({"/usr/sbin/setcap", "cap_net_raw+ep", f});
  if (!r.empty()) return "setcap: " + r;
  char buf[64];
  ssize_t n = getxattr(f.c_str(), "security.capability", buf, sizeof(buf));
  return n >= 20 ? "" : "setcap left no security.capability attribute";
}

// touch -d 2019-01-01 on a new file: a dropped tool made to look years old
// (touch -r REF does the same with another file's times).
std::string Timestomp(const Scratch& s) {
  const std::string f = s.dir + "/stomped-" + s.tag;
  if (!WriteFile(f, "")) return Err("create");
  std::string r = RunQuiet({"/usr/bin/touch", "-d", "2019-01-01 00:00:00 UTC", f});
  if (!r.empty()) return "touch -d: " + r;
  struct stat st {};
  if (stat(f.c_str(), &st) != 0) return Err("stat");
  return st.st_mtime == 1546300800 ? "" : "touch -d did not set the time";
}

bool g_kernel_refuses_32bit = false;

std::string Run32BitProgram(const Scratch& s) {
  const std::string bin = s.dir + "/agent32";
  if (!CopyFile(VIGIL_ELF32_PAUSE, bin, 0700)) return "copy of the i386 test program failed";
  // It exits 7 when it ran as i386 code; execv fails (step 99) where the kernel refuses 32-bit programs.
  const std::string note = RunQuiet({bin});
  if (note == "child failed at step 7") return "";
  if (note == "child failed at step 99") {
    // No ia32 emulation in this kernel: the exec fails (ENOEXEC), no 32-bit
    // program can run, and there is nothing for the rule to see.
    g_kernel_refuses_32bit = true;
    return "refused by this kernel (no ia32 emulation): the 32-bit Executable Run alert is not expected";
  }
  return "the i386 program did not run: " + note;
}

std::string HiddenDirInTmp(const Scratch& s) {
  const std::string d = "/tmp/.e2e-" + s.tag;
  if (mkdir(d.c_str(), 0700) != 0) return Err("mkdir");
  rmdir(d.c_str());
  return "";
}

// --- execution, network -----------------------------------------------------

std::string NginxSpawnsShell(const Scratch& s) {
  const std::string nginx = s.dir + "/nginx";  // a copy of dash named like the server
  if (!CopyFile("/bin/dash", nginx, 0755)) return "copy of /bin/dash failed";
  return RunQuiet({nginx, "-c", "/bin/sh -c 'echo e2e-" + s.tag + "'; true"});
}

std::string MemfdExec(const Scratch&) {
  int fd = static_cast<int>(syscall(SYS_memfd_create, "e2e_payload", 0));
  if (fd < 0) return Err("memfd_create");
  std::ifstream in("/bin/true", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string elf = ss.str();
  if (write(fd, elf.data(), elf.size()) != static_cast<ssize_t>(elf.size())) return Err("write memfd");
  std::string child = InChild([&]() {
    char* argv[] = {const_cast<char*>("e2e_payload"), nullptr};
    char* envp[] = {nullptr};
    syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    return Fail(1, "execveat");
  });
  close(fd);
  return child;
}

std::string DevShmExec(const Scratch& s) {
  const std::string bin = "/dev/shm/e2e-" + s.tag;
  if (!CopyFile("/bin/true", bin, 0700)) return "copy to /dev/shm failed";
  std::string note = RunQuiet({bin});
  unlink(bin.c_str());
  return note;
}

std::string ReverseShellDup2(const Scratch&) {
  int srv = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (srv < 0 || bind(srv, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(srv, 1) != 0 ||
      getsockname(srv, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    return Err("loopback listener");
  std::string child = InChild([&]() {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return Fail(1, "connect");
    if (dup2(c, 1) != 1) return Fail(2, "dup2");  // stdout is now the socket
    return 0;
  });
  int a = accept(srv, nullptr, nullptr);
  if (a >= 0) close(a);
  close(srv);
  return child.empty() ? "127.0.0.1:" + std::to_string(ntohs(sa.sin_port)) : child;
}

std::string MinerCommandLine(const Scratch&) {
  return RunQuiet({"/bin/true", "-o", "stratum+tcp://pool.invalid:3333", "--donate-level", "1"});
}

std::string ConnectsInEmptyNetns(const Scratch&) {
  return InChild([&]() {
    // a new network namespace: only a down loopback, no route anywhere
    if (unshare(CLONE_NEWNET) != 0) return Fail(1, "unshare net");
    int rc = ConnectInet("198.51.100.7", 3333);
    if (rc != -ENETUNREACH) {
      errno = -rc;
      return Fail(2, "connect should be ENETUNREACH");
    }
    int p = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (p < 0) return Fail(3, "AF_PACKET");
    close(p);
    return 0;
  });
}

std::string ContainerMetadataConnect(const Scratch& s) {
  return InChild([&]() {
    if (!EnterContainer(s)) return Fail(1, "enter container cgroup");
    if (unshare(CLONE_NEWNET) != 0) return Fail(2, "unshare net");
    int rc = ConnectInet("169.254.169.254", 80);
    if (rc != -ENETUNREACH) {
      errno = -rc;
      return Fail(3, "connect should be ENETUNREACH");
    }
    return 0;
  });
}

bool g_no_gcore = false;

std::string TechniqueActions(const Scratch& s) {
  g_no_gcore = access("/usr/bin/gcore", X_OK) != 0;
  return InChild([&]() {
    execl("/bin/sh", "sh", VIGIL_TECHNIQUE_ACTIONS, s.dir.c_str(), s.tag.c_str(), static_cast<char*>(nullptr));
    return Fail(99, "execl technique_actions.sh");
  });
}

}  // namespace vigil::e2e
