// SPDX-License-Identifier: Apache-2.0
#include "engine/alert.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <random>

namespace vigil {
namespace {

constexpr std::array<std::string_view, 8> kPriorityNames = {
    "Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

std::string_view PriorityName(Priority p) {
  auto i = static_cast<std::size_t>(p);
  return i < kPriorityNames.size() ? kPriorityNames[i] : std::string_view("Unknown");
}

bool ParsePriority(std::string_view text, Priority* out) {
  for (std::size_t i = 0; i < kPriorityNames.size(); ++i) {
    if (EqualsIgnoreCase(text, kPriorityNames[i])) {
      *out = static_cast<Priority>(i);
      return true;
    }
  }
  if (EqualsIgnoreCase(text, "info")) {
    *out = Priority::kInformational;
    return true;
  }
  return false;
}

std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffull) | 0x0000000000004000ull;  // version 4
  lo = (lo & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffull));
  return buf;
}

}  // namespace vigil
