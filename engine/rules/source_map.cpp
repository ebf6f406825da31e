// SPDX-License-Identifier: Apache-2.0
#include "engine/rules/source_map.h"

namespace vigil::rules {
namespace {

constexpr uint32_t kMaxSkip = 512;

SourceLoc LineCol(const FileText& f, std::size_t pos) {
  uint32_t line = 1, col = 1;
  for (std::size_t i = 0; i < pos && i < f.text.size(); ++i) {
    if (f.text[i] == '\n') ++line, col = 1;
    else ++col;
  }
  return {f.path, line, col};
}

}  // namespace

SourceLoc ScalarSource::Locate(uint32_t offset) const {
  if (!file || offset > value.size()) return Start();
  const std::string& t = file->text;
  std::size_t p = pos;
  for (uint32_t i = 0; i <= offset && i < value.size(); ++i) {
    char c = value[i];
    std::size_t limit = std::min(t.size(), p + kMaxSkip);
    std::size_t q = p;
    while (q < limit && t[q] != c) ++q;
    if (q >= limit) return Start();
    if (i == offset) return LineCol(*file, q);
    p = q + 1;
  }
  return LineCol(*file, p);  // offset == value.size(): just past the end
}

void PiecedSource::Append(std::string* text, const std::string& sep, const ScalarSource& piece) {
  text->append(sep);
  starts.push_back(static_cast<uint32_t>(text->size()));
  pieces.push_back(piece);
  text->append(piece.value);
}

SourceLoc PiecedSource::Locate(uint32_t offset) const {
  if (pieces.empty()) return {};
  std::size_t i = 0;
  while (i + 1 < starts.size() && starts[i + 1] <= offset) ++i;
  uint32_t local = offset >= starts[i] ? offset - starts[i] : 0;
  return pieces[i].Locate(local);
}

SourceLoc NodeLoc(const FileText& file, const YAML::Node& n) {
  auto m = n.Mark();
  if (m.is_null()) return {file.path, 0, 0};
  return {file.path, static_cast<uint32_t>(m.line + 1), static_cast<uint32_t>(m.column + 1)};
}

ScalarSource NodeSource(const std::shared_ptr<const FileText>& file, const YAML::Node& n) {
  ScalarSource s;
  s.file = file;
  auto m = n.Mark();
  if (!m.is_null()) {
    s.pos = static_cast<uint32_t>(m.pos);
    s.line = static_cast<uint32_t>(m.line + 1);
    s.col = static_cast<uint32_t>(m.column + 1);
  }
  s.value = n.Scalar();
  return s;
}

}  // namespace vigil::rules
