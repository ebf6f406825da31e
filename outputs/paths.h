// SPDX-License-Identifier: Apache-2.0
// The directories and files sinks write to: creating what is missing and
// checking, before anything is written, that a path can be used.
//
// Contract:
// - MakeDirs() creates the missing directories of a path, each with `mode`
//   (existing ones are left as they are), so a fresh machine needs no
//   installer step before the first alert.
// - A sink writes only where no other user can redirect or read along:
//   CheckOwnedPath() refuses a symlink, a file or directory owned by anyone
//   but root or vigil's own user, a file writable by group or others, a
//   directory writable by others (unless sticky, like /tmp). Files are
//   opened with O_NOFOLLOW, so a symlink swapped in later is refused too.
// - CheckWritable() answers without creating or changing anything (for
//   `vigil run --dry-run`): the file exists and opens for append, or the
//   nearest existing ancestor directory is writable.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace vigil::outputs {

// Creates `dir` and its missing parents with `mode`. The error names the
// directory that could not be created and why.
std::optional<std::string> MakeDirs(const std::string& dir, mode_t mode);

// The directory part of `path` ("." when it has none).
std::string ParentDir(const std::string& path);

// nullopt when `path` (a file, or a directory when `is_dir`) exists and can
// be written, or can be created under its nearest existing ancestor;
// otherwise what is wrong, naming the path.
std::optional<std::string> CheckWritable(const std::string& path, bool is_dir);

enum class PathKind : uint8_t {
  kFile,        // an alert file: owner root/us, not writable by group or others
  kPrivateDir,  // the spool directory: owner root/us, not writable by group or others
  kParentDir,   // the directory holding an alert file: owner root/us, not writable by others unless sticky
};

// nullopt when `path` does not exist or is fit for `kind`; otherwise the
// error, naming the path and what is wrong ("owned by uid 65534, not root",
// "writable by others (mode 0777)", "a symbolic link").
std::optional<std::string> CheckOwnedPath(const std::string& path, PathKind kind);

// The same for an open file (after open(O_NOFOLLOW), to close the race).
std::optional<std::string> CheckOwnedFd(int fd, const std::string& path, PathKind kind);

// An alert file and its directory, as the file sink opens them.
std::optional<std::string> CheckSinkFile(const std::string& path);

}  // namespace vigil::outputs
