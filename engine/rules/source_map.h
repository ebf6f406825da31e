// SPDX-License-Identifier: Apache-2.0
// Maps a byte offset inside a YAML scalar's value back to file:line:col.
//
// yaml-cpp gives the position where a scalar starts, not where each of its
// characters came from (folding, indentation and quotes change the text). We
// align the value against the file text from that position, which recovers
// exact positions for plain, quoted and block scalars in practice; if the
// alignment fails, the scalar's start is used.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "engine/diagnostics.h"

namespace vigil::rules {

struct FileText {
  std::string path;
  std::string text;
};

struct ScalarSource {
  std::shared_ptr<const FileText> file;
  uint32_t pos = 0;  // byte offset of the scalar's start in the file
  uint32_t line = 0, col = 0;  // 1-based position of the scalar's start
  std::string value;

  SourceLoc Start() const { return {file ? file->path : std::string(), line, col}; }
  SourceLoc Locate(uint32_t offset) const;
};

// A text assembled from several scalars (a condition extended by appends):
// piece i covers [starts[i], starts[i+1]).
struct PiecedSource {
  std::vector<uint32_t> starts;
  std::vector<ScalarSource> pieces;

  // Appends `sep` (not located) and `piece` to `text`.
  void Append(std::string* text, const std::string& sep, const ScalarSource& piece);
  SourceLoc Locate(uint32_t offset) const;
};

// Where a YAML node starts in `file` (line and column 0 when yaml-cpp has no mark).
SourceLoc NodeLoc(const FileText& file, const YAML::Node& n);
// A scalar node's value with its position in `file`, to locate errors inside it.
ScalarSource NodeSource(const std::shared_ptr<const FileText>& file, const YAML::Node& n);

}  // namespace vigil::rules
