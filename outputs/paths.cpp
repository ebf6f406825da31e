// SPDX-License-Identifier: Apache-2.0
#include "outputs/paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vigil::outputs {

std::string ParentDir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::optional<std::string> MakeDirs(const std::string& dir, mode_t mode) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return std::nullopt;
    return "cannot create directory " + dir + ": a file of that name exists";
  }
  if (errno != ENOENT) return "cannot use directory " + dir + ": " + std::strerror(errno);
  const std::string parent = ParentDir(dir);
  if (parent != dir && parent != "." && parent != "/")
    if (auto err = MakeDirs(parent, mode)) return err;
  // mkdir's mode is filtered by the umask; the mode asked for is the one wanted.
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
    return "cannot create directory " + dir + ": " + std::strerror(errno);
  if (::chmod(dir.c_str(), mode) != 0) return "cannot set the mode of " + dir + ": " + std::strerror(errno);
  return std::nullopt;
}

std::optional<std::string> CheckWritable(const std::string& path, bool is_dir) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (is_dir && !S_ISDIR(st.st_mode)) return path + ": not a directory";
    if (!is_dir && !S_ISREG(st.st_mode)) return path + ": not a regular file";
    if (::access(path.c_str(), is_dir ? (W_OK | X_OK) : W_OK) != 0)
      return path + ": cannot be written: " + std::strerror(errno);
    return std::nullopt;
  }
  if (errno != ENOENT && errno != ENOTDIR) return path + ": " + std::strerror(errno);
  // Missing: it (and missing parents) would be created under the nearest
  // existing ancestor, which must be a writable directory.
  std::string dir = ParentDir(path);
  while (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT && errno != ENOTDIR) return path + ": cannot use " + dir + ": " + std::strerror(errno);
    std::string up = ParentDir(dir);
    if (up == dir) break;
    dir = up;
  }
  if (!S_ISDIR(st.st_mode)) return path + ": cannot be created: " + dir + " is not a directory";
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return path + ": cannot be created: " + dir + " is not writable: " + std::strerror(errno);
  return std::nullopt;
}

}  // namespace vigil::outputs
