// SPDX-License-Identifier: Apache-2.0
#include "bpf/decoder.h"

#include <cstddef>
#include <cstring>

#include "bpf/vigil_abi.h"

namespace vigil::capture {
namespace {

static_assert(std::tuple_size_v<decltype(ChainView::names)> == VG_CHAIN_DEPTH);

struct TypeInfo {
  uint16_t kind;  // 0 = not a valid type
  EventType type;
};

// vg_type -> (kind, EventType), from the table of types. Indexed by the ABI
// number; 0 is no type.
constexpr std::array<TypeInfo, VG_T_MAX> kTypes = {{
    {0, EventType::execve},
#define VG_EVENT(num, TYPE, name, kind, hook, families) {VG_KIND_##kind, EventType::name},
#include "bpf/vigil_events.def"
}};

// The rows are in ABI-number order without gaps, so that the table above is
// indexed by the number and EventType of a kernel type is its number - 1.
// A row out of place breaks the ABI of recordings and of older kernels' objects.
#define VG_EVENT(num, TYPE, name, kind, hook, families)                                  \
  static_assert(VG_T_##TYPE == (num) && static_cast<int>(EventType::name) == (num) - 1, \
                "vigil_events.def: row " #TYPE " is not in number order");
#include "bpf/vigil_events.def"
static_assert(VG_T_MAX - 1 <= 64 * VG_INTEREST_WORDS, "the interest mask (vg_interest) holds one bit per type");
static_assert(static_cast<int>(StdioType::kNone) == VG_FD_NONE + 1 && static_cast<int>(StdioType::kFile) == VG_FD_FILE + 1 &&
                  static_cast<int>(StdioType::kPipe) == VG_FD_PIPE + 1 &&
                  static_cast<int>(StdioType::kSocket) == VG_FD_SOCK + 1 &&
                  static_cast<int>(StdioType::kChar) == VG_FD_CHR + 1 && static_cast<int>(StdioType::kDir) == VG_FD_DIR + 1 &&
                  static_cast<int>(StdioType::kBlock) == VG_FD_BLK + 1 &&
                  static_cast<int>(StdioType::kOther) == VG_FD_OTHER + 1,
              "vg_stdio.type + 1 is the StdioType");
static_assert(VG_T_MAX - 1 == kKernelEventTypeCount, "every vg_type is an EventType and back");

std::size_t KindSize(uint16_t kind) {
  switch (kind) {
    case VG_KIND_EXEC: return sizeof(vg_exec);
    case VG_KIND_PROC: return sizeof(vg_proc);
    case VG_KIND_FILE: return sizeof(vg_file);
    case VG_KIND_NET: return sizeof(vg_net);
    case VG_KIND_BPF: return sizeof(vg_bpf);
    default: return 0;
  }
}

// A fixed char array as a string_view, stopping at the first NUL.
template <std::size_t N>
std::string_view Str(const char (&a)[N]) {
  return std::string_view(a, strnlen(a, N));
}

void DecodeHeader(const vg_hdr& h, int64_t boot_to_wall, Event* e) {
  e->ts_ns = h.ts_ns;
  e->wall_ns = static_cast<uint64_t>(static_cast<int64_t>(h.ts_ns) + boot_to_wall);
  e->res = h.res;
  ProcessInfo& p = e->proc;
  p.pid = h.pid;
  p.tid = h.tid;
  p.ppid = h.ppid;
  p.vpid = h.vpid;
  p.pidns_level = h.pidns_level;
  p.uid = h.uid;
  p.gid = h.gid;
  p.euid = h.euid;
  p.egid = h.egid;
  p.loginuid = h.loginuid;
  p.cap_effective = h.cap_effective;
  p.cap_permitted = h.cap_permitted;
  p.start_ns = h.start_ns;
  p.cgroup_id = h.cgroup_id;
  p.ns.pid = h.ns_pid;
  p.ns.mnt = h.ns_mnt;
  p.ns.net = h.ns_net;
  p.ns.user = h.ns_user;
  p.ns.uts = h.ns_uts;
  p.ns.ipc = h.ns_ipc;
  p.ns.cgroup = h.ns_cgroup;
  p.tty = h.tty;
  p.name.assign(Str(h.comm));
  e->compat = (h.flags & VG_HF_COMPAT) != 0;
  e->compat_from_64bit = e->compat && !(h.flags & VG_HF_ADDR32);
  // Any other compat call's record was made by the running image, whose
  // address space says what it is (an exec's ADDR32 is the caller's).
  if (e->compat && (h.flags & VG_HF_ADDR32) && h.kind != VG_KIND_EXEC) p.exe_32bit = true;
}

void DecodeSock(const vg_sock& s, NetArgs* n) {
  n->family = s.family;
  n->type = s.type;
  n->protocol = s.protocol;
  std::memcpy(n->local_addr.bytes.data(), s.laddr, 16);
  std::memcpy(n->remote_addr.bytes.data(), s.raddr, 16);
  n->local_port = s.lport;
  n->remote_port = s.rport;
  n->unix_path.clear();
  std::size_t len = s.unix_len < VG_UNIX_PATH_LEN ? s.unix_len : VG_UNIX_PATH_LEN;
  if (s.family == 1 && len > 0) {
    if (s.unix_path[0] == '\0') {
      // abstract name: '@' + the bytes after the NUL (not NUL-terminated)
      n->unix_path.push_back('@');
      n->unix_path.append(s.unix_path + 1, len - 1);
    } else {
      n->unix_path.assign(s.unix_path, strnlen(s.unix_path, len));
    }
  }
}

void DecodeExec(const vg_exec& r, Event* e) {
  ProcessInfo& p = e->proc;
  JoinChain(r.exe, &p.exepath);
  JoinChain(r.cwd, &p.cwd);
  std::size_t argv_len = r.argv_len < VG_ARGV_LEN ? r.argv_len : VG_ARGV_LEN;
  SplitArgv(std::string_view(r.argv, argv_len), &p.argv);
  p.argv_truncated = (r.flags & VG_EXEC_ARGV_TRUNC) != 0;
  p.exe_32bit = (r.flags & VG_EXEC_ADDR32) != 0;
  p.sid = r.sid;
  p.pgid = r.pgid;
  p.vsid = r.vsid;
  p.vpgid = r.vpgid;
  p.session_known = true;
  for (std::size_t i = 0; i < 3; ++i) {
    const vg_stdio& d = r.stdio[i];
    // An out-of-range type from a newer or corrupt record reads as "other".
    p.stdio[i].type = d.type <= VG_FD_OTHER ? static_cast<StdioType>(d.type + 1) : StdioType::kOther;
    p.stdio[i].dev = d.dev;
    p.stdio[i].ino = d.ino;
  }
  p.stdin_name.assign(Str(r.stdin_name));
  if (r.flags & VG_EXEC_EXE_INODE) {
    p.exe_ino = r.exe_ino;
    p.exe_ctime_ns = r.exe_ctime_ns;
    p.exe_mtime_ns = r.exe_mtime_ns;
  }
  if (r.flags & VG_EXEC_LAYER_KNOWN)
    p.exe_layer = (r.flags & VG_EXEC_UPPER_LAYER) ? ExeLayer::kUpper : ExeLayer::kNotUpper;
  p.pidns_start_ns = r.pidns_start_ns;
  if (r.flags & VG_EXEC_ENV) {
    // env_len was checked against the record's size before decoding.
    p.env = MakeEnv(std::string_view(r.env, r.env_len), (r.flags & VG_EXEC_ENV_TRUNC) != 0);
    p.env_truncated = (r.flags & VG_EXEC_ENV_TRUNC) != 0;
  }
  e->args.name.assign(Str(r.old_comm));
  e->file.path.assign(Str(r.filename));
  // a filename filling its slot may have been cut: no absolute form then
  // (fs.path keeps what was read; docs/capture.md "Limits")
  if (e->file.path.size() < VG_PATH_LEN - 1)
    ResolvePath(p.cwd, e->file.path, &e->file.abspath);
  else
    e->file.abspath.clear();
  if (r.hdr.type == VG_T_EXECVEAT) {
    e->file.fd = r.dirfd;
    e->file.flags = r.at_flags;
  }
  if (e->res == 0) {
    p.exec_ns = r.hdr.ts_ns;
    // A failed exec leaves the image as it was; the path is in file.path.
    if (p.exepath.empty()) p.exepath = e->file.abspath;
  } else {
    p.exepath.clear();
  }
}

void DecodeProc(const vg_proc& r, Event* e) {
  ProcArgs& a = e->args;
  a.flags = r.flags;
  a.target_pid = r.target_pid;
  a.request = r.request;
  a.fd = r.fd;
  a.oldfd = r.oldfd;
  a.newfd = r.newfd;
  for (int i = 0; i < 3; ++i) {
    a.ids[i] = r.ids[i];
    a.caps[i] = r.caps[i];
  }
  a.exit_code = r.exit_code;
  a.exit_signal = r.exit_signal;
  a.name.assign(Str(r.name));
  if (r.has_sock) {
    DecodeSock(r.sock, &e->net);
    e->net.fd = r.oldfd;
  }
}

// The absolute form of `path` given its base chain: the chain itself for an
// fd-based call, else path joined to the chain (or alone when absolute).
void AbsFromChain(const ChainView& base, bool base_is_file, std::string_view path, std::string* scratch,
                  std::string* out) {
  out->clear();
  if (base_is_file) {
    JoinNames(base, out);
    return;
  }
  if (!path.empty() && path[0] == '/') {
    ResolvePath({}, path, out);
    return;
  }
  if (path.empty()) return;
  if (base.depth == 0 && !(base.flags & (VG_CHAIN_COMPLETE | VG_CHAIN_CUT))) return;
  if (!JoinNames(base, scratch)) return;
  ResolvePath(*scratch, path, out);
}

// A file record's tail, split and checked (vigil_abi.h, struct vg_file).
struct FileTail {
  std::string_view path, fstype, target;
  ChainView base, target_base;
};

// Takes `n` bytes from `*tail` as one string that ends with its only NUL (an
// empty view when n is 0). False when it does not.
bool TakeString(std::string_view* tail, std::size_t n, std::size_t max, std::string_view* out) {
  *out = {};
  if (n == 0) return true;
  if (n > max || n > tail->size()) return false;
  std::string_view s = tail->substr(0, n);
  if (s.find('\0') != n - 1) return false;
  *out = s.substr(0, n - 1);
  tail->remove_prefix(n);
  return true;
}

// Takes `h.len` bytes as exactly `h.depth` NUL-terminated names.
bool TakeNames(std::string_view* tail, const vg_names& h, ChainView* out) {
  *out = ChainView{};
  out->flags = h.flags;
  if (h.depth > VG_CHAIN_DEPTH || h.len > VG_NAMES_MAX || h.len > tail->size()) return false;
  std::string_view s = tail->substr(0, h.len);
  for (uint16_t i = 0; i < h.depth; ++i) {
    std::size_t nul = s.find('\0');
    if (nul == std::string_view::npos || nul >= VG_NAME_LEN) return false;
    out->names[i] = s.substr(0, nul);
    s.remove_prefix(nul + 1);
  }
  if (!s.empty()) return false;  // bytes past the last name
  out->depth = h.depth;
  tail->remove_prefix(h.len);
  return true;
}

bool SplitFileTail(const vg_file& r, std::string_view tail, FileTail* t) {
  if (!TakeString(&tail, r.path_len, VG_FILE_PATH_LEN, &t->path)) return false;
  if (!TakeNames(&tail, r.base, &t->base)) return false;
  if (!TakeString(&tail, r.fstype_len, VG_FSTYPE_LEN, &t->fstype)) return false;
  if (!TakeString(&tail, r.target_len, VG_FILE_PATH_LEN, &t->target)) return false;
  if (!TakeNames(&tail, r.target_base, &t->target_base)) return false;
  return tail.empty();
}

// One time of a utimensat-family record as FileArgs holds it: ns since the
// epoch, saturated (a time before 1677 or after 2262 is kept as the nearest
// end of the range), or a marker.
int64_t FileTime(const vg_file& r, int64_t sec, uint32_t nsec) {
  if (r.file_flags & VG_FF_TIMES_UNREAD) return kFileTimeUnset;
  if (r.file_flags & VG_FF_TIMES_NOW) return kFileTimeNow;
  if (nsec == VG_UTIME_NOW) return kFileTimeNow;
  if (nsec == VG_UTIME_OMIT) return kFileTimeOmit;
  if (nsec >= 1000000000u) return kFileTimeUnset;  // VG_NSEC_INVALID: the kernel refused the call
  constexpr int64_t kNs = 1000000000;
  if (sec > (INT64_MAX - nsec) / kNs) return INT64_MAX;
  if (sec < kFileTimeMin / kNs + 1) return kFileTimeMin;
  return sec * kNs + nsec;
}

bool IsTimesType(uint16_t type) {
  return type < VG_T_MAX && kTypes[type].kind != 0 && IsFileTimesEvent(kTypes[type].type);
}

bool IsXattrType(uint16_t type) {
  return type < VG_T_MAX && kTypes[type].kind != 0 && IsXattrEvent(kTypes[type].type);
}

void DecodeFile(const vg_file& r, const FileTail& t, std::string* scratch, Event* e) {
  FileArgs& f = e->file;
  f.fd = r.fd;
  f.flags = r.flags;
  if (r.file_flags & VG_FF_CREATED) f.flags |= kOpenFlagCreated;
  f.mode = r.mode;
  f.owner_uid = r.owner_uid;
  f.owner_gid = r.owner_gid;
  f.length = r.length;
  if (IsTimesType(r.hdr.type)) {
    f.atime = FileTime(r, r.atime_sec, r.atime_nsec);
    f.mtime = FileTime(r, r.mtime_sec, r.mtime_nsec);
  }
  f.path.assign(t.path);
  bool base_is_file = (r.file_flags & VG_FF_BASE_IS_FILE) != 0;
  AbsFromChain(t.base, base_is_file, f.path, scratch, &f.abspath);
  if (base_is_file) f.resolved = f.abspath;
  if (r.file_flags & VG_FF_OPENED_FILE) {
    // a successful open: target_base is the opened file (vigil_abi.h)
    JoinNames(t.target_base, &f.resolved);
    return;
  }
  if (IsXattrType(r.hdr.type)) {
    // a name, not a path; fsetxattr's and fremovexattr's ride in `path` (vigil_abi.h)
    if (r.hdr.type == VG_T_FSETXATTR || r.hdr.type == VG_T_FREMOVEXATTR) {
      f.xattr_name.assign(t.path);
      f.path.clear();
    } else {
      f.xattr_name.assign(t.target);
    }
  } else if (r.hdr.type == VG_T_MOUNT) {
    f.source.assign(t.target);
    f.fstype.assign(t.fstype);
    f.target = f.path;
    f.target_abs = f.abspath;
  } else {
    f.target.assign(t.target);
    AbsFromChain(t.target_base, false, f.target, scratch, &f.target_abs);
  }
}

void DecodeNet(const vg_net& r, Event* e) {
  DecodeSock(r.sock, &e->net);
  e->net.fd = r.fd;
  e->net.backlog = r.backlog;
  e->net.sockopt_level = r.sockopt_level;
  e->net.sockopt_name = r.sockopt_name;
  e->net.size = r.size;
  // data_len was checked against the record's size before decoding.
  // A buffer that could not be read at all is unknown (<NA>), not empty.
  if ((r.data_flags & VG_ND_CAPTURED) && (r.data_len > 0 || !(r.data_flags & VG_ND_UNREAD))) {
    e->net.data.bytes.assign(reinterpret_cast<const char*>(r.data), r.data_len);
    e->net.data.captured = true;
    e->net.data.cut = (r.data_flags & VG_ND_CUT) != 0;
  }
}

void DecodeBpf(const vg_bpf& r, Event* e) {
  BpfArgs& b = e->bpf;
  b.cmd = r.cmd;
  b.prog_type = r.prog_type;
  b.expected_attach_type = r.expected_attach_type;
  b.attach_type = r.attach_type;
  b.insn_cnt = r.insn_cnt;
  b.prog_flags = r.prog_flags;
  b.attach_btf_id = r.attach_btf_id;
  b.map_type = r.map_type;
  b.id = r.id;
  b.target_fd = r.target_fd;
  for (int i = 0; i < 4; ++i) b.helpers[i] = r.helpers[i];
  b.helpers_complete = (r.flags & VG_BPF_HELPERS_COMPLETE) != 0;
  b.prog_name.assign(Str(r.prog_name));
  b.map_name.assign(Str(r.map_name));
  b.license.assign(Str(r.license));
  b.target.assign(Str(r.target));
}

}  // namespace

std::string_view DecodeStatusName(DecodeStatus status) {
  switch (status) {
    case DecodeStatus::kOk: return "ok";
    case DecodeStatus::kTooShort: return "too_short";
    case DecodeStatus::kBadSize: return "bad_size";
    case DecodeStatus::kBadVersion: return "bad_version";
    case DecodeStatus::kBadKind: return "bad_kind";
    case DecodeStatus::kBadType: return "bad_type";
    case DecodeStatus::kBadTail: return "bad_tail";
    case DecodeStatus::kCount: break;
  }
  return "unknown";
}

uint64_t DecodeStats::TotalRejected() const {
  uint64_t n = 0;
  for (uint64_t v : rejected) n += v;
  return n;
}

DecodeStatus Decoder::Decode(const void* data, std::size_t len, Event* event) {
  event->Reset();
  auto reject = [this](DecodeStatus s) {
    ++stats_.rejected[static_cast<std::size_t>(s)];
    return s;
  };
  if (data == nullptr || len < sizeof(vg_hdr)) return reject(DecodeStatus::kTooShort);
  // Ring-buffer memory is 8-byte aligned, but fuzzers and tests hand in any
  // pointer: read the header by value; the family record is read in place only
  // when aligned, else copied.
  vg_hdr h;
  std::memcpy(&h, data, sizeof(h));
  if (h.abi_version != VG_ABI_VERSION) return reject(DecodeStatus::kBadVersion);
  std::size_t want = KindSize(h.kind);
  if (want == 0) return reject(DecodeStatus::kBadKind);
  // A file record is a head and a packed tail of strings, an exec record a
  // head and the used part of env (vigil_abi.h).
  bool file = h.kind == VG_KIND_FILE;
  bool exec = h.kind == VG_KIND_EXEC;
  bool net = h.kind == VG_KIND_NET;
  std::size_t min = file ? VG_FILE_HEAD_SIZE : exec ? VG_EXEC_HEAD_SIZE : net ? VG_NET_HEAD_SIZE : want;
  if (h.size != len || len < min || len > want) return reject(DecodeStatus::kBadSize);
  if (h.type == 0 || h.type >= VG_T_MAX || kTypes[h.type].kind != h.kind) return reject(DecodeStatus::kBadType);

  // Every check before any field is filled: a rejected record leaves the
  // event as Reset() left it.
  vg_file head;  // file records: the head only; the tail is read in place
  FileTail tail;
  if (file) {
    std::memcpy(&head, data, VG_FILE_HEAD_SIZE);
    std::string_view bytes(static_cast<const char*>(data) + VG_FILE_HEAD_SIZE, len - VG_FILE_HEAD_SIZE);
    if (!SplitFileTail(head, bytes, &tail)) return reject(DecodeStatus::kBadTail);
  } else if (exec) {
    uint32_t env_len;
    std::memcpy(&env_len, static_cast<const char*>(data) + offsetof(vg_exec, env_len), sizeof(env_len));
    if (env_len != len - VG_EXEC_HEAD_SIZE) return reject(DecodeStatus::kBadSize);
  } else if (net) {
    uint32_t data_len;
    std::memcpy(&data_len, static_cast<const char*>(data) + offsetof(vg_net, data_len), sizeof(data_len));
    if (data_len != len - VG_NET_HEAD_SIZE) return reject(DecodeStatus::kBadSize);
  } else if (len != want) {
    return reject(DecodeStatus::kBadSize);
  }

  event->type = kTypes[h.type].type;
  DecodeHeader(h, boot_to_wall_ns_, event);

  alignas(8) static thread_local unsigned char copy[sizeof(vg_exec)];
  static_assert(sizeof(copy) >= sizeof(vg_proc) && sizeof(copy) >= sizeof(vg_bpf) && sizeof(copy) >= sizeof(vg_net));
  const void* rec = data;
  if (!file && reinterpret_cast<uintptr_t>(data) % alignof(vg_hdr) != 0) {
    std::memcpy(copy, data, len);
    rec = copy;
  }
  switch (h.kind) {
    case VG_KIND_EXEC: DecodeExec(*static_cast<const vg_exec*>(rec), event); break;
    case VG_KIND_PROC: DecodeProc(*static_cast<const vg_proc*>(rec), event); break;
    case VG_KIND_FILE: DecodeFile(head, tail, &scratch_, event); break;
    case VG_KIND_NET: DecodeNet(*static_cast<const vg_net*>(rec), event); break;
    case VG_KIND_BPF: DecodeBpf(*static_cast<const vg_bpf*>(rec), event); break;
    default: break;
  }
  ++stats_.decoded;
  return DecodeStatus::kOk;
}

bool JoinNames(const ChainView& chain, std::string* out) {
  out->clear();
  // a cut name would spell another file: no path at all
  if (chain.flags & VG_CHAIN_NAME_CUT) return false;
  bool cut = !(chain.flags & VG_CHAIN_COMPLETE);
  if (cut && !(chain.flags & VG_CHAIN_CUT)) return false;  // the walk failed: nothing known
  std::size_t depth = chain.depth < VG_CHAIN_DEPTH ? chain.depth : VG_CHAIN_DEPTH;
  if (cut && depth == 0) return false;
  if (cut) out->append(kTruncatedPathPrefix);
  if (depth == 0) {
    out->push_back('/');
    return true;
  }
  for (std::size_t i = depth; i-- > 0;) {
    std::string_view name = chain.names[i];
    // the root dentry's name is "/" on some filesystems: skip it
    if (name.empty() || name == "/") continue;
    out->push_back('/');
    out->append(name);
  }
  if (out->empty()) out->push_back('/');
  return true;
}

bool JoinChain(const vg_chain& chain, std::string* out) {
  ChainView v;
  v.flags = chain.flags;
  v.depth = chain.depth < VG_CHAIN_DEPTH ? chain.depth : VG_CHAIN_DEPTH;
  for (std::size_t i = 0; i < v.depth; ++i) v.names[i] = std::string_view(chain.comp[i], strnlen(chain.comp[i], VG_NAME_LEN));
  return JoinNames(v, out);
}

namespace {
void ResolveAbsolute(std::string_view base, std::string_view path, std::string* out) {
  out->clear();
  if (path.empty()) return;
  if (path[0] != '/') {
    // only an absolute base makes an absolute path (and keeps the in-place
    // normalisation below safe: output never overtakes input)
    if (base.empty() || base[0] != '/') return;
    out->append(base);
  }
  // Lexical normalisation, in place: components are appended to `out`, ".."
  // pops the last one.
  auto push = [out](std::string_view comp) {
    if (comp.empty() || comp == ".") return;
    if (comp == "..") {
      auto slash = out->rfind('/');
      out->resize(slash == std::string::npos ? 0 : slash);
      return;
    }
    out->push_back('/');
    out->append(comp);
  };
  // Normalise what came from the base too (it is absolute and clean when it
  // came from a chain, but the base of a test may not be).
  std::size_t base_len = out->size();
  if (base_len > 0) {
    // re-push the base's components
    std::string_view b(*out);
    std::size_t n_out = 0;
    std::size_t i = 0;
    // rebuild in place: the result is never longer than the input
    std::string& s = *out;
    while (i < b.size()) {
      while (i < b.size() && b[i] == '/') ++i;
      std::size_t j = i;
      while (j < b.size() && b[j] != '/') ++j;
      std::string_view comp = b.substr(i, j - i);
      if (comp.empty() || comp == ".") {
      } else if (comp == "..") {
        while (n_out > 0 && s[n_out - 1] != '/') --n_out;
        if (n_out > 0) --n_out;
      } else {
        s[n_out++] = '/';
        for (char c : comp) s[n_out++] = c;
      }
      i = j;
    }
    s.resize(n_out);
  }
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    std::size_t j = i;
    while (j < path.size() && path[j] != '/') ++j;
    push(path.substr(i, j - i));
    i = j;
  }
  if (out->empty()) out->push_back('/');
}

}  // namespace

void ResolvePath(std::string_view base, std::string_view path, std::string* out) {
  // A base that lost its leading directories (kTruncatedPathPrefix + "/..."):
  // resolved below the marker, which ".." cannot climb past, and marked again.
  std::string_view marker = kTruncatedPathPrefix;
  if (!path.empty() && path[0] != '/' && base.substr(0, marker.size()) == marker) {
    ResolveAbsolute(base.substr(marker.size()), path, out);
    if (!out->empty()) out->insert(0, marker);
    return;
  }
  ResolveAbsolute(base, path, out);
}

void SplitArgv(std::string_view bytes, std::vector<std::string>* argv) {
  argv->clear();
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t j = bytes.find('\0', i);
    if (j == std::string_view::npos) j = bytes.size();
    AppendArgv(argv, bytes.substr(i, j - i));
    i = j + 1;
  }
}

std::array<uint64_t, kInterestWords> InterestWords(const std::bitset<kEventTypeCount>& types) {
  static_assert(kInterestWords == VG_INTEREST_WORDS);
  std::array<uint64_t, kInterestWords> mask{};
  for (uint32_t abi = 1; abi < VG_T_MAX; ++abi) {
    EventType t;
    if (EventTypeOfAbi(abi, &t) && types.test(static_cast<std::size_t>(t)))
      mask[(abi - 1) / 64] |= uint64_t{1} << ((abi - 1) % 64);
  }
  return mask;
}

bool EventTypeOfAbi(uint32_t abi, EventType* out) {
  if (abi >= VG_T_MAX || kTypes[abi].kind == 0) return false;
  *out = kTypes[abi].type;
  return true;
}

}  // namespace vigil::capture
