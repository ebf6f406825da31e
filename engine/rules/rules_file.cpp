// SPDX-License-Identifier: Apache-2.0
#include "engine/rules/rules_file.h"

#include "engine/sigma/sigma.h"
#include "engine/yaml_text.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

namespace vigil::rules {
namespace {

namespace fs = std::filesystem;

class FileLoader {
 public:
  FileLoader(std::shared_ptr<const FileText> file, const LoadOptions& opts, RuleDocument* doc, Diagnostics* diags)
      : file_(std::move(file)), opts_(opts), doc_(doc), diags_(diags) {
    for (std::size_t i = 0; i < doc_->lists.size(); ++i) lists_[doc_->lists[i].name] = i;
    for (std::size_t i = 0; i < doc_->macros.size(); ++i) macros_[doc_->macros[i].name] = i;
    for (std::size_t i = 0; i < doc_->rules.size(); ++i) rules_[doc_->rules[i].name] = i;
  }

  void Load();

 private:
  SourceLoc Loc(const YAML::Node& n) const { return NodeLoc(*file_, n); }
  ScalarSource Src(const YAML::Node& n) const { return NodeSource(file_, n); }
  void Error(const YAML::Node& at, const std::string& kind, const std::string& name, const std::string& key,
             std::string msg) {
    diags_->Error(Loc(at), kind, name, key, std::move(msg));
  }
  void Warn(const YAML::Node& at, const std::string& kind, const std::string& name, const std::string& key,
            std::string msg) {
    diags_->Warning(Loc(at), kind, name, key, std::move(msg));
  }

  bool GetString(const YAML::Node& n, const std::string& kind, const std::string& name, const std::string& key,
                 std::string* out) {
    if (!n.IsScalar()) {
      Error(n, kind, name, key, "expected a string");
      return false;
    }
    *out = n.Scalar();
    return true;
  }
  bool GetBool(const YAML::Node& n, const std::string& kind, const std::string& name, const std::string& key,
               bool* out) {
    const std::string& s = n.IsScalar() ? n.Scalar() : std::string();
    if (s == "true" || s == "True" || s == "yes") return *out = true, true;
    if (s == "false" || s == "False" || s == "no") return *out = false, true;
    Error(n, kind, name, key, "expected true or false");
    return false;
  }
  bool GetStringList(const YAML::Node& n, const std::string& kind, const std::string& name, const std::string& key,
                     std::vector<std::string>* out) {
    if (n.IsNull()) return true;
    if (!n.IsSequence()) {
      Error(n, kind, name, key, "expected a list of strings");
      return false;
    }
    for (const auto& item : n) {
      if (!item.IsScalar()) {
        Error(item, kind, name, key, "expected a string item");
        return false;
      }
      out->push_back(item.Scalar());
    }
    return true;
  }

  void LoadItem(const YAML::Node& item);
  void LoadList(const YAML::Node& item);
  void LoadMacro(const YAML::Node& item);
  void LoadRule(const YAML::Node& item);
  bool ParseOverride(const YAML::Node& item, const std::string& kind, const std::string& name,
                     const std::set<std::string>& appendable, const std::set<std::string>& replaceable,
                     std::map<std::string, std::string>* out);
  bool ParseExceptions(const YAML::Node& n, const std::string& rule, std::vector<ExceptionDef>* out);
  bool ParseTests(const YAML::Node& n, const std::string& rule, std::vector<RuleTestCase>* out);
  bool CheckNewName(const YAML::Node& item, const std::string& kind, const std::string& name);

  std::shared_ptr<const FileText> file_;
  const LoadOptions& opts_;
  RuleDocument* doc_;
  Diagnostics* diags_;
  std::unordered_map<std::string, std::size_t> lists_, macros_, rules_;
  std::set<std::string> defined_here_;  // "kind/name" defined in this file
};

// YAML text is UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// past U+10FFFF); the first invalid byte, or npos. Lead bytes 0xf5-0xf7
// passed an older check here, and text with them did not survive a Sigma
// export and load back unchanged (sigma_loader_fuzz).
std::size_t FirstInvalidUtf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80                   ? 1
                          : (c >= 0xc2 && c <= 0xdf) ? 2
                          : (c >> 4) == 0xe          ? 3
                          : (c >= 0xf0 && c <= 0xf4) ? 4
                                                     : 0;
    if (n == 0 || i + n > s.size()) return i;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return i;
    // The second byte's range that rules out overlong forms, surrogates and code points past U+10FFFF.
    const auto c1 = static_cast<unsigned char>(s[i + 1 < s.size() ? i + 1 : i]);
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))
      return i;
    i += n;
  }
  return std::string::npos;
}

void FileLoader::Load() {
  if (std::size_t bad = FirstInvalidUtf8(file_->text); bad != std::string::npos) {
    uint32_t line = 1, col = 1;
    for (std::size_t i = 0; i < bad; ++i) file_->text[i] == '\n' ? (++line, col = 1) : ++col;
    diags_->Error({file_->path, line, col}, "", "", "", "invalid UTF-8 (byte 0x" +
                  std::string(1, "0123456789abcdef"[static_cast<unsigned char>(file_->text[bad]) >> 4]) +
                  std::string(1, "0123456789abcdef"[static_cast<unsigned char>(file_->text[bad]) & 15]) +
                  "): rules files must be UTF-8");
    return;
  }
  YAML::Node root;
  try {
    root = YAML::Load(file_->text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp's mark is 0-based; report it 1-based like every other location.
    SourceLoc loc{file_->path, static_cast<uint32_t>(e.mark.line + 1), static_cast<uint32_t>(e.mark.column + 1)};
    if (e.mark.is_null()) loc.line = loc.col = 0;
    diags_->Error(loc, "", "", "", "invalid YAML: " + YamlErrorText(e));
    return;
  }
  std::vector<DuplicateKey> dups;
  FindDuplicateKeys(root, &dups);
  for (const auto& d : dups)
    diags_->Error({file_->path, static_cast<uint32_t>(d.at.line + 1), static_cast<uint32_t>(d.at.column + 1)}, "", "",
                  "", "duplicate key '" + d.key + "' (first given at line " + std::to_string(d.first.line + 1) +
                          "; YAML keeps only one)");
  if (!dups.empty()) return;
  if (root.IsNull()) return;  // empty file
  if (sigma::IsSigmaDocument(root)) return sigma::LoadSigmaFile(file_, opts_, doc_, diags_);
  if (!root.IsSequence()) {
    diags_->Error(Loc(root), "", "", "", "expected a list of items (- rule: ..., - macro: ..., - list: ...)");
    return;
  }
  for (const auto& item : root) LoadItem(item);
}

void FileLoader::LoadItem(const YAML::Node& item) {
  if (!item.IsMap()) {
    diags_->Error(Loc(item), "", "", "", "expected an item map (rule, macro, list, required_engine_version...)");
    return;
  }
  if (item["rule"]) return LoadRule(item);
  if (item["macro"]) return LoadMacro(item);
  if (item["list"]) return LoadList(item);
  if (const auto& v = item["required_engine_version"]) {
    doc_->required_engine_versions.push_back(v.IsScalar() ? v.Scalar() : std::string());
    if (!v.IsScalar()) Error(v, "", "", "required_engine_version", "expected a version string");
    return;
  }
  if (const auto& v = item["required_plugin_versions"]) {
    if (!v.IsSequence()) {
      Error(v, "", "", "required_plugin_versions", "expected a list of {name, version}");
      return;
    }
    for (const auto& p : v) {
      if (!p.IsMap() || !p["name"] || !p["name"].IsScalar()) {
        Error(p, "", "", "required_plugin_versions", "expected {name: ..., version: ...}");
        continue;
      }
      PluginRequirement req{p["name"].Scalar(), p["version"] && p["version"].IsScalar() ? p["version"].Scalar() : "",
                            Loc(p)};
      doc_->required_plugins.push_back(req);
    }
    return;
  }
  std::string first = item.begin()->first.IsScalar() ? item.begin()->first.Scalar() : "?";
  Error(item, "", "", "", "unknown item '" + first +
                              "': expected rule, macro, list, required_engine_version or required_plugin_versions");
}

bool FileLoader::CheckNewName(const YAML::Node& item, const std::string& kind, const std::string& name) {
  if (name.empty()) {
    Error(item, kind, name, kind, "expected a non-empty name");
    return false;
  }
  if (!defined_here_.insert(kind + "/" + name).second) {
    Error(item, kind, name, "", "duplicate " + kind + " name in this file (use append: true or override: to extend it)");
    return false;
  }
  return true;
}

bool FileLoader::ParseOverride(const YAML::Node& item, const std::string& kind, const std::string& name,
                               const std::set<std::string>& appendable, const std::set<std::string>& replaceable,
                               std::map<std::string, std::string>* out) {
  const auto& ov = item["override"];
  if (!ov.IsMap()) {
    Error(ov, kind, name, "override", "expected a map of key: append|replace");
    return false;
  }
  bool ok = true;
  for (const auto& kv : ov) {
    std::string key = kv.first.Scalar();
    std::string mode = kv.second.IsScalar() ? kv.second.Scalar() : "";
    const auto& allowed = mode == "append" ? appendable : replaceable;
    if (mode != "append" && mode != "replace") {
      Error(kv.second, kind, name, "override", "key '" + key + "': expected append or replace");
      ok = false;
    } else if (!allowed.count(key)) {
      Error(kv.first, kind, name, "override", "key '" + key + "' cannot be overridden with " + mode);
      ok = false;
    } else if (!item[key]) {
      Error(kv.first, kind, name, "override", "key '" + key + "' is overridden but not given");
      ok = false;
    } else {
      (*out)[key] = mode;
    }
  }
  for (const auto& kv : item) {
    std::string key = kv.first.Scalar();
    if (key != kind && key != "override" && !out->count(key) && ok) {
      Error(kv.first, kind, name, "override", "key '" + key + "' is given but not listed in override");
      ok = false;
    }
  }
  return ok;
}

void FileLoader::LoadList(const YAML::Node& item) {
  std::string name;
  if (!GetString(item["list"], "list", "", "list", &name)) {
    // Not loaded, but the items are still checked: every error in one pass.
    std::vector<std::string> unused;
    if (item["items"]) GetStringList(item["items"], "list", name, "items", &unused);
    return;
  }
  std::vector<std::string> items;
  bool append = false;
  if (item["append"] && !GetBool(item["append"], "list", name, "append", &append)) return;
  std::map<std::string, std::string> ov;
  if (item["override"] && !ParseOverride(item, "list", name, {"items"}, {"items"}, &ov)) return;
  if (!item["items"]) {
    Error(item, "list", name, "items", "expected key 'items'");
    return;
  }
  if (!GetStringList(item["items"], "list", name, "items", &items)) return;
  for (const auto& kv : item) {
    std::string k = kv.first.Scalar();
    if (k != "list" && k != "items" && k != "append" && k != "override")
      Warn(kv.first, "list", name, "", "unknown key '" + k + "' (ignored)");
  }
  auto it = lists_.find(name);
  bool extend = append || ov.count("items");
  if (extend) {
    if (it == lists_.end()) {
      Error(item, "list", name, "", "append/override of a list that is not defined (earlier files first)");
      return;
    }
    auto& l = doc_->lists[it->second];
    if (append || ov["items"] == "append") l.items.insert(l.items.end(), items.begin(), items.end());
    else l.items = std::move(items);
    return;
  }
  if (!CheckNewName(item, "list", name)) return;
  ListDef def{name, std::move(items), Loc(item)};
  if (it != lists_.end()) {
    doc_->lists[it->second] = std::move(def);  // a later file redefines it
  } else {
    lists_[name] = doc_->lists.size();
    doc_->lists.push_back(std::move(def));
  }
}

void FileLoader::LoadMacro(const YAML::Node& item) {
  std::string name;
  if (!GetString(item["macro"], "macro", "", "macro", &name)) {
    // Not loaded, but the condition is still checked: every error in one pass.
    if (item["condition"] && !item["condition"].IsScalar())
      Error(item["condition"], "macro", name, "condition", "expected a string");
    return;
  }
  bool append = false;
  if (item["append"] && !GetBool(item["append"], "macro", name, "append", &append)) return;
  std::map<std::string, std::string> ov;
  if (item["override"] && !ParseOverride(item, "macro", name, {"condition"}, {"condition"}, &ov)) return;
  const auto& cond = item["condition"];
  if (!cond) {
    Error(item, "macro", name, "condition", "expected key 'condition'");
    return;
  }
  if (!cond.IsScalar()) {
    Error(cond, "macro", name, "condition", "expected a string");
    return;
  }
  for (const auto& kv : item) {
    std::string k = kv.first.Scalar();
    if (k != "macro" && k != "condition" && k != "append" && k != "override")
      Warn(kv.first, "macro", name, "", "unknown key '" + k + "' (ignored)");
  }
  auto it = macros_.find(name);
  if (append || ov.count("condition")) {
    if (it == macros_.end()) {
      Error(item, "macro", name, "", "append/override of a macro that is not defined (earlier files first)");
      return;
    }
    auto& m = doc_->macros[it->second];
    if (append || ov["condition"] == "append") {
      m.condition_src.Append(&m.condition, " ", Src(cond));
    } else {
      m.condition.clear();
      m.condition_src = {};
      m.condition_src.Append(&m.condition, "", Src(cond));
    }
    return;
  }
  if (!CheckNewName(item, "macro", name)) return;
  MacroDef def;
  def.name = name;
  def.loc = Loc(item);
  def.condition_src.Append(&def.condition, "", Src(cond));
  if (it != macros_.end()) {
    doc_->macros[it->second] = std::move(def);
  } else {
    macros_[name] = doc_->macros.size();
    doc_->macros.push_back(std::move(def));
  }
}

}  // namespace

// Defined in rule_item.cpp (rules are the largest item kind).
void LoadRuleItem(const YAML::Node& item, const std::shared_ptr<const FileText>& file, RuleDocument* doc,
                  std::unordered_map<std::string, std::size_t>* index, std::set<std::string>* defined_here,
                  Diagnostics* diags);

namespace {

void FileLoader::LoadRule(const YAML::Node& item) { LoadRuleItem(item, file_, doc_, &rules_, &defined_here_, diags_); }

}  // namespace

std::vector<std::string> ExpandRulesPaths(const std::vector<std::string>& paths, Diagnostics* diags) {
  std::vector<std::string> out;
  std::vector<std::string> empty_dirs;
  for (const auto& p : paths) {
    // A NUL would cut the name short at the system call: another file or
    // directory would be read.
    if (p.find('\0') != std::string::npos) {
      diags->Error({p, 0, 0}, "", "", "", "path contains a NUL byte");
      continue;
    }
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      diags->Error({p, 0, 0}, "", "", "", "no such file or directory");
      continue;
    }
    if (fs::is_directory(st)) {
      std::vector<std::string> files;
      for (const auto& e : fs::directory_iterator(p, ec)) {
        auto ext = e.path().extension().string();
        if (e.is_regular_file(ec) && (ext == ".yaml" || ext == ".yml")) files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) empty_dirs.push_back(p);
      out.insert(out.end(), files.begin(), files.end());
    } else {
      out.push_back(p);
    }
  }
  // An empty drop-in directory next to one that has rules is the packaged
  // default (/etc/vigil/rules.d); it is only worth a warning when no path
  // gave a single rules file.
  if (out.empty()) {
    for (const auto& d : empty_dirs)
      diags->Warning({d, 0, 0}, "", "", "", "directory has no *.yaml or *.yml files: no rules from it");
  }
  return out;
}

void LoadRulesText(const std::string& name, std::string text, RuleDocument* doc, Diagnostics* diags,
                   const LoadOptions& opts) {
  doc->files.push_back(name);
  if (text.size() > kMaxRulesFileBytes) {
    diags->Error({name, 0, 0}, "", "", "", "file is larger than " + std::to_string(kMaxRulesFileBytes) + " bytes");
    return;
  }
  auto file = std::make_shared<FileText>(FileText{name, std::move(text)});
  FileLoader(file, opts, doc, diags).Load();
}

RuleDocument LoadRulesFiles(const std::vector<std::string>& files, Diagnostics* diags, const LoadOptions& opts) {
  RuleDocument doc;
  for (const auto& f : files) {
    if (f.find('\0') != std::string::npos) {  // see ExpandRulesPaths
      diags->Error({f, 0, 0}, "", "", "", "path contains a NUL byte");
      continue;
    }
    // Only regular files: a FIFO or a device (/dev/zero) would block or never end.
    std::error_code ec;
    const auto st = std::filesystem::status(f, ec);
    if (!ec && st.type() != std::filesystem::file_type::regular) {
      diags->Error({f, 0, 0}, "", "", "",
                   st.type() == std::filesystem::file_type::directory ? "is a directory, expected a rules file"
                                                                      : "not a regular file");
      continue;
    }
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      diags->Error({f, 0, 0}, "", "", "", "cannot open file");
      continue;
    }
    in.seekg(0, std::ios::end);
    auto size = static_cast<std::size_t>(std::max<std::streamoff>(0, in.tellg()));
    if (size > kMaxRulesFileBytes) {
      diags->Error({f, 0, 0}, "", "", "", "file is larger than " + std::to_string(kMaxRulesFileBytes) + " bytes");
      continue;
    }
    in.seekg(0);
    std::string text(size, '\0');
    in.read(text.data(), static_cast<std::streamsize>(size));
    LoadRulesText(f, std::move(text), &doc, diags, opts);
  }
  return doc;
}

}  // namespace vigil::rules
