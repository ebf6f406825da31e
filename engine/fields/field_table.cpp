// SPDX-License-Identifier: Apache-2.0
// The field table assembled from its families (engine/fields/<family>.cpp,
// listed in family.h), lookup, argument parsing, host facts and the renderers
// (capabilities, open flags, errno names, file times) shared by getters and
// outputs.
#include "engine/fields/field_table.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <fstream>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

#include "engine/fields/family.h"
#include "engine/iso_time.h"

namespace vigil {

const std::vector<FieldDef>& AllFields() {
  static const std::vector<FieldDef> table = [] {
    // The order of `vigil fields` and docs/fields.md.
    const std::span<const FieldDef> families[] = {
        EvtFields(),     EvtArgFields(),      BufferFields(),      ProcLineageFields(), FdFields(),          DnsFields(),
        EnvFields(),     SessionFields(),     StdioFields(),       EvtTimeFields(),     ProcFields(),
        UserFields(),    ContainerIdFields(), FdSocketFields(),    FsFields(),          NsFields(),
        BpfFields(),     UnavailableFields(), ContainerFields(),
    };
    std::vector<FieldDef> v;
    for (std::span<const FieldDef> family : families) {
      for (FieldDef row : family) {
        // SetMember stands for the setter of the member the field is the JSON key of.
        if (row.set == SetMember && (row.set = MemberSetter(row.name)) == nullptr)
          throw std::logic_error(std::string("field ") + row.name + " names SetMember but is no member's JSON key");
        v.push_back(row);
      }
    }
    return v;
  }();
  return table;
}

std::string_view FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kString: return "string";
    case FieldType::kNumber: return "number";
    case FieldType::kBool: return "bool";
    case FieldType::kIpAddr: return "ipaddr";
    case FieldType::kIpNet: return "ipnet";
    case FieldType::kStringList: return "list";
  }
  return "?";
}

namespace {

void ReadIdFile(const char* path, std::vector<std::pair<uint32_t, std::string>>* out) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    // name:x:id:...
    auto c1 = line.find(':');
    if (c1 == std::string::npos) continue;
    auto c2 = line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    auto c3 = line.find(':', c2 + 1);
    if (c3 == std::string::npos) c3 = line.size();
    uint32_t id = 0;
    auto r = std::from_chars(line.data() + c2 + 1, line.data() + c3, id);
    if (r.ec != std::errc()) continue;
    out->emplace_back(id, line.substr(0, c1));
  }
}

const std::string* FindId(const std::vector<std::pair<uint32_t, std::string>>& v, uint32_t id) {
  for (const auto& [k, name] : v)
    if (k == id) return &name;
  return nullptr;
}

}  // namespace

HostInfo HostInfo::FromSystem() {
  HostInfo h;
  h.sensor_pid = static_cast<uint32_t>(getpid());
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) == 0) h.hostname = buf;
  ReadIdFile("/etc/passwd", &h.users);
  ReadIdFile("/etc/group", &h.groups);
  // The namespace inode is the inode of the /proc/1/ns/<type> link target.
  struct NsSource {
    const char* type;
    uint64_t* out;
    uint64_t init_ino;  // the kernel's fixed inode of the initial namespace (0: none)
  };
  const NsSource kNs[] = {
      {"pid", &h.host_ns.pid, 0xEFFFFFFCu},  {"mnt", &h.host_ns.mnt, 0},
      {"net", &h.host_ns.net, 0},            {"user", &h.host_ns.user, 0xEFFFFFFDu},
      {"uts", &h.host_ns.uts, 0xEFFFFFFEu},  {"ipc", &h.host_ns.ipc, 0xEFFFFFFFu},
      {"cgroup", &h.host_ns.cgroup, 0xEFFFFFFBu}};
  bool fell_back = false;
  for (const auto& ns : kNs) {
    struct stat st {};
    if (::stat((std::string("/proc/1/ns/") + ns.type).c_str(), &st) == 0) {
      *ns.out = st.st_ino;
      continue;
    }
    fell_back = true;
    if (ns.init_ino != 0) {
      *ns.out = ns.init_ino;
    } else if (::stat((std::string("/proc/self/ns/") + ns.type).c_str(), &st) == 0) {
      *ns.out = st.st_ino;
    }
  }
  h.host_ns_source = fell_back ? "/proc/1/ns unreadable: initial-namespace inodes for pid/user/uts/ipc/cgroup, "
                                 "vigil's own mnt/net"
                               : "/proc/1/ns";
  return h;
}

const std::string* HostInfo::UserName(uint32_t uid) const { return FindId(users, uid); }
const std::string* HostInfo::GroupName(uint32_t gid) const { return FindId(groups, gid); }

std::string ParseFieldArg(const FieldDef& def, std::string_view text, bool has_brackets, FieldArg* out) {
  *out = FieldArg{};
  switch (def.arg_kind) {
    case ArgKind::kNone:
      if (has_brackets) return std::string("field '") + def.name + "' takes no argument";
      return "";
    case ArgKind::kIndex:
    case ArgKind::kOptionalIndex: {
      if (!has_brackets) {
        if (def.arg_kind == ArgKind::kIndex) return std::string("field '") + def.name + "' needs an index, e.g. [1]";
        return "";
      }
      int v = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec != std::errc() || r.ptr != text.data() + text.size() || v < 0 || v > 64)
        return std::string("field '") + def.name + "': expected an index 0..64 in brackets, got '" +
               std::string(text) + "'";
      out->present = true;
      out->index = v;
      out->key = std::string(text);
      return "";
    }
    case ArgKind::kAny:
      out->present = has_brackets;
      out->key = std::string(text);
      return "";
  }
  return "";
}

bool ParseIpText(std::string_view text, IpAddr* addr, uint16_t* family) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return false;
  text.copy(buf, text.size());
  buf[text.size()] = 0;
  addr->bytes.fill(0);
  if (inet_pton(AF_INET, buf, addr->bytes.data()) == 1) {
    *family = 2;
    return true;
  }
  if (inet_pton(AF_INET6, buf, addr->bytes.data()) == 1) {
    *family = 10;
    return true;
  }
  return false;
}

bool ParseCidr(std::string_view text, IpAddr* addr, uint16_t* family, int* prefix_len) {
  auto slash = text.find('/');
  if (!ParseIpText(text.substr(0, slash), addr, family)) return false;
  int max = *family == 2 ? 32 : 128;
  if (slash == std::string_view::npos) {
    *prefix_len = max;
    return true;
  }
  auto len = text.substr(slash + 1);
  int v = 0;
  auto r = std::from_chars(len.data(), len.data() + len.size(), v);
  if (r.ec != std::errc() || r.ptr != len.data() + len.size() || v < 0 || v > max) return false;
  *prefix_len = v;
  return true;
}

void RenderFieldValue(FieldType type, const FieldValueRef& v, std::string* out) {
  char buf[64];
  switch (type) {
    case FieldType::kString:
      if (v.bytes) RenderBuffer(v.str, out);
      else out->append(v.str);
      return;
    case FieldType::kNumber: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.num);
      out->append(buf, r.ptr);
      return;
    }
    case FieldType::kBool: out->append(v.boolean ? "true" : "false"); return;
    case FieldType::kIpAddr:
    case FieldType::kIpNet: {
      const auto& b = v.ip.bytes;
      if (v.family == 10) {
        for (int i = 0; i < 16; i += 2) {
          int n = std::snprintf(buf, sizeof buf, "%s%x", i ? ":" : "", (b[i] << 8) | b[i + 1]);
          out->append(buf, static_cast<std::size_t>(n));
        }
      } else {
        int n = std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
        out->append(buf, static_cast<std::size_t>(n));
      }
      return;
    }
    case FieldType::kStringList: {
      if (v.list == nullptr) return;
      out->push_back('(');
      bool first = true;
      for (auto s : *v.list) {
        if (!first) out->push_back(',');
        first = false;
        out->append(s);
      }
      out->push_back(')');
      return;
    }
  }
}

namespace {
constexpr const char* kCapNames[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"};
}  // namespace

void RenderCaps(uint64_t caps, std::string* out) {
  bool first = true;
  for (std::size_t i = 0; i < std::size(kCapNames); ++i) {
    if (!((caps >> i) & 1u)) continue;
    if (!first) out->push_back(' ');
    first = false;
    out->append(kCapNames[i]);
  }
}

namespace {
struct OpenFlag {
  uint32_t bit;
  const char* name;
};
constexpr OpenFlag kOpenFlags[] = {
    {00100, "O_CREAT"},      {00200, "O_EXCL"},        {00400, "O_NOCTTY"},     {01000, "O_TRUNC"},
    {02000, "O_APPEND"},     {04000, "O_NONBLOCK"},    {010000, "O_DSYNC"},     {040000, "O_DIRECT"},
    {0100000, "O_LARGEFILE"}, {0200000, "O_DIRECTORY"}, {0400000, "O_NOFOLLOW"}, {01000000, "O_NOATIME"},
    {02000000, "O_CLOEXEC"}, {04000000, "O_SYNC"},     {010000000, "O_PATH"},   {020000000, "O_TMPFILE"},
    {kOpenFlagCreated, "O_F_CREATED"},
};
}  // namespace

void RenderChmodMode(uint32_t mode, std::string* out) {
  // Bit 0 upwards, the order of libsinsp's chmod_mode table.
  static constexpr const char* kNames[] = {"S_IXOTH", "S_IWOTH", "S_IROTH", "S_IXGRP", "S_IWGRP", "S_IRGRP",
                                           "S_IXUSR", "S_IWUSR", "S_IRUSR", "S_ISVTX", "S_ISGID", "S_ISUID"};
  std::size_t start = out->size();
  for (std::size_t bit = 0; bit < std::size(kNames); ++bit) {
    if ((mode & (1u << bit)) == 0) continue;
    if (out->size() != start) out->push_back('|');
    *out += kNames[bit];
  }
  if (out->size() == start) out->push_back('0');
}

void RenderOpenFlags(uint32_t flags, std::string* out) {
  switch (flags & 3u) {
    case 0: out->append("O_RDONLY"); break;
    case 1: out->append("O_WRONLY"); break;
    case 2: out->append("O_RDWR"); break;
    default: out->append("O_ACCMODE"); break;
  }
  for (const auto& f : kOpenFlags) {
    if (flags & f.bit) {
      out->push_back('|');
      out->append(f.name);
    }
  }
}

bool ParseOpenFlags(std::string_view text, uint32_t* out) {
  uint32_t flags = 0;
  while (!text.empty()) {
    auto bar = text.find('|');
    std::string_view name = text.substr(0, bar);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name == "O_RDONLY") {
    } else if (name == "O_WRONLY") {
      flags |= 1;
    } else if (name == "O_RDWR") {
      flags |= 2;
    } else {
      bool found = false;
      for (const auto& f : kOpenFlags) {
        if (name == f.name) {
          flags |= f.bit;
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    if (bar == std::string_view::npos) break;
    text.remove_prefix(bar + 1);
  }
  *out = flags;
  return true;
}

void RenderFileTime(int64_t t, std::string* out) {
  if (t == kFileTimeUnset) return;
  if (t == kFileTimeNow) return out->append("now"), void();
  if (t == kFileTimeOmit) return out->append("omit"), void();
  char b[kIsoTimeLen];
  out->append(b, FormatIsoTimeSigned(t, b));
}

std::string_view ResultName(int64_t res, std::string* buf) {
  if (res >= 0) return "SUCCESS";
  if (res > -4096) {
    if (const char* name = strerrorname_np(static_cast<int>(-res))) return name;
  }
  buf->clear();
  char tmp[32];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, res);
  buf->append(tmp, r.ptr);
  return *buf;
}

std::string FieldsMarkdown() {
  std::string s =
      "# Fields\n\n"
      "Every field a rule condition or output can use (`vigil fields` prints the same list).\n"
      "Names follow Falco's where Falco has the field; `vigil:` marks fields Falco does not have.\n"
      "Fields marked <NA> need a plugin or data vigil does not have on a host: they load without\n"
      "error and evaluate to \"<NA>\" (a check on them is false), as in Falco without that plugin.\n"
      "`[N]` fields take an ancestor index: 0 the process, 1 the parent, 2 the grandparent, ...\n"
      "Types: string, number (signed 64-bit), bool, ipaddr, ipnet (compares with CIDR networks),\n"
      "list (proc.aname, proc.apid... without an index: a check is true when it holds for any one ancestor, as libsinsp compares them; bpf.prog.helpers: `in` requires every element).\n\n"
      "This file is generated by `vigil fields --markdown`; a unit test fails if it drifts.\n\n"
      "| field | type | description |\n|---|---|---|\n";
  for (const auto& f : AllFields()) {
    std::string name = f.name;
    if (f.arg_kind == ArgKind::kIndex || f.arg_kind == ArgKind::kOptionalIndex) name += "[N]";
    std::string desc = f.description;
    for (std::size_t i = 0; (i = desc.find('|', i)) != std::string::npos; i += 2) desc.replace(i, 1, "\\|");
    s += "| `" + name + "` | " + std::string(FieldTypeName(f.type)) + " | " + (f.available ? "" : "<NA> ") + desc +
         " |\n";
  }
  return s;
}

const FieldDef* FindField(std::string_view name) {
  const auto& all = AllFields();
  for (const auto& f : all)
    if (name == f.name) return &f;
  // Families Falco resolves by prefix. Unknown syscall argument names and
  // plugin-provided families evaluate to <NA> here.
  static const std::pair<const char*, const char*> kFamilies[] = {
      {"evt.arg.", "evt.arg.*"},         {"evt.rawarg.", "evt.rawarg.*"},
      {"k8s.", "k8s.*"},                 {"ka.", "ka.*"},
      {"container.image.", "container.image.*"}, {"container.mount.", "container.mount.*"},
      {"container.healthcheck", "container.healthcheck*"}, {"container.liveness_probe", "container.probes*"},
      {"container.readiness_probe", "container.probes*"}, {"k8smeta.", "k8smeta.*"},
  };
  for (const auto& [prefix, family] : kFamilies) {
    if (name.substr(0, std::strlen(prefix)) == prefix) {
      for (const auto& f : all)
        if (std::strcmp(f.name, family) == 0) return &f;
    }
  }
  return nullptr;
}

}  // namespace vigil
