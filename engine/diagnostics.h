// SPDX-License-Identifier: Apache-2.0
// Load-time diagnostics shared by every engine stage (rules, condition,
// compile). A load collects all of them instead of stopping at the first, so
// an author fixes a file in one pass.
//
// Format (Diagnostic::ToString):
//   <file>:<line>:<col>: <error|warning>: <kind> '<name>': <key>: <message>
// e.g. rules/net.yaml:42:17: error: rule 'Outbound to miner': condition: expected a value after 'in'
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

// A position in a rules file; line and column are 1-based, 0 = unknown.
struct SourceLoc {
  std::string file;
  uint32_t line = 0;
  uint32_t col = 0;
};

enum class Severity : uint8_t { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  SourceLoc loc;
  std::string item_kind;  // "rule", "macro", "list", "exception", "" (file level)
  std::string item_name;
  std::string key;        // "condition", "output", "items", ... ("" when not about one key)
  std::string message;    // what was wrong / expected

  std::string ToString() const;
};

class Diagnostics {
 public:
  void Add(Diagnostic d) { items_.push_back(std::move(d)); }
  void Error(SourceLoc loc, std::string kind, std::string name, std::string key, std::string message);
  void Warning(SourceLoc loc, std::string kind, std::string name, std::string key, std::string message);

  const std::vector<Diagnostic>& items() const { return items_; }
  std::size_t ErrorCount() const;
  std::size_t WarningCount() const;
  bool HasErrors() const { return ErrorCount() > 0; }
  // Every diagnostic, one per line.
  std::string ToString() const;

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace vigil
