// JSON lines for events (see event_json.h). One table of keys drives both
// directions so the writer and the reader cannot disagree: a key added to the
// writer is read back by construction, and the round-trip test checks every
// Event member.
#include "engine/event_json.h"

#include <cstdio>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>

namespace vigil {
namespace {

using Json = nlohmann::ordered_json;

// ---- process keys (also used, unchanged, inside each "proc.ancestors" entry)

template <typename T>
bool ReadNumber(const Json& j, const char* key, T* out, std::string* err) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_integer() && !it->is_number_unsigned()) {
    *err = std::string("key '") + key + "': expected an integer";
    return false;
  }
  if constexpr (std::is_signed_v<T>) {
    *out = static_cast<T>(it->get<int64_t>());
  } else {
    if (it->is_number_integer() && it->get<int64_t>() < 0) {
      *err = std::string("key '") + key + "': expected a non-negative integer";
      return false;
    }
    *out = static_cast<T>(it->get<uint64_t>());
  }
  return true;
}

bool ReadString(const Json& j, const char* key, std::string* out, std::string* err) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) {
    *err = std::string("key '") + key + "': expected a string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

bool ReadBool(const Json& j, const char* key, bool* out, std::string* err) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_boolean()) {
    *err = std::string("key '") + key + "': expected true or false";
    return false;
  }
  *out = it->get<bool>();
  return true;
}

bool ReadStringArray(const Json& j, const char* key, std::vector<std::string>* out, std::string* err) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_array()) {
    *err = std::string("key '") + key + "': expected an array of strings";
    return false;
  }
  out->clear();
  for (const auto& v : *it) {
    if (!v.is_string()) {
      *err = std::string("key '") + key + "': expected an array of strings";
      return false;
    }
    out->push_back(v.get<std::string>());
  }
  return true;
}

template <typename T, std::size_t N>
bool ReadNumberArray(const Json& j, const char* key, T (&out)[N], std::string* err) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_array() || it->size() != N) {
    *err = std::string("key '") + key + "': expected an array of " + std::to_string(N) + " integers";
    return false;
  }
  for (std::size_t i = 0; i < N; ++i) {
    const auto& v = (*it)[i];
    if (!v.is_number_integer() && !v.is_number_unsigned()) {
      *err = std::string("key '") + key + "': expected integers";
      return false;
    }
    out[i] = static_cast<T>(v.get<uint64_t>());
  }
  return true;
}

void WriteProcess(const ProcessInfo& p, Json& j) {
  j["proc.pid"] = p.pid;
  j["thread.tid"] = p.tid;
  j["proc.ppid"] = p.ppid;
  j["proc.vpid"] = p.vpid;
  j["proc.pidns_level"] = p.pidns_level;
  j["proc.name"] = p.name;
  j["proc.exepath"] = p.exepath;
  j["proc.argv"] = p.argv;
  if (p.argv_truncated) j["proc.argv_truncated"] = true;
  j["proc.cwd"] = p.cwd;
  j["user.uid"] = p.uid;
  j["group.gid"] = p.gid;
  j["user.euid"] = p.euid;
  j["group.egid"] = p.egid;
  j["user.loginuid"] = p.loginuid;
  j["thread.cap_effective"] = p.cap_effective;
  j["thread.cap_permitted"] = p.cap_permitted;
  j["proc.start_ns"] = p.start_ns;
  j["proc.exec_ns"] = p.exec_ns;
  j["proc.tty"] = p.tty;
  j["proc.cgroup_id"] = p.cgroup_id;
  j["proc.cgroup"] = p.cgroup;
  j["container.id"] = p.container_id;
  j["ns.pid"] = p.ns.pid;
  j["ns.mnt"] = p.ns.mnt;
  j["ns.net"] = p.ns.net;
  j["ns.user"] = p.ns.user;
  j["ns.uts"] = p.ns.uts;
  j["ns.ipc"] = p.ns.ipc;
  j["ns.cgroup"] = p.ns.cgroup;
}

bool ReadProcess(const Json& j, ProcessInfo* p, std::string* e) {
  return ReadNumber(j, "proc.pid", &p->pid, e) && ReadNumber(j, "thread.tid", &p->tid, e) &&
         ReadNumber(j, "proc.ppid", &p->ppid, e) && ReadNumber(j, "proc.vpid", &p->vpid, e) &&
         ReadNumber(j, "proc.pidns_level", &p->pidns_level, e) && ReadString(j, "proc.name", &p->name, e) &&
         ReadString(j, "proc.exepath", &p->exepath, e) && ReadStringArray(j, "proc.argv", &p->argv, e) &&
         ReadBool(j, "proc.argv_truncated", &p->argv_truncated, e) && ReadString(j, "proc.cwd", &p->cwd, e) &&
         ReadNumber(j, "user.uid", &p->uid, e) && ReadNumber(j, "group.gid", &p->gid, e) &&
         ReadNumber(j, "user.euid", &p->euid, e) && ReadNumber(j, "group.egid", &p->egid, e) &&
         ReadNumber(j, "user.loginuid", &p->loginuid, e) &&
         ReadNumber(j, "thread.cap_effective", &p->cap_effective, e) &&
         ReadNumber(j, "thread.cap_permitted", &p->cap_permitted, e) &&
         ReadNumber(j, "proc.start_ns", &p->start_ns, e) && ReadNumber(j, "proc.exec_ns", &p->exec_ns, e) &&
         ReadNumber(j, "proc.tty", &p->tty, e) && ReadNumber(j, "proc.cgroup_id", &p->cgroup_id, e) &&
         ReadString(j, "proc.cgroup", &p->cgroup, e) && ReadString(j, "container.id", &p->container_id, e) &&
         ReadNumber(j, "ns.pid", &p->ns.pid, e) && ReadNumber(j, "ns.mnt", &p->ns.mnt, e) &&
         ReadNumber(j, "ns.net", &p->ns.net, e) && ReadNumber(j, "ns.user", &p->ns.user, e) &&
         ReadNumber(j, "ns.uts", &p->ns.uts, e) && ReadNumber(j, "ns.ipc", &p->ns.ipc, e) &&
         ReadNumber(j, "ns.cgroup", &p->ns.cgroup, e);
}

// ---- addresses

std::string IpToString(const IpAddr& a, uint16_t family) {
  char buf[64];
  const auto& b = a.bytes;
  if (family == 10) {
    std::string s;
    for (int i = 0; i < 16; i += 2) {
      std::snprintf(buf, sizeof buf, "%s%x", i ? ":" : "", (b[i] << 8) | b[i + 1]);
      s += buf;
    }
    return s;
  }
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
  return buf;
}

bool ParseIp(const std::string& s, IpAddr* out) {
  out->bytes.fill(0);
  if (s.empty()) return true;
  if (s.find(':') == std::string::npos) {
    unsigned v[4];
    char tail;
    if (std::sscanf(s.c_str(), "%u.%u.%u.%u%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4) return false;
    for (int i = 0; i < 4; ++i) {
      if (v[i] > 255) return false;
      out->bytes[i] = static_cast<uint8_t>(v[i]);
    }
    return true;
  }
  // Full 8-group form as written by IpToString (no "::" compression).
  unsigned g[8];
  char tail;
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x:%x:%x%c", &g[0], &g[1], &g[2], &g[3], &g[4], &g[5], &g[6],
                  &g[7], &tail) != 8)
    return false;
  for (int i = 0; i < 8; ++i) {
    if (g[i] > 0xffff) return false;
    out->bytes[2 * i] = static_cast<uint8_t>(g[i] >> 8);
    out->bytes[2 * i + 1] = static_cast<uint8_t>(g[i]);
  }
  return true;
}

bool ReadIp(const Json& j, const char* key, IpAddr* out, std::string* err) {
  std::string s;
  if (!ReadString(j, key, &s, err)) return false;
  if (!ParseIp(s, out)) {
    *err = std::string("key '") + key + "': not an IPv4 or full IPv6 address: " + s;
    return false;
  }
  return true;
}

std::string IsoTime(uint64_t wall_ns) {
  std::time_t secs = static_cast<std::time_t>(wall_ns / 1000000000ull);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned long long>(wall_ns % 1000000000ull));
  return buf;
}

bool ParseIsoTime(const std::string& s, uint64_t* out) {
  std::tm tm{};
  unsigned long long frac = 0;
  int n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &n) != 6)
    return false;
  std::size_t pos = static_cast<std::size_t>(n);
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) frac = frac * 10 + static_cast<unsigned>(s[pos] - '0'), ++digits;
      ++pos;
    }
    while (digits++ < 9) frac *= 10;
  }
  if (pos != s.size() && !(pos + 1 == s.size() && s[pos] == 'Z')) return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t secs = timegm(&tm);
  if (secs < 0) return false;
  *out = static_cast<uint64_t>(secs) * 1000000000ull + frac;
  return true;
}

}  // namespace

void AppendEventJson(const Event& event, std::string* out) {
  Json j;
  j["evt.type"] = std::string(EventTypeName(event.type));
  j["evt.time"] = IsoTime(event.wall_ns);
  j["evt.rawtime"] = event.wall_ns;
  j["evt.ts"] = event.ts_ns;
  j["evt.res"] = event.res;
  if (!event.enforcement.empty()) j["evt.enforcement"] = event.enforcement;
  WriteProcess(event.proc, j);

  // Argument blocks: only members that differ from their defaults, so a line
  // carries what the event type filled and stays short.
  const FileArgs& f = event.file;
  const FileArgs fd0;
  if (f.fd != fd0.fd) j["fd.num"] = f.fd;
  if (!f.abspath.empty()) j["fd.name"] = f.abspath;
  if (!f.path.empty()) j["fs.path"] = f.path;
  if (!f.target.empty()) j["fs.target"] = f.target;
  if (!f.target_abs.empty()) j["fs.target_abs"] = f.target_abs;
  if (f.flags) j["fs.flags"] = f.flags;
  if (f.mode) j["fs.mode"] = f.mode;
  if (f.owner_uid != fd0.owner_uid) j["fs.uid"] = f.owner_uid;
  if (f.owner_gid != fd0.owner_gid) j["fs.gid"] = f.owner_gid;
  if (!f.fstype.empty()) j["fs.fstype"] = f.fstype;
  if (!f.source.empty()) j["fs.source"] = f.source;
  if (f.length) j["fs.length"] = f.length;

  const NetArgs& n = event.net;
  const NetArgs nd0;
  if (n.fd != nd0.fd) j["net.fd"] = n.fd;
  if (n.family) j["net.family"] = n.family;
  if (n.type) j["net.type"] = n.type;
  if (n.protocol) j["net.protocol"] = n.protocol;
  if (n.local_addr.bytes != nd0.local_addr.bytes) j["fd.lip"] = IpToString(n.local_addr, n.family);
  if (n.local_port) j["fd.lport"] = n.local_port;
  if (n.remote_addr.bytes != nd0.remote_addr.bytes) j["fd.rip"] = IpToString(n.remote_addr, n.family);
  if (n.remote_port) j["fd.rport"] = n.remote_port;
  if (!n.unix_path.empty()) j["net.unix_path"] = n.unix_path;
  if (n.backlog) j["net.backlog"] = n.backlog;
  if (n.sockopt_level) j["net.sockopt_level"] = n.sockopt_level;
  if (n.sockopt_name) j["net.sockopt_name"] = n.sockopt_name;

  const BpfArgs& b = event.bpf;
  const BpfArgs bd0;
  if (b.cmd != bd0.cmd) j["bpf.cmd"] = b.cmd;
  if (b.prog_type) j["bpf.prog.type"] = b.prog_type;
  if (b.expected_attach_type) j["bpf.prog.expected_attach_type"] = b.expected_attach_type;
  if (b.attach_type) j["bpf.attach_type"] = b.attach_type;
  if (b.insn_cnt) j["bpf.prog.insn_cnt"] = b.insn_cnt;
  if (b.prog_flags) j["bpf.prog.flags"] = b.prog_flags;
  if (b.attach_btf_id) j["bpf.prog.attach_btf_id"] = b.attach_btf_id;
  if (!b.prog_name.empty()) j["bpf.prog.name"] = b.prog_name;
  if (!b.license.empty()) j["bpf.prog.license"] = b.license;
  if (b.helpers != bd0.helpers) {
    Json ids = Json::array();
    for (uint32_t id = 0; id < 256; ++id)
      if (b.HasHelper(id)) ids.push_back(id);
    j["bpf.prog.helpers"] = ids;
  }
  if (b.helpers_complete) j["bpf.prog.helpers_complete"] = true;
  if (b.map_type) j["bpf.map.type"] = b.map_type;
  if (!b.map_name.empty()) j["bpf.map.name"] = b.map_name;
  if (b.id) j["bpf.id"] = b.id;
  if (b.target_fd != bd0.target_fd) j["bpf.target_fd"] = b.target_fd;
  if (!b.target.empty()) j["bpf.target"] = b.target;

  const ProcArgs& a = event.args;
  const ProcArgs ad0;
  if (a.flags) j["arg.flags"] = a.flags;
  if (a.target_pid) j["arg.target_pid"] = a.target_pid;
  if (a.request) j["arg.request"] = a.request;
  if (a.fd != ad0.fd) j["arg.fd"] = a.fd;
  if (a.oldfd != ad0.oldfd) j["arg.oldfd"] = a.oldfd;
  if (a.newfd != ad0.newfd) j["arg.newfd"] = a.newfd;
  if (a.ids[0] != ad0.ids[0] || a.ids[1] != ad0.ids[1] || a.ids[2] != ad0.ids[2])
    j["arg.ids"] = {a.ids[0], a.ids[1], a.ids[2]};
  if (a.caps[0] || a.caps[1] || a.caps[2]) j["arg.caps"] = {a.caps[0], a.caps[1], a.caps[2]};
  if (!a.name.empty()) j["arg.name"] = a.name;
  if (a.exit_code) j["arg.exit_code"] = a.exit_code;
  if (a.exit_signal) j["arg.exit_signal"] = a.exit_signal;

  if (event.ancestors != nullptr) {
    Json chain = Json::array();
    for (int level = 1; level <= 64; ++level) {
      const ProcessInfo* p = event.ancestors->Ancestor(level);
      if (p == nullptr) break;
      Json pj;
      WriteProcess(*p, pj);
      chain.push_back(std::move(pj));
    }
    if (!chain.empty()) j["proc.ancestors"] = std::move(chain);
  }
  // Invalid UTF-8 (a file name is any bytes) becomes U+FFFD rather than an
  // exception or an unreadable line.
  out->append(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

std::optional<std::string> ParseEventJson(std::string_view line, Event* event, OwnedAncestors* ancestors) {
  event->Reset();
  if (ancestors != nullptr) ancestors->chain.clear();
  Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::string("not a JSON object (syntax error)");
  if (!j.is_object()) return std::string("not a JSON object");
  std::string err;
  std::string type;
  if (!ReadString(j, "evt.type", &type, &err)) return err;
  if (type.empty()) return std::string("key 'evt.type': missing");
  if (!EventTypeFromName(type, &event->type)) return "key 'evt.type': unknown event type '" + type + "'";

  if (!ReadNumber(j, "evt.rawtime", &event->wall_ns, &err)) return err;
  if (j.find("evt.rawtime") == j.end()) {
    std::string iso;
    if (!ReadString(j, "evt.time", &iso, &err)) return err;
    if (!iso.empty() && !ParseIsoTime(iso, &event->wall_ns))
      return "key 'evt.time': expected an ISO 8601 UTC time, got '" + iso + "'";
  }
  if (!ReadNumber(j, "evt.ts", &event->ts_ns, &err) || !ReadNumber(j, "evt.res", &event->res, &err) ||
      !ReadString(j, "evt.enforcement", &event->enforcement, &err) || !ReadProcess(j, &event->proc, &err))
    return err;

  FileArgs& f = event->file;
  if (!ReadNumber(j, "fd.num", &f.fd, &err) || !ReadString(j, "fd.name", &f.abspath, &err) ||
      !ReadString(j, "fs.path", &f.path, &err) || !ReadString(j, "fs.target", &f.target, &err) ||
      !ReadString(j, "fs.target_abs", &f.target_abs, &err) || !ReadNumber(j, "fs.flags", &f.flags, &err) ||
      !ReadNumber(j, "fs.mode", &f.mode, &err) || !ReadNumber(j, "fs.uid", &f.owner_uid, &err) ||
      !ReadNumber(j, "fs.gid", &f.owner_gid, &err) || !ReadString(j, "fs.fstype", &f.fstype, &err) ||
      !ReadString(j, "fs.source", &f.source, &err) || !ReadNumber(j, "fs.length", &f.length, &err))
    return err;

  NetArgs& n = event->net;
  if (!ReadNumber(j, "net.fd", &n.fd, &err) || !ReadNumber(j, "net.family", &n.family, &err) ||
      !ReadNumber(j, "net.type", &n.type, &err) || !ReadNumber(j, "net.protocol", &n.protocol, &err) ||
      !ReadIp(j, "fd.lip", &n.local_addr, &err) || !ReadNumber(j, "fd.lport", &n.local_port, &err) ||
      !ReadIp(j, "fd.rip", &n.remote_addr, &err) || !ReadNumber(j, "fd.rport", &n.remote_port, &err) ||
      !ReadString(j, "net.unix_path", &n.unix_path, &err) || !ReadNumber(j, "net.backlog", &n.backlog, &err) ||
      !ReadNumber(j, "net.sockopt_level", &n.sockopt_level, &err) ||
      !ReadNumber(j, "net.sockopt_name", &n.sockopt_name, &err))
    return err;
  // A hand-written line may give an IPv6 peer without net.family.
  if (n.family == 0) {
    auto lip = j.find("fd.lip"), rip = j.find("fd.rip");
    bool v6 = (lip != j.end() && lip->is_string() && lip->get<std::string>().find(':') != std::string::npos) ||
              (rip != j.end() && rip->is_string() && rip->get<std::string>().find(':') != std::string::npos);
    bool any = lip != j.end() || rip != j.end();
    if (any) n.family = v6 ? 10 : 2;
  }

  BpfArgs& b = event->bpf;
  if (!ReadNumber(j, "bpf.cmd", &b.cmd, &err) || !ReadNumber(j, "bpf.prog.type", &b.prog_type, &err) ||
      !ReadNumber(j, "bpf.prog.expected_attach_type", &b.expected_attach_type, &err) ||
      !ReadNumber(j, "bpf.attach_type", &b.attach_type, &err) ||
      !ReadNumber(j, "bpf.prog.insn_cnt", &b.insn_cnt, &err) ||
      !ReadNumber(j, "bpf.prog.flags", &b.prog_flags, &err) ||
      !ReadNumber(j, "bpf.prog.attach_btf_id", &b.attach_btf_id, &err) ||
      !ReadString(j, "bpf.prog.name", &b.prog_name, &err) || !ReadString(j, "bpf.prog.license", &b.license, &err) ||
      !ReadBool(j, "bpf.prog.helpers_complete", &b.helpers_complete, &err) ||
      !ReadNumber(j, "bpf.map.type", &b.map_type, &err) || !ReadString(j, "bpf.map.name", &b.map_name, &err) ||
      !ReadNumber(j, "bpf.id", &b.id, &err) || !ReadNumber(j, "bpf.target_fd", &b.target_fd, &err) ||
      !ReadString(j, "bpf.target", &b.target, &err))
    return err;
  if (auto it = j.find("bpf.prog.helpers"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return std::string("key 'bpf.prog.helpers': expected an array of helper ids");
    for (const auto& v : *it) {
      if (!v.is_number_unsigned() || v.get<uint64_t>() > 255)
        return std::string("key 'bpf.prog.helpers': expected helper ids 0..255");
      b.AddHelper(static_cast<uint32_t>(v.get<uint64_t>()));
    }
  }

  ProcArgs& a = event->args;
  if (!ReadNumber(j, "arg.flags", &a.flags, &err) || !ReadNumber(j, "arg.target_pid", &a.target_pid, &err) ||
      !ReadNumber(j, "arg.request", &a.request, &err) || !ReadNumber(j, "arg.fd", &a.fd, &err) ||
      !ReadNumber(j, "arg.oldfd", &a.oldfd, &err) || !ReadNumber(j, "arg.newfd", &a.newfd, &err) ||
      !ReadNumberArray(j, "arg.ids", a.ids, &err) || !ReadNumberArray(j, "arg.caps", a.caps, &err) ||
      !ReadString(j, "arg.name", &a.name, &err) || !ReadNumber(j, "arg.exit_code", &a.exit_code, &err) ||
      !ReadNumber(j, "arg.exit_signal", &a.exit_signal, &err))
    return err;

  if (auto it = j.find("proc.ancestors"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return std::string("key 'proc.ancestors': expected an array of process objects");
    if (ancestors != nullptr) {
      std::size_t i = 0;
      for (const auto& pj : *it) {
        if (!pj.is_object()) return "key 'proc.ancestors'[" + std::to_string(i) + "]: expected an object";
        ProcessInfo p;
        if (!ReadProcess(pj, &p, &err)) return "key 'proc.ancestors'[" + std::to_string(i) + "]: " + err;
        ancestors->chain.push_back(std::move(p));
        ++i;
      }
      if (!ancestors->chain.empty()) event->ancestors = ancestors;
    }
  }
  return std::nullopt;
}

}  // namespace vigil
