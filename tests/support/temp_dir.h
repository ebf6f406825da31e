// SPDX-License-Identifier: Apache-2.0
// A test's scratch directory: /tmp/vigil-NAME-XXXXXX, made fresh and removed
// with all in it at the end of the scope. Path is std::string or
// std::filesystem::path, whichever the test joins names to.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "engine/non_copyable.h"

namespace vigil::testing {

template <typename Path = std::string>
struct TempDirOf : NonCopyable {
  // Throws (the test fails) when the directory cannot be made.
  explicit TempDirOf(const std::string& name) {
    std::string tmpl = "/tmp/vigil-" + name + "-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl + " failed");
    path = tmpl;
  }
  ~TempDirOf() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  Path path;
};

}  // namespace vigil::testing
