// SPDX-License-Identifier: Apache-2.0
// Sink paths owned by another user (needs root to chown): issue 24 item 8.
// The agent appended to a file owned by another user and accepted a spool
// directory owned by nobody; both are refused, naming the path and owner.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "outputs/file_sink.h"
#include "outputs/outputs.h"
#include "outputs/paths.h"
#include "outputs/spool.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
namespace out = vigil::outputs;

namespace {

constexpr uid_t kNobody = 65534;

struct TempDir : vigil::testing::TempDirOf<fs::path> {
  TempDir() : TempDirOf("paths") {}
};

}  // namespace

TEST_CASE("Sink files, their directory and the spool owned by another user are refused", "[root]") {
  INFO("needs root: chown to nobody");
  REQUIRE(::geteuid() == 0);
  TempDir dir;
  const std::string owned = "owned by uid 65534, not by root";

  const fs::path file = dir.path / "theirs.json";
  { std::ofstream(file) << ""; }
  REQUIRE(::chown(file.c_str(), kNobody, kNobody) == 0);
  auto err = out::CheckSinkFile(file.string());
  REQUIRE(err);
  CHECK(err->rfind(file.string() + ": " + owned, 0) == 0);
  out::FileSinkOptions fo;
  fo.path = file.string();
  out::FileSink sink(fo);
  vigil::Alert a;
  a.rule = "r";
  sink.Write(a);
  CHECK(sink.counters().sent == 0);
  CHECK(fs::file_size(file) == 0);

  const fs::path their_dir = dir.path / "their-dir";
  fs::create_directory(their_dir);
  REQUIRE(::chown(their_dir.c_str(), kNobody, kNobody) == 0);
  err = out::CheckSinkFile((their_dir / "alerts.json").string());
  REQUIRE(err);
  CHECK(err->rfind(their_dir.string() + ": " + owned, 0) == 0);

  // The agent refuses to start with such a path (and --dry-run says the same).
  out::OutputsConfig cfg;
  cfg.file.enabled = true;
  cfg.file.path = file.string();
  out::FanOut fanout;
  auto start_err = out::BuildOutputs(cfg, &fanout);
  REQUIRE(start_err);
  CHECK(start_err->find(owned) != std::string::npos);
  auto problems = out::CheckOutputs(cfg);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] == *start_err);

  out::SpoolOptions so;
  so.dir = (dir.path / "spool").string();
  fs::create_directory(so.dir);
  fs::permissions(so.dir, fs::perms(0700));
  REQUIRE(::chown(so.dir.c_str(), kNobody, kNobody) == 0);
  std::string serr;
  CHECK_FALSE(out::Spool::Open(so, &serr));
  CHECK(serr.rfind("spool: refusing " + so.dir + ": " + owned, 0) == 0);
}
