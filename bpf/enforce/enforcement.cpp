// SPDX-License-Identifier: Apache-2.0
// EnforcementManager: skeleton lifecycle, per-rule mechanism choice, policy
// encoding into the generation-keyed maps, and refusal records.
#include "bpf/enforce/enforcement.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "bpf/enforce/enforce_abi.h"
#include "vigil_enforce_bpf.skel.h"

namespace vigil::enforce {
static_assert(kSelfProtectionRuleId == VE_SELF_RULE);
namespace {

using policy::Action;
using policy::HookClass;

struct SkelDeleter {
  void operator()(vigil_enforce_bpf* s) const { vigil_enforce_bpf__destroy(s); }
};

constexpr const char* kLsmHookNames[] = {"bprm_check_security", "file_open", "socket_connect", "bpf",
                                         "kernel_read_file",    "kernel_load_data", "sb_mount",
                                         "ptrace_access_check", "task_fix_setuid"};

// The BPF LSM programs, in kLsmHookNames order, and the class each enforces.
template <class Progs>
std::array<bpf_program*, 9> LsmPrograms(const Progs& p) {
  return {p.ve_lsm_exec,      p.ve_lsm_open,      p.ve_lsm_connect, p.ve_lsm_bpf,   p.ve_lsm_read_file,
          p.ve_lsm_load_data, p.ve_lsm_mount,     p.ve_lsm_ptrace,  p.ve_lsm_setuid};
}
constexpr HookClass kLsmClass[] = {HookClass::kExec,   HookClass::kOpen,   HookClass::kConnect,
                                   HookClass::kBpf,    HookClass::kModule, HookClass::kModule,
                                   HookClass::kMount,  HookClass::kPtrace, HookClass::kSetuid};
static_assert(std::size(kLsmClass) == std::size(kLsmHookNames));

std::string Errno(int e) { return std::strerror(e < 0 ? -e : e); }

uint32_t GenOf(const ve_comm_key& k) { return k.gen; }
uint32_t GenOf(const ve_num_key& k) { return k.gen; }
uint32_t GenOf(const ve_inode_key& k) { return k.gen; }
uint32_t GenOf(const ve_path_key& k) { return k.data[0]; }
uint32_t GenOf(const ve_cidr_key& k) { return k.data[0]; }

// Deletes every key of a policy map that belongs to generation `gen`.
template <typename Key>
int ClearGeneration(int fd, uint32_t gen) {
  std::vector<Key> doomed;
  Key key{}, next{};
  bool first = true;
  while (bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0) {
    first = false;
    if (GenOf(next) == gen) doomed.push_back(next);
    key = next;
  }
  for (const Key& k : doomed)
    if (bpf_map_delete_elem(fd, &k) != 0 && errno != ENOENT) return -errno;
  return 0;
}


uint32_t KernelDev(dev_t d) { return (major(d) << 20) | minor(d); }

}  // namespace

const char* MechanismName(Mechanism m) {
  switch (m) {
    case Mechanism::kLsm: return "BPF LSM";
    case Mechanism::kTracepointKill: return "tracepoint SIGKILL";
    case Mechanism::kCgroupConnect: return "cgroup connect4/6";
    case Mechanism::kAlertOnly: return "alert only";
    case Mechanism::kNotEnforced: return "not enforced";
  }
  return "?";
}

bool BpfLsmActive(std::string* lsm_list) {
  std::ifstream in("/sys/kernel/security/lsm");
  if (!in) {
    // securityfs may not be mounted yet (early boot, minimal containers).
    mount("securityfs", "/sys/kernel/security", "securityfs", 0, nullptr);
    in.open("/sys/kernel/security/lsm");
  }
  std::string list;
  std::getline(in, list);
  if (lsm_list) *lsm_list = list;
  return ("," + list + ",").find(",bpf,") != std::string::npos;
}

namespace {

// "bpf" in the LSM list is not enough either: some kernels (this project's development host)
// list it and still refuse LSM program loads (EPERM). Load one LSM program to be sure.
bool LsmProgramLoads() {
  std::unique_ptr<vigil_enforce_bpf, SkelDeleter> skel(vigil_enforce_bpf__open());
  if (!skel) return false;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, prog == skel->progs.ve_lsm_setuid);
  libbpf_print_fn_t old = libbpf_set_print(nullptr);  // an expected failure is not an error to print
  int err = vigil_enforce_bpf__load(skel.get());
  libbpf_set_print(old);
  return err == 0;
}

}  // namespace

namespace {

// A function in the running kernel's BTF (e.g. an LSM hook's bpf_lsm_<hook> attach point).
bool KernelHasFunc(const char* name) {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) return false;
  const bool found = btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) > 0;
  btf__free(vmlinux);
  return found;
}

}  // namespace

bool BpfLsmUsable(std::string* lsm_list) { return BpfLsmActive(lsm_list) && LsmProgramLoads(); }

std::string FindCgroup2Root() {
  std::ifstream in("/proc/self/mounts");
  std::string dev, dir, type;
  std::string rest;
  while (in >> dev >> dir >> type && std::getline(in, rest))
    if (type == "cgroup2") return dir;
  return "";
}

std::vector<CapabilityProbe> ProbeEnforcement(const EnforceOptions& options) {
  const bool lsm = !options.disable_lsm && BpfLsmUsable();
  const bool cgroup2 = !(options.cgroup_root.empty() ? FindCgroup2Root() : options.cgroup_root).empty();
  const char* lsm_hook[] = {"bprm_check_security", "file_open", "socket_connect", "bpf",
                            "kernel_read_file/kernel_load_data", "sb_mount", "ptrace_access_check",
                            "task_fix_setuid"};
  std::vector<CapabilityProbe> out;
  for (std::size_t h = 0; h < policy::kHookClassCount; ++h) {
    const std::string cls = policy::HookClassName(static_cast<HookClass>(h));
    for (const char* act : {"deny", "kill"}) {
      CapabilityProbe p{cls + " " + act, ""};
      if (lsm) {
        p.mechanism = std::string("BPF LSM ") + lsm_hook[h] + (std::strcmp(act, "kill") == 0 ? " + SIGKILL" : "");
      } else if (h == 0 && (std::strcmp(act, "kill") == 0 || options.degrade == Degrade::kKill)) {
        p.mechanism = std::string("tracepoint sched_process_exec SIGKILL") + (std::strcmp(act, "deny") == 0 ? " (deny degraded to kill)" : "");
      } else if (h == 2 && cgroup2) {
        p.mechanism = std::string("cgroup connect4/6 deny") + (std::strcmp(act, "kill") == 0 ? " (no kill from cgroup hooks)" : "");
      } else {
        p.mechanism = "alert only (no BPF LSM)";
      }
      out.push_back(std::move(p));
    }
  }
  // bpf.prog.helpers rules: a separate row, the mechanism depends on two more kernel features.
  const bool have_loop = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, nullptr) == 1;
  CapabilityProbe helpers{"bpf helper-id deny", ""};
  if (!lsm) helpers.mechanism = "alert only (no BPF LSM)";
  else if (!have_loop) helpers.mechanism = "not enforced (no bpf_loop helper, 5.17+)";
  else if (KernelHasFunc("bpf_lsm_bpf_prog_load")) helpers.mechanism = "BPF LSM bpf_prog_load (the kernel's copy)";
  else helpers.mechanism = "BPF LSM bpf, scanning the loader's memory (racy: see docs/enforcement.md)";
  out.push_back(std::move(helpers));
  return out;
}

struct EnforcementManager::Impl {
  std::unique_ptr<vigil_enforce_bpf, SkelDeleter> skel;
  std::vector<bpf_link*> links;
  int cgroup_fd = -1;
  ring_buffer* rb = nullptr;
  uint32_t active_gen = 0;
  bool armed = false;
  std::array<std::vector<std::string>, VE_GENS> names;  // rule id -> name, per generation
  std::set<HookClass> lsm_hooks_ok;
  bool tp_ok = false, cgroup_ok = false;
  bool helper_scan_ok = false;  // ve_lsm_bpf_helpers attached (BPF LSM + bpf_loop)
  std::string helper_scan_why;  // why not
  const std::function<void(const Refusal&)>* on = nullptr;
  int handled = 0;
  ve_config written_config{};                       // what Install()/Create() last wrote
  std::array<ve_class, VE_HOOK_COUNT> written_classes{};  // the active generation's classes

  ~Impl() {
    if (rb) ring_buffer__free(rb);
    for (bpf_link* l : links) bpf_link__destroy(l);
    if (cgroup_fd >= 0) close(cgroup_fd);
  }

  static int OnRecord(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    if (size < sizeof(ve_refusal) || self->on == nullptr) return 0;
    ve_refusal rec;
    std::memcpy(&rec, data, sizeof(rec));
    Refusal r;
    r.ts_ns = rec.ts_ns;
    r.pid = rec.pid;
    r.tid = rec.tid;
    r.hook = static_cast<HookClass>(rec.hook % policy::kHookClassCount);
    r.rule_id = rec.rule;
    const auto& names = self->names[rec.gen & 1];
    r.rule = rec.rule == VE_SELF_RULE ? "vigil self-protection" : rec.rule < names.size() ? names[rec.rule].c_str() : "?";
    r.action = rec.action == VE_ACT_KILL ? "kill" : "deny";
    std::memcpy(r.comm, rec.comm, sizeof(r.comm));
    r.comm[15] = 0;
    (*self->on)(r);
    ++self->handled;
    return 0;
  }
};

std::unique_ptr<EnforcementManager> EnforcementManager::Create(const EnforceOptions& options, std::string* error) {
  std::unique_ptr<EnforcementManager> m(new EnforcementManager());
  m->impl_ = std::make_unique<Impl>();
  Impl& im = *m->impl_;
  std::string lsm_list;
  m->lsm_ = !options.disable_lsm && BpfLsmUsable(&lsm_list);
  im.skel.reset(vigil_enforce_bpf__open());
  if (!im.skel) {
    *error = "open enforcement BPF object: " + Errno(errno);
    return nullptr;
  }
  auto& p = im.skel->progs;
  for (bpf_program* prog : LsmPrograms(p)) bpf_program__set_autoload(prog, m->lsm_);
  // The helper scan needs bpf_loop (5.17+); without it bpf.prog.helpers rules are not enforced.
  // Where the kernel has the bpf_prog_load LSM hook (6.9+) the scan reads the kernel's copy of the
  // instructions there; otherwise the loader's memory from the bpf hook.
  const bool have_loop = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, nullptr) == 1;
  const bool have_prog_load_hook = m->lsm_ && have_loop && KernelHasFunc("bpf_lsm_bpf_prog_load");
  bpf_program__set_autoload(p.ve_lsm_bpf_helpers, m->lsm_ && have_loop && !have_prog_load_hook);
  bpf_program__set_autoload(p.ve_lsm_prog_load, have_prog_load_hook);
  im.helper_scan_why = !m->lsm_ ? "no BPF LSM" : "this kernel has no bpf_loop helper (5.17+)";
  for (bpf_program* prog : {p.ve_tp_exec, p.ve_cg_connect4, p.ve_cg_connect6})
    bpf_program__set_autoload(prog, !m->lsm_);
  if (int err = vigil_enforce_bpf__load(im.skel.get()); err != 0) {
    *error = "load enforcement BPF object: " + Errno(err);
    return nullptr;
  }
  ve_config cfg{};
  cfg.self_tgid = static_cast<uint32_t>(getpid());
  uint32_t zero = 0;
  if (bpf_map__update_elem(im.skel->maps.ve_config, &zero, sizeof(zero), &cfg, sizeof(cfg), BPF_ANY) != 0) {
    *error = "init enforcement config: " + Errno(errno);
    return nullptr;
  }
  im.written_config = cfg;
  if (m->lsm_) m->AttachLsm(have_loop, have_prog_load_hook);
  else m->AttachFallback(options, lsm_list);
  // Self-protection ids: every program, map and link of this object.
  if (auto err = m->RegisterSelfIds(m->OwnIds())) {
    *error = "self-protection ids: " + *err;
    return nullptr;
  }
  im.rb = ring_buffer__new(bpf_map__fd(im.skel->maps.ve_refusals), &Impl::OnRecord, &im, nullptr);
  if (im.rb == nullptr) {
    *error = "refusal ring buffer: " + Errno(errno);
    return nullptr;
  }
  m->options_degrade_ = options.degrade;
  return m;
}

void EnforcementManager::AttachLsm(bool have_loop, bool have_prog_load_hook) {
  Impl& im = *impl_;
  auto& p = im.skel->progs;
  const auto lsm_progs = LsmPrograms(p);
  std::set<HookClass> failed;
  for (std::size_t i = 0; i < lsm_progs.size(); ++i) {
    bpf_link* l = bpf_program__attach(lsm_progs[i]);
    if (l == nullptr) {
      spdlog::warn("enforce: LSM hook {} did not attach: {}", kLsmHookNames[i], Errno(errno));
      failed.insert(kLsmClass[i]);
      continue;
    }
    im.links.push_back(l);
    hooks_.push_back(kLsmHookNames[i]);
    im.lsm_hooks_ok.insert(kLsmClass[i]);
  }
  for (HookClass h : failed) im.lsm_hooks_ok.erase(h);  // a class is enforced only if all its hooks are
  if (have_loop) {
    bpf_program* scan = have_prog_load_hook ? p.ve_lsm_prog_load : p.ve_lsm_bpf_helpers;
    if (bpf_link* l = bpf_program__attach(scan)) {
      im.links.push_back(l);
      hooks_.push_back(have_prog_load_hook ? "bpf_prog_load" : "bpf_helper_scan");
      im.helper_scan_ok = true;
    } else {
      im.helper_scan_why = "the helper-scan program on the bpf hook did not attach: " + Errno(errno);
      spdlog::warn("enforce: {}", im.helper_scan_why);
    }
  }
  std::string attached;
  for (const auto& h : hooks_) attached += (attached.empty() ? "" : ",") + h;
  spdlog::info("enforce: BPF LSM hooks attached: {}", attached.empty() ? "none" : attached);
}

void EnforcementManager::AttachFallback(const EnforceOptions& options, const std::string& lsm_list) {
  Impl& im = *impl_;
  auto& p = im.skel->progs;
  if (bpf_link* l = bpf_program__attach(p.ve_tp_exec)) {
    im.links.push_back(l);
    im.tp_ok = true;
  } else {
    spdlog::warn("enforce: sched_process_exec tracepoint did not attach: {}", Errno(errno));
  }
  const std::string root = options.cgroup_root.empty() ? FindCgroup2Root() : options.cgroup_root;
  im.cgroup_fd = root.empty() ? -1 : open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (im.cgroup_fd >= 0) {
    bpf_link* l4 = bpf_program__attach_cgroup(p.ve_cg_connect4, im.cgroup_fd);
    bpf_link* l6 = l4 ? bpf_program__attach_cgroup(p.ve_cg_connect6, im.cgroup_fd) : nullptr;
    if (l4) im.links.push_back(l4);
    if (l6) im.links.push_back(l6);
    im.cgroup_ok = l4 && l6;
    if (!im.cgroup_ok) spdlog::warn("enforce: cgroup connect4/6 did not attach: {}", Errno(errno));
  } else {
    spdlog::warn("enforce: no cgroup v2 root for connect enforcement ({})", root.empty() ? "none mounted" : root);
  }
  spdlog::info("enforce: no BPF LSM (active LSMs: {}); fallback: exec kill by tracepoint{}, connect deny by cgroup{}",
               lsm_list.empty() ? "unknown" : lsm_list, im.tp_ok ? "" : " (unavailable)",
               im.cgroup_ok ? "" : " (unavailable)");
}

EnforcementManager::~EnforcementManager() = default;

RuleEnforcement EnforcementManager::Decide(const policy::PolicyRule& rule) const {
  const Impl& im = *impl_;
  RuleEnforcement e;
  e.rule = rule.name;
  e.hook = rule.hook;
  e.action = rule.action;
  const std::string as_written = rule.action == Action::kKill ? "kill" : "deny";
  const std::string cls = policy::HookClassName(rule.hook);
  auto alert = [&](Mechanism m, std::string reason) {
    e.mechanism = m;
    e.effective = "alert";
    e.reason = std::move(reason);
    return e;
  };
  if (lsm_) {
    if (!im.lsm_hooks_ok.count(rule.hook)) return alert(Mechanism::kNotEnforced, "the LSM hook for " + cls + " did not load");
    if (!rule.helpers.empty() && !im.helper_scan_ok)
      return alert(Mechanism::kNotEnforced, "bpf.prog.helpers cannot be decided in the kernel: " + im.helper_scan_why);
    e.mechanism = Mechanism::kLsm;
    e.effective = as_written;
    return e;
  }
  if (rule.hook == HookClass::kExec) {
    if (!im.tp_ok) return alert(Mechanism::kNotEnforced, "the sched_process_exec tracepoint did not attach");
    if (rule.action == Action::kDeny && options_degrade_ != Degrade::kKill)
      return alert(Mechanism::kAlertOnly, "no BPF LSM: exec deny degraded to alert (degrade: alert)");
    e.mechanism = Mechanism::kTracepointKill;
    e.effective = "kill";
    if (rule.action == Action::kDeny) e.reason = "no BPF LSM: exec deny degraded to kill";
    return e;
  }
  if (rule.hook == HookClass::kConnect) {
    if (!im.cgroup_ok) return alert(Mechanism::kNotEnforced, "cgroup connect4/6 did not attach");
    if (!rule.parent_comms.empty() || rule.placement != policy::Placement::kAny)
      return alert(Mechanism::kAlertOnly, "no BPF LSM: the cgroup connect hook cannot see the parent or the container");
    e.mechanism = Mechanism::kCgroupConnect;
    e.effective = "deny";
    if (rule.action == Action::kKill) e.reason = "no BPF LSM: connect kill enforced as deny (no signal from cgroup hooks)";
    return e;
  }
  return alert(Mechanism::kAlertOnly, "no BPF LSM and no fallback hook for " + cls);
}

namespace {

// The maps of one policy generation, built in memory before any write.
struct Encoded {
  std::array<ve_class, VE_HOOK_COUNT> classes{};
  std::array<ve_rule, VE_MAX_RULES> rules{};
  std::map<std::pair<uint32_t, std::string>, uint64_t> comms;       // (dim, name)
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> nums;           // (dim, value)
  std::map<std::tuple<uint32_t, uint32_t, uint64_t>, uint64_t> inodes;  // (kind, dev, ino)
  std::map<std::string, std::pair<bool, uint64_t>> paths;          // bytes -> (prefix, mask)
  std::map<std::tuple<uint8_t, std::array<uint8_t, 16>, uint8_t>, uint64_t> cidrs;  // (family, addr, len)
  std::array<uint64_t, VE_MAX_HELPERS> helpers{};  // helper id -> rules listing it
};

void EncodeRule(const policy::PolicyRule& r, const RuleEnforcement& how, Encoded* enc) {
  const uint64_t bit = uint64_t{1} << r.id;
  enc->rules[r.id].action = how.effective == "kill" ? VE_ACT_KILL : how.effective == "deny" ? VE_ACT_DENY : VE_ACT_NONE;
  enc->rules[r.id].access = r.access;
  enc->rules[r.id].placement = r.placement == policy::Placement::kHost        ? VE_PLACE_HOST
                               : r.placement == policy::Placement::kContainer ? VE_PLACE_CONTAINER
                                                                              : VE_PLACE_ANY;
  if (enc->rules[r.id].action == VE_ACT_NONE) return;  // alert-only: the kernel never sees it
  ve_class& c = enc->classes[static_cast<std::size_t>(r.hook)];
  c.rules |= bit;
  auto dim = [&](uint32_t d, bool constrained) {
    if (!constrained) c.free[d] |= bit;
  };
  if (r.access & policy::kAccessRead) c.need_read |= bit;
  if (r.access & policy::kAccessWrite) c.need_write |= bit;
  if (r.placement == policy::Placement::kHost) c.host_only |= bit;
  if (r.placement == policy::Placement::kContainer) c.container_only |= bit;
  dim(VE_DIM_COMM, !r.comms.empty());
  dim(VE_DIM_PCOMM, !r.parent_comms.empty());
  dim(VE_DIM_PATH, !r.paths.empty());
  dim(VE_DIM_UID, !r.uids.empty());
  dim(VE_DIM_PORT, !r.ports.empty());
  dim(VE_DIM_CIDR, !r.cidrs.empty());
  dim(VE_DIM_BPF_CMD, !r.bpf_cmds.empty());
  dim(VE_DIM_PROG_TYPE, !r.prog_types.empty());
  dim(VE_DIM_HELPER, !r.helpers.empty());
  for (uint32_t h : r.helpers)
    if (h < VE_MAX_HELPERS) enc->helpers[h] |= bit;
  for (const auto& s : r.comms) enc->comms[{VE_DIM_COMM, s}] |= bit;
  for (const auto& s : r.parent_comms) enc->comms[{VE_DIM_PCOMM, s}] |= bit;
  for (uint32_t v : r.uids) enc->nums[{VE_DIM_UID, v}] |= bit;
  for (uint32_t v : r.ports) enc->nums[{VE_DIM_PORT, v}] |= bit;
  for (uint32_t v : r.bpf_cmds) enc->nums[{VE_DIM_BPF_CMD, v}] |= bit;
  for (uint32_t v : r.prog_types) enc->nums[{VE_DIM_PROG_TYPE, v}] |= bit;
  for (const auto& p : r.paths) {
    std::string bytes = p.prefix ? p.path : p.path + '\0';
    auto& slot = enc->paths[bytes];
    slot.first = p.prefix;
    slot.second |= bit;
    // Identity entries: robust against relative exec names, symlinks and bind mounts.
    struct stat st {};
    if (!p.prefix && stat(p.path.c_str(), &st) == 0) {
      enc->inodes[{0, KernelDev(st.st_dev), st.st_ino}] |= bit;
    } else if (p.prefix && p.path.back() == '/' && stat(p.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      enc->inodes[{1, KernelDev(st.st_dev), st.st_ino}] |= bit;
    }
  }
  for (const auto& cidr : r.cidrs)
    enc->cidrs[{cidr.v6 ? 6 : 4, cidr.addr, cidr.prefix_len}] |= bit;
}

// An LPM lookup returns only the longest match, so each entry also carries the rules of every
// shorter prefix entry that covers it.
void FoldPrefixes(Encoded* enc) {
  for (auto& [bytes, slot] : enc->paths) {
    for (std::size_t len = 1; len < bytes.size(); ++len) {
      auto it = enc->paths.find(bytes.substr(0, len));
      if (it != enc->paths.end() && it->second.first) slot.second |= it->second.second;
    }
  }
  for (auto& [key, mask] : enc->cidrs) {
    const auto& [family, addr, len] = key;
    for (int shorter = 0; shorter < len; ++shorter) {
      std::array<uint8_t, 16> a = addr;
      for (int b = shorter; b < 128; ++b) a[b / 8] &= static_cast<uint8_t>(~(0x80u >> (b % 8)));
      auto it = enc->cidrs.find({family, a, static_cast<uint8_t>(shorter)});
      if (it != enc->cidrs.end()) mask |= it->second;
    }
  }
}

}  // namespace

namespace {

std::string WriteFailed(const char* what, int err) { return std::string("write ") + what + ": " + Errno(err); }

// Capacity per generation: half of each map (the other half holds the active policy).
template <class Maps>
std::optional<std::string> CheckCapacity(const Maps& maps, const Encoded& enc) {
  struct Cap {
    const char* what;
    std::size_t need;
    bpf_map* map;
  };
  for (const Cap& c : {Cap{"process-name", enc.comms.size(), maps.ve_comms},
                       Cap{"number", enc.nums.size(), maps.ve_nums},
                       Cap{"file-identity", enc.inodes.size(), maps.ve_inodes},
                       Cap{"path", enc.paths.size(), maps.ve_paths},
                       Cap{"address/CIDR", enc.cidrs.size(), maps.ve_cidrs}}) {
    std::size_t cap = bpf_map__max_entries(c.map) / VE_GENS;
    if (c.need > cap)
      return std::string("policy needs ") + std::to_string(c.need) + " " + c.what + " entries; the kernel map holds " +
             std::to_string(cap) + " per policy";
  }
  return std::nullopt;
}

// Empties generation `gen` of every keyed map (the policy before the active one).
template <class Maps>
std::optional<std::string> ClearInactive(const Maps& maps, uint32_t gen) {
  if (int e = ClearGeneration<ve_comm_key>(bpf_map__fd(maps.ve_comms), gen)) return WriteFailed("process names", e);
  if (int e = ClearGeneration<ve_num_key>(bpf_map__fd(maps.ve_nums), gen)) return WriteFailed("numbers", e);
  if (int e = ClearGeneration<ve_inode_key>(bpf_map__fd(maps.ve_inodes), gen)) return WriteFailed("file identities", e);
  if (int e = ClearGeneration<ve_path_key>(bpf_map__fd(maps.ve_paths), gen)) return WriteFailed("paths", e);
  if (int e = ClearGeneration<ve_cidr_key>(bpf_map__fd(maps.ve_cidrs), gen)) return WriteFailed("networks", e);
  return std::nullopt;
}

// Generation `gen` of the array maps: hook classes, rules, helper ids.
template <class Maps>
std::optional<std::string> WriteArrays(const Maps& maps, const Encoded& enc, uint32_t gen) {
  for (uint32_t h = 0; h < VE_HOOK_COUNT; ++h) {
    uint32_t k = gen * VE_HOOK_COUNT + h;
    if (bpf_map__update_elem(maps.ve_classes, &k, sizeof(k), &enc.classes[h], sizeof(ve_class), BPF_ANY) != 0)
      return WriteFailed("hook classes", errno);
  }
  for (uint32_t i = 0; i < VE_MAX_RULES; ++i) {
    uint32_t k = gen * VE_MAX_RULES + i;
    if (bpf_map__update_elem(maps.ve_rules, &k, sizeof(k), &enc.rules[i], sizeof(ve_rule), BPF_ANY) != 0)
      return WriteFailed("rules", errno);
  }
  for (uint32_t h = 0; h < VE_MAX_HELPERS; ++h) {
    uint32_t k = gen * VE_MAX_HELPERS + h;
    if (bpf_map__update_elem(maps.ve_helpers, &k, sizeof(k), &enc.helpers[h], sizeof(uint64_t), BPF_ANY) != 0)
      return WriteFailed("helper ids", errno);
  }
  return std::nullopt;
}

// Generation `gen` of the hash maps: process names, numbers, file identities.
template <class Maps>
std::optional<std::string> WriteHashes(const Maps& maps, const Encoded& enc, uint32_t gen) {
  for (const auto& [key, mask] : enc.comms) {
    ve_comm_key k{};
    k.gen = gen;
    k.dim = key.first;
    std::memcpy(k.comm, key.second.data(), std::min<std::size_t>(key.second.size(), 15));
    if (bpf_map__update_elem(maps.ve_comms, &k, sizeof(k), &mask, sizeof(mask), BPF_ANY) != 0)
      return WriteFailed("process names", errno);
  }
  for (const auto& [key, mask] : enc.nums) {
    ve_num_key k{};
    k.gen = gen;
    k.dim = key.first;
    k.value = key.second;
    if (bpf_map__update_elem(maps.ve_nums, &k, sizeof(k), &mask, sizeof(mask), BPF_ANY) != 0)
      return WriteFailed("numbers", errno);
  }
  for (const auto& [key, mask] : enc.inodes) {
    ve_inode_key k{};
    k.gen = gen;
    k.kind = std::get<0>(key);
    k.dev = std::get<1>(key);
    k.ino = std::get<2>(key);
    if (bpf_map__update_elem(maps.ve_inodes, &k, sizeof(k), &mask, sizeof(mask), BPF_ANY) != 0)
      return WriteFailed("file identities", errno);
  }
  return std::nullopt;
}

// Generation `gen` of the longest-prefix maps: paths and networks.
template <class Maps>
std::optional<std::string> WritePrefixes(const Maps& maps, const Encoded& enc, uint32_t gen) {
  for (const auto& [bytes, slot] : enc.paths) {
    ve_path_key k{};
    if (bytes.size() > VE_LPM_DATA - 1) return "path too long for the kernel key: " + bytes;
    k.data[0] = static_cast<uint8_t>(gen);
    std::memcpy(&k.data[1], bytes.data(), bytes.size());
    k.prefixlen = static_cast<uint32_t>(8 * (1 + bytes.size()));
    if (bpf_map__update_elem(maps.ve_paths, &k, sizeof(k), &slot.second, sizeof(uint64_t), BPF_ANY) != 0)
      return WriteFailed("paths", errno);
  }
  for (const auto& [key, mask] : enc.cidrs) {
    ve_cidr_key k{};
    const auto& [family, addr, len] = key;
    k.data[0] = static_cast<uint8_t>(gen);
    k.data[1] = family;
    std::memcpy(&k.data[2], addr.data(), family == 4 ? 4 : 16);
    k.prefixlen = 16u + len;
    if (bpf_map__update_elem(maps.ve_cidrs, &k, sizeof(k), &mask, sizeof(mask), BPF_ANY) != 0)
      return WriteFailed("networks", errno);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> EnforcementManager::Install(const policy::PolicySpec& spec) {
  Impl& im = *impl_;
  auto& maps = im.skel->maps;
  if (spec.rules.size() > VE_MAX_RULES)
    return "policy has " + std::to_string(spec.rules.size()) + " rules; the kernel holds " + std::to_string(VE_MAX_RULES);
  std::vector<RuleEnforcement> report;
  Encoded enc;
  for (const auto& r : spec.rules) {
    if (r.id >= VE_MAX_RULES) return "rule '" + r.name + "' has id " + std::to_string(r.id) + " out of range";
    report.push_back(Decide(r));
    EncodeRule(r, report.back(), &enc);
  }
  FoldPrefixes(&enc);
  if (auto err = CheckCapacity(maps, enc)) return err;
  const uint32_t gen = im.armed ? (im.active_gen ^ 1u) : 0u;
  // 1. Clear the inactive generation; 2. write the new policy into it.
  if (auto err = ClearInactive(maps, gen)) return err;
  if (auto err = WriteArrays(maps, enc, gen)) return err;
  if (auto err = WriteHashes(maps, enc, gen)) return err;
  if (auto err = WritePrefixes(maps, enc, gen)) return err;
  im.names[gen].clear();
  for (const auto& r : spec.rules) im.names[gen].push_back(r.name);
  // 3. Flip: one array-element write the programs read once per decision.
  ve_config cfg{};
  cfg.active_gen = gen;
  cfg.armed = 1;
  cfg.self_tgid = static_cast<uint32_t>(getpid());
  uint32_t zero = 0;
  if (bpf_map__update_elem(maps.ve_config, &zero, sizeof(zero), &cfg, sizeof(cfg), BPF_ANY) != 0)
    return WriteFailed("active generation", errno);
  im.active_gen = gen;
  im.armed = true;
  im.written_config = cfg;
  im.written_classes = enc.classes;
  report_ = std::move(report);
  for (const auto& e : report_)
    spdlog::info("enforce: rule '{}' ({} {}): {} -> {}{}{}", e.rule, policy::HookClassName(e.hook),
                 e.action == Action::kKill ? "kill" : "deny", MechanismName(e.mechanism), e.effective,
                 e.reason.empty() ? "" : "; ", e.reason);
  return std::nullopt;
}

SelfIds EnforcementManager::OwnIds() const { return bpfobj::IdsOf(impl_->skel->obj, impl_->links); }

std::optional<std::string> EnforcementManager::RegisterSelfIds(const SelfIds& ids) {
  const uint32_t one = 1;
  auto put = [&](uint64_t kind, const std::vector<uint32_t>& list) -> std::optional<std::string> {
    for (uint32_t id : list) {
      const uint64_t key = (kind << 32) | id;
      if (bpf_map__update_elem(impl_->skel->maps.ve_self_ids, &key, sizeof(key), &one, sizeof(one), BPF_ANY) != 0)
        return "register id " + std::to_string(id) + ": " + Errno(errno) + " (" +
               std::to_string(bpf_map__max_entries(impl_->skel->maps.ve_self_ids)) + " ids at most)";
    }
    return std::nullopt;
  };
  if (auto e = put(VE_SELF_PROG, ids.progs)) return e;
  if (auto e = put(VE_SELF_MAP, ids.maps)) return e;
  return put(VE_SELF_LINK, ids.links);
}

std::optional<std::string> EnforcementManager::CheckPolicyIntegrity() const {
  const Impl& im = *impl_;
  ve_config cfg{};
  uint32_t zero = 0;
  if (bpf_map__lookup_elem(im.skel->maps.ve_config, &zero, sizeof(zero), &cfg, sizeof(cfg), 0) != 0)
    return "ve_config unreadable: " + Errno(errno);
  const ve_config& w = im.written_config;
  if (cfg.active_gen != w.active_gen || cfg.armed != w.armed || cfg.self_tgid != w.self_tgid)
    return "ve_config changed by another process (active_gen " + std::to_string(w.active_gen) + "->" +
           std::to_string(cfg.active_gen) + ", armed " + std::to_string(w.armed) + "->" + std::to_string(cfg.armed) +
           ", agent pid " + std::to_string(w.self_tgid) + "->" + std::to_string(cfg.self_tgid) + ")";
  if (!im.armed) return std::nullopt;
  for (uint32_t h = 0; h < VE_HOOK_COUNT; ++h) {
    uint32_t k = im.active_gen * VE_HOOK_COUNT + h;
    ve_class c{};
    if (bpf_map__lookup_elem(im.skel->maps.ve_classes, &k, sizeof(k), &c, sizeof(c), 0) != 0 ||
        std::memcmp(&c, &im.written_classes[h], sizeof(c)) != 0)
      return std::string("ve_classes entry for hook ") + policy::HookClassName(static_cast<HookClass>(h)) +
             " changed by another process";
  }
  return std::nullopt;
}

int EnforcementManager::PollRefusals(int timeout_ms, const std::function<void(const Refusal&)>& on) {
  Impl& im = *impl_;
  im.on = &on;
  im.handled = 0;
  int n = ring_buffer__poll(im.rb, timeout_ms);
  im.on = nullptr;
  return n < 0 ? n : im.handled;
}

uint64_t EnforcementManager::RefusalCount(HookClass hook) const {
  uint32_t k = static_cast<uint32_t>(hook);
  uint64_t v = 0;
  bpf_map__lookup_elem(impl_->skel->maps.ve_counters, &k, sizeof(k), &v, sizeof(v), 0);
  return v;
}

uint64_t EnforcementManager::DroppedRecords() const {
  uint64_t total = 0;
  for (uint32_t h = 0; h < VE_HOOK_COUNT; ++h) {
    uint32_t k = VE_HOOK_COUNT + h;
    uint64_t v = 0;
    if (bpf_map__lookup_elem(impl_->skel->maps.ve_counters, &k, sizeof(k), &v, sizeof(v), 0) == 0) total += v;
  }
  return total;
}

uint64_t EnforcementManager::HelperScanFailures() const {
  uint32_t k = VE_CNT_HELPER_SCAN_FAILED;
  uint64_t v = 0;
  bpf_map__lookup_elem(impl_->skel->maps.ve_counters, &k, sizeof(k), &v, sizeof(v), 0);
  return v;
}

}  // namespace vigil::enforce
