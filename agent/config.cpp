// SPDX-License-Identifier: Apache-2.0
#include "agent/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include <yaml-cpp/yaml.h>

#include "engine/fields/field_table.h"
#include "engine/yaml_text.h"

namespace vigil::agent {
namespace {

bool IsDir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string FileKind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

bool Exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// A node without a mark was not read from a file: it came from `-o` (the
// built-in defaults are always valid), as the outputs section says too.
std::string Where(const std::string& source, const YAML::Node& n) {
  const auto m = n.Mark();
  if (m.is_null() || m.line < 0) return "-o (command line)";
  return source + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

// Reads an integer in [lo, hi]; records a located error otherwise.
bool ReadInt(const YAML::Node& n, const std::string& key, const std::string& source, long lo, long hi,
             long* out, std::vector<std::string>* errors) {
  long v = 0;
  bool ok = n.IsScalar();
  if (ok) {
    try {
      std::size_t used = 0;
      v = std::stol(n.Scalar(), &used);
      ok = used == n.Scalar().size();
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok || v < lo || v > hi) {
    errors->push_back(Where(source, n) + ": " + key + ": expected an integer from " + std::to_string(lo) +
                      " to " + std::to_string(hi));
    return false;
  }
  *out = v;
  return true;
}

void ParseRules(const YAML::Node& rules, const std::string& source, AgentConfig* c, ConfigLoad* r) {
  if (!rules || rules.IsNull()) return;
  if (!rules.IsMap()) {
    r->errors.push_back(Where(source, rules) + ": rules: expected a map with key 'paths'");
    return;
  }
  for (const auto& kv : rules) {
    const auto key = kv.first.Scalar();
    if (key != "paths") {
      r->warnings.push_back(Where(source, kv.first) + ": unknown key 'rules." + key + "' (ignored)");
      continue;
    }
    const auto& v = kv.second;
    if (v.IsScalar()) {
      c->rules_paths = {v.Scalar()};
      if (v.Scalar().find('\0') != std::string::npos)
        r->errors.push_back(Where(source, v) + ": rules.paths: a path contains a NUL byte");
    } else if (v.IsSequence()) {
      c->rules_paths.clear();
      for (const auto& item : v) {
        if (!item.IsScalar()) {
          r->errors.push_back(Where(source, item) + ": rules.paths: expected a list of file or directory paths");
          continue;
        }
        if (item.Scalar().find('\0') != std::string::npos)
          r->errors.push_back(Where(source, item) + ": rules.paths: a path contains a NUL byte");
        c->rules_paths.push_back(item.Scalar());
      }
    } else {
      r->errors.push_back(Where(source, v) + ": rules.paths: expected a list of file or directory paths");
    }
  }
}

// capture.priority_paths: a list of absolute paths (an empty list: only the
// record types of the lane take it).
void ParsePriorityPaths(const YAML::Node& v, const std::string& source, AgentConfig* c, ConfigLoad* r) {
  if (v.IsNull()) {
    c->capture.priority_paths.clear();
    return;
  }
  if (!v.IsSequence()) {
    r->errors.push_back(Where(source, v) + ": capture.priority_paths: expected a list of absolute paths");
    return;
  }
  if (v.size() > capture::kMaxPriorityPaths) {
    r->errors.push_back(Where(source, v) + ": capture.priority_paths: at most " + std::to_string(capture::kMaxPriorityPaths) +
                        " paths (got " + std::to_string(v.size()) + ")");
    return;
  }
  std::vector<std::string> paths;
  for (const auto& item : v) {
    if (!item.IsScalar()) {
      r->errors.push_back(Where(source, item) + ": capture.priority_paths: expected a list of absolute paths");
      continue;
    }
    std::string why = capture::PriorityPathProblem(item.Scalar());
    if (!why.empty()) {
      r->errors.push_back(Where(source, item) + ": capture.priority_paths: '" + item.Scalar() + "': " + why);
      continue;
    }
    paths.push_back(item.Scalar());
  }
  c->capture.priority_paths = std::move(paths);
}

void ParseCapture(const YAML::Node& cap, const std::string& source, AgentConfig* c, ConfigLoad* r) {
  if (!cap || cap.IsNull()) return;
  if (!cap.IsMap()) {
    r->errors.push_back(Where(source, cap) + ": capture: expected a map");
    return;
  }
  for (const auto& kv : cap) {
    const auto key = kv.first.Scalar();
    long v = 0;
    if (key == "ringbuf_mb") {
      if (ReadInt(kv.second, "capture.ringbuf_mb", source, 1, 1024, &v, &r->errors)) {
        if ((v & (v - 1)) != 0) {
          r->errors.push_back(Where(source, kv.second) + ": capture.ringbuf_mb: expected a power of two");
        } else {
          c->capture.ringbuf_bytes = static_cast<uint32_t>(v) << 20;
        }
      }
    } else if (key == "bpf_build") {
      const std::string t = kv.second.IsScalar() ? kv.second.Scalar() : "";
      if (!capture::ParseBpfBuild(t, &c->capture.build))
        r->errors.push_back(Where(source, kv.second) + ": capture.bpf_build: expected auto, typed, compat or legacy");
    } else if (key == "ia32_programs") {
      const std::string t = kv.second.IsScalar() ? kv.second.Scalar() : "";
      if (!capture::ParseIa32Programs(t, &c->capture.ia32_programs))
        r->errors.push_back(Where(source, kv.second) + ": capture.ia32_programs: expected auto, on or off");
    } else if (key == "process_table_size") {
      if (ReadInt(kv.second, "capture.process_table_size", source, 1024, 4 << 20, &v, &r->errors))
        c->capture.process_table_capacity = static_cast<std::size_t>(v);
    } else if (key == "priority_ringbuf_kb") {
      if (ReadInt(kv.second, "capture.priority_ringbuf_kb", source, 0, 65536, &v, &r->errors)) {
        if (v != 0 && ((v & (v - 1)) != 0 || v < 4))
          r->errors.push_back(Where(source, kv.second) +
                              ": capture.priority_ringbuf_kb: expected 0 (lane off) or a power of two of at least 4");
        else
          c->capture.priority_ringbuf_bytes = static_cast<uint32_t>(v) << 10;
      }
    } else if (key == "priority_paths") {
      ParsePriorityPaths(kv.second, source, c, r);
    } else {
      r->warnings.push_back(Where(source, kv.first) + ": unknown key 'capture." + key + "' (ignored)");
    }
  }
}

void ParseMetrics(const YAML::Node& m, const std::string& source, AgentConfig* c, ConfigLoad* r) {
  if (!m || m.IsNull()) return;
  if (!m.IsMap()) {
    r->errors.push_back(Where(source, m) + ": metrics: expected a map with keys enabled, listen");
    return;
  }
  for (const auto& kv : m) {
    const auto key = kv.first.Scalar();
    const auto& v = kv.second;
    if (key == "enabled") {
      const std::string t = v.IsScalar() ? v.Scalar() : "";
      if (t == "true") c->metrics_enabled = true;
      else if (t == "false") c->metrics_enabled = false;
      else r->errors.push_back(Where(source, v) + ": metrics.enabled: expected true or false");
    } else if (key == "listen") {
      const std::string t = v.IsScalar() ? v.Scalar() : "";
      const auto colon = t.rfind(':');
      long port = -1;
      if (colon != std::string::npos && colon > 0) {
        try {
          std::size_t used = 0;
          port = std::stol(t.substr(colon + 1), &used);
          if (used != t.size() - colon - 1) port = -1;
        } catch (const std::exception&) {
          port = -1;
        }
      }
      if (port < 0 || port > 65535) {
        r->errors.push_back(Where(source, v) + ": metrics.listen: expected host:port, e.g. 127.0.0.1:9464");
      } else {
        c->metrics_host = t.substr(0, colon);
        c->metrics_port = static_cast<int>(port);
      }
    } else {
      r->warnings.push_back(Where(source, kv.first) + ": unknown key 'metrics." + key + "' (ignored)");
    }
  }
}

void ParseEnforcement(const YAML::Node& e, const std::string& source, AgentConfig* c, ConfigLoad* r) {
  if (!e || e.IsNull()) return;
  if (!e.IsMap()) {
    r->errors.push_back(Where(source, e) + ": enforcement: expected a map with key degrade");
    return;
  }
  for (const auto& kv : e) {
    const auto key = kv.first.Scalar();
    if (key != "degrade") {
      r->warnings.push_back(Where(source, kv.first) + ": unknown key 'enforcement." + key + "' (ignored)");
      continue;
    }
    const std::string v = kv.second.IsScalar() ? kv.second.Scalar() : "";
    if (v == "alert") c->degrade_to_kill = false;
    else if (v == "kill") c->degrade_to_kill = true;
    else r->errors.push_back(Where(source, kv.second) + ": enforcement.degrade: expected alert or kill");
  }
}

void ParseThrottle(const YAML::Node& t, const std::string& source, AgentConfig* c, ConfigLoad* r) {
  if (!t || t.IsNull()) return;
  if (!t.IsMap()) {
    r->errors.push_back(Where(source, t) + ": throttle: expected a map with keys enabled, rate_per_s, burst, "
                                           "summary_interval_s");
    return;
  }
  for (const auto& kv : t) {
    const auto key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    long n = 0;
    if (key == "enabled") {
      const std::string b = v.IsScalar() ? v.Scalar() : "";
      if (b == "true") c->throttle.enabled = true;
      else if (b == "false") c->throttle.enabled = false;
      else r->errors.push_back(Where(source, v) + ": throttle.enabled: expected true or false");
    } else if (key == "rate_per_s") {
      double d = 0;
      bool ok = v.IsScalar();
      if (ok) {
        try {
          std::size_t used = 0;
          d = std::stod(v.Scalar(), &used);
          ok = used == v.Scalar().size() && d >= 0.001 && d <= 1e6;
        } catch (const std::exception&) {
          ok = false;
        }
      }
      if (ok) c->throttle.rate_per_s = d;
      else r->errors.push_back(Where(source, v) + ": throttle.rate_per_s: expected a number from 0.001 to 1000000");
    } else if (key == "burst") {
      if (ReadInt(v, "throttle.burst", source, 1, 1000000, &n, &r->errors)) c->throttle.burst = static_cast<double>(n);
    } else if (key == "summary_interval_s") {
      if (ReadInt(v, "throttle.summary_interval_s", source, 1, 3600, &n, &r->errors))
        c->throttle.summary_interval = std::chrono::seconds(n);
    } else {
      r->warnings.push_back(Where(source, kv.first) + ": unknown key 'throttle." + key + "' (ignored)");
    }
  }
}

// Reads the configuration file: a regular file of at most kMaxConfigBytes.
// A directory, FIFO or device is refused before any read (/dev/zero would
// never end; a FIFO with no writer would block open()).
std::optional<std::string> ReadConfigText(const std::string& file, std::string* text) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return file + ": cannot read the configuration file: " + std::strerror(errno);
  struct stat st {};
  std::optional<std::string> err;
  if (::fstat(fd, &st) != 0) err = file + ": cannot read the configuration file: " + std::strerror(errno);
  else if (S_ISDIR(st.st_mode)) err = file + ": is a directory; -c takes a YAML file (rules directories go in rules.paths or -r)";
  else if (!S_ISREG(st.st_mode)) err = file + ": not a regular file (" + FileKind(st.st_mode) + "); expected a YAML file";
  else if (static_cast<uint64_t>(st.st_size) > kMaxConfigBytes)
    err = file + ": " + std::to_string(st.st_size) + " bytes, larger than the " + std::to_string(kMaxConfigBytes >> 10) +
          " KiB a configuration file may have";
  if (!err) {
    // Read at most one byte past the cap: a file that grows meanwhile is still bounded.
    text->resize(kMaxConfigBytes + 1);
    std::size_t got = 0;
    while (got < text->size()) {
      const ssize_t n = ::read(fd, text->data() + got, text->size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        err = file + ": cannot read the configuration file: " + std::strerror(errno);
        break;
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    text->resize(got);
    if (!err && got > kMaxConfigBytes)
      err = file + ": larger than the " + std::to_string(kMaxConfigBytes >> 10) + " KiB a configuration file may have";
  }
  ::close(fd);
  return err;
}

void ParseContainers(const YAML::Node& m, const std::string& source, AgentConfig* c, ConfigLoad* r) {
  if (!m || m.IsNull()) return;
  if (!m.IsMap()) {
    r->errors.push_back(Where(source, m) + ": containers: expected a map");
    return;
  }
  ContainersConfig& cc = c->containers;
  for (const auto& kv : m) {
    const auto key = kv.first.Scalar();
    const auto& v = kv.second;
    const std::string name = "containers." + key;
    long n = 0;
    if (key == "enabled") {
      const std::string t = v.IsScalar() ? v.Scalar() : "";
      if (t == "true" || t == "false") cc.enabled = t == "true";
      else r->errors.push_back(Where(source, v) + ": containers.enabled: expected true or false");
    } else if (std::string* socket = key == "docker_socket"       ? &cc.docker_socket
                                     : key == "podman_socket"     ? &cc.podman_socket
                                     : key == "containerd_socket" ? &cc.containerd_socket
                                     : key == "crio_socket"       ? &cc.crio_socket
                                                                  : nullptr) {
      if (!v.IsScalar() && !v.IsNull()) {
        r->errors.push_back(Where(source, v) + ": " + name + ": expected a unix socket path, or \"\" for none");
        continue;
      }
      *socket = v.IsNull() ? "" : v.Scalar();
    } else if (key == "timeout_ms") {
      if (ReadInt(v, name, source, 10, 60000, &n, &r->errors)) cc.timeout_ms = static_cast<int>(n);
    } else if (key == "list_interval_ms") {
      if (ReadInt(v, name, source, 100, 3600000, &n, &r->errors)) cc.list_interval_ms = static_cast<int>(n);
    } else if (key == "cache_size") {
      if (ReadInt(v, name, source, 16, 1 << 20, &n, &r->errors)) cc.cache_size = static_cast<int>(n);
    } else if (key == "hold_ms") {
      if (ReadInt(v, name, source, 0, 5000, &n, &r->errors)) cc.hold_ms = static_cast<int>(n);
    } else {
      r->warnings.push_back(Where(source, kv.first) + ": unknown key '" + name + "' (ignored)");
    }
  }
}

// sigma.fields: {SigmaField: vigil.field}, over the built-in mapping (docs/sigma.md).
void ParseSigma(const YAML::Node& sg, const std::string& source, AgentConfig* c, ConfigLoad* r) {
  if (!sg || sg.IsNull()) return;
  if (!sg.IsMap()) {
    r->errors.push_back(Where(source, sg) + ": sigma: expected a map with key fields");
    return;
  }
  for (const auto& kv : sg) {
    const auto key = kv.first.Scalar();
    if (key != "fields") {
      r->warnings.push_back(Where(source, kv.first) + ": unknown key 'sigma." + key + "' (ignored)");
      continue;
    }
    if (!kv.second.IsMap()) {
      r->errors.push_back(Where(source, kv.second) + ": sigma.fields: expected a map of SigmaField: vigil.field");
      continue;
    }
    for (const auto& f : kv.second) {
      const std::string vigil = f.second.IsScalar() ? f.second.Scalar() : "";
      if (!f.first.IsScalar() || FindField(vigil.substr(0, vigil.find('['))) == nullptr) {
        r->errors.push_back(Where(source, f.second) + ": sigma.fields: '" + vigil +
                            "' is not a vigil field (vigil fields lists them)");
        continue;
      }
      c->sigma_fields[f.first.Scalar()] = vigil;
    }
  }
}

}  // namespace

std::vector<std::string> DefaultRulesPaths() {
  // The package installs under /usr; a `cmake --install` uses its own prefix.
  for (const char* installed : {"/usr/share/vigil/rules", VIGIL_INSTALLED_RULES_DIR}) {
    if (IsDir(installed)) {
      std::vector<std::string> paths{installed};
      if (IsDir("/etc/vigil/rules.d")) paths.push_back("/etc/vigil/rules.d");
      return paths;
    }
  }
  return {VIGIL_SOURCE_RULES_DIR};
}

ConfigLoad LoadAgentConfig(const std::string& path, const std::vector<std::string>& overrides,
                           const std::vector<std::string>& rules_override) {
  ConfigLoad r;
  AgentConfig& c = r.config;
  c.rules_paths = DefaultRulesPaths();

  YAML::Node root;
  const std::string file = path.empty() ? kDefaultConfigPath : path;
  if (!path.empty() || Exists(file)) {
    std::string text;
    if (auto err = ReadConfigText(file, &text)) {
      r.errors.push_back(*err);
      return r;
    }
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      r.errors.push_back(file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                         ": invalid YAML: " + YamlErrorText(e));
      return r;
    }
    std::vector<DuplicateKey> dups;
    FindDuplicateKeys(root, &dups);
    for (const auto& d : dups)
      r.errors.push_back(file + ":" + std::to_string(d.at.line + 1) + ":" + std::to_string(d.at.column + 1) +
                         ": duplicate key '" + d.key + "' (first given at line " + std::to_string(d.first.line + 1) +
                         "; YAML keeps only one)");
    if (!dups.empty()) return r;
    c.source = file;
    if (!root.IsNull() && !root.IsMap()) {
      r.errors.push_back(Where(file, root) + ": expected a map of settings at the top level");
      return r;
    }
  } else {
    // No file: stdout and a local file, the README's first command.
    c.source = "built-in defaults";
    root = YAML::Node(YAML::NodeType::Map);
    root["outputs"]["stdout"]["enabled"] = "true";
    root["outputs"]["file"]["enabled"] = "true";
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  for (const auto& o : overrides) {
    if (auto err = outputs::ApplyOverride(root, o)) r.errors.push_back(*err);
  }

  static const std::set<std::string> kKnown = {"rules",   "outputs",          "capture", "metrics", "enforcement",
                                               "containers", "stats_interval_s", "sigma",   "throttle"};
  for (const auto& kv : root) {
    const auto key = kv.first.Scalar();
    if (!kKnown.count(key)) r.warnings.push_back(Where(c.source, kv.first) + ": unknown key '" + key + "' (ignored)");
  }
  const YAML::Node& doc = root;
  ParseRules(doc["rules"], c.source, &c, &r);
  ParseCapture(doc["capture"], c.source, &c, &r);
  ParseMetrics(doc["metrics"], c.source, &c, &r);
  ParseEnforcement(doc["enforcement"], c.source, &c, &r);
  ParseContainers(doc["containers"], c.source, &c, &r);
  ParseSigma(doc["sigma"], c.source, &c, &r);
  ParseThrottle(doc["throttle"], c.source, &c, &r);
  if (const YAML::Node n = doc["stats_interval_s"]; n) {
    long v = 0;
    if (ReadInt(n, "stats_interval_s", c.source, 0, 86400, &v, &r.errors)) c.stats_interval_s = static_cast<int>(v);
  }
  for (auto& e : outputs::ParseOutputsConfig(doc["outputs"], c.source, &c.outputs, &r.warnings)) r.errors.push_back(std::move(e));
  if (!rules_override.empty()) c.rules_paths = rules_override;
  if (c.rules_paths.empty()) r.errors.push_back(c.source + ": rules.paths: no rules files or directories given");
  return r;
}

std::vector<std::string> RestartOnlyChanges(const AgentConfig& a, const AgentConfig& b) {
  std::vector<std::string> out;
  auto diff = [&](const char* key, bool differs) {
    if (differs) out.emplace_back(key);
  };
  const auto &oa = a.outputs, &ob = b.outputs;
  diff("outputs.queue_capacity", oa.queue_capacity != ob.queue_capacity);
  diff("outputs.stdout.enabled", oa.stdout_sink.enabled != ob.stdout_sink.enabled);
  diff("outputs.stdout.format", oa.stdout_sink.format != ob.stdout_sink.format);
  diff("outputs.stdout.min_priority", oa.stdout_sink.min_priority != ob.stdout_sink.min_priority);
  diff("outputs.file.enabled", oa.file.enabled != ob.file.enabled);
  diff("outputs.file.path", oa.file.path != ob.file.path);
  diff("outputs.file.format", oa.file.format != ob.file.format);
  diff("outputs.file.min_priority", oa.file.min_priority != ob.file.min_priority);
  diff("outputs.file.max_size_mb", oa.file.max_size_mb != ob.file.max_size_mb);
  diff("outputs.file.backups", oa.file.backups != ob.file.backups);
  diff("outputs.file.fsync_interval_ms", oa.file.fsync_interval_ms != ob.file.fsync_interval_ms);
  diff("outputs.kafka.enabled", oa.kafka.enabled != ob.kafka.enabled);
  diff("outputs.kafka.brokers", oa.kafka.brokers != ob.kafka.brokers);
  diff("outputs.kafka.topic", oa.kafka.topic != ob.kafka.topic);
  diff("outputs.kafka.format", oa.kafka.format != ob.kafka.format);
  diff("outputs.kafka.key", oa.kafka.key != ob.kafka.key);
  diff("outputs.kafka.min_priority", oa.kafka.min_priority != ob.kafka.min_priority);
  diff("outputs.kafka.spool_dir", oa.kafka.spool_dir != ob.kafka.spool_dir);
  diff("outputs.kafka.spool_max_mb", oa.kafka.spool_max_mb != ob.kafka.spool_max_mb);
  diff("outputs.kafka.spool_fsync_interval_ms", oa.kafka.spool_fsync_interval_ms != ob.kafka.spool_fsync_interval_ms);
  diff("outputs.kafka.max_in_flight", oa.kafka.max_in_flight != ob.kafka.max_in_flight);
  diff("outputs.kafka.properties", oa.kafka.properties != ob.kafka.properties);
  diff("capture.ringbuf_mb", a.capture.ringbuf_bytes != b.capture.ringbuf_bytes);
  diff("capture.process_table_size", a.capture.process_table_capacity != b.capture.process_table_capacity);
  diff("capture.bpf_build", a.capture.build != b.capture.build);
  diff("capture.ia32_programs", a.capture.ia32_programs != b.capture.ia32_programs);
  diff("capture.priority_ringbuf_kb", a.capture.priority_ringbuf_bytes != b.capture.priority_ringbuf_bytes);
  diff("capture.priority_paths", a.capture.priority_paths != b.capture.priority_paths);
  diff("enforcement.degrade", a.degrade_to_kill != b.degrade_to_kill);
  diff("throttle", a.throttle.enabled != b.throttle.enabled || a.throttle.rate_per_s != b.throttle.rate_per_s ||
                       a.throttle.burst != b.throttle.burst ||
                       a.throttle.summary_interval != b.throttle.summary_interval);
  diff("metrics.enabled", a.metrics_enabled != b.metrics_enabled);
  diff("metrics.listen", a.metrics_host != b.metrics_host || a.metrics_port != b.metrics_port);
  return out;
}

}  // namespace vigil::agent
