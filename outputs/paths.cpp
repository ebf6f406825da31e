// SPDX-License-Identifier: Apache-2.0
#include "outputs/paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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

namespace {

std::optional<std::string> CheckStat(const struct stat& st, const std::string& path, PathKind kind) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  if (S_ISLNK(st.st_mode)) return path + ": a symbolic link; refusing to follow it";
  const bool dir = kind != PathKind::kFile;
  // Not a directory where a file's directory should be: opening the file
  // fails with ENOTDIR and says so; nobody else's control to refuse here.
  if (kind == PathKind::kParentDir && !S_ISDIR(st.st_mode)) return std::nullopt;
  if (dir && !S_ISDIR(st.st_mode)) return path + ": not a directory";
  if (!dir && !S_ISREG(st.st_mode)) return path + ": not a regular file";
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return path + ": owned by uid " + std::to_string(st.st_uid) + ", not by root" +
           (::geteuid() != 0 ? " or uid " + std::to_string(::geteuid()) : std::string()) +
           "; another user could read or redirect vigil's alerts";
  const bool sticky = (st.st_mode & S_ISVTX) != 0;
  if (kind == PathKind::kParentDir && (st.st_mode & S_IWOTH) && !sticky)
    return path + ": writable by others (mode " + mode + "); another user could replace the alert file";
  if (kind != PathKind::kParentDir && (st.st_mode & (S_IWGRP | S_IWOTH)))
    return path + ": writable by group or others (mode " + mode + "); another user could " +
           (dir ? "move or replace spooled alerts" : "alter the alerts in it");
  return std::nullopt;
}

}  // namespace

std::optional<std::string> CheckOwnedPath(const std::string& path, PathKind kind) {
  struct stat st {};
  // The directory holding an alert file may be reached through a symlink
  // (its target is what is checked); the file and the spool may not.
  const int rc = kind == PathKind::kParentDir ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
  if (rc != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    return path + ": " + std::strerror(errno);
  }
  return CheckStat(st, path, kind);
}

std::optional<std::string> CheckOwnedFd(int fd, const std::string& path, PathKind kind) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return path + ": " + std::strerror(errno);
  return CheckStat(st, path, kind);
}

std::optional<std::string> CheckSinkFile(const std::string& path) {
  if (auto err = CheckOwnedPath(ParentDir(path), PathKind::kParentDir)) return err;
  return CheckOwnedPath(path, PathKind::kFile);
}

}  // namespace vigil::outputs
