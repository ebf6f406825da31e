// SPDX-License-Identifier: Apache-2.0
// The directories and files sinks write to: creating what is missing and
// checking, before anything is written, that a path can be used.
//
// Contract:
// - MakeDirs() creates the missing directories of a path, each with `mode`
//   (existing ones are left as they are), so a fresh machine needs no
//   installer step before the first alert.
// - CheckWritable() answers without creating or changing anything (for
//   `vigil run --dry-run`): the file exists and opens for append, or the
//   nearest existing ancestor directory is writable.
#pragma once

#include <sys/types.h>

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

}  // namespace vigil::outputs
