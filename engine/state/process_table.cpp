// SPDX-License-Identifier: Apache-2.0
#include "engine/state/process_table.h"

#include <array>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/state/container.h"
#include "engine/state/fd_table.h"

namespace vigil {
namespace {

constexpr uint32_t kNone = 0xffffffffu;
constexpr uint64_t kCloneThread = 0x00010000;  // CLONE_THREAD: a thread, not a process
constexpr uint64_t kCloneParent = 0x00008000;  // CLONE_PARENT: the caller's parent becomes the parent

// Calls whose result is a new descriptor that is not a file opened by name.
bool MakesOtherFd(EventType t) {
  switch (t) {
    case EventType::socket: case EventType::accept: case EventType::accept4: case EventType::memfd_create:
    case EventType::userfaultfd: case EventType::pidfd_getfd:
      return true;
    default:
      return false;
  }
}

// A file call acting on a descriptor rather than a path: the fd-only calls,
// and the *at calls given an fd and an empty path (AT_EMPTY_PATH, or
// utimensat/futimesat with a NULL path).
bool ActsOnFd(const Event& ev) {
  return NamesFdFromOpen(ev.type) && ev.file.fd >= 0 && ev.file.path.empty() && !ev.file.resolved.empty();
}

constexpr uint32_t kOCloexec = 02000000;

bool NamespacesUnset(const Namespaces& ns) {
  return ns.pid == 0 && ns.mnt == 0 && ns.net == 0 && ns.user == 0 && ns.uts == 0 && ns.ipc == 0 && ns.cgroup == 0;
}

// Both start times known and further apart than /proc's tick granularity.
bool DifferentStart(uint64_t a, uint64_t b) {
  if (a == 0 || b == 0) return false;
  return (a > b ? a - b : b - a) > kStartTimeToleranceNs;
}

bool StdioKnown(const ProcessInfo& p) {
  return p.stdio[0].type != StdioType::kUnknown || p.stdio[1].type != StdioType::kUnknown ||
         p.stdio[2].type != StdioType::kUnknown;
}

uint64_t PipeKey(const StdioFd& d) { return d.ino ^ (static_cast<uint64_t>(d.dev) << 40); }

// Assigns only when different, so a steady state costs a compare, not a copy.
void SetIfDiffers(std::string& to, const std::string& from) {
  if (to != from) to = from;
}

}  // namespace

struct ProcessTable::Impl {
  // A slot sits in exactly one list while used: `live` (most recently used at
  // the head) or `exited` (oldest exit at the head).
  struct Entry {
    ProcessInfo info;
    uint64_t exit_ts = 0;
    bool used = false;
    bool exited = false;
    uint32_t prev = kNone;
    uint32_t next = kNone;
    // The pipes this entry is indexed under (pipe_readers/pipe_writers), as
    // they were when indexed: kUnknown when not.
    StdioFd in_pipe;
    StdioFd out_pipe;
  };
  using PipeIndex = std::unordered_multimap<uint64_t, uint32_t>;
  struct List {
    uint32_t head = kNone;
    uint32_t tail = kNone;
    std::size_t size = 0;
  };

  // The parent chain of one event, walked lazily: most rules ask for the parent
  // only, so the rest of the chain is looked up when asked for.
  class Ancestors final : public AncestorView {
   public:
    explicit Ancestors(const Impl* impl) : impl_(impl) {}
    void Reset(uint32_t self_pid, uint32_t ppid) {
      self_pid_ = self_pid;
      first_ppid_ = ppid;
      filled_ = 0;
      ended_ = false;
      stdin_ = stdout_ = StdioFd{};
    }
    void SetStdio(const StdioFd& in, const StdioFd& out) {
      stdin_ = in;
      stdout_ = out;
    }
    const ProcessInfo* StdioPeer(int which) const override {
      if (which == 0) return impl_->PipePeer(impl_->pipe_writers, stdin_, self_pid_, first_ppid_, 1);
      if (which == 1) return impl_->PipePeer(impl_->pipe_readers, stdout_, self_pid_, first_ppid_, 0);
      return nullptr;
    }
    const ProcessInfo* Ancestor(int level) const override {
      if (level < 1 || level > kMaxAncestorDepth) return nullptr;
      while (filled_ < level && !ended_) Extend();
      return level <= filled_ ? chain_[static_cast<std::size_t>(level - 1)] : nullptr;
    }

   private:
    void Extend() const {
      uint32_t next = filled_ == 0 ? first_ppid_ : chain_[static_cast<std::size_t>(filled_ - 1)]->ppid;
      bool seen = next == 0 || next == self_pid_;
      for (int i = 0; i < filled_ && !seen; ++i) seen = chain_[static_cast<std::size_t>(i)]->pid == next;
      const ProcessInfo* info = seen ? nullptr : impl_->FindInfo(next);
      if (info == nullptr) {
        ended_ = true;
        return;
      }
      chain_[static_cast<std::size_t>(filled_++)] = info;
    }

    const Impl* impl_;
    uint32_t self_pid_ = 0;
    uint32_t first_ppid_ = 0;
    mutable std::array<const ProcessInfo*, kMaxAncestorDepth> chain_{};
    mutable int filled_ = 0;
    mutable bool ended_ = true;
    StdioFd stdin_;
    StdioFd stdout_;
  };

  explicit Impl(std::size_t cap) : capacity(cap < 2 ? 2 : cap), view(this) {
    // reserve() maps the slot array without touching it: memory is committed
    // as processes appear, and slots never move (pointers stay valid). The
    // hash indexes grow with the table instead: their bucket arrays are
    // zeroed when allocated, so reserving the capacity up front made 1.5 MB
    // resident on a host of a few hundred processes.
    slots.reserve(capacity);
    free_slots.reserve(capacity);
  }

  // ---- lookup and lists ----
  uint32_t FindSlot(uint32_t pid) const {
    auto it = index.find(pid);
    return it == index.end() ? kNone : it->second;
  }
  const ProcessInfo* FindInfo(uint32_t pid) const {
    uint32_t s = FindSlot(pid);
    return s == kNone ? nullptr : &slots[s].info;
  }
  List& ListOf(const Entry& e) { return e.exited ? exited : live; }

  // ---- pipe index: which processes hold a pipe as stdin or stdout ----
  // The process other than `self` whose descriptor `fd` is the pipe `pipe`,
  // or nullptr. An exited process stays a candidate for its grace period
  // (kExitedGraceNs): `base64 -d f | sh` can finish writing and exit before
  // the shell's exec is seen. When several are, a sibling of `self` (parent
  // `ppid`: the two ends of `a | b` a shell started) before others (children
  // that inherited the pipe), then a live one before an exited one, then the
  // one exec'd last.
  const ProcessInfo* PipePeer(const PipeIndex& idx, const StdioFd& pipe, uint32_t self, uint32_t ppid,
                              int fd) const {
    if (pipe.type != StdioType::kPipe) return nullptr;
    const Entry* best = nullptr;
    auto [b, e] = idx.equal_range(PipeKey(pipe));
    for (auto it = b; it != e; ++it) {
      const Entry& en = slots[it->second];
      if (!en.used || en.info.pid == self || !en.info.stdio[fd].SamePipe(pipe)) continue;
      if (best == nullptr) {
        best = &en;
        continue;
      }
      const bool sib = en.info.ppid == ppid, best_sib = best->info.ppid == ppid;
      if (sib != best_sib ? sib
                          : en.exited != best->exited ? !en.exited : en.info.exec_ns > best->info.exec_ns)
        best = &en;
    }
    return best == nullptr ? nullptr : &best->info;
  }
  static void IndexOne(PipeIndex& idx, const StdioFd& d, uint32_t s, StdioFd* keep) {
    *keep = StdioFd{};
    if (d.type != StdioType::kPipe) return;
    uint64_t key = PipeKey(d);
    // Bounded per pipe: a reader forking many children that inherit its
    // stdin would make every update of that pipe's entries slow.
    if (idx.count(key) >= kMaxPipeHolders) return;
    idx.emplace(key, s);
    *keep = d;
  }
  static void UnindexOne(PipeIndex& idx, StdioFd* kept, uint32_t s) {
    if (kept->type != StdioType::kPipe) return;
    auto [b, e] = idx.equal_range(PipeKey(*kept));
    for (auto it = b; it != e; ++it) {
      if (it->second == s) {
        idx.erase(it);
        break;
      }
    }
    *kept = StdioFd{};
  }
  void Unindex(uint32_t s) {
    UnindexOne(pipe_readers, &slots[s].in_pipe, s);
    UnindexOne(pipe_writers, &slots[s].out_pipe, s);
  }
  // (Re)indexes a live entry under its current stdin and stdout pipes.
  void Index(uint32_t s) {
    Unindex(s);
    Entry& e = slots[s];
    if (!e.used || e.exited) return;
    IndexOne(pipe_readers, e.info.stdio[0], s, &e.in_pipe);
    IndexOne(pipe_writers, e.info.stdio[1], s, &e.out_pipe);
  }

  void Unlink(uint32_t s) {
    Entry& e = slots[s];
    List& l = ListOf(e);
    if (e.prev != kNone) slots[e.prev].next = e.next; else l.head = e.next;
    if (e.next != kNone) slots[e.next].prev = e.prev; else l.tail = e.prev;
    e.prev = e.next = kNone;
    --l.size;
  }
  void PushFront(List& l, uint32_t s) {
    Entry& e = slots[s];
    e.prev = kNone;
    e.next = l.head;
    if (l.head != kNone) slots[l.head].prev = s; else l.tail = s;
    l.head = s;
    ++l.size;
  }
  void PushBack(List& l, uint32_t s) {
    Entry& e = slots[s];
    e.next = kNone;
    e.prev = l.tail;
    if (l.tail != kNone) slots[l.tail].next = s; else l.head = s;
    l.tail = s;
    ++l.size;
  }
  // Marks a live entry most recently used; exited entries keep their exit order.
  void Touch(uint32_t s) {
    Entry& e = slots[s];
    if (e.exited || live.head == s) return;
    Unlink(s);
    PushFront(live, s);
  }

  // ---- slot lifetime ----
  void Free(uint32_t s) {
    Entry& e = slots[s];
    Unindex(s);
    fds.DropProcess(e.info.pid);
    index.erase(e.info.pid);
    Unlink(s);
    e.used = false;
    e.exited = false;
    free_slots.push_back(s);
  }
  void EvictOne() {
    uint32_t s = exited.head != kNone ? exited.head : live.tail;
    if (!slots[s].exited) ++stats.live_evictions;
    ++stats.evictions;
    Free(s);
  }
  // A fresh live slot at the LRU head, indexed under `pid`; its info is stale
  // and must be assigned by the caller. Allocates only the index node (and the
  // slot's strings when the caller assigns).
  uint32_t Allocate(uint32_t pid) {
    if (free_slots.empty() && slots.size() >= capacity) EvictOne();
    uint32_t s;
    if (!free_slots.empty()) {
      s = free_slots.back();
      free_slots.pop_back();
    } else {
      slots.emplace_back();
      s = static_cast<uint32_t>(slots.size() - 1);
    }
    Entry& e = slots[s];
    e.used = true;
    e.exited = false;
    e.exit_ts = 0;
    PushFront(live, s);
    index[pid] = s;
    return s;
  }
  void MarkExited(uint32_t s) {
    Entry& e = slots[s];
    if (e.exited) return;
    Unlink(s);  // stays in the pipe index until freed (PipePeer)
    fds.DropProcess(e.info.pid);  // no call of a dead process uses a descriptor
    e.exited = true;
    e.exit_ts = now;
    PushBack(exited, s);
  }
  // Frees exited entries whose grace period has passed (event time).
  void Reap() {
    while (exited.head != kNone && slots[exited.head].exit_ts + kExitedGraceNs <= now) {
      Free(exited.head);
      ++stats.reaped;
    }
  }

  // ---- state updates ----
  // Takes what the event knows better than the table: credentials, namespaces,
  // cgroup, and paths the kernel reported.
  static void Refresh(ProcessInfo& t, const ProcessInfo& p) {
    if (p.ppid != 0) t.ppid = p.ppid;  // reparenting after the parent exits
    if (p.vpid != 0) t.vpid = p.vpid;
    if (p.pidns_level != 0) t.pidns_level = p.pidns_level;
    t.uid = p.uid;
    t.gid = p.gid;
    t.euid = p.euid;
    t.egid = p.egid;
    t.loginuid = p.loginuid;
    if (p.cap_effective != 0 || p.cap_permitted != 0) {
      t.cap_effective = p.cap_effective;
      t.cap_permitted = p.cap_permitted;
    }
    if (t.start_ns == 0) t.start_ns = p.start_ns;
    if (!p.name.empty()) SetIfDiffers(t.name, p.name);
    if (!p.exepath.empty()) SetIfDiffers(t.exepath, p.exepath);
    if (!p.cwd.empty()) SetIfDiffers(t.cwd, p.cwd);
    if (p.cgroup_id != 0) t.cgroup_id = p.cgroup_id;
    if (!p.cgroup.empty()) SetIfDiffers(t.cgroup, p.cgroup);
    if (!p.container_id.empty()) SetIfDiffers(t.container_id, p.container_id);
    if (!NamespacesUnset(p.ns)) t.ns = p.ns;
    if (p.tty != 0) t.tty = p.tty;
    if (p.session_known) CopySession(t, p);
  }

  // Session and process group travel together: an exec record and the /proc
  // scan carry all four ids, other records none (vigil_abi.h).
  static void CopySession(ProcessInfo& to, const ProcessInfo& from) {
    to.sid = from.sid;
    to.pgid = from.pgid;
    to.vsid = from.vsid;
    to.vpgid = from.vpgid;
    to.session_known = true;
  }
  static void CopyExeInode(ProcessInfo& to, const ProcessInfo& from) {
    to.exe_ino = from.exe_ino;
    to.exe_ctime_ns = from.exe_ctime_ns;
    to.exe_mtime_ns = from.exe_mtime_ns;
    to.exe_layer = from.exe_layer;
  }
  static void CopyStdio(ProcessInfo& to, const ProcessInfo& from) {
    to.stdio = from.stdio;
    if (to.stdin_name != from.stdin_name) to.stdin_name = from.stdin_name;
  }

  // A new entry for the process an event describes. A fork child with nothing
  // but ids in its record inherits what it shares with its parent.
  uint32_t AddFromEvent(const ProcessInfo& p, bool inherit_from_parent) {
    uint32_t s = Allocate(p.pid);
    ProcessInfo& t = slots[s].info;
    const ProcessInfo* parent = inherit_from_parent ? FindInfo(p.ppid) : nullptr;
    if (parent != nullptr && parent != &t) {
      t = *parent;
      t.pid = p.pid;
      t.tid = p.pid;
      t.ppid = p.ppid;
      t.vpid = 0;
      t.start_ns = 0;
      Refresh(t, p);
      if (!p.argv.empty()) {
        t.argv = p.argv;
        t.argv_truncated = p.argv_truncated;
      }
      fds.Forked(p.ppid, p.pid);
    } else {
      t = p;
      t.tid = p.pid;
    }
    if (t.container_id.empty() && !t.cgroup.empty()) t.container_id = ContainerIdFromCgroup(t.cgroup);
    Index(s);
    return s;
  }

  // The slot of the acting process, added or refreshed from the event.
  uint32_t Adopt(const Event& ev) {
    const ProcessInfo& p = ev.proc;
    uint32_t s = FindSlot(p.pid);
    if (s != kNone && DifferentStart(slots[s].info.start_ns, p.start_ns)) {
      ++stats.pid_reuses;
      Free(s);
      s = kNone;
    }
    bool fork_child = IsForkEvent(ev.type) && ev.res == 0;
    if (s == kNone) {
      if (!fork_child) ++stats.misses;
      return AddFromEvent(p, fork_child);
    }
    Touch(s);
    Refresh(slots[s].info, p);
    return s;
  }

  // fork/clone seen from the parent: add the child unless it is already known
  // through its own (earlier delivered) events.
  void AddChild(const Event& ev) {
    const ProcessInfo& p = ev.proc;
    if ((ev.type == EventType::clone || ev.type == EventType::clone3) && (ev.args.flags & kCloneThread)) return;
    uint32_t child = ev.args.target_pid > 0 ? static_cast<uint32_t>(ev.args.target_pid)
                                             : static_cast<uint32_t>(ev.res);
    if (child == 0 || child == p.pid) return;
    uint32_t s = FindSlot(child);
    if (s != kNone) {
      const ProcessInfo& c = slots[s].info;
      // Started within the grace window: this child, already seen (it ran, and
      // maybe exec'd, before the parent's clone returned). Keep its image.
      bool same_child = c.start_ns != 0 && (ev.ts_ns == 0 || c.start_ns + kExitedGraceNs >= ev.ts_ns);
      if (same_child) return;
      ++stats.pid_reuses;
      Free(s);
    }
    uint32_t parent_pid = p.pid;
    uint32_t parent_slot = FindSlot(parent_pid);
    if ((ev.args.flags & kCloneParent) && parent_slot != kNone) parent_pid = slots[parent_slot].info.ppid;
    s = Allocate(child);
    parent_slot = FindSlot(p.pid);  // Allocate may have evicted it
    ProcessInfo& t = slots[s].info;
    if (parent_slot != kNone && parent_slot != s) {
      t = slots[parent_slot].info;
    } else {
      t = p;
    }
    t.pid = child;
    t.tid = child;
    t.ppid = parent_pid;
    t.vpid = 0;
    t.start_ns = 0;  // learnt from the child's first own event
    Index(s);
    fds.Forked(p.pid, child);  // the caller's descriptors, whoever becomes the parent
  }

  void ReplaceImage(uint32_t s, const Event& ev) {
    ProcessInfo& t = slots[s].info;
    const ProcessInfo& p = ev.proc;
    if (StdioKnown(p)) {
      CopyStdio(t, p);
      Index(s);
    }
    SetIfDiffers(t.exepath, p.exepath);
    t.argv = p.argv;
    t.argv_truncated = p.argv_truncated;
    // A new image's environment is the one its exec record carries; none
    // captured (env capture off) leaves it unknown, not the old image's.
    t.env = p.env;
    t.env_truncated = p.env_truncated;
    t.exe_32bit = p.exe_32bit;
    CopyExeInode(t, p);  // the new image's, unknown when the record lacks it
    if (p.pidns_start_ns != 0) t.pidns_start_ns = p.pidns_start_ns;
    t.exec_ns = p.exec_ns != 0 ? p.exec_ns : ev.ts_ns;
  }

  // Fills what the record left empty from the table entry.
  static void Enrich(ProcessInfo& p, const ProcessInfo& t, bool successful_exec) {
    if (p.ppid == 0) p.ppid = t.ppid;
    if (p.vpid == 0) p.vpid = t.vpid;
    if (p.pidns_level == 0) p.pidns_level = t.pidns_level;
    if (p.name.empty()) p.name = t.name;
    if (!successful_exec) {
      if (p.exepath.empty()) p.exepath = t.exepath;
      p.exe_32bit = p.exe_32bit || t.exe_32bit;  // only an exec record says it
      if (p.argv.empty() && !t.argv.empty()) {
        AssignArgv(&p.argv, t.argv);  // reuses string buffers: no allocation per event
        p.argv_truncated = t.argv_truncated;
      }
      if (!p.env && t.env) {
        p.env = t.env;  // shared, not copied
        p.env_truncated = t.env_truncated;
      }
      if (p.exe_ino == 0 && p.exe_layer == ExeLayer::kUnknown) CopyExeInode(p, t);  // only an exec record says them
    }
    if (p.pidns_start_ns == 0) p.pidns_start_ns = t.pidns_start_ns;
    if (p.cwd.empty()) p.cwd = t.cwd;
    if (p.cgroup.empty()) p.cgroup = t.cgroup;
    if (p.cgroup_id == 0) p.cgroup_id = t.cgroup_id;
    if (p.container_id.empty()) p.container_id = t.container_id;
    if (p.start_ns == 0) p.start_ns = t.start_ns;
    if (p.exec_ns == 0) p.exec_ns = t.exec_ns;
    if (NamespacesUnset(p.ns)) p.ns = t.ns;
    if (p.tty == 0) p.tty = t.tty;
    if (!p.session_known && t.session_known) CopySession(p, t);
    if (!StdioKnown(p) && StdioKnown(t)) CopyStdio(p, t);
  }

  void Apply(Event& ev) {
    if (ev.ts_ns > now) now = ev.ts_ns;
    Reap();
    ProcessInfo& p = ev.proc;
    if (p.pid == 0) {  // idle task or a record without a process: nothing to track
      view.Reset(0, 0);
      ev.ancestors = &view;
      return;
    }
    bool successful_exec = IsExecEvent(ev.type) && ev.res == 0;
    uint32_t s = Adopt(ev);
    if (successful_exec) ReplaceImage(s, ev);
    ApplyFds(ev, successful_exec);
    if (IsForkEvent(ev.type) && ev.res > 0) {
      AddChild(ev);
      s = FindSlot(p.pid);
    }
    if (s != kNone) {
      Enrich(p, slots[s].info, successful_exec);
      if (ev.type == EventType::procexit && (p.tid == 0 || p.tid == p.pid)) MarkExited(s);
    }
    uint32_t parent = FindSlot(p.ppid);
    if (parent != kNone) Touch(parent);  // a parent with busy children stays
    view.Reset(p.pid, p.ppid);
    view.SetStdio(p.stdio[0], p.stdio[1]);
    ev.ancestors = &view;
  }

  // The descriptor table: opens, dups and other new descriptors update it; an
  // fd-based file call whose open was seen gets the opened name as fd.name
  // (FileArgs::abspath; FileArgs::resolved keeps the kernel's path).
  void ApplyFds(Event& ev, bool successful_exec) {
    const uint32_t pid = ev.proc.pid;
    if (successful_exec) {
      fds.Execed(pid);
      return;
    }
    if (ev.res < 0) return;
    const auto fd = static_cast<int32_t>(ev.res);
    if (IsOpenEvent(ev.type)) {
      fds.Opened(pid, fd, ev.file.abspath, ev.file.resolved, (ev.file.flags & kOCloexec) != 0);
    } else if (IsDupEvent(ev.type)) {
      fds.Duplicated(pid, ev.args.oldfd, fd);
    } else if (MakesOtherFd(ev.type)) {
      fds.Forget(pid, fd);
    } else if (ActsOnFd(ev)) {
      if (const std::string* name = fds.NameFor(pid, ev.file.fd, ev.file.resolved)) SetIfDiffers(ev.file.abspath, *name);
    }
  }

  void Upsert(const ProcessInfo& info) {
    if (info.pid == 0) return;
    uint32_t s = FindSlot(info.pid);
    if (s != kNone && DifferentStart(slots[s].info.start_ns, info.start_ns)) {
      ++stats.pid_reuses;
      fds.DropProcess(info.pid);
    }
    if (s == kNone) {
      s = Allocate(info.pid);
    } else if (slots[s].exited) {
      Unlink(s);
      slots[s].exited = false;
      PushFront(live, s);
    } else {
      Touch(s);
    }
    ProcessInfo& t = slots[s].info;
    t = info;
    if (t.tid == 0) t.tid = t.pid;
    if (t.container_id.empty() && !t.cgroup.empty()) t.container_id = ContainerIdFromCgroup(t.cgroup);
    Index(s);
  }

  std::size_t capacity;
  std::vector<Entry> slots;
  std::vector<uint32_t> free_slots;
  std::unordered_map<uint32_t, uint32_t> index;
  List live;
  List exited;
  uint64_t now = 0;  // latest event time seen (boot ns)
  ProcessTableStats stats;
  PipeIndex pipe_readers;  // stdin pipe -> slot
  PipeIndex pipe_writers;  // stdout pipe -> slot
  FdTable fds;             // descriptors opened by name (fd_table.h)
  Ancestors view;
};

ProcessTable::ProcessTable(std::size_t capacity) : impl_(std::make_unique<Impl>(capacity)) {}
ProcessTable::~ProcessTable() = default;

void ProcessTable::Upsert(const ProcessInfo& info) { impl_->Upsert(info); }

void ProcessTable::Remove(uint32_t pid) {
  uint32_t s = impl_->FindSlot(pid);
  if (s != kNone) impl_->Free(s);
}

void ProcessTable::Apply(Event& event) { impl_->Apply(event); }

const ProcessInfo* ProcessTable::Find(uint32_t pid) const { return impl_->FindInfo(pid); }

ProcessTableStats ProcessTable::Stats() const {
  ProcessTableStats s = impl_->stats;
  s.size = impl_->index.size();
  s.exited = impl_->exited.size;
  s.fds = impl_->fds.Stats();
  return s;
}

}  // namespace vigil
