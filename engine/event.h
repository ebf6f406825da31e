// SPDX-License-Identifier: Apache-2.0
// The engine's event model: one `Event` per captured kernel action.
//
// Contract:
// - An Event is a self-contained value. The capture loader fills one from a
//   ring-buffer record; `vigil replay` and inline rule tests fill one from field
//   values. Nothing but the loader reads the raw kernel ABI.
// - The hot thread reuses one Event object: strings and vectors keep their
//   capacity, so decoding the common event allocates nothing once warmed up.
//   Call `Event::Reset()` (not assignment from `Event{}`) between events.
// - Ancestors (parent, grandparent, ...) are not copied into the Event; they
//   are reached through `ancestors`, which the producer of the event points at
//   a view that stays valid while the event is being evaluated.
#pragma once

#include <array>
#include <climits>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

struct ContainerMeta;

// Every event type the sensor can emit comes from one table,
// bpf/vigil_events.def (one row per type: ABI number, record kind, name,
// enforcement hook, families). The name is the `evt.type` string (Falco's
// name where Falco has one: syscall names, `procexit`); EventType of a kernel
// type is its ABI number - 1.
// Event types vigil makes itself, from no kernel record; they follow the
// kernel's in EventType, so the capture's interest mask never names them.
// `container`: a container seen for the first time (Falco's evt.type =
// container; agent/container_events.h). `container_removed`: a container the
// runtime no longer lists (the name of the Falco container plugin's removal
// event).
#define VIGIL_SYNTHESIZED_EVENT_TYPES(X) X(container) X(container_removed)

enum class EventType : uint16_t {
#define VG_EVENT(num, TYPE, name, kind, hook, families) name,
#include "bpf/vigil_events.def"
#define VIGIL_X(name) name,
  VIGIL_SYNTHESIZED_EVENT_TYPES(VIGIL_X)
#undef VIGIL_X
};

// Types a kernel record can carry: EventType values below this.
inline constexpr std::size_t kKernelEventTypeCount = 0
#define VG_EVENT(num, TYPE, name, kind, hook, families) +1
#include "bpf/vigil_events.def"
    ;

inline constexpr std::size_t kEventTypeCount = kKernelEventTypeCount
#define VIGIL_X(name) +1
    VIGIL_SYNTHESIZED_EVENT_TYPES(VIGIL_X)
#undef VIGIL_X
    ;

inline constexpr bool IsKernelEventType(EventType t) { return static_cast<std::size_t>(t) < kKernelEventTypeCount; }

// The VG_EF_* family bits of each type (vigil_events.def); synthesized types
// belong to none.
inline constexpr uint32_t kEventTypeFamilies[] = {
#define VG_EVENT(num, TYPE, name, kind, hook, families) (families),
#include "bpf/vigil_events.def"
#define VIGIL_X(name) 0u,
    VIGIL_SYNTHESIZED_EVENT_TYPES(VIGIL_X)
#undef VIGIL_X
};
static_assert(std::size(kEventTypeFamilies) == kEventTypeCount);

inline constexpr bool InEventFamily(EventType t, uint32_t family) {
  return (kEventTypeFamilies[static_cast<std::size_t>(t)] & family) != 0;
}
inline constexpr bool IsExecEvent(EventType t) { return InEventFamily(t, VG_EF_EXEC); }
inline constexpr bool IsForkEvent(EventType t) { return InEventFamily(t, VG_EF_FORK); }
inline constexpr bool IsOpenEvent(EventType t) { return InEventFamily(t, VG_EF_OPEN); }
inline constexpr bool IsFileEvent(EventType t) { return InEventFamily(t, VG_EF_FILE); }
inline constexpr bool IsNetEvent(EventType t) { return InEventFamily(t, VG_EF_NET); }
inline constexpr bool IsDataEvent(EventType t) { return InEventFamily(t, VG_EF_DATA); }
inline constexpr bool IsDupEvent(EventType t) { return InEventFamily(t, VG_EF_DUP); }
inline constexpr bool IsFileTimesEvent(EventType t) { return InEventFamily(t, VG_EF_TIMES); }
inline constexpr bool IsXattrEvent(EventType t) { return InEventFamily(t, VG_EF_XATTR); }
// File calls that can act on a descriptor (fchmod, fchown, ftruncate,
// fsetxattr, fremovexattr, and fchmodat, fchownat, utimensat, futimesat
// given an fd and no path): their fd.name is the name the process table's
// descriptor table holds from the open (docs/state.md "Descriptors"), so
// which opens reach user space can change what a rule on them sees
// (engine/interest.h, the open path filter).
inline constexpr bool NamesFdFromOpen(EventType t) {
  switch (t) {
    case EventType::fchmod: case EventType::fchown: case EventType::ftruncate: case EventType::fsetxattr:
    case EventType::fremovexattr: case EventType::fchmodat: case EventType::fchownat: case EventType::utimensat:
    case EventType::futimesat:
      return true;
    default:
      return false;
  }
}
// Types the process table is built from (captured whatever the rules name).
inline constexpr bool IsStateEvent(EventType t) { return InEventFamily(t, VG_EF_STATE); }

// The `evt.type` string of `type`.
std::string_view EventTypeName(EventType type);
// Inverse of EventTypeName; false when `name` is not a vigil event type.
bool EventTypeFromName(std::string_view name, EventType* out);

// Namespace inodes of a task (0 = unknown).
struct Namespaces {
  uint64_t pid = 0;
  uint64_t mnt = 0;
  uint64_t net = 0;
  uint64_t user = 0;
  uint64_t uts = 0;
  uint64_t ipc = 0;
  uint64_t cgroup = 0;
};

inline constexpr uint32_t kNoLoginUid = 4294967295u;  // audit "unset"

// Whether the executable is in an overlayfs upper layer (proc.is_exe_upper_layer).
enum class ExeLayer : uint8_t { kUnknown = 0, kNotUpper, kUpper };

// What one of descriptors 0-2 of a process is (taken at exec and by the /proc
// scan; a fork child inherits its parent's). kUnknown: not read (a process
// known only from other records, or a line without them).
enum class StdioType : uint8_t { kUnknown = 0, kNone, kFile, kPipe, kSocket, kChar, kDir, kBlock, kOther };

struct StdioFd {
  StdioType type = StdioType::kUnknown;
  uint32_t dev = 0;  // the inode's device (kernel encoding, major << 20 | minor)
  uint64_t ino = 0;
  bool SamePipe(const StdioFd& o) const { return type == StdioType::kPipe && o.type == type && o.ino == ino && o.dev == dev; }
};

// Falco-like names: "file", "pipe", "socket", "char", "directory", "block",
// "other", "none" (closed); "" for kUnknown.
std::string_view StdioTypeName(StdioType t);
// The inverse; false for an unknown name.
bool StdioTypeFromName(std::string_view name, StdioType* t);

// The acting process (thread group) as it is at the time of the event; for an
// exec, the new image.
struct ProcessInfo {
  uint32_t pid = 0;   // tgid as seen from the host
  uint32_t tid = 0;   // the thread that acted
  uint32_t ppid = 0;  // parent tgid (real parent)
  uint32_t vpid = 0;  // tgid inside its own pid namespace
  uint32_t pidns_level = 0;
  uint32_t uid = 0, gid = 0, euid = 0, egid = 0;
  uint32_t loginuid = kNoLoginUid;
  uint64_t cap_effective = 0;
  uint64_t cap_permitted = 0;
  uint64_t start_ns = 0;  // boot-time ns when the process (tgid) started
  uint64_t exec_ns = 0;   // boot-time ns of its latest exec (0: none seen)
  std::string name;       // comm, at most 15 bytes
  std::string exepath;    // absolute path of the executable
  std::vector<std::string> argv;  // argv[0..], bounded by the capture
  bool argv_truncated = false;
  // The environment the image was exec'd with: NAME=value entries, each
  // NUL-terminated (as /proc/PID/environ), bounded by the capture. For a
  // process that predates the sensor, its /proc/PID/environ at start, bounded
  // the same (ProcScanOptions::read_env). Null when it was not captured (no
  // loaded rule or output reads proc.env, or environ could not be read);
  // shared by every event and table entry of
  // the image, never changed once built. env_truncated: the capture kept only
  // the first entries (a cut entry is dropped, never passed on as whole).
  std::shared_ptr<const std::string> env;
  bool env_truncated = false;
  // The image is 32-bit (an i386 or x32 ELF: a 4 GiB address space). Its
  // syscalls take the compat entry, which the syscalls/ tracepoints do not
  // see: only its exec, forks and exit are captured (docs/capture.md).
  bool exe_32bit = false;
  std::string cwd;
  uint64_t cgroup_id = 0;
  std::string cgroup;        // cgroup v2 path from the host's root, when known
  std::string container_id;  // 12 hex chars, or "host"
  Namespaces ns;
  uint32_t tty = 0;
  // Session and process group: ids in the initial pid namespace (sid, pgid)
  // and in the process's own (vsid, vpgid; 0 when the leader is outside it).
  // session_known: they were read (an exec record, the /proc scan, inherited
  // at fork); false for a process known only from other records or from JSON
  // that lacks them, whose ids then read as <NA>. Taken at exec: a setsid()
  // or setpgid() without a later exec is not seen (docs/capture.md).
  uint32_t sid = 0, pgid = 0, vsid = 0, vpgid = 0;
  bool session_known = false;
  // Descriptors 0, 1, 2 and, when fd 0 is a regular file, its name (the last
  // path component). Taken at exec and by the /proc scan; a setup changed by
  // dup2() without a later exec is not seen.
  std::array<StdioFd, 3> stdio{};
  std::string stdin_name;
  // The executable's inode as the exec found it (mm->exe_file; the /proc
  // scan stats /proc/PID/exe): its number (0: unknown), ctime and mtime in ns
  // since the epoch. exe_layer: overlayfs upper layer or not; kUnknown when
  // not read (the /proc scan, a failed exec) or when the capture lacks the
  // overlay inode's BTF (docs/capture.md).
  uint64_t exe_ino = 0;
  int64_t exe_ctime_ns = 0;
  int64_t exe_mtime_ns = 0;
  ExeLayer exe_layer = ExeLayer::kUnknown;
  // Boot-time ns when the init of its pid namespace started (libsinsp's
  // pidns_init_start_ts, in boot time); 0 unknown. Taken at exec.
  uint64_t pidns_start_ns = 0;

  // Process identity that survives pid reuse: "<pid>:<start_ns>".
  std::string ExecId() const;
};

// Parents of the acting process. `Ancestor(1)` is the parent, 2 the
// grandparent, ...; nullptr past the known chain. Implementations must keep
// returned pointers valid while the event that references them is evaluated.
class AncestorView {
 public:
  virtual ~AncestorView() = default;
  virtual const ProcessInfo* Ancestor(int level) const = 0;
  // The live process at the other end of a pipe: which = 0, one whose stdout
  // is the pipe on our stdin (the writer feeding us); 1, one whose stdin is
  // the pipe on our stdout (the reader we feed). nullptr when stdin/stdout is
  // not a pipe or no other known live process holds its other end.
  virtual const ProcessInfo* StdioPeer(int /*which*/) const { return nullptr; }
};

// Ancestors held by value (replay, rule tests, records that carry them).
class OwnedAncestors final : public AncestorView {
 public:
  std::vector<ProcessInfo> chain;  // chain[0] = parent
  // The pipe peers (StdioPeer): [0] writes our stdin, [1] reads our stdout.
  std::array<std::optional<ProcessInfo>, 2> peers;
  const ProcessInfo* Ancestor(int level) const override {
    if (level < 1 || static_cast<std::size_t>(level) > chain.size()) return nullptr;
    return &chain[static_cast<std::size_t>(level - 1)];
  }
  const ProcessInfo* StdioPeer(int which) const override {
    if (which < 0 || which > 1 || !peers[static_cast<std::size_t>(which)]) return nullptr;
    return &*peers[static_cast<std::size_t>(which)];
  }
};

// 16-byte address; IPv4 is stored in the first 4 bytes (network order).
struct IpAddr {
  std::array<uint8_t, 16> bytes{};
};

// A time a utimensat-family call set on a file: ns since the Unix epoch
// (saturated to the int64 range), or one of these markers.
inline constexpr int64_t kFileTimeUnset = INT64_MIN;     // not a time-setting call, or unreadable
inline constexpr int64_t kFileTimeNow = INT64_MIN + 1;   // set to the current time (NULL times, UTIME_NOW)
inline constexpr int64_t kFileTimeOmit = INT64_MIN + 2;  // left unchanged (UTIME_OMIT)
inline constexpr int64_t kFileTimeMin = INT64_MIN + 3;   // the earliest real time

// Set in FileArgs::flags of a successful open that created the file (Falco's
// O_F_CREATED; the kernel's FMODE_CREATED). No open flag uses bit 31.
inline constexpr uint32_t kOpenFlagCreated = 1u << 31;

// File-system arguments (open family, unlink, rmdir, rename, chmod, chown,
// link, symlink, mkdir, mount, umount, truncate, utimensat family, setxattr
// family, memfd, module load by fd).
struct FileArgs {
  int32_t fd = -1;         // fd used or returned (dirfd/fd argument, or result of open)
  std::string path;        // as given by the caller
  // `path` made absolute against cwd or dirfd and normalised lexically (".",
  // "..", "//"), symlinks not followed: libsinsp's fd.name; empty when it
  // cannot be made absolute. fd-based calls: the file's own path.
  std::string abspath;
  // The file's own path as the kernel has it (symlinks resolved) where the
  // capture knows it: a successful open, an fd-based call. Else empty
  // (fd.name.resolved is then abspath).
  std::string resolved;
  std::string target;      // rename/link: new path; symlink: link path; mount: dir
  std::string target_abs;  // `target` resolved to absolute, else empty
  uint32_t flags = 0;      // open flags (| kOpenFlagCreated), unlinkat/renameat2/linkat flags, mount flags (low bits), umount flags
  uint32_t mode = 0;       // open/creat/mkdir/chmod mode
  uint32_t owner_uid = 0xffffffffu;  // chown family
  uint32_t owner_gid = 0xffffffffu;
  std::string fstype;      // mount
  std::string source;      // mount: device or source
  uint64_t length = 0;     // truncate; setxattr family: the value's size
  std::string xattr_name;  // setxattr family: the attribute (security.capability, user.x, ...)
  int64_t atime = kFileTimeUnset;  // utimensat family: the access time set
  int64_t mtime = kFileTimeUnset;  // utimensat family: the modification time set
};

// Socket arguments (the types with VG_EF_NET in bpf/vigil_events.def: socket,
// connect, accept, bind, listen, setsockopt, dup*, the send/recv family).
// The first bytes of a data call's payload (evt.buffer; docs/capture.md
// "Payload"): captured only while a loaded rule reads evt.buffer, at most
// kDataBufferMax bytes (Falco's default snaplen).
inline constexpr std::size_t kDataBufferMax = 80;  // VG_DATA_LEN
struct DataBuffer {
  std::string bytes;
  bool captured = false;  // false: not captured (evt.buffer is <NA>)
  bool cut = false;       // the payload was longer than kDataBufferMax: bytes is its beginning
  bool operator==(const DataBuffer&) const = default;
};
// Bytes as lowercase hex ("cafebabe"), and back (two digits a byte, either
// case; false on anything else). Recordings and rule tests write evt.buffer so.
void AppendHex(std::string_view bytes, std::string* out);
bool ParseHex(std::string_view hex, std::string* out);

struct NetArgs {
  int32_t fd = -1;
  uint16_t family = 0;  // AF_INET=2, AF_INET6=10, AF_UNIX=1, ...
  uint32_t type = 0;    // SOCK_STREAM=1, ... (without flags)
  uint32_t protocol = 0;
  IpAddr local_addr;
  uint16_t local_port = 0;  // host order
  IpAddr remote_addr;
  uint16_t remote_port = 0;  // host order
  std::string unix_path;     // AF_UNIX path ('@' prefix for abstract)
  int32_t backlog = 0;       // listen
  int32_t sockopt_level = 0;  // setsockopt
  int32_t sockopt_name = 0;
  uint64_t size = 0;          // send/recv family: the length argument (msg and mmsg calls: 0)
  DataBuffer data;            // send/recv family: evt.buffer
};

// bpf(2) detail.
struct BpfArgs {
  int32_t cmd = -1;  // BPF_* command number
  uint32_t prog_type = 0;
  uint32_t expected_attach_type = 0;
  uint32_t attach_type = 0;  // PROG_ATTACH / LINK_CREATE
  uint32_t insn_cnt = 0;
  uint32_t prog_flags = 0;
  uint32_t attach_btf_id = 0;
  std::string prog_name;
  std::string license;
  // Helper ids the program calls (bit n = helper n), from scanning its instructions.
  std::array<uint64_t, 4> helpers{};
  bool helpers_complete = false;  // false: instructions could not all be scanned
  uint32_t map_type = 0;
  std::string map_name;
  uint32_t id = 0;        // prog/map/link id argument or result, when known
  int32_t target_fd = -1;  // attach target fd
  std::string target;      // raw tracepoint name, pin path, attach target symbol

  bool HasHelper(uint32_t helper_id) const {
    return helper_id < 256 && (helpers[helper_id / 64] >> (helper_id % 64)) & 1u;
  }
  void AddHelper(uint32_t helper_id) {
    if (helper_id < 256) helpers[helper_id / 64] |= uint64_t{1} << (helper_id % 64);
  }
};

// Arguments of process, credential and namespace events.
struct ProcArgs {
  uint64_t flags = 0;       // clone/unshare flags, setns nstype, memfd/userfaultfd flags, module flags
  int32_t target_pid = 0;   // ptrace, process_vm_readv/writev, pidfd_getfd's process; clone/fork: child pid
  int64_t request = 0;      // ptrace request
  int32_t fd = -1;          // setns fd, finit_module fd, pidfd_getfd's pidfd
  int32_t oldfd = -1;       // dup*; pidfd_getfd: the fd number in the target
  int32_t newfd = -1;       // dup*; pidfd_getfd: the caller's new fd
  uint32_t ids[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};  // set*id: real, effective, saved
  uint64_t caps[3] = {0, 0, 0};  // capset: effective, permitted, inheritable
  std::string name;          // memfd name, module name/params, pre-exec comm on exec
  int32_t exit_code = 0;     // procexit
  int32_t exit_signal = 0;   // procexit
};

struct Event {
  EventType type = EventType::execve;
  uint64_t ts_ns = 0;    // boot-time ns (bpf_ktime_get_boot_ns)
  uint64_t wall_ns = 0;  // realtime ns (from ts_ns and the boot offset)
  int64_t res = 0;       // syscall result: >= 0 success, < 0 is -errno
  ProcessInfo proc;
  const AncestorView* ancestors = nullptr;
  // The runtime's metadata of proc.container_id (engine/state/container_meta.h),
  // or null: not a container, or not fetched yet. Shared and immutable.
  std::shared_ptr<const ContainerMeta> container;
  FileArgs file;
  NetArgs net;
  BpfArgs bpf;
  ProcArgs args;
  // An enforcing action the kernel took on this event ("" none, "deny", "kill").
  std::string enforcement;
  // The call came through the 32-bit (ia32) syscall entry of an x86-64 kernel
  // (int 0x80, sysenter): evt.is_compat. compat_from_64bit: the image that
  // made it is a 64-bit one (an i386 program makes all its calls this way; a
  // 64-bit one has no need to): evt.is_compat_from_64bit.
  bool compat = false;
  bool compat_from_64bit = false;

  // Clear every field for reuse; keeps string and vector capacity (argv's
  // element buffers go to a per-thread pool that AssignArgv/AppendArgv reuse).
  void Reset();
};

// An environment's entries as libsinsp renders proc.env: space-separated
// ("HOME=/root PATH=/usr/bin").
void JoinEnv(std::string_view env, std::string* out);
// The value of NAME in `env` (first entry "NAME=..."): false when absent.
bool FindEnv(std::string_view env, std::string_view name, std::string_view* value);
// Bytes as captured (NUL-separated entries, maybe without the last NUL) into
// the stored form: every entry NUL-terminated; when `truncated`, the bytes
// after the last NUL (an entry the bound cut) are dropped.
std::shared_ptr<const std::string> MakeEnv(std::string_view bytes, bool truncated);

// Fill a process's argv without allocating once warm: the strings reuse the
// buffers that Event::Reset() released on this thread. AssignArgv replaces
// *dst with a copy of src; AppendArgv adds one element.
void AssignArgv(std::vector<std::string>* dst, const std::vector<std::string>& src);
void AppendArgv(std::vector<std::string>* dst, std::string_view arg);

}  // namespace vigil
