// SPDX-License-Identifier: Apache-2.0
// The lines of a gzip'd (or plain) text file, for the tests that replay
// bench/data/host-stream.jsonl.gz. Empty when the file cannot be opened.
#pragma once

#include <zlib.h>

#include <string>
#include <vector>

namespace vigil::testing {

inline std::vector<std::string> ReadGzLines(const std::string& path) {
  std::vector<std::string> lines;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return lines;
  std::string line;
  char buf[8192];
  while (gzgets(f, buf, sizeof buf) != nullptr) {
    line.append(buf);
    if (line.back() != '\n') continue;
    line.pop_back();
    lines.push_back(std::move(line));
    line.clear();
  }
  if (!line.empty()) lines.push_back(line);
  gzclose(f);
  return lines;
}

}  // namespace vigil::testing
