// SPDX-License-Identifier: Apache-2.0
#include "engine/diagnostics.h"

namespace vigil {

std::string Diagnostic::ToString() const {
  std::string s = loc.file.empty() ? std::string("<input>") : loc.file;
  if (loc.line > 0) {
    s += ":" + std::to_string(loc.line);
    if (loc.col > 0) s += ":" + std::to_string(loc.col);
  }
  s += severity == Severity::kError ? ": error: " : ": warning: ";
  if (!item_kind.empty()) s += item_kind + " '" + item_name + "': ";
  if (!key.empty()) s += key + ": ";
  s += message;
  return s;
}

void Diagnostics::Error(SourceLoc loc, std::string kind, std::string name, std::string key, std::string message) {
  items_.push_back({Severity::kError, std::move(loc), std::move(kind), std::move(name), std::move(key),
                    std::move(message)});
}

void Diagnostics::Warning(SourceLoc loc, std::string kind, std::string name, std::string key,
                          std::string message) {
  items_.push_back({Severity::kWarning, std::move(loc), std::move(kind), std::move(name), std::move(key),
                    std::move(message)});
}

std::size_t Diagnostics::ErrorCount() const {
  std::size_t n = 0;
  for (const auto& d : items_) n += d.severity == Severity::kError;
  return n;
}

std::size_t Diagnostics::WarningCount() const { return items_.size() - ErrorCount(); }

std::string Diagnostics::ToString() const {
  std::string s;
  for (const auto& d : items_) s += d.ToString() + "\n";
  return s;
}

}  // namespace vigil
