// SPDX-License-Identifier: Apache-2.0
#include "bpf/procfs/proc_scan.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "bpf/vigil_abi.h"
#include "engine/state/container.h"

namespace vigil {

// A seeded process's environment is bounded as an exec record's is.
static_assert(ProcScanOptions{}.max_env_bytes == VG_ENV_LEN);

namespace {

// Reads a whole small file (at most `limit` bytes) with one open/read loop.
// false when it cannot be opened or read; `*truncated` when more was there.
bool ReadSmallFile(const std::string& path, std::size_t limit, std::string* out, bool* truncated = nullptr) {
  out->clear();
  if (truncated != nullptr) *truncated = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::array<char, 4096> buf;
  bool ok = true;
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    if (n == 0) break;
    std::size_t room = limit - out->size();
    std::size_t take = std::min(room, static_cast<std::size_t>(n));
    out->append(buf.data(), take);
    if (take < static_cast<std::size_t>(n)) {
      if (truncated != nullptr) *truncated = true;
      break;
    }
  }
  ::close(fd);
  return ok;
}

bool ReadLink(const std::string& path, std::string* out) {
  std::array<char, 4096> buf;
  ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  if (n < 0 || static_cast<std::size_t>(n) >= buf.size()) {
    out->clear();
    return false;
  }
  out->assign(buf.data(), static_cast<std::size_t>(n));
  return true;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out, int base = 10) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && ptr != s.data();
}

// Splits on whitespace.
template <std::size_t N>
std::size_t SplitFields(std::string_view s, std::array<std::string_view, N>* out) {
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos < s.size() && count < N) {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
    if (pos >= s.size()) break;
    std::size_t end = pos;
    while (end < s.size() && s[end] != ' ' && s[end] != '\t' && s[end] != '\n') ++end;
    (*out)[count++] = s.substr(pos, end - pos);
    pos = end;
  }
  return count;
}

// /proc/<pid>/stat: "pid (comm) state ppid pgrp session tty_nr ... starttime(22) ...".
// comm may hold spaces and ')', so fields are counted from the last ')'.
bool ParseStat(std::string_view stat, ProcessInfo* p, uint32_t* pf_flags) {
  std::size_t open = stat.find('(');
  std::size_t close = stat.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return false;
  p->name.assign(stat.substr(open + 1, close - open - 1));
  // After ") ": field 3 (state) is index 0, so field N is index N - 3.
  std::array<std::string_view, 24> f{};
  std::size_t n = SplitFields(stat.substr(close + 1), &f);
  if (n < 20) return false;
  uint64_t ticks = 0;
  int64_t tty = 0;
  if (!ParseNumber(f[4 - 3], &p->ppid) || !ParseNumber(f[7 - 3], &tty) || !ParseNumber(f[9 - 3], pf_flags) ||
      !ParseNumber(f[22 - 3], &ticks)) {
    return false;
  }
  // pgrp and session as this /proc's pid namespace numbers them (the host's
  // for the agent); the namespace view comes from status (NSpgid, NSsid),
  // and is the same where there is no such line (a process on the host).
  p->session_known = ParseNumber(f[5 - 3], &p->pgid) && ParseNumber(f[6 - 3], &p->sid);
  p->vpgid = p->pgid;
  p->vsid = p->sid;
  p->tty = static_cast<uint32_t>(tty);
  p->start_ns = ticks * NsPerClockTick();
  return true;
}

// /proc/<pid>/status: credentials, capabilities, pid namespace nesting.
bool ParseStatus(std::string_view status, ProcessInfo* p) {
  bool have_uid = false;
  std::size_t pos = 0;
  while (pos < status.size()) {
    std::size_t eol = status.find('\n', pos);
    if (eol == std::string_view::npos) eol = status.size();
    std::string_view line = status.substr(pos, eol - pos);
    pos = eol + 1;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    std::array<std::string_view, 64> f{};
    if (key == "Uid") {
      if (SplitFields(value, &f) >= 2) {
        have_uid = ParseNumber(f[0], &p->uid) && ParseNumber(f[1], &p->euid);
      }
    } else if (key == "Gid") {
      if (SplitFields(value, &f) >= 2) {
        ParseNumber(f[0], &p->gid);
        ParseNumber(f[1], &p->egid);
      }
    } else if (key == "CapEff") {
      ParseNumber(value, &p->cap_effective, 16);
    } else if (key == "CapPrm") {
      ParseNumber(value, &p->cap_permitted, 16);
    } else if (key == "NSpid") {
      std::size_t n = SplitFields(value, &f);
      if (n >= 1) {
        ParseNumber(f[n - 1], &p->vpid);
        p->pidns_level = static_cast<uint32_t>(n - 1);
      }
    } else if (key == "NSpgid" || key == "NSsid") {
      // One number per namespace level, the process's own last (0: its
      // group or session leader is outside that namespace).
      std::size_t n = SplitFields(value, &f);
      if (n >= 1) ParseNumber(f[n - 1], key == "NSpgid" ? &p->vpgid : &p->vsid);
    }
  }
  return have_uid;
}

// "0::/path" (cgroup v2 unified hierarchy line).
bool ParseCgroupV2(std::string_view text, std::string* path) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.starts_with("0::")) {
      path->assign(line.substr(3));
      return true;
    }
  }
  return false;
}

void ParseCmdline(const std::string& raw, bool truncated, std::size_t max_args, ProcessInfo* p) {
  p->argv.clear();
  p->argv_truncated = truncated;
  std::size_t pos = 0;
  while (pos < raw.size()) {
    std::size_t end = raw.find('\0', pos);
    if (end == std::string::npos) end = raw.size();
    if (p->argv.size() >= max_args) {
      p->argv_truncated = true;
      break;
    }
    p->argv.emplace_back(raw, pos, end - pos);
    pos = end + 1;
  }
}

// "mnt:[4026531841]" -> 4026531841.
uint64_t NamespaceInode(const std::string& link) {
  std::size_t open = link.find('[');
  uint64_t inode = 0;
  if (open == std::string::npos) return 0;
  ParseNumber(std::string_view(link).substr(open + 1), &inode);
  return inode;
}

constexpr uint32_t kPfKthread = 0x00200000;  // PF_KTHREAD in the stat flags field

StdioType StdioTypeOfMode(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return StdioType::kFile;
    case S_IFIFO: return StdioType::kPipe;
    case S_IFSOCK: return StdioType::kSocket;
    case S_IFCHR: return StdioType::kChar;
    case S_IFDIR: return StdioType::kDir;
    case S_IFBLK: return StdioType::kBlock;
    default: return StdioType::kOther;
  }
}

}  // namespace

void ReadStdio(const std::string& pid_dir, ProcessInfo* p) {
  p->stdin_name.clear();
  for (std::size_t i = 0; i < 3; ++i) {
    StdioFd& d = p->stdio[i];
    d = StdioFd{};
    std::string fd_path = pid_dir + "fd/" + std::to_string(i);
    struct stat st {};
    if (::stat(fd_path.c_str(), &st) != 0) {
      // ENOENT: the descriptor is closed. Anything else (EACCES without
      // root): unknown, not "none".
      if (errno == ENOENT) d.type = StdioType::kNone;
      continue;
    }
    d.type = StdioTypeOfMode(st.st_mode);
    // The kernel's encoding (major << 20 | minor), as the exec record has it.
    d.dev = (static_cast<uint32_t>(major(st.st_dev)) << 20) | static_cast<uint32_t>(minor(st.st_dev));
    d.ino = st.st_ino;
    std::string link;
    if (i == 0 && d.type == StdioType::kFile && ReadLink(fd_path, &link)) {
      std::size_t slash = link.rfind('/');
      p->stdin_name = slash == std::string::npos ? link : link.substr(slash + 1);
      if (p->stdin_name.size() > kStdinNameMax) p->stdin_name.resize(kStdinNameMax);
    }
  }
}

uint64_t NsPerClockTick() {
  static const uint64_t ns = [] {
    long hz = ::sysconf(_SC_CLK_TCK);
    return hz > 0 ? 1'000'000'000ull / static_cast<uint64_t>(hz) : 10'000'000ull;
  }();
  return ns;
}

bool IsElf32(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char ident[EI_CLASS + 1] = {};
  const ssize_t n = ::pread(fd, ident, sizeof ident, 0);
  ::close(fd);
  return n == static_cast<ssize_t>(sizeof ident) && std::memcmp(ident, ELFMAG, SELFMAG) == 0 &&
         ident[EI_CLASS] == ELFCLASS32;
}

uint64_t BootTimeNowNs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string FindCgroup2Mount(const std::string& mountinfo) {
  std::string text;
  if (ReadSmallFile(mountinfo, 1 << 20, &text)) {
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t eol = text.find('\n', pos);
      if (eol == std::string::npos) eol = text.size();
      std::string_view line(text.data() + pos, eol - pos);
      pos = eol + 1;
      // "id parent maj:min root mountpoint opts [optional...] - fstype source superopts"
      std::size_t dash = line.find(" - ");
      if (dash == std::string_view::npos || !line.substr(dash + 3).starts_with("cgroup2 ")) continue;
      std::array<std::string_view, 5> f{};
      if (SplitFields(line.substr(0, dash), &f) < 5 || f[3] != "/") continue;
      std::string mount;
      // mountinfo escapes space, tab, newline and backslash as \ooo.
      for (std::size_t i = 0; i < f[4].size(); ++i) {
        if (f[4][i] == '\\' && i + 3 < f[4].size()) {
          int v = 0;
          bool octal = true;
          for (std::size_t k = 1; k <= 3; ++k) {
            char c = f[4][i + k];
            if (c < '0' || c > '7') octal = false;
            v = v * 8 + (c - '0');
          }
          if (octal) {
            mount.push_back(static_cast<char>(v));
            i += 3;
            continue;
          }
        }
        mount.push_back(f[4][i]);
      }
      return mount;
    }
  }
  return "/sys/fs/cgroup";
}

std::optional<Namespaces> ReadNamespaces(uint32_t pid, const std::string& proc_root) {
  std::string base = proc_root + "/" + std::to_string(pid) + "/ns/";
  Namespaces ns;
  std::string link;
  struct Item {
    const char* name;
    uint64_t Namespaces::*field;
  };
  static constexpr Item kItems[] = {
      {"pid", &Namespaces::pid},   {"mnt", &Namespaces::mnt}, {"net", &Namespaces::net},
      {"user", &Namespaces::user}, {"uts", &Namespaces::uts}, {"ipc", &Namespaces::ipc},
      {"cgroup", &Namespaces::cgroup},
  };
  bool any = false;
  for (const Item& item : kItems) {
    if (ReadLink(base + item.name, &link)) {
      ns.*item.field = NamespaceInode(link);
      any = true;
    }
  }
  if (!any) return std::nullopt;
  return ns;
}

std::optional<ProcessInfo> ReadProcess(uint32_t pid, const ProcScanOptions& options, bool* incomplete) {
  if (incomplete != nullptr) *incomplete = false;
  std::string dir = options.proc_root + "/" + std::to_string(pid) + "/";
  std::string text;
  ProcessInfo p;
  p.pid = pid;
  p.tid = pid;
  uint32_t pf_flags = 0;
  // stat and status are the process: if either is gone, so is the process.
  if (!ReadSmallFile(dir + "stat", 4096, &text) || !ParseStat(text, &p, &pf_flags)) return std::nullopt;
  if (!ReadSmallFile(dir + "status", 16384, &text) || !ParseStatus(text, &p)) return std::nullopt;
  bool kthread = (pf_flags & kPfKthread) != 0;
  bool missing = false;

  if (ReadSmallFile(dir + "loginuid", 64, &text)) {
    ParseNumber(std::string_view(text), &p.loginuid);
  }
  if (!ReadLink(dir + "exe", &p.exepath) && !kthread) missing = true;
  if (!kthread) p.exe_32bit = IsElf32(dir + "exe");
  if (struct stat st{}; !kthread && stat((dir + "exe").c_str(), &st) == 0) {
    // The executable's inode (proc.exe_ino*): the overlay layer is not
    // visible from here, so exe_layer stays unknown.
    p.exe_ino = st.st_ino;
    p.exe_ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
    p.exe_mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }
  if (!ReadLink(dir + "cwd", &p.cwd) && !kthread) missing = true;
  if (!kthread) ReadStdio(dir, &p);
  bool truncated = false;
  if (ReadSmallFile(dir + "cmdline", options.max_argv_bytes, &text, &truncated)) {
    ParseCmdline(text, truncated, options.max_args, &p);
  } else {
    missing = true;
  }
  if (options.read_env) {
    // No missing mark when it cannot be read: environ needs ptrace access
    // (another user's process without CAP_SYS_PTRACE), which the rest does not.
    bool env_cut = false;
    if (ReadSmallFile(dir + "environ", options.max_env_bytes, &text, &env_cut)) {
      p.env = MakeEnv(text, env_cut);
      p.env_truncated = env_cut;
    }
  }
  if (auto ns = ReadNamespaces(pid, options.proc_root)) {
    p.ns = *ns;
  } else {
    missing = true;
  }
  if (ReadSmallFile(dir + "cgroup", 8192, &text) && ParseCgroupV2(text, &p.cgroup)) {
    struct stat st {};
    const std::string& root = options.cgroup_root.empty() ? FindCgroup2Mount() : options.cgroup_root;
    if (::stat((root + p.cgroup).c_str(), &st) == 0) {
      p.cgroup_id = st.st_ino;
    }
    p.container_id = ContainerIdFromCgroup(p.cgroup);
  } else {
    missing = true;
    p.container_id = std::string(kHostContainerId);
  }
  // A process that exited while we read it leaves half-empty fields: drop it
  // rather than seed the table with a ghost.
  if (missing && ::access(dir.c_str(), F_OK) != 0) return std::nullopt;
  if (incomplete != nullptr) *incomplete = missing;
  return p;
}

std::vector<ProcessInfo> ScanProcesses(const ProcScanOptions& given, ProcScanStats* stats) {
  ProcScanOptions options = given;
  if (options.cgroup_root.empty()) options.cgroup_root = FindCgroup2Mount();
  ProcScanStats local;
  std::vector<uint32_t> pids;
  if (DIR* dir = ::opendir(options.proc_root.c_str())) {
    while (struct dirent* entry = ::readdir(dir)) {
      uint32_t pid = 0;
      std::string_view name(entry->d_name);
      if (name.empty() || name.front() < '0' || name.front() > '9') continue;
      auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
      if (ec != std::errc() || ptr != name.data() + name.size() || pid == 0) continue;
      pids.push_back(pid);
    }
    ::closedir(dir);
  }
  std::sort(pids.begin(), pids.end());
  local.found = pids.size();
  std::vector<ProcessInfo> out;
  out.reserve(pids.size());
  for (uint32_t pid : pids) {
    bool incomplete = false;
    std::optional<ProcessInfo> p = ReadProcess(pid, options, &incomplete);
    if (!p) {
      ++local.vanished;
      continue;
    }
    if (incomplete) ++local.incomplete;
    out.push_back(std::move(*p));
  }
  local.read = out.size();
  if (stats != nullptr) *stats = local;
  return out;
}

}  // namespace vigil
