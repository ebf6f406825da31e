// SPDX-License-Identifier: Apache-2.0
// Process table: a process-tree fixture drives fork/exec/exit sequences and
// checks ancestry, enrichment, bounds, pid reuse and cycle safety.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "engine/state/process_table.h"

// Counts heap allocations so the common path can be shown to make none. Not
// under ASan, whose own operator new/delete must stay in place.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCountsAllocations = false;
#else
constexpr bool kCountsAllocations = true;
// g++ 12 flags free() in a replaced operator delete as mismatched (it cannot
// see that our operator new used malloc): a false positive for this file only.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace vigil {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

// Builds events the way the capture does and feeds them to a table.
class Tree {
 public:
  explicit Tree(std::size_t capacity = 1024) : table(capacity) {}

  // A process known from the /proc seed.
  void Seed(uint32_t pid, uint32_t ppid, std::string exe, std::vector<std::string> argv, std::string cwd = "/",
            std::string cgroup = "/user.slice") {
    ProcessInfo p;
    p.pid = p.tid = pid;
    p.ppid = ppid;
    p.name = exe.substr(exe.rfind('/') + 1).substr(0, 15);
    p.exepath = std::move(exe);
    p.argv = std::move(argv);
    p.cwd = std::move(cwd);
    p.cgroup = std::move(cgroup);
    p.start_ns = pid * kSec / 1000;
    table.Upsert(p);
  }

  Event& Make(EventType type, uint32_t pid, int64_t res = 0) {
    event.Reset();
    event.type = type;
    event.ts_ns = (now += 1000);
    event.res = res;
    event.proc.pid = event.proc.tid = pid;
    event.proc.start_ns = StartOf(pid);
    return event;
  }
  // Parent side of fork: the record names the caller; res/target_pid the child.
  Event& Fork(uint32_t parent, uint32_t child, EventType type = EventType::clone, uint64_t flags = 0) {
    Make(type, parent, child);
    event.args.target_pid = static_cast<int32_t>(child);
    event.args.flags = flags;
    table.Apply(event);
    return event;
  }
  // The child's own first record after fork (start time now known).
  Event& ChildStart(uint32_t child, uint32_t parent, uint64_t start_ns) {
    starts[child] = start_ns;
    Make(EventType::clone, child, 0);
    event.proc.ppid = parent;
    table.Apply(event);
    return event;
  }
  Event& Exec(uint32_t pid, std::string exe, std::vector<std::string> argv, int64_t res = 0) {
    Make(EventType::execve, pid, res);
    event.proc.exepath = std::move(exe);
    event.proc.name = event.proc.exepath.substr(event.proc.exepath.rfind('/') + 1).substr(0, 15);
    event.proc.argv = std::move(argv);
    table.Apply(event);
    return event;
  }
  Event& Open(uint32_t pid, const std::string& path = "/etc/passwd") {
    Make(EventType::openat, pid, 3);
    event.file.path = path;
    table.Apply(event);
    return event;
  }
  Event& Exit(uint32_t pid) {
    Make(EventType::procexit, pid, 0);
    table.Apply(event);
    return event;
  }
  void Advance(uint64_t ns) { now += ns; }

  // Names of the ancestor chain of the current event, parent first.
  std::vector<uint32_t> Chain() const {
    std::vector<uint32_t> out;
    for (int level = 1; event.ancestors != nullptr; ++level) {
      const ProcessInfo* a = event.ancestors->Ancestor(level);
      if (a == nullptr) break;
      out.push_back(a->pid);
    }
    return out;
  }

  uint64_t StartOf(uint32_t pid) const {
    auto it = starts.find(pid);
    return it == starts.end() ? 0 : it->second;
  }

  ProcessTable table;
  Event event;
  uint64_t now = 100 * kSec;
  std::map<uint32_t, uint64_t> starts;
};

TEST_CASE("fork then exec builds the chain and replaces the image", "[unit][state]") {
  Tree t;
  t.Seed(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  t.Seed(500, 1, "/usr/sbin/sshd", {"sshd: /usr/sbin/sshd -D"});
  t.Seed(600, 500, "/usr/bin/bash", {"-bash"}, "/home/alice");

  t.Fork(600, 700);
  const ProcessInfo* child = t.table.Find(700);
  REQUIRE(child != nullptr);
  CHECK(child->ppid == 600);
  CHECK(child->exepath == "/usr/bin/bash");  // parent's image until exec
  CHECK(child->cwd == "/home/alice");

  t.ChildStart(700, 600, 200 * kSec);
  Event& e = t.Exec(700, "/usr/bin/curl", {"curl", "-s", "http://example.test/x"});
  CHECK(e.proc.ppid == 600);
  CHECK(e.proc.cwd == "/home/alice");           // filled: exec keeps cwd
  CHECK(e.proc.argv.size() == 3);               // the new image's, not the parent's
  CHECK(e.proc.exec_ns == e.ts_ns);
  CHECK(t.Chain() == std::vector<uint32_t>{600, 500, 1});
  REQUIRE(e.ancestors->Ancestor(2) != nullptr);
  CHECK(e.ancestors->Ancestor(2)->exepath == "/usr/sbin/sshd");
  CHECK(e.ancestors->Ancestor(0) == nullptr);
  CHECK(e.ancestors->Ancestor(4) == nullptr);

  Event& o = t.Open(700);
  CHECK(o.proc.exepath == "/usr/bin/curl");
  CHECK(o.proc.argv == std::vector<std::string>{"curl", "-s", "http://example.test/x"});
  CHECK(o.proc.cwd == "/home/alice");
  CHECK(o.proc.container_id == "host");
  CHECK(o.proc.start_ns == 200 * kSec);
  CHECK(t.table.Stats().misses == 0);
}

// Only an exec record says whether the image is 32-bit (the exec program reads
// the new address space's size); every later event of the process, and its
// forked children until they exec, carry it from the table.
TEST_CASE("a 32-bit image: set by its exec, carried to later events and forks, cleared by a 64-bit exec",
          "[unit][state]") {
  Tree t;
  t.Seed(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  t.Seed(600, 1, "/usr/bin/bash", {"-bash"});
  // bash forks `child`, which execs a 32-bit program: the record says so
  auto spawn32 = [&](uint32_t child, uint64_t start_ns) -> Event& {
    t.Fork(600, child);
    t.ChildStart(child, 600, start_ns);
    t.Make(EventType::execve, child);
    t.event.proc.exepath = "/tmp/x86";
    t.event.proc.exe_32bit = true;
    t.table.Apply(t.event);
    return t.event;
  };
  CHECK(spawn32(700, 200 * kSec).proc.exe_32bit);
  CHECK(t.Open(700).proc.exe_32bit);
  CHECK(t.Exit(700).proc.exe_32bit);  // exited: the entry stays for late events
  REQUIRE(t.table.Find(700) != nullptr);
  CHECK(t.table.Find(700)->exe_32bit);

  spawn32(710, 201 * kSec);
  t.Fork(710, 711);  // the 32-bit program forks: the child runs the same image
  REQUIRE(t.table.Find(711) != nullptr);
  CHECK(t.table.Find(711)->exe_32bit);
  CHECK_FALSE(t.Exec(711, "/usr/bin/true", {"true"}).proc.exe_32bit);  // a 64-bit image replaces it
  CHECK_FALSE(t.Open(711).proc.exe_32bit);
  CHECK_FALSE(t.Open(600).proc.exe_32bit);
}

// proc.env: an exec record's environment is the image's; later events of the
// process share it (one string, not a copy per event), a fork child inherits
// it, and an exec without one (env capture off) leaves it unknown rather than
// the old image's.
TEST_CASE("the environment: set by exec, shared with later events and forks, replaced by the next exec",
          "[unit][state]") {
  Tree t;
  t.Seed(1, 0, "/usr/lib/systemd/systemd", {"/sbin/init"});
  t.Seed(600, 1, "/usr/bin/bash", {"-bash"});
  t.Fork(600, 700);
  t.ChildStart(700, 600, 200 * kSec);
  t.Make(EventType::execve, 700);
  t.event.proc.exepath = "/usr/bin/id";
  static const char kEnv[] = "LD_PRELOAD=/tmp/x.so\0HOME=/root";
  t.event.proc.env = std::make_shared<const std::string>(kEnv, sizeof(kEnv));
  t.event.proc.env_truncated = true;
  t.table.Apply(t.event);
  const auto stored = t.table.Find(700)->env;
  REQUIRE(stored != nullptr);
  CHECK(*stored == std::string(kEnv, sizeof(kEnv)));

  Event& o = t.Open(700);
  CHECK(o.proc.env == stored);  // the same string
  CHECK(o.proc.env_truncated);
  t.Fork(700, 701);
  REQUIRE(t.table.Find(701) != nullptr);
  CHECK(t.table.Find(701)->env == stored);
  CHECK(t.Exec(701, "/usr/bin/true", {"true"}).proc.env == nullptr);  // not captured for this exec
  CHECK(t.Open(701).proc.env == nullptr);
  CHECK_FALSE(t.Open(701).proc.env_truncated);
  CHECK(t.Open(600).proc.env == nullptr);  // the parent never had one captured
}

TEST_CASE("enrichment fills only what the record left empty", "[unit][state]") {
  struct Case {
    const char* what;
    EventType type;
    int64_t res;
    bool record_has_exe;
    const char* want_exe;
    size_t want_argc;
  };
  const Case cases[] = {
      {"openat, empty record", EventType::openat, 3, false, "/usr/bin/python3", 2},
      {"openat, exe in record", EventType::openat, 3, true, "/opt/new", 2},
      {"successful exec keeps record", EventType::execve, 0, true, "/opt/new", 1},
      {"failed exec fills from table", EventType::execve, -2, false, "/usr/bin/python3", 2},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      Tree t;
      t.Seed(10, 1, "/usr/bin/python3", {"python3", "app.py"}, "/srv", "/system.slice/app.service");
      Event& e = t.Make(c.type, 10, c.res);
      if (c.record_has_exe) {
        e.proc.exepath = "/opt/new";
        if (c.type == EventType::execve) e.proc.argv = {"new"};
      }
      t.table.Apply(e);
      CHECK(e.proc.exepath == c.want_exe);
      CHECK(e.proc.argv.size() == c.want_argc);
      CHECK(e.proc.ppid == 1);
      CHECK(e.proc.cwd == "/srv");
      CHECK(e.proc.cgroup == "/system.slice/app.service");
      CHECK(e.proc.container_id == "host");
    }
  }
}

TEST_CASE("a process in a container cgroup gets its id from the table", "[unit][state]") {
  Tree t;
  std::string id(64, 'a');
  t.Seed(42, 1, "/usr/bin/containerd-shim", {"shim"}, "/", "/system.slice/docker-" + id + ".scope");
  Event& e = t.Open(42);
  CHECK(e.proc.container_id == "aaaaaaaaaaaa");
}

TEST_CASE("child exec delivered before the parent's clone keeps the child's image", "[unit][state]") {
  Tree t;
  t.Seed(600, 1, "/usr/bin/bash", {"bash"});
  t.ChildStart(700, 600, t.now);  // child runs first
  t.Exec(700, "/usr/bin/true", {"true"});
  t.Fork(600, 700);  // parent's clone returns afterwards
  const ProcessInfo* c = t.table.Find(700);
  REQUIRE(c != nullptr);
  CHECK(c->exepath == "/usr/bin/true");
  CHECK(c->ppid == 600);
}

TEST_CASE("threads are not processes; CLONE_PARENT reparents", "[unit][state]") {
  Tree t;
  t.Seed(1, 0, "/sbin/init", {"init"});
  t.Seed(600, 1, "/usr/bin/java", {"java"});
  t.Fork(600, 601, EventType::clone, 0x00010000 | 0x00000100);  // CLONE_THREAD|CLONE_VM
  CHECK(t.table.Find(601) == nullptr);
  t.Fork(600, 602, EventType::clone3, 0x00008000);  // CLONE_PARENT
  REQUIRE(t.table.Find(602) != nullptr);
  CHECK(t.table.Find(602)->ppid == 1);
}

TEST_CASE("exit keeps the entry for late events, then reaps it", "[unit][state]") {
  Tree t;
  t.Seed(1, 0, "/sbin/init", {"init"});
  t.Seed(600, 1, "/usr/bin/bash", {"bash"});
  t.Fork(600, 700);
  t.ChildStart(700, 600, t.now);
  t.Exec(700, "/usr/bin/sleep", {"sleep", "1"});
  t.Exit(600);  // parent exits first
  CHECK(t.table.Stats().exited == 1);
  Event& late = t.Open(700);
  CHECK(t.Chain() == std::vector<uint32_t>{600, 1});  // parent still resolves
  CHECK(late.ancestors->Ancestor(1)->exepath == "/usr/bin/bash");
  Event& parent_late = t.Open(600);  // a late event of the exited process itself
  CHECK(parent_late.proc.exepath == "/usr/bin/bash");
  CHECK(t.table.Stats().misses == 0);

  t.Advance(kExitedGraceNs + 1);
  t.Open(700);  // any event moves event time on and reaps
  CHECK(t.table.Find(600) == nullptr);
  CHECK(t.table.Stats().reaped == 1);
  CHECK(t.Chain().empty());
}

TEST_CASE("the table stays within capacity: exited first, then least recently used", "[unit][state]") {
  Tree t(8);
  t.Seed(1, 0, "/sbin/init", {"init"});
  for (uint32_t pid = 100; pid < 107; ++pid) t.Seed(pid, 1, "/usr/bin/worker", {"worker"});
  CHECK(t.table.Stats().size == 8);
  t.Exit(103);
  t.Fork(1, 200);  // full: the exited one goes
  CHECK(t.table.Find(103) == nullptr);
  CHECK(t.table.Find(200) != nullptr);
  auto s = t.table.Stats();
  CHECK(s.size == 8);
  CHECK(s.evictions == 1);
  CHECK(s.live_evictions == 0);

  t.Open(100);  // 100 recently used; 101 is now the least recently used
  t.Fork(1, 201);
  CHECK(t.table.Find(101) == nullptr);
  CHECK(t.table.Find(100) != nullptr);
  CHECK(t.table.Find(1) != nullptr);  // touched as everyone's parent
  s = t.table.Stats();
  CHECK(s.evictions == 2);
  CHECK(s.live_evictions == 1);

  for (uint32_t pid = 1000; pid < 1100; ++pid) t.Fork(1, pid);
  CHECK(t.table.Stats().size == 8);
}

TEST_CASE("pid reuse with a different start time is a new process", "[unit][state]") {
  Tree t;
  t.Seed(1, 0, "/sbin/init", {"init"});
  t.Seed(50, 1, "/usr/bin/old", {"old"});
  const uint64_t seeded_start = t.table.Find(50)->start_ns;

  SECTION("start within /proc tick tolerance: same process") {
    t.starts[50] = seeded_start + kStartTimeToleranceNs / 2;
    Event& e = t.Open(50);
    CHECK(e.proc.exepath == "/usr/bin/old");
    CHECK(t.table.Stats().pid_reuses == 0);
  }
  SECTION("different start: the old entry is replaced, nothing leaks from it") {
    t.starts[50] = seeded_start + 10 * kSec;
    Event& e = t.Open(50);
    CHECK(e.proc.exepath.empty());
    CHECK(e.proc.argv.empty());
    CHECK(t.table.Stats().pid_reuses == 1);
    CHECK(t.table.Find(50)->start_ns == seeded_start + 10 * kSec);
  }
  SECTION("a fork naming a pid held by a long-gone process replaces it") {
    t.Advance(30 * kSec);
    t.Fork(1, 50);
    CHECK(t.table.Find(50)->exepath == "/sbin/init");
    CHECK(t.table.Stats().pid_reuses == 1);
  }
}

TEST_CASE("ancestor walk is cycle-safe and depth-capped", "[unit][state]") {
  SECTION("two-process cycle") {
    Tree t;
    t.Seed(10, 11, "/a", {"a"});
    t.Seed(11, 10, "/b", {"b"});
    t.Open(10);
    CHECK(t.Chain() == std::vector<uint32_t>{11});
  }
  SECTION("self parent") {
    Tree t;
    t.Seed(10, 10, "/a", {"a"});
    t.Open(10);
    CHECK(t.Chain().empty());
  }
  SECTION("a longer loop stops at the repeat") {
    Tree t;
    t.Seed(10, 13, "/a", {"a"});
    t.Seed(11, 10, "/b", {"b"});
    t.Seed(12, 11, "/c", {"c"});
    t.Seed(13, 12, "/d", {"d"});
    t.Open(12);
    CHECK(t.Chain() == std::vector<uint32_t>{11, 10, 13});
  }
  SECTION("deep chain capped at kMaxAncestorDepth") {
    Tree t;
    for (uint32_t pid = 2; pid < 100; ++pid) t.Seed(pid, pid - 1, "/x", {"x"});
    t.Open(99);
    CHECK(t.Chain().size() == static_cast<size_t>(kMaxAncestorDepth));
    CHECK(t.event.ancestors->Ancestor(kMaxAncestorDepth + 1) == nullptr);
  }
}

TEST_CASE("unknown processes are added from their events and counted as misses", "[unit][state]") {
  Tree t;
  Event& e = t.Make(EventType::connect, 77, 0);
  e.proc.ppid = 1;
  e.proc.exepath = "/usr/bin/nc";
  e.proc.cgroup = "/system.slice/docker-" + std::string(64, 'b') + ".scope";
  t.table.Apply(e);
  CHECK(t.table.Stats().misses == 1);
  REQUIRE(t.table.Find(77) != nullptr);
  CHECK(t.table.Find(77)->container_id == "bbbbbbbbbbbb");
  t.Open(77);
  CHECK(t.event.proc.exepath == "/usr/bin/nc");
  CHECK(t.table.Stats().misses == 1);
}

TEST_CASE("Remove forgets; pid 0 records are left alone", "[unit][state]") {
  Tree t;
  t.Seed(5, 1, "/x", {"x"});
  t.table.Remove(5);
  CHECK(t.table.Find(5) == nullptr);
  Event& e = t.Make(EventType::openat, 0, 0);
  t.table.Apply(e);
  CHECK(t.table.Stats().size == 0);
  REQUIRE(e.ancestors != nullptr);
  CHECK(e.ancestors->Ancestor(1) == nullptr);
}

TEST_CASE("the common path (known process, short strings) does not allocate", "[unit][state]") {
  Tree t;
  t.Seed(1, 0, "/sbin/init", {"init"});
  t.Seed(300, 1, "/usr/bin/cat", {"cat", "-n"}, "/tmp");
  t.Open(300);  // warm the event's buffers
  t.Open(300);
  long before = g_allocations.load();
  int with_parent = 0;
  for (int i = 0; i < 1000; ++i) {
    t.event.Reset();
    t.event.type = EventType::openat;
    t.event.ts_ns = (t.now += 1000);
    t.event.proc.pid = t.event.proc.tid = 300;
    t.table.Apply(t.event);
    if (t.event.ancestors->Ancestor(1) != nullptr) ++with_parent;
  }
  long allocations = g_allocations.load() - before;
  if (kCountsAllocations) {
    CHECK(allocations == 0);
  } else {
    WARN("allocation counting is off in sanitizer builds");
  }
  CHECK(with_parent == 1000);
  CHECK(t.event.proc.exepath == "/usr/bin/cat");
}

// Issue 18: the session and group ids come from exec records and the /proc
// scan; a fork child inherits its parent's, records without them (every
// other kind) are enriched from the table, and the next exec replaces them.
TEST_CASE("session and process group: from the scan and exec, inherited at fork", "[unit][state]") {
  Tree t;
  ProcessInfo shell;
  shell.pid = shell.tid = 600;
  shell.ppid = 1;
  shell.name = "bash";
  shell.start_ns = 600 * kSec / 1000;
  shell.sid = shell.vsid = shell.pgid = shell.vpgid = 600;
  shell.session_known = true;
  t.table.Upsert(shell);

  t.Fork(600, 700);
  REQUIRE(t.table.Find(700) != nullptr);
  CHECK(t.table.Find(700)->session_known);
  CHECK(t.table.Find(700)->sid == 600);
  // `setsid harness`: the exec record carries the new session
  t.Make(EventType::execve, 700);
  t.event.proc.exepath = "/opt/harness";
  t.event.proc.sid = t.event.proc.vsid = t.event.proc.pgid = t.event.proc.vpgid = 700;
  t.event.proc.session_known = true;
  t.table.Apply(t.event);
  CHECK(t.Open(700).proc.sid == 700);
  CHECK(t.event.proc.pgid == 700);
  t.Fork(700, 710);
  const Event& open = t.Open(710);
  CHECK(open.proc.session_known);
  CHECK(open.proc.sid == 700);
  CHECK(open.proc.vpgid == 700);
  CHECK(t.Open(600).proc.sid == 600);  // the parent's own stay

  // a process known from nothing that carries them: unknown
  CHECK_FALSE(t.Open(9999).proc.session_known);
}

// Issue 17: `curl URL | bash` typed at a prompt. The prompt's shell forks
// both ends; they exec in either order with the pipe in place. The one that
// execs second finds the other through the pipe index; the first finds
// nothing. The reader's own children inherit the pipe but are not the
// writer's siblings; an exited writer stays a peer for its grace period.
StdioFd Pipe(uint64_t ino) { return {StdioType::kPipe, 13, ino}; }
StdioFd Tty() { return {StdioType::kChar, 24, 3}; }

Event& ExecWithStdio(Tree& t, uint32_t pid, const char* exe, StdioFd in, StdioFd out) {
  t.Make(EventType::execve, pid);
  t.event.proc.exepath = exe;
  t.event.proc.name = std::string(exe).substr(std::string(exe).rfind('/') + 1);
  t.event.proc.argv = {t.event.proc.name};
  t.event.proc.stdio = {in, out, Tty()};
  t.table.Apply(t.event);
  return t.event;
}

std::string PeerName(const Event& e, int which) {
  const ProcessInfo* p = e.ancestors != nullptr ? e.ancestors->StdioPeer(which) : nullptr;
  return p == nullptr ? "<none>" : p->name;
}

TEST_CASE("pipe peers: the two ends of a pipeline typed at a prompt, either order", "[unit][state]") {
  for (bool reader_first : {false, true}) {
    Tree t;
    t.Seed(500, 1, "/bin/bash", {"bash", "-i"});
    t.Fork(500, 501);  // curl's side
    t.Fork(500, 502);  // bash's side
    const uint32_t first = reader_first ? 502 : 501;
    const uint32_t second = reader_first ? 501 : 502;
    auto exec = [&](uint32_t pid) -> Event& {
      return pid == 501 ? ExecWithStdio(t, 501, "/usr/bin/curl", Tty(), Pipe(7001))
                        : ExecWithStdio(t, 502, "/bin/bash", Pipe(7001), Tty());
    };
    INFO((reader_first ? "bash execs first" : "curl execs first"));
    Event& e1 = exec(first);
    CHECK(PeerName(e1, 0) == "<none>");  // the other end still has the prompt's tty
    CHECK(PeerName(e1, 1) == "<none>");
    Event& e2 = exec(second);
    if (reader_first) {
      CHECK(PeerName(e2, 1) == "bash");  // curl's stdout feeds bash
      CHECK(PeerName(e2, 0) == "<none>");
    } else {
      CHECK(PeerName(e2, 0) == "curl");  // bash's stdin comes from curl
      CHECK(e2.ancestors->StdioPeer(0)->ppid == 500);
    }
    // later events of either end see the peer too (stdio from the table)
    CHECK(PeerName(t.Open(502), 0) == "curl");
    CHECK(PeerName(t.Open(501), 1) == "bash");
  }
}

TEST_CASE("pipe peers: inherited pipes, siblings first, exit and reuse", "[unit][state]") {
  Tree t;
  t.Seed(500, 1, "/bin/bash", {"bash", "-i"});
  t.Fork(500, 501);
  t.Fork(500, 502);
  ExecWithStdio(t, 501, "/usr/bin/curl", Tty(), Pipe(7001));
  ExecWithStdio(t, 502, "/bin/bash", Pipe(7001), Tty());
  // bash runs the download: its child inherits stdin; a second writer (a
  // child of bash's that writes into its own... same pipe) is not a sibling
  t.Fork(502, 510);
  Event& child = t.Open(510);
  CHECK(PeerName(child, 0) == "curl");  // the writer, though not a sibling
  CHECK(child.ancestors->StdioPeer(0)->ppid == 500);
  // a second writer into the same pipe: a sibling of the reader wins
  t.Fork(502, 511);
  ExecWithStdio(t, 511, "/usr/bin/printf", Tty(), Pipe(7001));
  CHECK(PeerName(t.Open(502), 0) == "curl");
  // the writer exits: a sibling still wins for its grace period (a writer can
  // finish before the reader's exec is seen), live before exited otherwise
  t.Exit(501);
  CHECK(PeerName(t.Open(502), 0) == "curl");
  t.Exit(511);
  CHECK(PeerName(t.Open(502), 0) == "curl");
  // once the grace period has passed, the exited writers are gone
  t.Advance(kExitedGraceNs + kSec);
  CHECK(PeerName(t.Open(502), 0) == "<none>");
  // the reader's exec replaces its stdio: no pipe, no peer
  ExecWithStdio(t, 502, "/bin/true", Tty(), Tty());
  CHECK(PeerName(t.event, 0) == "<none>");
  // a different pipe is not the same pipe (same inode on another device either)
  t.Fork(500, 520);
  t.Fork(500, 521);
  ExecWithStdio(t, 520, "/usr/bin/cat", Tty(), StdioFd{StdioType::kPipe, 14, 7002});
  ExecWithStdio(t, 521, "/usr/bin/less", Pipe(7002), Tty());
  CHECK(PeerName(t.event, 0) == "<none>");
  // a non-exec record carries no stdio and takes the table's
  CHECK(t.Open(521).proc.stdio[0].type == StdioType::kPipe);
  // Upsert (the /proc scan) indexes too
  ProcessInfo w;
  w.pid = w.tid = 530;
  w.ppid = 500;
  w.name = "wget";
  w.start_ns = 530 * kSec / 1000;
  w.stdio = {Tty(), Pipe(7002), Tty()};
  t.table.Upsert(w);
  CHECK(PeerName(t.Open(521), 0) == "wget");
}

// `base64 -d f | sh`: base64 wrote its few bytes and exited before the
// shell's exec was seen; the shell still finds it (a live one first).
TEST_CASE("pipe peers: a writer that exited before the reader exec'd", "[unit][state]") {
  Tree t;
  t.Seed(500, 1, "/bin/bash", {"bash", "-i"});
  t.Fork(500, 501);
  t.Fork(500, 502);
  ExecWithStdio(t, 501, "/usr/bin/base64", Tty(), Pipe(7100));
  t.Exit(501);
  Event& sh = ExecWithStdio(t, 502, "/bin/sh", Pipe(7100), Tty());
  CHECK(PeerName(sh, 0) == "base64");
  // a live sibling writer on the same pipe is preferred to the exited one
  t.Fork(500, 503);
  ExecWithStdio(t, 503, "/usr/bin/curl", Tty(), Pipe(7100));
  CHECK(PeerName(t.Open(502), 0) == "curl");
}

TEST_CASE("pipe peers: the index is bounded per pipe", "[unit][state]") {
  Tree t(4096);
  t.Seed(500, 1, "/bin/bash", {"bash"});
  for (uint32_t pid = 600; pid < 600 + 2 * kMaxPipeHolders; ++pid) {
    t.Fork(500, pid);
    ExecWithStdio(t, pid, "/usr/bin/yes", Tty(), Pipe(9000));
  }
  t.Fork(500, 900);
  ExecWithStdio(t, 900, "/usr/bin/head", Pipe(9000), Tty());
  // some writer is found (the first kMaxPipeHolders were indexed); no hang, no growth past the bound
  CHECK(PeerName(t.event, 0) == "yes");
  for (uint32_t pid = 600; pid < 600 + 2 * kMaxPipeHolders; ++pid) t.Exit(pid);
  CHECK(PeerName(t.Open(900), 0) == "yes");  // exited, within the grace period
  t.Advance(kExitedGraceNs + kSec);
  CHECK(PeerName(t.Open(900), 0) == "<none>");  // freed: the index holds nothing of them
}

}  // namespace
}  // namespace vigil

// Issue 18: fd.name of an fd-based call is the name the fd was opened with
// (libsinsp), not the kernel's resolved path, when the open was seen.
namespace vigil {
namespace {

// An open of `name` (fd.name) whose file the kernel resolved to `resolved`.
Event& OpenAs(Tree& t, uint32_t pid, int32_t fd, const std::string& name, const std::string& resolved,
              uint32_t flags = 0) {
  t.Make(EventType::openat, pid, fd);
  t.event.file.path = name;
  t.event.file.abspath = name;
  t.event.file.resolved = resolved;
  t.event.file.flags = flags;
  t.table.Apply(t.event);
  return t.event;
}

// An fd-based call as the capture decodes it: no path, the fd, and the
// file's kernel path as both abspath and resolved.
Event& OnFd(Tree& t, EventType type, uint32_t pid, int32_t fd, const std::string& kernel_path) {
  t.Make(type, pid, 0);
  t.event.file.fd = fd;
  t.event.file.abspath = kernel_path;
  t.event.file.resolved = kernel_path;
  t.table.Apply(t.event);
  return t.event;
}

Event& Dup(Tree& t, EventType type, uint32_t pid, int32_t oldfd, int32_t newfd) {
  t.Make(type, pid, newfd);
  t.event.args.oldfd = oldfd;
  t.event.args.newfd = newfd;
  t.table.Apply(t.event);
  return t.event;
}

TEST_CASE("fd table: an fd-based call gets the name its fd was opened with", "[unit][state]") {
  Tree t;
  t.Seed(1, 0, "/sbin/init", {"init"});
  t.Seed(300, 1, "/usr/bin/python3", {"python3"}, "/tmp");
  OpenAs(t, 300, 5, "/tmp/link", "/srv/data/real");
  for (EventType type : {EventType::fchmod, EventType::fchown, EventType::ftruncate, EventType::fsetxattr,
                         EventType::fremovexattr}) {
    Event& e = OnFd(t, type, 300, 5, "/srv/data/real");
    INFO(std::string(EventTypeName(type)));
    CHECK(e.file.abspath == "/tmp/link");          // fd.name (fd.filename, fd.directory follow it)
    CHECK(e.file.resolved == "/srv/data/real");    // fd.name.resolved
  }
  // An fd whose open was not seen keeps the kernel's path.
  CHECK(OnFd(t, EventType::fchmod, 300, 6, "/srv/other").file.abspath == "/srv/other");
  // A path-based call is not touched.
  t.Make(EventType::fchmodat, 300, 0);
  t.event.file.fd = 5;
  t.event.file.path = "x";
  t.event.file.abspath = "/srv/data/x";
  t.table.Apply(t.event);
  CHECK(t.event.file.abspath == "/srv/data/x");
  auto st = t.table.Stats().fds;
  CHECK(st.hits == 5);
  CHECK(st.misses == 1);
  CHECK(st.size == 1);
}

TEST_CASE("fd table: stale entries (fd reused unseen, file renamed) are not used", "[unit][state]") {
  Tree t;
  t.Seed(1, 0, "/sbin/init", {"init"});
  t.Seed(300, 1, "/usr/bin/app", {"app"});
  OpenAs(t, 300, 5, "/tmp/a", "/tmp/a");
  // fd 5 was closed and reused by an open the capture did not send.
  CHECK(OnFd(t, EventType::fchmod, 300, 5, "/var/b").file.abspath == "/var/b");
  CHECK(t.table.Stats().fds.stale == 1);
  CHECK(t.table.Stats().fds.size == 0);  // dropped
  // A socket (or any non-file descriptor) replaces what the number held.
  OpenAs(t, 300, 7, "/tmp/c-link", "/tmp/c");
  t.Make(EventType::socket, 300, 7);
  t.table.Apply(t.event);
  CHECK(t.table.Stats().fds.size == 0);
}

TEST_CASE("fd table: dup, fork, exec with O_CLOEXEC, exit", "[unit][state]") {
  Tree t;
  t.Seed(1, 0, "/sbin/init", {"init"});
  t.Seed(300, 1, "/usr/bin/bash", {"bash"});
  OpenAs(t, 300, 3, "/etc/link", "/etc/real");
  OpenAs(t, 300, 4, "/etc/secret-link", "/etc/secret", 02000000);  // O_CLOEXEC
  Dup(t, EventType::dup2, 300, 3, 9);
  CHECK(OnFd(t, EventType::fchmod, 300, 9, "/etc/real").file.abspath == "/etc/link");
  Dup(t, EventType::dup2, 300, 42, 9);  // an unknown fd onto 9: 9 is forgotten
  CHECK(OnFd(t, EventType::fchmod, 300, 9, "/etc/real").file.abspath == "/etc/real");

  t.Fork(300, 400);  // the child inherits the descriptors
  CHECK(OnFd(t, EventType::fchown, 400, 3, "/etc/real").file.abspath == "/etc/link");
  CHECK(OnFd(t, EventType::fchown, 400, 4, "/etc/secret").file.abspath == "/etc/secret-link");
  t.Exec(400, "/usr/bin/chmod", {"chmod"});  // exec closes the O_CLOEXEC fd 4 only
  CHECK(OnFd(t, EventType::fchown, 400, 4, "/etc/secret").file.abspath == "/etc/secret");
  CHECK(OnFd(t, EventType::fchown, 400, 3, "/etc/real").file.abspath == "/etc/link");
  // The parent's own table is untouched by the child's exec.
  CHECK(OnFd(t, EventType::fchown, 300, 4, "/etc/secret").file.abspath == "/etc/secret-link");

  const std::size_t before = t.table.Stats().fds.size;
  t.Exit(400);
  CHECK(t.table.Stats().fds.size == before - 1);  // the child's fd 3
}

TEST_CASE("fd table: bounded per process and in all; evictions counted", "[unit][state]") {
  Tree t;
  t.Seed(1, 0, "/sbin/init", {"init"});
  t.Seed(300, 1, "/usr/bin/app", {"app"});
  for (int fd = 3; fd < 3 + static_cast<int>(kMaxFdsPerProcess) + 10; ++fd)
    OpenAs(t, 300, fd, "/tmp/f" + std::to_string(fd), "/tmp/f" + std::to_string(fd));
  auto st = t.table.Stats().fds;
  CHECK(st.size == kMaxFdsPerProcess);
  CHECK(st.evictions == 10);
  // The oldest went first.
  CHECK(OnFd(t, EventType::fchmod, 300, 3, "/tmp/f3").file.abspath == "/tmp/f3");
  CHECK(t.table.Stats().fds.misses == 1);
  CHECK(t.table.Stats().fds.hits == 0);
  CHECK(OnFd(t, EventType::fchmod, 300, 70, "/tmp/f70").file.abspath == "/tmp/f70");
  CHECK(t.table.Stats().fds.hits == 1);

  FdTable small(8);
  for (uint32_t pid = 1; pid <= 20; ++pid) small.Opened(pid, 3, "/a", "/a", false);
  CHECK(small.Stats().size == 8);
  CHECK(small.Stats().evictions == 12);
  CHECK(small.NameFor(20, 3, "/a") != nullptr);
  CHECK(small.NameFor(1, 3, "/a") == nullptr);  // least recently used: evicted
}

TEST_CASE("fd table: reopening the same descriptor does not allocate", "[unit][state]") {
  Tree t;
  t.Seed(1, 0, "/sbin/init", {"init"});
  t.Seed(300, 1, "/usr/bin/cat", {"cat"});
  OpenAs(t, 300, 3, "/tmp/some/file/name", "/tmp/some/file/name");
  OpenAs(t, 300, 3, "/tmp/some/file/name", "/tmp/some/file/name");
  long before = g_allocations.load();
  for (int i = 0; i < 1000; ++i) {
    t.event.type = EventType::openat;
    t.event.ts_ns = (t.now += 1000);
    t.event.res = 3;
    t.table.Apply(t.event);
  }
  long allocations = g_allocations.load() - before;
  if (kCountsAllocations) CHECK(allocations == 0);
  CHECK(t.table.Stats().fds.size == 1);
}

}  // namespace
}  // namespace vigil
