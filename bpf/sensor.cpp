// SPDX-License-Identifier: Apache-2.0
#include "bpf/sensor.h"

#include "engine/state/container.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "bpf/procfs/proc_scan.h"
#include "bpf/ring_reader.h"
#include "bpf/vigil_abi.h"
#include "vigil_bpf.skel.h"
#include "vigil_compat_bpf.skel.h"
#include "vigil_legacy_bpf.skel.h"

namespace vigil::capture {
namespace {

constexpr std::string_view kCounterNames[VG_C_MAX] = {
    "ringbuf_drop",     "pending_full",   "exit_unpaired",  "read_argv",  "read_path",  "read_sockaddr",
    "read_bpf_attr",    "read_bpf_insns", "read_task",      "read_dentry", "scratch",
    "read_times",       "read_env",       "priority_ringbuf_drop", "read_data",
};

// One build's skeleton, opened: its object and what the loader touches by
// name. Both builds come from one source, so the members are the same.
struct Skeleton {
  bpf_object* obj = nullptr;
  bpf_map* events = nullptr;
  bpf_map* events_hi = nullptr;
  bpf_map* prio_paths = nullptr;
  bpf_map* lane_counts = nullptr;
  bpf_map* counters = nullptr;
  bpf_program* fork_tp = nullptr;
  bpf_map* filter_counts = nullptr;
  bpf_map* open_paths = nullptr;
  bpf_map* path_filtered = nullptr;
  std::function<volatile uint32_t*()> open_filter;
  // The interest mask and the agent's tgid in the object's mmapped .data and
  // .bss
  // (valid after load).
  std::function<volatile uint64_t*()> interest;
  std::function<volatile uint32_t*()> self_tgid;
  std::function<volatile uint32_t*()> want_env;
  std::function<volatile uint32_t*()> want_data;
  std::function<void(bool)> set_lane_on;  // before load
  std::function<int()> load;
  std::function<void()> destroy;
  Skeleton() = default;
  Skeleton(const Skeleton&) = delete;
  Skeleton& operator=(const Skeleton&) = delete;
  ~Skeleton() {
    if (destroy) destroy();
  }
};

template <class S>
std::unique_ptr<Skeleton> OpenSkeleton(const Features& f) {
  S* s = S::open();
  if (!s) return nullptr;
  if constexpr (requires { s->rodata->vg_thread_size; }) s->rodata->vg_thread_size = f.thread_size;
  auto k = std::make_unique<Skeleton>();
  k->obj = s->obj;
  k->events = s->maps.vg_events;
  k->events_hi = s->maps.vg_events_hi;
  k->prio_paths = s->maps.vg_prio_paths;
  k->lane_counts = s->maps.vg_lane_counts;
  k->set_lane_on = [s](bool on) { s->rodata->vg_lane_on = on ? 1 : 0; };
  k->counters = s->maps.vg_counters;
  k->fork_tp = s->progs.vg_fork_tp;
  k->filter_counts = s->maps.vg_filter_counts;
  k->open_paths = s->maps.vg_open_paths;
  k->path_filtered = s->maps.vg_path_filtered;
  k->open_filter = [s] { return reinterpret_cast<volatile uint32_t*>(&s->bss->vg_open_filter); };
  k->interest = [s] { return reinterpret_cast<volatile uint64_t*>(&s->data->vg_interest[0]); };
  k->self_tgid = [s] { return reinterpret_cast<volatile uint32_t*>(&s->bss->vg_self_tgid); };
  k->want_env = [s] { return reinterpret_cast<volatile uint32_t*>(&s->data->vg_want_env); };
  k->want_data = [s] { return reinterpret_cast<volatile uint32_t*>(&s->data->vg_want_data); };
  k->load = [s] { return S::load(s); };
  k->destroy = [s] { S::destroy(s); };
  return k;
}

// libbpf's messages: warnings and errors (which carry the verifier's log and
// the name of a program that failed) kept, bounded, so a failed load can name
// the program; its debug lines (~1 MiB of CO-RE relocations for the whole
// object) are not kept, or they would fill the bound before the failure.
std::string* g_libbpf_log = nullptr;

int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  // A verifier log arrives as one message of up to libbpf's log buffer.
  char buf[1024];
  va_list again;
  va_copy(again, args);
  int n = vsnprintf(buf, sizeof(buf), fmt, args);
  std::string big;
  if (n >= static_cast<int>(sizeof(buf))) {
    big.resize(static_cast<std::size_t>(n) + 1);
    n = vsnprintf(big.data(), big.size(), fmt, again);
  }
  va_end(again);
  if (n <= 0) return 0;
  std::string_view line = big.empty() ? std::string_view(buf, static_cast<std::size_t>(n))
                                      : std::string_view(big.data(), std::min(big.size() - 1, static_cast<std::size_t>(n)));
  if (g_libbpf_log && level != LIBBPF_DEBUG && g_libbpf_log->size() < (1u << 20)) g_libbpf_log->append(line);
  if (level != LIBBPF_DEBUG) spdlog::debug("libbpf: {}", line.substr(0, line.find_last_not_of('\n') + 1));
  return 0;
}

// The program libbpf says failed to load ("prog 'NAME': failed to load").
std::string FailedProgram(const std::string& log) {
  std::size_t pos = log.rfind("': failed to load");
  if (pos == std::string::npos) pos = log.rfind("': BPF program load failed");
  if (pos == std::string::npos) return {};
  std::size_t start = log.rfind("prog '", pos);
  if (start == std::string::npos) return {};
  start += 6;
  return log.substr(start, pos - start);
}

// The verifier's verdict in libbpf's log: the last line of the last program
// load log that is not a statistic ("" when there is none).
std::string VerifierVerdict(const std::string& log) {
  std::size_t end = log.rfind("-- END PROG LOAD LOG --");
  if (end == std::string::npos) return {};
  std::size_t begin = log.rfind("-- BEGIN PROG LOAD LOG --", end);
  if (begin == std::string::npos) return {};
  std::string_view body(log.data() + begin, end - begin);
  std::string verdict;
  std::size_t pos = body.find('\n');
  while (pos != std::string_view::npos && pos + 1 < body.size()) {
    std::size_t next = body.find('\n', pos + 1);
    std::string_view line = body.substr(pos + 1, (next == std::string_view::npos ? body.size() : next) - pos - 1);
    if (!line.empty() && !line.starts_with("processed ") && !line.starts_with("verification time") &&
        !line.starts_with("stack depth") && !line.starts_with("libbpf:"))
      verdict.assign(line);
    pos = next;
  }
  return verdict;
}

// Why a load failed, for one log line, never empty: the program and the
// verifier's verdict when a program was refused, else the error and the
// first line of libbpf's log that says what failed (a map the kernel would
// not create, say).
std::string LoadFailure(const std::string& log, int err) {
  const std::string failed = FailedProgram(log);
  const std::string verdict = VerifierVerdict(log);
  if (!failed.empty()) return "program " + failed + ": " + (verdict.empty() ? strerror(-err) : verdict);
  std::string first;
  std::size_t pos = 0;
  while (pos < log.size() && first.empty()) {
    std::size_t next = log.find('\n', pos);
    if (next == std::string::npos) next = log.size();
    std::string_view line(log.data() + pos, next - pos);
    if (line.find("failed") != std::string_view::npos) first.assign(line);
    pos = next + 1;
  }
  return std::string(strerror(-err)) + (first.empty() ? "" : " (" + first + ")");
}

int64_t BootToWallNs() {
  timespec rt, bt;
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_BOOTTIME, &bt);
  return (static_cast<int64_t>(rt.tv_sec) - bt.tv_sec) * 1'000'000'000 + (rt.tv_nsec - bt.tv_nsec);
}

// Why `prog` cannot run on this kernel, or "" when it can.
std::string MissingHook(const bpf_program* prog, const Features& f) {
  std::string_view sec = bpf_program__section_name(prog);
  if (sec.rfind("tracepoint/", 0) == 0) {
    std::string_view rest = sec.substr(11);
    std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return "bad section";
    if (!TracepointExists(f.tracefs, rest.substr(0, slash), rest.substr(slash + 1)))
      return "tracepoint " + std::string(rest) + " not in this kernel";
    return {};
  }
  if (sec.rfind("tp_btf/", 0) == 0) {
    if (!f.tp_btf) return "tp_btf not supported";
    if (!BtfTracepointExists(sec.substr(7))) return "tp_btf hook " + std::string(sec.substr(7)) + " not in this kernel";
    return {};
  }
  return {};
}

// Why the 32-bit syscall programs stay unloaded, or "" to load them.
std::string Ia32ProgramsOff(Ia32Programs choice, const Features& f) {
  if (choice == Ia32Programs::kOff) return "capture.ia32_programs is off";
  if (choice == Ia32Programs::kAuto && f.ia32 == Ia32Syscalls::kOff)
    return "this kernel refuses 32-bit syscalls (" + f.ia32_note + "): nothing for it to capture";
  return {};
}

// capture.priority_paths as LPM trie keys: an exact path with its NUL, a
// directory prefix (ending in '/') without.
bool PriorityKeys(const std::vector<std::string>& paths, std::vector<vg_prio_key>* out, std::string* error) {
  if (paths.size() > VG_PRIO_PATHS_MAX) {
    *error = "too many priority paths (" + std::to_string(paths.size()) + "; at most " +
             std::to_string(VG_PRIO_PATHS_MAX) + ")";
    return false;
  }
  for (const std::string& p : paths) {
    std::string why = PriorityPathProblem(p);
    if (!why.empty()) {
      *error = "priority path '" + p + "': " + why;
      return false;
    }
    vg_prio_key k{};
    std::memcpy(k.path, p.data(), p.size());
    const bool prefix = p.back() == '/';
    k.prefixlen = static_cast<uint32_t>((p.size() + (prefix ? 0 : 1)) * 8);
    out->push_back(k);
  }
  return true;
}

// The kernel facilities every build needs; false with *error naming the
// missing one.
bool RequireFeatures(const Features& f, std::string* error) {
  if (!f.is_root) {
    *error = "vigil must run as root (loading BPF programs needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)";
    return false;
  }
  if (!f.btf) {
    *error = "this kernel has no BTF (/sys/kernel/btf/vmlinux missing; CONFIG_DEBUG_INFO_BTF=y is needed for CO-RE)";
    return false;
  }
  if (!f.ringbuf) {
    *error = "this kernel has no BPF ring buffer (Linux 5.8 or newer is needed)";
    return false;
  }
  if (f.tracefs.empty()) {
    *error = "tracefs is not mounted and could not be mounted at /sys/kernel/tracing";
    return false;
  }
  return true;
}

// The build to load: `wanted`, or for kAuto the newest this kernel can run.
// false when an explicitly chosen build needs what the kernel lacks.
bool ChooseBuild(BpfBuild wanted, const Features& f, BpfBuild* out, std::string* error) {
  BpfBuild build = wanted;
  if (build == BpfBuild::kAuto)
    build = f.rdonly_cast ? BpfBuild::kTyped : f.bpf_loop ? BpfBuild::kCompat : BpfBuild::kLegacy;
  if ((build == BpfBuild::kTyped || build == BpfBuild::kCompat) && !f.bpf_loop) {
    *error = "the " + std::string(BpfBuildName(build)) +
             " BPF build needs the bpf_loop helper (Linux 5.17 or newer); this kernel has no bpf_loop helper (the "
             "auto choice loads the legacy build here)";
    return false;
  }
  if (build == BpfBuild::kTyped && !f.rdonly_cast) {
    *error = "the typed BPF build needs the bpf_rdonly_cast kfunc callable from tracepoint programs (Linux 6.2 or "
             "newer); this kernel does not offer it (" +
             f.rdonly_cast_note + "; the auto choice loads the compat build here)";
    return false;
  }
  *out = build;
  return true;
}

// The priority lane's trie keys, after checking its paths and ring size.
bool PriorityLaneKeys(const SensorOptions& options, std::vector<vg_prio_key>* keys, std::string* error) {
  if (!PriorityKeys(options.priority_paths, keys, error)) return false;
  const uint32_t b = options.priority_ringbuf_bytes;
  if ((b & (b - 1)) != 0 || b < static_cast<uint32_t>(getpagesize())) {
    *error = "the priority ring buffer size must be a power of two of at least a page (got " + std::to_string(b) +
             " bytes)";
    return false;
  }
  return true;
}

// Why program `name` stays unloaded, or "" to load it (the kernel's hooks,
// the options, and the verifier's refusals of earlier attempts).
std::string WhyOff(const bpf_program* prog, const std::string& name, const SensorOptions& options,
                   const Features& f, const std::vector<std::string>& load_failed) {
  std::string why = MissingHook(prog, f);
  if (why.empty() && std::find(options.disable.begin(), options.disable.end(), name) != options.disable.end())
    why = "disabled by option";
  if (why.empty() && name.rfind("vg_compat_", 0) == 0) why = Ia32ProgramsOff(options.ia32_programs, f);
  if (why.empty() && std::find(load_failed.begin(), load_failed.end(), name) != load_failed.end())
    why = "refused by this kernel's verifier";
  return why;
}

// The 32-bit syscall blind spot, as a warning at every start; `compat_on`
// when the compat program is attached.
void WarnIa32(const Features& f, bool compat_on) {
  if (f.ia32 == Ia32Syscalls::kOn && compat_on)
    spdlog::warn("this kernel runs 32-bit (int 0x80) syscalls ({}); they do not fire the syscalls/ tracepoints: the "
                 "compat program captures exec, the open family, unlink, socket calls (socketcall too), ptrace, "
                 "set*id, modules, memfd_create, unshare, setns and bpf made through them (evt.is_compat), other "
                 "calls are not captured. Boot with ia32_emulation=0 (Linux 6.7+) or without CONFIG_IA32_EMULATION "
                 "to refuse them (docs/capture.md)",
                 f.ia32_note);
  else if (f.ia32 == Ia32Syscalls::kOn)
    spdlog::warn("this kernel runs 32-bit (int 0x80) syscalls ({}); they do not fire the syscalls/ tracepoints, so "
                 "files, sockets, bpf() and privilege changes made through them are not captured (exec, fork and "
                 "exit are). Boot with ia32_emulation=0 (Linux 6.7+) or without CONFIG_IA32_EMULATION to refuse "
                 "them (docs/capture.md)",
                 f.ia32_note);
  else if (f.ia32 == Ia32Syscalls::kUnknown)
    spdlog::warn("could not tell whether this kernel runs 32-bit (int 0x80) syscalls ({}); if it does, what is done "
                 "through them is not captured (docs/capture.md)",
                 f.ia32_note);
}

// Points libbpf's messages at a log for one scope.
class LibbpfLogScope {
 public:
  explicit LibbpfLogScope(std::string* log) {
    g_libbpf_log = log;
    libbpf_set_print(LibbpfPrint);
  }
  ~LibbpfLogScope() { g_libbpf_log = nullptr; }
  LibbpfLogScope(const LibbpfLogScope&) = delete;
  LibbpfLogScope& operator=(const LibbpfLogScope&) = delete;
};

}  // namespace

static_assert(kMaxPriorityPaths == VG_PRIO_PATHS_MAX);

std::string PriorityPathProblem(const std::string& p) {
  if (p.empty() || p[0] != '/') return "expected an absolute path";
  if (p.find('\0') != std::string::npos) return "contains a NUL byte";
  if (p.size() > VG_PRIO_PATH_LEN - 1)
    return "longer than " + std::to_string(VG_PRIO_PATH_LEN - 1) + " bytes (the kernel compares that many)";
  return {};
}

std::vector<std::string> DefaultPriorityPaths() {
  return {"/etc/shadow",  "/etc/shadow-", "/etc/gshadow",   "/etc/gshadow-", "/etc/sudoers",
          "/etc/sudoers.d/", "/etc/pam.d/",  "/etc/security/", "/root/.ssh/",   "/etc/ssh/sshd_config"};
}

namespace {

// The option spellings of an enum, one table serving parse and name.
template <typename E>
struct Spelling {
  E value;
  std::string_view name;
};

constexpr Spelling<Ia32Programs> kIa32Spellings[] = {
    {Ia32Programs::kAuto, "auto"}, {Ia32Programs::kOn, "on"}, {Ia32Programs::kOff, "off"}};
constexpr Spelling<BpfBuild> kBuildSpellings[] = {{BpfBuild::kAuto, "auto"},
                                                  {BpfBuild::kTyped, "typed"},
                                                  {BpfBuild::kCompat, "compat"},
                                                  {BpfBuild::kLegacy, "legacy"}};

template <typename E, std::size_t N>
bool ParseSpelling(const Spelling<E> (&table)[N], std::string_view s, E* out) {
  for (const Spelling<E>& sp : table)
    if (sp.name == s) return *out = sp.value, true;
  return false;
}

}  // namespace

bool ParseIa32Programs(std::string_view s, Ia32Programs* out) {
  return ParseSpelling(kIa32Spellings, s, out);
}

bool ParseBpfBuild(std::string_view s, BpfBuild* out) { return ParseSpelling(kBuildSpellings, s, out); }

std::string_view BpfBuildName(BpfBuild b) {
  for (const Spelling<BpfBuild>& sp : kBuildSpellings)
    if (sp.value == b) return sp.name;
  return "?";
}

std::string_view KernelCounterName(uint32_t counter) {
  return counter < VG_C_MAX ? kCounterNames[counter] : std::string_view("unknown");
}

struct Sensor::Impl {
  Features features;
  std::vector<DisabledProgram> disabled;
  std::vector<std::string> attached;
  std::unique_ptr<Skeleton> skel;
  BpfBuild build = BpfBuild::kCompat;
  std::vector<bpf_link*> links;
  std::unique_ptr<RingReader> ring;
  bool lane_on = false;
  std::unique_ptr<RingReader> ring_hi;     // lane on
  std::unique_ptr<MergedReader> merged;   // lane on: reads ring_hi and ring
  Decoder decoder{0};
  ProcessTable table;
  CgroupResolver cgroups;
  Event event;
  const Callback* callback = nullptr;
  std::size_t seeded = 0;
  // The open path filter's generations: the keys written under each.
  std::vector<vg_open_key> open_keys[2];
  uint32_t open_gen = 0;  // the generation in use (or last used)
  int ncpus = 1;

  std::shared_ptr<ContainerMetaCache> containers;

  explicit Impl(const SensorOptions& o) : table(o.process_table_capacity), containers(o.containers) {}
  ~Impl() {
    merged.reset();
    ring_hi.reset();
    ring.reset();
    for (bpf_link* l : links) bpf_link__destroy(l);
  }

  static void OnRecord(void* ctx, const void* data, std::size_t len) { static_cast<Impl*>(ctx)->Handle(data, len); }

  void Handle(const void* data, std::size_t len) {
    if (decoder.Decode(data, len, &event) != DecodeStatus::kOk) return;  // counted by the decoder
    if (event.proc.cgroup_id != 0) {
      if (const CgroupInfo* cg = cgroups.Lookup(event.proc.cgroup_id)) {
        event.proc.cgroup = cg->path;
        event.proc.container_id = cg->container_id;
      }
    }
    table.Apply(event);
    if (containers && !event.proc.container_id.empty() && event.proc.container_id != kHostContainerId)
      event.container = containers->Lookup(event.proc.container_id);
    if (callback) (*callback)(event);
  }

  // The object of `build` opened and configured for one load attempt, its
  // programs switched off as WhyOff says; false when it cannot be opened.
  bool OpenAttempt(const SensorOptions& options, const std::vector<std::string>& load_failed, std::string* error) {
    disabled.clear();
    skel.reset();  // the previous attempt's object, before the next is opened
    skel = build == BpfBuild::kTyped    ? OpenSkeleton<vigil_bpf>(features)
           : build == BpfBuild::kCompat ? OpenSkeleton<vigil_compat_bpf>(features)
                                        : OpenSkeleton<vigil_legacy_bpf>(features);
    if (!skel) {
      *error = std::string("opening the BPF object failed: ") + strerror(errno);
      return false;
    }
    bpf_map__set_max_entries(skel->events, options.ringbuf_bytes);
    // lane off: the ring stays (the programs name it) at its smallest, unused
    bpf_map__set_max_entries(skel->events_hi,
                             lane_on ? options.priority_ringbuf_bytes : static_cast<uint32_t>(getpagesize()));
    skel->set_lane_on(lane_on);
    if (options.fail_typed_load && build == BpfBuild::kTyped)
      bpf_map__set_max_entries(bpf_object__find_map_by_name(skel->obj, "vg_exec_pending"), 0);
    bool fork_btf = false;
    bpf_program* prog;
    bpf_object__for_each_program(prog, skel->obj) {
      std::string name = bpf_program__name(prog);
      std::string why = WhyOff(prog, name, options, features, load_failed);
      if (why.empty() && name == "vg_fork_btf") fork_btf = true;
      if (!why.empty()) {
        bpf_program__set_autoload(prog, false);
        disabled.push_back({name, why});
      }
    }
    // sched_process_fork: the tp_btf program supersedes the tracepoint one.
    if (fork_btf) {
      bpf_program__set_autoload(skel->fork_tp, false);
      disabled.push_back({"vg_fork_tp", "superseded by vg_fork_btf (tp_btf)"});
    }
    return true;
  }

  // After load attempt failed with `err`: true to try again (the typed build
  // gave way, or a program refused by the verifier is added to
  // *load_failed), false with *error when nothing is left to switch off.
  bool GiveWay(const SensorOptions& options, const std::string& log, int err, std::vector<std::string>* load_failed,
               std::string* error) {
    std::string failed = FailedProgram(log);
    // Chosen automatically, the typed build gives way to the compat build
    // (the same programs) before any program is given up.
    if (options.build == BpfBuild::kAuto && build == BpfBuild::kTyped) {
      spdlog::warn("the typed BPF build failed to load on this kernel ({}); loading the compat build instead",
                   LoadFailure(log, err));
      spdlog::debug("libbpf's log of that load:\n{}", log);
      build = BpfBuild::kCompat;
      return true;
    }
    if (failed.empty() || std::find(load_failed->begin(), load_failed->end(), failed) != load_failed->end()) {
      *error = std::string("loading the BPF object failed: ") + strerror(-err) + "\n" +
               log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
      return false;
    }
    spdlog::warn("program {} failed to load on this kernel ({}); retrying without it", failed,
                 VerifierVerdict(log));
    spdlog::debug("libbpf's log of that load:\n{}", log);
    load_failed->push_back(failed);
    return true;
  }

  // Opens and loads the object. A program the verifier of this kernel
  // refuses is switched off and the load retried, so the rest still runs;
  // bounded by the number of programs.
  bool Load(const SensorOptions& options, std::string* error) {
    std::string log;
    LibbpfLogScope scope(&log);
    std::vector<std::string> load_failed;
    for (int attempt = 0; attempt < 128; ++attempt) {
      if (!OpenAttempt(options, load_failed, error)) return false;
      log.clear();
      int err = skel->load();
      if (err == 0) break;
      if (!GiveWay(options, log, err, &load_failed, error)) return false;
    }
    return true;
  }

  // Attaches every loaded program; one that does not attach is disabled.
  void AttachAll() {
    bpf_program* prog;
    bpf_object__for_each_program(prog, skel->obj) {
      if (!bpf_program__autoload(prog)) continue;
      bpf_link* link = bpf_program__attach(prog);
      if (!link) {
        disabled.push_back({bpf_program__name(prog), std::string("attach failed: ") + strerror(errno)});
        continue;
      }
      links.push_back(link);
      attached.emplace_back(bpf_program__name(prog));
    }
  }

  // An enter/exit pair is useful only whole: when one half did not attach,
  // detach the other (its events could never pair) and report both.
  void DetachHalfPairs() {
    for (std::size_t i = 0; i < attached.size();) {
      const std::string& name = attached[i];
      std::string partner;
      if (name.rfind("vg_enter_", 0) == 0) partner = "vg_exit_" + name.substr(9);
      if (name.rfind("vg_exit_", 0) == 0) partner = "vg_enter_" + name.substr(8);
      bool partner_off = false;
      if (!partner.empty() && bpf_object__find_program_by_name(skel->obj, partner.c_str()) != nullptr) {
        for (const auto& d : disabled)
          if (d.name == partner) partner_off = true;
      }
      if (partner_off) {
        bpf_link__destroy(links[i]);
        disabled.push_back({name, "its pair " + partner + " is off"});
        links.erase(links.begin() + static_cast<std::ptrdiff_t>(i));
        attached.erase(attached.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      ++i;
    }
  }

  void SeedFromProc(bool read_env) {
    ProcScanStats scan_stats;
    ProcScanOptions scan;
    scan.read_env = read_env;
    for (const ProcessInfo& p : ScanProcesses(scan, &scan_stats)) {
      table.Upsert(p);
      ++seeded;
    }
  }

  // The ring readers; with the lane on, also the priority path map filled
  // with `prio_keys` and the reader merging both rings.
  bool OpenRings(const std::vector<vg_prio_key>& prio_keys, std::string* error) {
    std::string ring_error;
    ring = RingReader::Open(bpf_map__fd(skel->events), &ring_error);
    if (!ring) {
      *error = "creating the ring buffer reader failed: " + ring_error;
      return false;
    }
    if (!lane_on) return true;
    const int paths_fd = bpf_map__fd(skel->prio_paths);
    const uint8_t one = 1;
    for (const vg_prio_key& k : prio_keys) {
      if (bpf_map_update_elem(paths_fd, &k, &one, BPF_ANY) != 0) {
        *error = std::string("filling the priority path map failed: ") + strerror(errno);
        return false;
      }
    }
    ring_hi = RingReader::Open(bpf_map__fd(skel->events_hi), &ring_error);
    if (ring_hi) merged = MergedReader::Open(ring_hi.get(), ring.get(), &ring_error);
    if (!merged) {
      *error = "creating the priority ring buffer reader failed: " + ring_error;
      return false;
    }
    return true;
  }
};

Sensor::Sensor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sensor::~Sensor() = default;

std::unique_ptr<Sensor> Sensor::Open(const SensorOptions& options, std::string* error) {
  auto impl = std::make_unique<Impl>(options);
  Features& f = impl->features;
  f = ProbeFeatures();
  if (!RequireFeatures(f, error)) return nullptr;
  if (!ChooseBuild(options.build, f, &impl->build, error)) return nullptr;
  impl->lane_on = options.priority_ringbuf_bytes != 0;
  std::vector<vg_prio_key> prio_keys;
  if (impl->lane_on && !PriorityLaneKeys(options, &prio_keys, error)) return nullptr;
  if (!impl->Load(options, error)) return nullptr;
  impl->AttachAll();
  impl->DetachHalfPairs();
  if (impl->attached.empty()) {
    *error = "no BPF program could be attached on this kernel";
    return nullptr;
  }
  impl->ncpus = libbpf_num_possible_cpus();
  if (impl->ncpus <= 0) impl->ncpus = 1;
  impl->decoder = Decoder(BootToWallNs());
  if (options.seed_from_proc) impl->SeedFromProc(options.seed_env);
  // Loading the object and scanning /proc free megabytes below memory still
  // in use, which glibc keeps resident until asked. Handed back before the
  // rings are mapped, they stay out of the peak (VmHWM) as well as the RSS.
  ::malloc_trim(0);
  if (!impl->OpenRings(prio_keys, error)) return nullptr;
  // A blind spot the operator can close: say so at every start.
  WarnIa32(f, std::find(impl->attached.begin(), impl->attached.end(), "vg_compat_exit") != impl->attached.end());
  return std::unique_ptr<Sensor>(new Sensor(std::move(impl)));
}

int Sensor::Poll(int timeout_ms, const Callback& callback) {
  impl_->callback = &callback;
  // The kernel side wakes the consumer per VG_WAKEUP_BYTES of waiting data
  // (BPF_RB_NO_WAKEUP otherwise), so a poll that times out still consumes
  // what a quiet host produced: latency is bounded by timeout_ms.
  int n = impl_->merged ? impl_->merged->Poll(timeout_ms, &Impl::OnRecord, impl_.get())
                        : impl_->ring->Poll(timeout_ms, &Impl::OnRecord, impl_.get());
  impl_->callback = nullptr;
  return n;
}

const Features& Sensor::features() const { return impl_->features; }
BpfBuild Sensor::build() const { return impl_->build; }
const std::vector<DisabledProgram>& Sensor::disabled() const { return impl_->disabled; }
const std::vector<std::string>& Sensor::attached() const { return impl_->attached; }
const DecodeStats& Sensor::decode_stats() const { return impl_->decoder.stats(); }
ProcessTableStats Sensor::table_stats() const { return impl_->table.Stats(); }
CgroupResolverStats Sensor::cgroup_stats() const { return impl_->cgroups.Stats(); }
std::size_t Sensor::seeded() const { return impl_->seeded; }

OwnObjectIds Sensor::ObjectIds() const { return bpfobj::IdsOf(impl_->skel->obj, impl_->links); }

void Sensor::SetInterest(const std::bitset<kEventTypeCount>& types, uint32_t self_tgid, bool env, bool data) {
  const auto mask = InterestWords(types);
  __atomic_store_n(impl_->skel->self_tgid(), self_tgid, __ATOMIC_RELEASE);
  __atomic_store_n(impl_->skel->want_env(), env ? 1u : 0u, __ATOMIC_RELEASE);
  __atomic_store_n(impl_->skel->want_data(), data ? 1u : 0u, __ATOMIC_RELEASE);
  // One aligned 64-bit store per word: a program reads each word old or new.
  // The union goes in first, so while the words change no type that the old
  // and the new set both send is ever off.
  volatile uint64_t* words = impl_->skel->interest();
  for (std::size_t i = 0; i < mask.size(); ++i)
    __atomic_store_n(&words[i], __atomic_load_n(&words[i], __ATOMIC_ACQUIRE) | mask[i], __ATOMIC_RELEASE);
  for (std::size_t i = 0; i < mask.size(); ++i) __atomic_store_n(&words[i], mask[i], __ATOMIC_RELEASE);
}

namespace {

vg_open_key OpenKey(uint8_t gen, uint8_t cls, const std::string& prefix, uint8_t kind = VG_OPEN_KIND_GIVEN) {
  vg_open_key k{};
  const std::size_t window = kind == VG_OPEN_KIND_GIVEN ? VG_OPEN_PATH_WINDOW : VG_RES_NAME_LEN;
  const std::size_t n = std::min<std::size_t>(prefix.size(), window);
  k.prefixlen = static_cast<uint32_t>(32 + 8 * n);
  k.gen = gen;
  k.cls = cls;
  k.kind = kind;
  std::memcpy(k.path, prefix.data(), n);
  return k;
}

// One class's keys: its given-path prefixes (the empty one when off), and
// with the resolved test its marker and its name keys.
std::vector<vg_open_key> ClassKeys(uint8_t gen, uint8_t c, const OpenFilterClass& cls) {
  std::vector<vg_open_key> out;
  const std::vector<std::string> all{""};  // off: the empty prefix, which every path has
  for (const std::string& p : cls.active ? cls.prefixes : all) out.push_back(OpenKey(gen, c, p));
  if (!cls.active || !cls.resolved) return out;
  out.push_back(OpenKey(gen, c, "", VG_OPEN_KIND_RESOLVED));
  for (const auto& [kind, bytes] : cls.resolved_keys) out.push_back(OpenKey(gen, c, bytes, kind));
  return out;
}

}  // namespace

bool Sensor::SetOpenFilter(const OpenFilterClass (&classes)[2], std::string* error) {
  volatile uint32_t* word = impl_->skel->open_filter();
  const int fd = bpf_map__fd(impl_->skel->open_paths);
  const uint32_t next = impl_->open_gen ^ 1u;
  auto clear = [&](uint32_t gen) {
    for (const vg_open_key& k : impl_->open_keys[gen]) bpf_map_delete_elem(fd, &k);
    impl_->open_keys[gen].clear();
  };
  auto fail = [&](std::string what) {
    __atomic_store_n(word, 0u, __ATOMIC_RELEASE);
    clear(next);
    *error = std::move(what);
    return false;
  };
  if (!classes[0].active && !classes[1].active) {
    __atomic_store_n(word, 0u, __ATOMIC_RELEASE);
    return true;  // the current generation's keys stay until the next fill clears them
  }
  clear(next);
  const uint8_t one = 1;
  for (uint8_t c = 0; c < 2; ++c) {
    if (classes[c].prefixes.size() > VG_OPEN_PREFIXES_MAX || classes[c].resolved_keys.size() > VG_RES_KEYS_MAX)
      return fail("open path filter: " + std::to_string(classes[c].prefixes.size()) + " prefixes and " +
                  std::to_string(classes[c].resolved_keys.size()) + " resolved-path keys, at most " +
                  std::to_string(VG_OPEN_PREFIXES_MAX) + " and " + std::to_string(VG_RES_KEYS_MAX));
    for (const vg_open_key& k : ClassKeys(static_cast<uint8_t>(next), c, classes[c])) {
      if (bpf_map_update_elem(fd, &k, &one, BPF_ANY) != 0)
        return fail(std::string("open path filter: filling the prefix map failed: ") + strerror(errno));
      impl_->open_keys[next].push_back(k);
    }
  }
  // One aligned 32-bit store: each open reads the old generation or the new.
  __atomic_store_n(word, 1u + next, __ATOMIC_RELEASE);
  impl_->open_gen = next;
  // An open that read the old word may still be looking its generation up:
  // those keys stay until the next switch clears them before refilling.
  return true;
}

std::vector<FilterCount> Sensor::ReadFilterCounts() const {
  std::vector<FilterCount> out;
  std::vector<vg_filter_count> values(static_cast<std::size_t>(impl_->ncpus));
  int fd = bpf_map__fd(impl_->skel->filter_counts);
  for (uint32_t abi = 1; abi < VG_T_MAX; ++abi) {
    EventType t;
    if (!EventTypeOfAbi(abi, &t) || bpf_map_lookup_elem(fd, &abi, values.data()) != 0) continue;
    FilterCount c{t, 0, 0, 0};
    for (const auto& v : values) {
      c.sent += v.sent;
      c.filtered += v.filtered;
    }
    std::vector<uint64_t> paths(static_cast<std::size_t>(impl_->ncpus));
    if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->path_filtered), &abi, paths.data()) == 0)
      for (uint64_t v : paths) c.path_filtered += v;
    // vg_interested() counted these as sent before the path filter ran.
    c.sent -= std::min(c.sent, c.path_filtered);
    out.push_back(c);
  }
  return out;
}

bool Sensor::priority_lane() const { return impl_->lane_on; }

uint64_t Sensor::ReadPriorityReceived() const {
  std::vector<uint64_t> values(static_cast<std::size_t>(impl_->ncpus));
  uint32_t key = VG_L_PRIO_RECEIVED;
  uint64_t sum = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->lane_counts), &key, values.data()) == 0)
    for (uint64_t v : values) sum += v;
  return sum;
}

std::vector<KernelCounter> Sensor::ReadCounters() const {
  std::vector<KernelCounter> out;
  std::vector<uint64_t> values(static_cast<std::size_t>(impl_->ncpus));
  int fd = bpf_map__fd(impl_->skel->counters);
  for (uint32_t i = 0; i < VG_C_MAX; ++i) {
    uint64_t sum = 0;
    if (bpf_map_lookup_elem(fd, &i, values.data()) == 0) {
      for (uint64_t v : values) sum += v;
    }
    out.push_back({kCounterNames[i], sum});
  }
  return out;
}

}  // namespace vigil::capture
