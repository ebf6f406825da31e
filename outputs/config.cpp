// SPDX-License-Identifier: Apache-2.0
#include "outputs/config.h"

#include <limits>

namespace vigil::outputs {
namespace {

// Walks one map of the section, checking key names and value types, and
// collecting every diagnostic with its location.
class Section {
 public:
  Section(const YAML::Node& node, std::string path, std::string_view source, std::vector<std::string>* errors)
      : node_(node), path_(std::move(path)), source_(source), errors_(errors) {}

  // False (with an error) when the node is neither a map nor null.
  bool IsMapOrNull() {
    if (!node_ || node_.IsNull()) return true;
    if (node_.IsMap()) return true;
    Error(node_, path_, "expected a map of keys");
    return false;
  }

  void CheckKnown(std::initializer_list<std::string_view> keys) {
    if (!node_ || !node_.IsMap()) return;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string("<non-scalar key>");
      bool known = false;
      for (auto k : keys) known = known || k == name;
      if (!known) {
        std::string hint;
        for (auto k : keys) hint += (hint.empty() ? "" : ", ") + std::string(k);
        Error(it->first, path_ + "." + name, "unknown key (known here: " + hint + ")");
      }
    }
  }

  // An undefined node when the key is absent (const lookup: never inserts).
  // file:line:col of `key`'s value, or "-o (command line)" when an override set it.
  std::string Where(std::string_view key) const { return Location(Get(key)); }

  YAML::Node Get(std::string_view key) const {
    if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& map = node_;
    return map[std::string(key)];
  }

  std::string Path(std::string_view key) const { return path_ + "." + std::string(key); }

  void Bool(std::string_view key, bool* out) {
    YAML::Node n = Get(key);
    if (!n) return;
    bool v;
    if (n.IsScalar() && YAML::convert<bool>::decode(n, v)) *out = v;
    else Error(n, Path(key), "expected a boolean (true|false), got " + Show(n));
  }

  void String(std::string_view key, std::string* out, bool allow_empty = false) {
    YAML::Node n = Get(key);
    if (!n) return;
    if (n.IsScalar() && (allow_empty || !n.Scalar().empty())) *out = n.Scalar();
    else Error(n, Path(key), "expected a non-empty string, got " + Show(n));
  }

  template <typename T>
  void Int(std::string_view key, T* out, T min, T max) {
    YAML::Node n = Get(key);
    if (!n) return;
    T v{};
    bool ok = false;
    if (n.IsScalar()) {
      try {
        std::size_t used = 0;
        const std::string& s = n.Scalar();
        if constexpr (std::is_signed_v<T>) {
          long long x = std::stoll(s, &used, 10);
          ok = used == s.size() && x >= static_cast<long long>(min) && x <= static_cast<long long>(max);
          v = static_cast<T>(x);
        } else {
          ok = !s.empty() && s[0] != '-';
          unsigned long long x = ok ? std::stoull(s, &used, 10) : 0;
          ok = ok && used == s.size() && x >= static_cast<unsigned long long>(min) &&
               x <= static_cast<unsigned long long>(max);
          v = static_cast<T>(x);
        }
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (ok) *out = v;
    else
      Error(n, Path(key),
            "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + Show(n));
  }

  void FormatKey(std::string_view key, Format* out) {
    YAML::Node n = Get(key);
    if (!n) return;
    std::optional<Format> f = n.IsScalar() ? ParseFormat(n.Scalar()) : std::nullopt;
    if (f) *out = *f;
    else Error(n, Path(key), "expected one of falco|ocsf, got " + Show(n));
  }

  void PriorityKey(std::string_view key, Priority* out) {
    YAML::Node n = Get(key);
    if (!n) return;
    if (!n.IsScalar() || !ParsePriority(n.Scalar(), out))
      Error(n, Path(key),
            "expected a priority (emergency|alert|critical|error|warning|notice|informational|debug), got " +
                Show(n));
  }

  void KeyMode(std::string_view key, KafkaKey* out) {
    YAML::Node n = Get(key);
    if (!n) return;
    std::optional<KafkaKey> k = n.IsScalar() ? ParseKafkaKey(n.Scalar()) : std::nullopt;
    if (k) *out = *k;
    else Error(n, Path(key), "expected one of host_id|hostname|rule|none, got " + Show(n));
  }

  void StringMap(std::string_view key, std::map<std::string, std::string>* out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) return;
    if (!n.IsMap()) {
      Error(n, Path(key), "expected a map of librdkafka property names to values, got " + Show(n));
      return;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar() || !it->second.IsScalar()) {
        Error(it->first, Path(key), "expected scalar property names and values");
        continue;
      }
      (*out)[it->first.Scalar()] = it->second.Scalar();
    }
  }

  void Error(const YAML::Node& at, const std::string& key, const std::string& what) {
    errors_->push_back(Location(at) + ": " + key + ": " + what);
  }

 private:
  std::string Location(const YAML::Node& n) const {
    YAML::Mark m = n.Mark();
    if (m.is_null() || m.line < 0) return "-o (command line)";
    return std::string(source_) + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  }

  static std::string Show(const YAML::Node& n) {
    if (n.IsScalar()) return "'" + n.Scalar() + "'";
    if (n.IsMap()) return "a map";
    if (n.IsSequence()) return "a list";
    return "nothing";
  }

  YAML::Node node_;
  std::string path_;
  std::string_view source_;
  std::vector<std::string>* errors_;
};

constexpr int64_t kMaxMs = 24ll * 3600 * 1000;

}  // namespace

std::vector<std::string> ParseOutputsConfig(const YAML::Node& outputs, std::string_view source,
                                            OutputsConfig* out, std::vector<std::string>* warnings) {
  std::vector<std::string> errors;
  Section top(outputs, "outputs", source, &errors);
  if (!top.IsMapOrNull()) return errors;
  top.CheckKnown({"queue_capacity", "falco_json", "stdout", "file", "kafka"});
  top.Int<uint64_t>("queue_capacity", &out->queue_capacity, 1, 1u << 24);

  Section fj(top.Get("falco_json"), "outputs.falco_json", source, &errors);
  if (fj.IsMapOrNull()) {
    fj.CheckKnown({"output_prefix", "time_format_iso_8601"});
    fj.Bool("output_prefix", &out->falco_json.output_prefix);
    fj.Bool("time_format_iso_8601", &out->falco_json.time_iso8601);
  }

  Section so(top.Get("stdout"), "outputs.stdout", source, &errors);
  if (so.IsMapOrNull()) {
    so.CheckKnown({"enabled", "format", "min_priority"});
    so.Bool("enabled", &out->stdout_sink.enabled);
    so.FormatKey("format", &out->stdout_sink.format);
    so.PriorityKey("min_priority", &out->stdout_sink.min_priority);
  }

  Section fi(top.Get("file"), "outputs.file", source, &errors);
  if (fi.IsMapOrNull()) {
    fi.CheckKnown({"enabled", "path", "format", "min_priority", "max_size_mb", "backups", "fsync_interval_ms"});
    auto& f = out->file;
    fi.Bool("enabled", &f.enabled);
    fi.String("path", &f.path);
    fi.FormatKey("format", &f.format);
    fi.PriorityKey("min_priority", &f.min_priority);
    fi.Int<uint64_t>("max_size_mb", &f.max_size_mb, 0, 1u << 20);
    fi.Int<int64_t>("backups", &f.backups, 0, 1000);
    fi.Int<int64_t>("fsync_interval_ms", &f.fsync_interval_ms, -1, kMaxMs);
  }

  Section ka(top.Get("kafka"), "outputs.kafka", source, &errors);
  if (ka.IsMapOrNull()) {
    ka.CheckKnown({"enabled", "brokers", "topic", "format", "key", "min_priority", "spool_dir", "spool_max_mb",
                   "spool_fsync_interval_ms", "max_in_flight", "properties"});
    auto& k = out->kafka;
    ka.Bool("enabled", &k.enabled);
    ka.String("brokers", &k.brokers);
    ka.String("topic", &k.topic);
    ka.FormatKey("format", &k.format);
    ka.KeyMode("key", &k.key);
    ka.PriorityKey("min_priority", &k.min_priority);
    ka.String("spool_dir", &k.spool_dir);
    ka.Int<uint64_t>("spool_max_mb", &k.spool_max_mb, 1, 1u << 20);
    ka.Int<int64_t>("spool_fsync_interval_ms", &k.spool_fsync_interval_ms, -1, kMaxMs);
    ka.Int<uint64_t>("max_in_flight", &k.max_in_flight, 1, 1000000);
    ka.StringMap("properties", &k.properties);
    if (k.enabled && k.brokers.empty())
      errors.push_back(std::string(source) + ": outputs.kafka.brokers: required when outputs.kafka.enabled is true");
    // Brokers and a topic set while the sink stays off is an easy mistake
    // whose only symptom is a SIEM that never receives anything.
    if (!k.enabled && warnings) {
      std::string given, where;
      for (auto key : {"brokers", "topic", "properties"}) {
        if (!ka.Get(key)) continue;
        if (where.empty()) where = ka.Where(key);  // located at the first one given
        given += (given.empty() ? "" : ", ") + std::string(key);
      }
      if (!given.empty())
        warnings->push_back(where + ": outputs.kafka: " + given +
                            " given but outputs.kafka.enabled is not true: no alert goes to Kafka");
    }
  }
  return errors;
}

std::optional<std::string> ApplyOverride(YAML::Node& root, std::string_view key_value) {
  auto eq = key_value.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return "-o " + std::string(key_value) + ": expected key=value (e.g. -o outputs.kafka.topic=alerts)";
  std::string_view key = key_value.substr(0, eq);
  std::string value(key_value.substr(eq + 1));

  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (pos <= key.size()) {
    if (!parts.empty() && parts.back() == "properties") {
      parts.push_back(std::string(key.substr(pos)));
      break;
    }
    std::size_t dot = key.find('.', pos);
    if (dot == std::string_view::npos) dot = key.size();
    parts.emplace_back(key.substr(pos, dot - pos));
    pos = dot + 1;
  }
  for (const auto& p : parts)
    if (p.empty()) return "-o " + std::string(key) + ": empty path segment";

  try {
    if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) return "-o " + std::string(key) + ": the configuration document is not a map";
    YAML::Node cur = root;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      YAML::Node next = cur[parts[i]];
      if (!next || next.IsNull()) {
        cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
        next.reset(cur[parts[i]]);
      } else if (!next.IsMap()) {
        std::string prefix;
        for (std::size_t j = 0; j <= i; ++j) prefix += (j ? "." : "") + parts[j];
        return "-o " + std::string(key) + ": " + prefix + " is not a map";
      }
      cur.reset(next);
    }
    // A new node, not the file's node re-valued: it must not keep the file's
    // position, or an error in the -o value would be located in the file.
    cur[parts.back()] = YAML::Node(value);
  } catch (const YAML::Exception& e) {
    return "-o " + std::string(key) + ": " + e.what();
  }
  return std::nullopt;
}

}  // namespace vigil::outputs
