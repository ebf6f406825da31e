// SPDX-License-Identifier: Apache-2.0
// JSON lines for events (see event_json.h). One table of keys drives both
// directions so the writer and the reader cannot disagree: a key added to the
// writer is read back by construction, and the round-trip test checks every
// Event member.
#include "engine/event_json.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>
#include <nlohmann/json.hpp>
#include <rapidjson/internal/itoa.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "engine/iso_time.h"

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
    // is_number_integer() is also true for unsigned values: a value above
    // INT64_MAX (a full capability set) must not be read as negative.
    if (!it->is_number_unsigned() && it->get<int64_t>() < 0) {
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

// proc.env: an array of "NAME=value" entries (absent: not captured). An entry
// may not hold a NUL: the stored form separates entries by NUL.
bool ReadEnv(const Json& j, ProcessInfo* p, std::string* err) {
  if (j.find("proc.env") == j.end()) return true;
  std::vector<std::string> entries;
  if (!ReadStringArray(j, "proc.env", &entries, err)) return false;
  if (j.at("proc.env").is_null()) return true;
  std::string env;
  for (const auto& v : entries) {
    if (v.find('\0') != std::string::npos) {
      *err = "key 'proc.env': an entry holds a NUL character";
      return false;
    }
    if (v.empty()) continue;
    env.append(v).push_back('\0');
  }
  p->env = std::make_shared<const std::string>(std::move(env));
  return ReadBool(j, "proc.env_truncated", &p->env_truncated, err);
}

// fs.atime / fs.mtime: ns since the epoch, or "now" / "omit".
bool ReadFileTime(const Json& j, const char* key, int64_t* out, std::string* err) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (s == "now") return *out = kFileTimeNow, true;
    if (s == "omit") return *out = kFileTimeOmit, true;
  } else if (it->is_number_unsigned()) {
    if (it->get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) return *out = it->get<int64_t>(), true;
  } else if (it->is_number_integer()) {
    if (it->get<int64_t>() >= kFileTimeMin) return *out = it->get<int64_t>(), true;
  }
  *err = std::string("key '") + key + "': expected ns since the epoch (" + std::to_string(kFileTimeMin) +
         " .. " + std::to_string(INT64_MAX) + "), \"now\" or \"omit\"";
  return false;
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

// ---- writer: one line of JSON written straight into a reused buffer (no
// DOM, no allocation per event once warm). Keys are literals and most values
// are plain numbers and ASCII strings, so the writer places separators itself
// and copies; rapidjson converts the integers and escapes the rare string that
// needs it. Strings are checked for UTF-8 first.

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the byte
// there does not start one (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
std::size_t Utf8SeqLen(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  unsigned char c1 = b(i + 1);
  unsigned char lo = 0x80, hi = 0xBF;
  if (c == 0xE0) lo = 0xA0;
  if (c == 0xED) hi = 0x9F;
  if (c == 0xF0) lo = 0x90;
  if (c == 0xF4) hi = 0x8F;
  if (c1 < lo || c1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  return n;
}

class LineWriter {
 public:
  void Begin() {
    len_ = 0;
    depth_ = 0;
    first_[0] = true;
    after_key_ = false;
    BeginObject();
  }
  void End(std::string* out) {
    EndObject();
    out->append(buf_.get(), len_);
  }
  // Keys are literals without characters to escape: copied, not scanned.
  template <std::size_t N>
  void Key(const char (&k)[N]) {
    char* p = Grow(N + 3);  // [,]"key":
    if (!first_[depth_]) *p++ = ',';
    first_[depth_] = false;
    *p++ = '"';
    std::memcpy(p, k, N - 1);
    p += N - 1;
    *p++ = '"';
    *p++ = ':';
    Shrink(p);
    after_key_ = true;
  }
  // Invalid UTF-8 (a file name is any bytes) is written with each offending
  // byte replaced by U+FFFD, rather than an exception or an unreadable line.
  // A string of printable ASCII without '"' or '\\' (the common case) is
  // copied in one go; others are checked for UTF-8 and escaped by rapidjson.
  void Str(std::string_view v) {
    for (char ch : v) {
      auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return Escaped(v);
    }
    char* p = Value(v.size() + 2);
    *p++ = '"';
    std::memcpy(p, v.data(), v.size());
    p[v.size()] = '"';
  }
  // An already encoded JSON value (an array).
  void Raw(std::string_view json) { std::memcpy(Value(json.size()), json.data(), json.size()); }
  // `v` when it is valid UTF-8, else a copy in *fixed with U+FFFD for each
  // byte that is not part of a valid sequence.
  static std::string_view Utf8Safe(std::string_view v, std::string* fixed) {
    std::size_t i = 0;
    while (i < v.size() && static_cast<unsigned char>(v[i]) < 0x80) ++i;
    if (i == v.size() || Valid(v, i)) return v;
    fixed->assign(v.data(), i);
    while (i < v.size()) {
      std::size_t n = Utf8SeqLen(v, i);
      if (n == 0) {
        *fixed += "\xEF\xBF\xBD";
        ++i;
      } else {
        fixed->append(v.data() + i, n);
        i += n;
      }
    }
    return *fixed;
  }
  void U(uint64_t v) {
    char* p = Value(20);
    Shrink(rapidjson::internal::u64toa(v, p));
  }
  void I(int64_t v) {
    char* p = Value(21);
    Shrink(rapidjson::internal::i64toa(v, p));
  }
  void B(bool v) {
    std::string_view t = v ? "true" : "false";
    std::memcpy(Value(t.size()), t.data(), t.size());
  }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  template <std::size_t N>
  void KeyStr(const char (&k)[N], std::string_view v) {
    Key(k);
    Str(v);
  }
  template <std::size_t N, typename T>
  void KeyNum(const char (&k)[N], T v) {
    Key(k);
    if constexpr (std::is_signed_v<T>) I(v);
    else U(v);
  }

 private:
  static constexpr int kMaxDepth = 8;  // a line nests 3 deep (line, ancestors, ancestor)

  static bool Valid(std::string_view v, std::size_t i) {
    while (i < v.size()) {
      std::size_t n = Utf8SeqLen(v, i);
      if (n == 0) return false;
      i += n;
    }
    return true;
  }
  // n bytes at the end of the buffer, to fill (Shrink gives back the unused).
  char* Grow(std::size_t n) {
    if (n > cap_ - len_) {
      std::size_t cap = std::max(cap_ * 2, len_ + n + 4096);
      auto bigger = std::make_unique_for_overwrite<char[]>(cap);
      if (len_) std::memcpy(bigger.get(), buf_.get(), len_);
      buf_ = std::move(bigger);
      cap_ = cap;
    }
    char* p = buf_.get() + len_;
    len_ += n;
    return p;
  }
  void Shrink(char* end) { len_ = static_cast<std::size_t>(end - buf_.get()); }
  // Room for a value of n bytes, after a ',' when it is an array element
  // that is not the first (a value after a key has its separator already).
  char* Value(std::size_t n) {
    if (after_key_) {
      after_key_ = false;
      return Grow(n);
    }
    bool comma = !first_[depth_];
    first_[depth_] = false;
    char* p = Grow(n + comma);
    if (comma) *p++ = ',';
    return p;
  }
  void Open(char c) {
    *Value(1) = c;
    depth_ = depth_ + 1 < kMaxDepth ? depth_ + 1 : depth_;
    first_[depth_] = true;
  }
  void Close(char c) {
    *Grow(1) = c;
    depth_ = depth_ > 0 ? depth_ - 1 : 0;
  }
  void Escaped(std::string_view v) {
    v = Utf8Safe(v, &fixed_);
    esc_.Clear();
    esc_writer_.Reset(esc_);
    esc_writer_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    std::memcpy(Value(esc_.GetSize()), esc_.GetString(), esc_.GetSize());
  }

  std::unique_ptr<char[]> buf_;  // len_ bytes of the line so far, cap_ allocated
  std::size_t len_ = 0, cap_ = 0;
  int depth_ = 0;
  bool first_[kMaxDepth] = {};
  bool after_key_ = false;
  rapidjson::StringBuffer esc_;
  rapidjson::Writer<rapidjson::StringBuffer> esc_writer_{esc_};
  std::string fixed_;
};

// argv is most of a line's bytes (a JVM's or a shell wrapper's command line
// runs to kilobytes) and changes only at exec, while every event of the process
// and of its children repeats it. So each process's encoded argv is kept and
// reused while the argv is byte-for-byte the same (checked on every use: a
// vector compare is far cheaper than escaping it again).
class ArgvCache {
 public:
  // The encoded array for p.argv, from the cache or encoded now.
  std::string_view Get(const ProcessInfo& p) {
    Entry& e = entries_[p.pid];
    if (e.valid && e.argv == p.argv) return e.json;
    if (entries_.size() > kMaxEntries) {  // bounded: start over rather than grow
      entries_.clear();
      return Get(p);
    }
    e.argv = p.argv;
    e.json.clear();
    scratch_.Clear();
    writer_.Reset(scratch_);
    writer_.StartArray();
    for (const auto& a : p.argv) {
      std::string_view v = LineWriter::Utf8Safe(a, &fixed_);
      writer_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    }
    writer_.EndArray();
    e.json.assign(scratch_.GetString(), scratch_.GetSize());
    e.valid = true;
    return e.json;
  }

 private:
  static constexpr std::size_t kMaxEntries = 4096;
  struct Entry {
    bool valid = false;
    std::vector<std::string> argv;
    std::string json;
  };
  std::unordered_map<uint32_t, Entry> entries_;
  rapidjson::StringBuffer scratch_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_{scratch_};
  std::string fixed_;
};

void WriteArgv(LineWriter& w, ArgvCache& cache, const ProcessInfo& p) {
  w.Key("proc.argv");
  w.Raw(cache.Get(p));
  if (p.argv_truncated) {
    w.Key("proc.argv_truncated");
    w.B(true);
  }
}

// proc.env as an array of its entries (values may hold spaces); absent when
// the environment was not captured.
void WriteEnv(LineWriter& w, const ProcessInfo& p) {
  if (!p.env) return;
  w.Key("proc.env");
  w.BeginArray();
  std::string_view env = *p.env;
  std::size_t i = 0;
  while (i < env.size()) {
    std::size_t end = env.find('\0', i);
    if (end == std::string_view::npos) end = env.size();
    if (end > i) w.Str(env.substr(i, end - i));
    i = end + 1;
  }
  w.EndArray();
  if (p.env_truncated) {
    w.Key("proc.env_truncated");
    w.B(true);
  }
}

// Session and process group, when known: "proc.sid" and "proc.vpgid" as the
// fields read them (the process's own pid namespace), the host's numbers
// beside them. A line without them reads as unknown (<NA>).
void WriteSession(LineWriter& w, const ProcessInfo& p) {
  if (!p.session_known) return;
  w.KeyNum("proc.sid", p.vsid);
  w.KeyNum("proc.vpgid", p.vpgid);
  w.KeyNum("proc.sid_host", p.sid);
  w.KeyNum("proc.pgid_host", p.pgid);
}

bool ReadSession(const Json& j, ProcessInfo* p, std::string* e) {
  for (const char* key : {"proc.sid", "proc.vpgid", "proc.sid_host", "proc.pgid_host"})
    if (auto it = j.find(key); it != j.end() && !it->is_null()) p->session_known = true;
  if (!ReadNumber(j, "proc.sid", &p->vsid, e) || !ReadNumber(j, "proc.vpgid", &p->vpgid, e)) return false;
  // A line made by hand may give only the namespace view: on the host both are one.
  p->sid = p->vsid;
  p->pgid = p->vpgid;
  return ReadNumber(j, "proc.sid_host", &p->sid, e) && ReadNumber(j, "proc.pgid_host", &p->pgid, e);
}

// Descriptors 0-2, when known: "proc.stdio" as three objects {type, dev,
// ino} (type as proc.stdin.type names it) and "proc.stdin.name".
void WriteStdio(LineWriter& w, const ProcessInfo& p) {
  bool known = false;
  for (const StdioFd& d : p.stdio) known = known || d.type != StdioType::kUnknown;
  if (!known) return;
  w.Key("proc.stdio");
  w.BeginArray();
  for (const StdioFd& d : p.stdio) {
    w.BeginObject();
    w.KeyStr("type", StdioTypeName(d.type));
    w.KeyNum("dev", d.dev);
    w.KeyNum("ino", d.ino);
    w.EndObject();
  }
  w.EndArray();
  if (!p.stdin_name.empty()) w.KeyStr("proc.stdin.name", p.stdin_name);
}

bool ReadStdio(const Json& j, ProcessInfo* p, std::string* e) {
  if (!ReadString(j, "proc.stdin.name", &p->stdin_name, e)) return false;
  auto it = j.find("proc.stdio");
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_array() || it->size() != 3) {
    *e = "key 'proc.stdio': expected an array of 3 objects (fds 0, 1, 2)";
    return false;
  }
  for (std::size_t i = 0; i < 3; ++i) {
    const Json& d = (*it)[i];
    std::string type;
    std::string where = "key 'proc.stdio'[" + std::to_string(i) + "]";
    if (!d.is_object()) {
      *e = where + ": expected an object";
      return false;
    }
    if (!ReadString(d, "type", &type, e) || !ReadNumber(d, "dev", &p->stdio[i].dev, e) ||
        !ReadNumber(d, "ino", &p->stdio[i].ino, e)) {
      *e = where + ": " + *e;
      return false;
    }
    if (!type.empty() && !StdioTypeFromName(type, &p->stdio[i].type)) {
      *e = where + ": unknown type '" + type + "'";
      return false;
    }
  }
  return true;
}

// The executable's inode when known ("proc.exe_ino", its ctime and mtime in
// ns since the epoch), "proc.is_exe_upper_layer" when known, and the pid
// namespace's start ("proc.pidns_start_ns", boot-time ns) when read.
void WriteExeInode(LineWriter& w, const ProcessInfo& p) {
  if (p.exe_ino != 0) {
    w.KeyNum("proc.exe_ino", p.exe_ino);
    w.KeyNum("proc.exe_ino.ctime", p.exe_ctime_ns);
    w.KeyNum("proc.exe_ino.mtime", p.exe_mtime_ns);
  }
  if (p.exe_layer != ExeLayer::kUnknown) {
    w.Key("proc.is_exe_upper_layer");
    w.B(p.exe_layer == ExeLayer::kUpper);
  }
  if (p.pidns_start_ns != 0) w.KeyNum("proc.pidns_start_ns", p.pidns_start_ns);
}

bool ReadExeInode(const Json& j, ProcessInfo* p, std::string* e) {
  if (auto it = j.find("proc.is_exe_upper_layer"); it != j.end() && !it->is_null()) {
    bool upper = false;
    if (!ReadBool(j, "proc.is_exe_upper_layer", &upper, e)) return false;
    p->exe_layer = upper ? ExeLayer::kUpper : ExeLayer::kNotUpper;
  }
  return ReadNumber(j, "proc.exe_ino", &p->exe_ino, e) && ReadNumber(j, "proc.exe_ino.ctime", &p->exe_ctime_ns, e) &&
         ReadNumber(j, "proc.exe_ino.mtime", &p->exe_mtime_ns, e) &&
         ReadNumber(j, "proc.pidns_start_ns", &p->pidns_start_ns, e);
}

void WriteProcess(LineWriter& w, ArgvCache& argv, const ProcessInfo& p) {
  w.KeyNum("proc.pid", p.pid);
  w.KeyNum("thread.tid", p.tid);
  w.KeyNum("proc.ppid", p.ppid);
  w.KeyNum("proc.vpid", p.vpid);
  w.KeyNum("proc.pidns_level", p.pidns_level);
  w.KeyStr("proc.name", p.name);
  w.KeyStr("proc.exepath", p.exepath);
  if (p.exe_32bit) {
    w.Key("proc.is_exe_32bit");
    w.B(true);
  }
  WriteArgv(w, argv, p);
  WriteEnv(w, p);
  w.KeyStr("proc.cwd", p.cwd);
  w.KeyNum("user.uid", p.uid);
  w.KeyNum("group.gid", p.gid);
  w.KeyNum("user.euid", p.euid);
  w.KeyNum("group.egid", p.egid);
  w.KeyNum("user.loginuid", p.loginuid);
  w.KeyNum("thread.cap_effective", p.cap_effective);
  w.KeyNum("thread.cap_permitted", p.cap_permitted);
  w.KeyNum("proc.start_ns", p.start_ns);
  w.KeyNum("proc.exec_ns", p.exec_ns);
  w.KeyNum("proc.tty", p.tty);
  WriteSession(w, p);
  WriteStdio(w, p);
  WriteExeInode(w, p);
  w.KeyNum("proc.cgroup_id", p.cgroup_id);
  w.KeyStr("proc.cgroup", p.cgroup);
  w.KeyStr("container.id", p.container_id);
  w.KeyNum("ns.pid", p.ns.pid);
  w.KeyNum("ns.mnt", p.ns.mnt);
  w.KeyNum("ns.net", p.ns.net);
  w.KeyNum("ns.user", p.ns.user);
  w.KeyNum("ns.uts", p.ns.uts);
  w.KeyNum("ns.ipc", p.ns.ipc);
  w.KeyNum("ns.cgroup", p.ns.cgroup);
}

// An ancestor carries what rules can ask of an ancestor (proc.pX, proc.aX[N]:
// pid, name, exe path, argv; its session and group for proc.sname and
// proc.vpgid.name) plus its identity (uid, start and exec times), so
// a recorded line replays alone without repeating every ancestor in full.
void WriteAncestor(LineWriter& w, ArgvCache& argv, const ProcessInfo& p) {
  w.BeginObject();
  w.KeyNum("proc.pid", p.pid);
  w.KeyNum("proc.ppid", p.ppid);
  w.KeyStr("proc.name", p.name);
  w.KeyStr("proc.exepath", p.exepath);
  WriteArgv(w, argv, p);
  w.KeyNum("user.uid", p.uid);
  w.KeyNum("proc.start_ns", p.start_ns);
  w.KeyNum("proc.exec_ns", p.exec_ns);
  WriteSession(w, p);
  w.EndObject();
}

bool ReadProcess(const Json& j, ProcessInfo* p, std::string* e) {
  return ReadNumber(j, "proc.pid", &p->pid, e) && ReadNumber(j, "thread.tid", &p->tid, e) &&
         ReadNumber(j, "proc.ppid", &p->ppid, e) && ReadNumber(j, "proc.vpid", &p->vpid, e) &&
         ReadNumber(j, "proc.pidns_level", &p->pidns_level, e) && ReadString(j, "proc.name", &p->name, e) &&
         ReadString(j, "proc.exepath", &p->exepath, e) && ReadBool(j, "proc.is_exe_32bit", &p->exe_32bit, e) &&
         ReadStringArray(j, "proc.argv", &p->argv, e) &&
         ReadBool(j, "proc.argv_truncated", &p->argv_truncated, e) && ReadEnv(j, p, e) &&
         ReadString(j, "proc.cwd", &p->cwd, e) &&
         ReadNumber(j, "user.uid", &p->uid, e) && ReadNumber(j, "group.gid", &p->gid, e) &&
         ReadNumber(j, "user.euid", &p->euid, e) && ReadNumber(j, "group.egid", &p->egid, e) &&
         ReadNumber(j, "user.loginuid", &p->loginuid, e) &&
         ReadNumber(j, "thread.cap_effective", &p->cap_effective, e) &&
         ReadNumber(j, "thread.cap_permitted", &p->cap_permitted, e) &&
         ReadNumber(j, "proc.start_ns", &p->start_ns, e) && ReadNumber(j, "proc.exec_ns", &p->exec_ns, e) &&
         ReadNumber(j, "proc.tty", &p->tty, e) && ReadSession(j, p, e) && ReadStdio(j, p, e) &&
         ReadExeInode(j, p, e) &&
         ReadNumber(j, "proc.cgroup_id", &p->cgroup_id, e) &&
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

template <std::size_t N>
void WriteFileTime(LineWriter& w, const char (&key)[N], int64_t t) {
  if (t == kFileTimeUnset) return;
  if (t == kFileTimeNow) w.KeyStr(key, "now");
  else if (t == kFileTimeOmit) w.KeyStr(key, "omit");
  else w.KeyNum(key, t);
}

}  // namespace

void AppendEventJson(const Event& event, std::string* out) {
  thread_local LineWriter w;
  thread_local ArgvCache argv;
  w.Begin();
  w.KeyStr("evt.type", EventTypeName(event.type));
  char iso[kIsoTimeLen];
  w.KeyStr("evt.time", std::string_view(iso, FormatIsoTime(event.wall_ns, iso)));
  w.KeyNum("evt.rawtime", event.wall_ns);
  w.KeyNum("evt.ts", event.ts_ns);
  w.KeyNum("evt.res", event.res);
  if (!event.enforcement.empty()) w.KeyStr("evt.enforcement", event.enforcement);
  if (event.compat) {
    w.Key("evt.is_compat");
    w.B(true);
  }
  if (event.compat_from_64bit) {
    w.Key("evt.is_compat_from_64bit");
    w.B(true);
  }
  WriteProcess(w, argv, event.proc);

  // Argument blocks: only members that differ from their defaults, so a line
  // carries what the event type filled and stays short.
  const FileArgs& f = event.file;
  static const FileArgs fd0;
  if (f.fd != fd0.fd) w.KeyNum("fd.num", f.fd);
  if (!f.abspath.empty()) w.KeyStr("fd.name", f.abspath);
  if (!f.resolved.empty()) w.KeyStr("fd.name.resolved", f.resolved);
  if (!f.path.empty()) w.KeyStr("fs.path", f.path);
  if (!f.target.empty()) w.KeyStr("fs.target", f.target);
  if (!f.target_abs.empty()) w.KeyStr("fs.target_abs", f.target_abs);
  if (f.flags) w.KeyNum("fs.flags", f.flags);
  if (f.mode) w.KeyNum("fs.mode", f.mode);
  if (f.owner_uid != fd0.owner_uid) w.KeyNum("fs.uid", f.owner_uid);
  if (f.owner_gid != fd0.owner_gid) w.KeyNum("fs.gid", f.owner_gid);
  if (!f.fstype.empty()) w.KeyStr("fs.fstype", f.fstype);
  if (!f.source.empty()) w.KeyStr("fs.source", f.source);
  if (f.length) w.KeyNum("fs.length", f.length);
  if (!f.xattr_name.empty()) w.KeyStr("fs.xattr", f.xattr_name);
  WriteFileTime(w, "fs.atime", f.atime);
  WriteFileTime(w, "fs.mtime", f.mtime);

  const NetArgs& n = event.net;
  static const NetArgs nd0;
  if (n.fd != nd0.fd) w.KeyNum("net.fd", n.fd);
  if (n.family) w.KeyNum("net.family", n.family);
  if (n.type) w.KeyNum("net.type", n.type);
  if (n.protocol) w.KeyNum("net.protocol", n.protocol);
  if (n.local_addr.bytes != nd0.local_addr.bytes) w.KeyStr("fd.lip", IpToString(n.local_addr, n.family));
  if (n.local_port) w.KeyNum("fd.lport", n.local_port);
  if (n.remote_addr.bytes != nd0.remote_addr.bytes) w.KeyStr("fd.rip", IpToString(n.remote_addr, n.family));
  if (n.remote_port) w.KeyNum("fd.rport", n.remote_port);
  if (!n.unix_path.empty()) w.KeyStr("net.unix_path", n.unix_path);
  if (n.backlog) w.KeyNum("net.backlog", n.backlog);
  if (n.sockopt_level) w.KeyNum("net.sockopt_level", n.sockopt_level);
  if (n.sockopt_name) w.KeyNum("net.sockopt_name", n.sockopt_name);
  if (n.size) w.KeyNum("net.size", n.size);

  const BpfArgs& b = event.bpf;
  static const BpfArgs bd0;
  if (b.cmd != bd0.cmd) w.KeyNum("bpf.cmd", b.cmd);
  if (b.prog_type) w.KeyNum("bpf.prog.type", b.prog_type);
  if (b.expected_attach_type) w.KeyNum("bpf.prog.expected_attach_type", b.expected_attach_type);
  if (b.attach_type) w.KeyNum("bpf.attach_type", b.attach_type);
  if (b.insn_cnt) w.KeyNum("bpf.prog.insn_cnt", b.insn_cnt);
  if (b.prog_flags) w.KeyNum("bpf.prog.flags", b.prog_flags);
  if (b.attach_btf_id) w.KeyNum("bpf.prog.attach_btf_id", b.attach_btf_id);
  if (!b.prog_name.empty()) w.KeyStr("bpf.prog.name", b.prog_name);
  if (!b.license.empty()) w.KeyStr("bpf.prog.license", b.license);
  if (b.helpers != bd0.helpers) {
    w.Key("bpf.prog.helpers");
    w.BeginArray();
    for (uint32_t id = 0; id < 256; ++id)
      if (b.HasHelper(id)) w.U(id);
    w.EndArray();
  }
  if (b.helpers_complete) {
    w.Key("bpf.prog.helpers_complete");
    w.B(true);
  }
  if (b.map_type) w.KeyNum("bpf.map.type", b.map_type);
  if (!b.map_name.empty()) w.KeyStr("bpf.map.name", b.map_name);
  if (b.id) w.KeyNum("bpf.id", b.id);
  if (b.target_fd != bd0.target_fd) w.KeyNum("bpf.target_fd", b.target_fd);
  if (!b.target.empty()) w.KeyStr("bpf.target", b.target);

  const ProcArgs& a = event.args;
  static const ProcArgs ad0;
  if (a.flags) w.KeyNum("arg.flags", a.flags);
  if (a.target_pid) w.KeyNum("arg.target_pid", a.target_pid);
  if (a.request) w.KeyNum("arg.request", a.request);
  if (a.fd != ad0.fd) w.KeyNum("arg.fd", a.fd);
  if (a.oldfd != ad0.oldfd) w.KeyNum("arg.oldfd", a.oldfd);
  if (a.newfd != ad0.newfd) w.KeyNum("arg.newfd", a.newfd);
  if (a.ids[0] != ad0.ids[0] || a.ids[1] != ad0.ids[1] || a.ids[2] != ad0.ids[2]) {
    w.Key("arg.ids");
    w.BeginArray();
    for (auto v : a.ids) w.U(v);
    w.EndArray();
  }
  if (a.caps[0] || a.caps[1] || a.caps[2]) {
    w.Key("arg.caps");
    w.BeginArray();
    for (auto v : a.caps) w.U(v);
    w.EndArray();
  }
  if (!a.name.empty()) w.KeyStr("arg.name", a.name);
  if (a.exit_code) w.KeyNum("arg.exit_code", a.exit_code);
  if (a.exit_signal) w.KeyNum("arg.exit_signal", a.exit_signal);

  if (event.ancestors != nullptr && event.ancestors->Ancestor(1) != nullptr) {
    w.Key("proc.ancestors");
    w.BeginArray();
    for (int level = 1; level <= 64; ++level) {
      const ProcessInfo* p = event.ancestors->Ancestor(level);
      if (p == nullptr) break;
      WriteAncestor(w, argv, *p);
    }
    w.EndArray();
  }
  // The pipe peers as ancestors are written (what their fields read).
  if (event.ancestors != nullptr) {
    if (const ProcessInfo* p = event.ancestors->StdioPeer(0)) {
      w.Key("proc.stdin.peer");
      WriteAncestor(w, argv, *p);
    }
    if (const ProcessInfo* p = event.ancestors->StdioPeer(1)) {
      w.Key("proc.stdout.peer");
      WriteAncestor(w, argv, *p);
    }
  }
  w.End(out);
}

std::optional<std::string> ParseEventJson(std::string_view line, Event* event, OwnedAncestors* ancestors) {
  event->Reset();
  if (ancestors != nullptr) {
    ancestors->chain.clear();
    ancestors->peers = {};
  }
  Json j;
  try {
    j = Json::parse(line.begin(), line.end());
  } catch (const Json::parse_error& e) {
    // nlohmann's text: "[json.exception.parse_error.101] parse error at line
    // 1, column 18: syntax error while parsing value - invalid string:
    // ill-formed UTF-8 byte; last read: '...'". Keep the reason; drop the
    // echo of the input, which can hold the very bytes that are invalid.
    std::string what = e.what();
    if (auto col = what.find("column "); col != std::string::npos)
      if (auto colon = what.find(": ", col); colon != std::string::npos) what = what.substr(colon + 2);
    if (auto last = what.find("; last read:"); last != std::string::npos) what.resize(last);
    return "not valid JSON at byte " + std::to_string(e.byte) + ": " + what;
  } catch (const Json::out_of_range& e) {
    // A number beyond double's range (4E26531833) is out_of_range.406, not a
    // parse_error: uncaught it aborted vigil replay (found by event_json_fuzz).
    return std::string("a number out of range: ") + e.what();
  }
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
      !ReadString(j, "evt.enforcement", &event->enforcement, &err) ||
      !ReadBool(j, "evt.is_compat", &event->compat, &err) ||
      !ReadBool(j, "evt.is_compat_from_64bit", &event->compat_from_64bit, &err) || !ReadProcess(j, &event->proc, &err))
    return err;

  FileArgs& f = event->file;
  if (!ReadNumber(j, "fd.num", &f.fd, &err) || !ReadString(j, "fd.name", &f.abspath, &err) ||
      !ReadString(j, "fd.name.resolved", &f.resolved, &err) ||
      !ReadString(j, "fs.path", &f.path, &err) || !ReadString(j, "fs.target", &f.target, &err) ||
      !ReadString(j, "fs.target_abs", &f.target_abs, &err) || !ReadNumber(j, "fs.flags", &f.flags, &err) ||
      !ReadNumber(j, "fs.mode", &f.mode, &err) || !ReadNumber(j, "fs.uid", &f.owner_uid, &err) ||
      !ReadNumber(j, "fs.gid", &f.owner_gid, &err) || !ReadString(j, "fs.fstype", &f.fstype, &err) ||
      !ReadString(j, "fs.source", &f.source, &err) || !ReadNumber(j, "fs.length", &f.length, &err) ||
      !ReadString(j, "fs.xattr", &f.xattr_name, &err) ||
      !ReadFileTime(j, "fs.atime", &f.atime, &err) || !ReadFileTime(j, "fs.mtime", &f.mtime, &err))
    return err;

  NetArgs& n = event->net;
  if (!ReadNumber(j, "net.fd", &n.fd, &err) || !ReadNumber(j, "net.family", &n.family, &err) ||
      !ReadNumber(j, "net.type", &n.type, &err) || !ReadNumber(j, "net.protocol", &n.protocol, &err) ||
      !ReadIp(j, "fd.lip", &n.local_addr, &err) || !ReadNumber(j, "fd.lport", &n.local_port, &err) ||
      !ReadIp(j, "fd.rip", &n.remote_addr, &err) || !ReadNumber(j, "fd.rport", &n.remote_port, &err) ||
      !ReadString(j, "net.unix_path", &n.unix_path, &err) || !ReadNumber(j, "net.backlog", &n.backlog, &err) ||
      !ReadNumber(j, "net.sockopt_level", &n.sockopt_level, &err) ||
      !ReadNumber(j, "net.sockopt_name", &n.sockopt_name, &err) || !ReadNumber(j, "net.size", &n.size, &err))
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
  static constexpr const char* kPeerKeys[] = {"proc.stdin.peer", "proc.stdout.peer"};
  for (std::size_t which = 0; which < 2; ++which) {
    auto it = j.find(kPeerKeys[which]);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_object()) return std::string("key '") + kPeerKeys[which] + "': expected a process object";
    ProcessInfo p;
    if (!ReadProcess(*it, &p, &err)) return std::string("key '") + kPeerKeys[which] + "': " + err;
    if (ancestors != nullptr) {
      ancestors->peers[which] = std::move(p);
      event->ancestors = ancestors;
    }
  }
  return std::nullopt;
}

}  // namespace vigil
