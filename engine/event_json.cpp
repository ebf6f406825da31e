// SPDX-License-Identifier: Apache-2.0
// JSON lines for events (see event_json.h). One table of members
// (engine/event_members.h) drives both directions so the writer and the
// reader cannot disagree: a row added is written and read back by
// construction, and the round-trip tests check every Event member.
#include "engine/event_json.h"

#include <algorithm>
#include <array>
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

#include "engine/event_members.h"
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

// What the writer keeps between lines: the line and the encoded argvs.
struct Out {
  LineWriter& w;
  ArgvCache& argv;
};

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


// ---- codecs: how each row of the member tables (engine/event_members.h) is
// written (Put*) and read (Get*). Put* is called only when the row is due
// (Always, or IfSet and the member differs from its default); Get* leaves the
// member as it is when the key is absent or null.

enum When { kAlways, kIfSet };
enum Anc { kOwn, kAnc };

template <typename T>
bool Same(const T& a, const T& b) { return a == b; }
template <typename T, std::size_t N>
bool Same(const T (&a)[N], const T (&b)[N]) { return std::equal(a, a + N, b); }
bool Same(const IpAddr& a, const IpAddr& b) { return a.bytes == b.bytes; }
// Whether a row is written: Always, or IfSet and not at its default.
template <When w, typename T>
bool Due(const T& v, const T& d) {
  if constexpr (w == kAlways) return true;
  else return !Same(v, d);
}

template <std::size_t N, typename T, typename C>
void PutNum(Out& o, const char (&k)[N], const T& v, const C&) { o.w.KeyNum(k, v); }
template <std::size_t N, typename C>
void PutStr(Out& o, const char (&k)[N], const std::string& v, const C&) { o.w.KeyStr(k, v); }
template <std::size_t N, typename C>
void PutBool(Out& o, const char (&k)[N], bool v, const C&) {
  o.w.Key(k);
  o.w.B(v);
}
template <std::size_t N>
void PutIp(Out& o, const char (&k)[N], const IpAddr& v, const Event& e) { o.w.KeyStr(k, IpToString(v, e.net.family)); }
template <std::size_t N, typename C>
void PutFileTime(Out& o, const char (&k)[N], int64_t v, const C&) { WriteFileTime(o.w, k, v); }
template <std::size_t N, typename T, std::size_t M, typename C>
void PutArray(Out& o, const char (&k)[N], const T (&v)[M], const C&) {
  o.w.Key(k);
  o.w.BeginArray();
  for (auto x : v) o.w.U(x);
  o.w.EndArray();
}
template <std::size_t N>
void PutHelpers(Out& o, const char (&k)[N], const std::array<uint64_t, 4>&, const Event& e) {
  o.w.Key(k);
  o.w.BeginArray();
  for (uint32_t id = 0; id < 256; ++id)
    if (e.bpf.HasHelper(id)) o.w.U(id);
  o.w.EndArray();
}
template <std::size_t N>
void PutArgv(Out& o, const char (&k)[N], const std::vector<std::string>&, const ProcessInfo& p) {
  o.w.Key(k);
  o.w.Raw(o.argv.Get(p));
}
template <std::size_t N, typename T>
void PutEnv(Out& o, const char (&)[N], const T&, const ProcessInfo& p) { WriteEnv(o.w, p); }
template <std::size_t N, typename T>
void PutSession(Out& o, const char (&)[N], const T&, const ProcessInfo& p) { WriteSession(o.w, p); }
template <std::size_t N, typename T>
void PutStdio(Out& o, const char (&)[N], const T&, const ProcessInfo& p) { WriteStdio(o.w, p); }
template <std::size_t N>
void PutExeLayer(Out& o, const char (&k)[N], ExeLayer v, const ProcessInfo&) {
  o.w.Key(k);
  o.w.B(v == ExeLayer::kUpper);
}
// evt.buffer: the captured bytes as hex, and evt.buffer_cut when the payload
// was longer.
template <std::size_t N>
void PutBuffer(Out& o, const char (&k)[N], const DataBuffer& v, const Event&) {
  thread_local std::string hex;
  hex.clear();
  AppendHex(v.bytes, &hex);
  o.w.KeyStr(k, hex);
  if (v.cut) {
    o.w.Key("evt.buffer_cut");
    o.w.B(true);
  }
}
template <std::size_t N>
void PutType(Out& o, const char (&k)[N], EventType t, const Event&) { o.w.KeyStr(k, EventTypeName(t)); }
template <std::size_t N>
void PutWallTime(Out& o, const char (&k)[N], uint64_t wall_ns, const Event&) {
  char iso[kIsoTimeLen];
  o.w.KeyStr("evt.time", std::string_view(iso, FormatIsoTime(wall_ns, iso)));
  o.w.KeyNum(k, wall_ns);
}

// The process block: every row, or (ancestors, pipe peers) the Anc rows.
void WriteProcess(Out& o, const ProcessInfo& p, bool ancestor) {
  static const ProcessInfo d;
#define VIGIL_PUT(key, m, codec, when, anc) \
  if ((!ancestor || k##anc == kAnc) && Due<k##when>(p.m, d.m)) Put##codec(o, key, p.m, p);
  VIGIL_PROCESS_MEMBERS(VIGIL_PUT)
#undef VIGIL_PUT
}
template <std::size_t N>
void PutProcess(Out& o, const char (&)[N], const ProcessInfo& p, const Event&) { WriteProcess(o, p, false); }

// An ancestor carries what rules can ask of an ancestor (proc.pX, proc.aX[N]:
// pid, name, exe path, argv; its session and group for proc.sname and
// proc.vpgid.name) plus its identity (uid, start and exec times), so
// a recorded line replays alone without repeating every ancestor in full.
void WriteAncestor(Out& o, const ProcessInfo& p) {
  o.w.BeginObject();
  WriteProcess(o, p, true);
  o.w.EndObject();
}

template <typename T, typename C>
bool GetNum(const Json& j, const char* k, T* v, C*, std::string* e) { return ReadNumber(j, k, v, e); }
template <typename C>
bool GetStr(const Json& j, const char* k, std::string* v, C*, std::string* e) { return ReadString(j, k, v, e); }
template <typename C>
bool GetBool(const Json& j, const char* k, bool* v, C*, std::string* e) { return ReadBool(j, k, v, e); }
bool GetIp(const Json& j, const char* k, IpAddr* v, Event*, std::string* e) { return ReadIp(j, k, v, e); }
template <typename C>
bool GetFileTime(const Json& j, const char* k, int64_t* v, C*, std::string* e) { return ReadFileTime(j, k, v, e); }
template <typename T, std::size_t M, typename C>
bool GetArray(const Json& j, const char* k, T (*v)[M], C*, std::string* e) { return ReadNumberArray(j, k, *v, e); }
bool GetHelpers(const Json& j, const char* k, std::array<uint64_t, 4>*, Event* ev, std::string* e) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_array()) return *e = std::string("key '") + k + "': expected an array of helper ids", false;
  for (const auto& v : *it) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() > 255)
      return *e = std::string("key '") + k + "': expected helper ids 0..255", false;
    ev->bpf.AddHelper(static_cast<uint32_t>(v.get<uint64_t>()));
  }
  return true;
}
bool GetArgv(const Json& j, const char* k, std::vector<std::string>* v, ProcessInfo*, std::string* e) {
  return ReadStringArray(j, k, v, e);
}
template <typename T>
bool GetEnv(const Json& j, const char*, T*, ProcessInfo* p, std::string* e) { return ReadEnv(j, p, e); }
template <typename T>
bool GetSession(const Json& j, const char*, T*, ProcessInfo* p, std::string* e) { return ReadSession(j, p, e); }
template <typename T>
bool GetStdio(const Json& j, const char*, T*, ProcessInfo* p, std::string* e) { return ReadStdio(j, p, e); }
bool GetExeLayer(const Json& j, const char* k, ExeLayer* v, ProcessInfo*, std::string* e) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return true;
  bool upper = false;
  if (!ReadBool(j, k, &upper, e)) return false;
  *v = upper ? ExeLayer::kUpper : ExeLayer::kNotUpper;
  return true;
}
bool GetBuffer(const Json& j, const char* k, DataBuffer* v, Event*, std::string* e) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return true;
  std::string hex;
  if (!ReadString(j, k, &hex, e)) return false;
  if (!ParseHex(hex, &v->bytes) || v->bytes.size() > kDataBufferMax)
    return *e = std::string("key '") + k + "': expected at most " + std::to_string(kDataBufferMax) +
                " bytes as hex digits",
           false;
  v->captured = true;
  return ReadBool(j, "evt.buffer_cut", &v->cut, e);
}
bool GetType(const Json& j, const char* k, EventType* t, Event*, std::string* e) {
  std::string type;
  if (!ReadString(j, k, &type, e)) return false;
  if (type.empty()) return *e = std::string("key '") + k + "': missing", false;
  if (!EventTypeFromName(type, t)) return *e = std::string("key '") + k + "': unknown event type '" + type + "'", false;
  return true;
}
// evt.rawtime, else evt.time (ISO 8601) for a line written by hand.
bool GetWallTime(const Json& j, const char* k, uint64_t* v, Event*, std::string* e) {
  if (!ReadNumber(j, k, v, e)) return false;
  if (j.find(k) != j.end()) return true;
  std::string iso;
  if (!ReadString(j, "evt.time", &iso, e)) return false;
  if (!iso.empty() && !ParseIsoTime(iso, v))
    return *e = "key 'evt.time': expected an ISO 8601 UTC time, got '" + iso + "'", false;
  return true;
}

bool ReadProcess(const Json& j, ProcessInfo* p, std::string* e) {
#define VIGIL_GET(key, m, codec, when, anc) \
  if (!Get##codec(j, key, &p->m, p, e)) return false;
  VIGIL_PROCESS_MEMBERS(VIGIL_GET)
#undef VIGIL_GET
  return true;
}
bool GetProcess(const Json& j, const char*, ProcessInfo* p, Event*, std::string* e) { return ReadProcess(j, p, e); }

// proc.ancestors and the pipe peers (as ancestors are written: what their
// fields read).
void WriteRelatives(Out& o, const AncestorView* ancestors) {
  if (ancestors == nullptr) return;
  if (ancestors->Ancestor(1) != nullptr) {
    o.w.Key("proc.ancestors");
    o.w.BeginArray();
    for (int level = 1; level <= 64; ++level) {
      const ProcessInfo* p = ancestors->Ancestor(level);
      if (p == nullptr) break;
      WriteAncestor(o, *p);
    }
    o.w.EndArray();
  }
  if (const ProcessInfo* p = ancestors->StdioPeer(0)) {
    o.w.Key("proc.stdin.peer");
    WriteAncestor(o, *p);
  }
  if (const ProcessInfo* p = ancestors->StdioPeer(1)) {
    o.w.Key("proc.stdout.peer");
    WriteAncestor(o, *p);
  }
}

std::optional<std::string> ReadRelatives(const Json& j, Event* event, OwnedAncestors* ancestors) {
  std::string err;
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

// nlohmann's text: "[json.exception.parse_error.101] parse error at line 1,
// column 18: syntax error while parsing value - invalid string: ill-formed
// UTF-8 byte; last read: '...'". Keep the reason; drop the echo of the input,
// which can hold the very bytes that are invalid.
std::string ParseErrorText(const Json::parse_error& e) {
  std::string what = e.what();
  if (auto col = what.find("column "); col != std::string::npos)
    if (auto colon = what.find(": ", col); colon != std::string::npos) what = what.substr(colon + 2);
  if (auto last = what.find("; last read:"); last != std::string::npos) what.resize(last);
  return "not valid JSON at byte " + std::to_string(e.byte) + ": " + what;
}

}  // namespace

void AppendEventJson(const Event& event, std::string* out) {
  thread_local LineWriter w;
  thread_local ArgvCache argv;
  static const Event d;
  Out o{w, argv};
  w.Begin();
#define VIGIL_PUT(key, m, codec, when, anc) \
  if (Due<k##when>(event.m, d.m)) Put##codec(o, key, event.m, event);
  VIGIL_EVENT_MEMBERS(VIGIL_PUT)
#undef VIGIL_PUT
  WriteRelatives(o, event.ancestors);
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
    return ParseErrorText(e);
  } catch (const Json::out_of_range& e) {
    // A number beyond double's range (4E26531833) is out_of_range.406, not a
    // parse_error: uncaught it aborted vigil replay (found by event_json_fuzz).
    return std::string("a number out of range: ") + e.what();
  }
  if (!j.is_object()) return std::string("not a JSON object");
  std::string err;
#define VIGIL_GET(key, m, codec, when, anc) \
  if (!Get##codec(j, key, &event->m, event, &err)) return err;
  VIGIL_EVENT_MEMBERS(VIGIL_GET)
#undef VIGIL_GET
  // A hand-written line may give an IPv6 peer without net.family.
  NetArgs& n = event->net;
  if (n.family == 0) {
    auto lip = j.find("fd.lip"), rip = j.find("fd.rip");
    bool v6 = (lip != j.end() && lip->is_string() && lip->get<std::string>().find(':') != std::string::npos) ||
              (rip != j.end() && rip->is_string() && rip->get<std::string>().find(':') != std::string::npos);
    bool any = lip != j.end() || rip != j.end();
    if (any) n.family = v6 ? 10 : 2;
  }
  return ReadRelatives(j, event, ancestors);
}

}  // namespace vigil
