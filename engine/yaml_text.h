// SPDX-License-Identifier: Apache-2.0
// The text of a yaml-cpp parse error, for located diagnostics.
#pragma once

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>

#include <string>
#include <unordered_map>
#include <vector>

namespace vigil {

// yaml-cpp reports its nesting limit with the message "bad file"; say what
// actually happened instead. Every other error keeps yaml-cpp's message.
inline std::string YamlErrorText(const YAML::Exception& e) {
  if (const auto* deep = dynamic_cast<const YAML::DeepRecursion*>(&e))
    return "nested " + std::to_string(deep->depth()) + " levels deep, more than the YAML parser accepts";
  return e.msg;
}

// A key given twice in one map. yaml-cpp keeps both and a lookup sees only
// the first, so the second would be ignored without a word.
struct DuplicateKey {
  std::string key;
  YAML::Mark at;     // the repeated key
  YAML::Mark first;  // where it was first given
};

// Every duplicate scalar key in `n` and below (the parser bounds the depth).
inline void FindDuplicateKeys(const YAML::Node& n, std::vector<DuplicateKey>* out) {
  if (n.IsMap()) {
    std::unordered_map<std::string, YAML::Mark> seen;
    for (const auto& kv : n) {
      if (kv.first.IsScalar()) {
        auto [it, fresh] = seen.emplace(kv.first.Scalar(), kv.first.Mark());
        if (!fresh) out->push_back({kv.first.Scalar(), kv.first.Mark(), it->second});
      }
      FindDuplicateKeys(kv.second, out);
    }
  } else if (n.IsSequence()) {
    for (const auto& item : n) FindDuplicateKeys(item, out);
  }
}

// YAML::LoadAll of yaml-cpp 0.7 never returns on some invalid streams (a
// lone "," after a newline is one): the parser hands back an empty document
// at the same token forever and the list of documents grows without bound.
// Each document normally consumes at least one token, so a document that
// starts where the previous one started is that loop. This walks the stream
// with the parser's own events first and throws a ParserException at that
// token instead; only a stream that ends is then given to LoadAll.
inline std::vector<YAML::Node> LoadAllDocuments(const std::string& text) {
  struct StartMarks : YAML::EventHandler {
    YAML::Mark last;
    bool stuck = false;
    void OnDocumentStart(const YAML::Mark& m) override {
      stuck = started && m.pos == last.pos;
      started = true;
      last = m;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
    bool started = false;
  };
  std::istringstream in(text);
  YAML::Parser parser(in);
  StartMarks marks;
  while (parser.HandleNextDocument(marks))
    if (marks.stuck) throw YAML::ParserException(marks.last, "unexpected token where a document should start");
  return YAML::LoadAll(text);
}

}  // namespace vigil
