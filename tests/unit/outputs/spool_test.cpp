// SPDX-License-Identifier: Apache-2.0
// Disk spool: ordering, acknowledgement, restart, corruption, bounds.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "outputs/spool.h"
#include "outputs/spool_record.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
namespace out = vigil::outputs;

namespace {

struct TempDir : vigil::testing::TempDirOf<fs::path> {
  TempDir() : TempDirOf("spool") {}
};

std::unique_ptr<out::Spool> OpenSpool(const fs::path& dir, uint64_t max_bytes = 64 << 20, uint64_t segment = 0) {
  out::SpoolOptions o;
  o.dir = dir.string();
  o.max_bytes = max_bytes;
  o.segment_bytes = segment;
  o.fsync_interval_ms = -1;
  o.ack_persist_ms = 0;
  std::string error;
  auto s = out::Spool::Open(o, &error);
  INFO(error);
  REQUIRE(s);
  return s;
}

std::string Payload(int i) { return "alert-" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 7), 'x'); }

std::vector<fs::path> Segments(const fs::path& dir) {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".vsp") v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("Spool records decode; damaged ones are detected", "[unit]") {
  std::string rec;
  out::EncodeSpoolRecord(42, "hello", &rec);
  REQUIRE(rec.size() == out::kSpoolHeaderSize + 5);
  out::DecodedRecord d;
  REQUIRE(out::DecodeSpoolRecord(reinterpret_cast<const uint8_t*>(rec.data()), rec.size(), &d) ==
          out::DecodeStatus::kOk);
  CHECK(d.seq == 42);
  CHECK(d.payload == "hello");
  CHECK(d.consumed == rec.size());

  struct Case {
    const char* name;
    std::size_t flip_at;  // byte to change; npos = truncate instead
    std::size_t keep;
    out::DecodeStatus want;
  };
  const Case cases[] = {
      {"magic", 0, rec.size(), out::DecodeStatus::kCorrupt},
      {"length", 7, rec.size(), out::DecodeStatus::kCorrupt},
      {"seq", 9, rec.size(), out::DecodeStatus::kCorrupt},
      {"crc", 16, rec.size(), out::DecodeStatus::kCorrupt},
      {"payload", 26, rec.size(), out::DecodeStatus::kCorrupt},
      {"truncated header", std::string::npos, 10, out::DecodeStatus::kNeedMore},
      {"truncated payload", std::string::npos, rec.size() - 1, out::DecodeStatus::kNeedMore},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    std::string bad = rec.substr(0, c.keep);
    if (c.flip_at != std::string::npos) bad[c.flip_at] = static_cast<char>(bad[c.flip_at] ^ 0x40);
    out::DecodedRecord r;
    CHECK(out::DecodeSpoolRecord(reinterpret_cast<const uint8_t*>(bad.data()), bad.size(), &r) == c.want);
  }
}

TEST_CASE("Spool hands records out in order and resumes after reopen at the cursor", "[unit]") {
  TempDir dir;
  {
    auto s = OpenSpool(dir.path, 64 << 20, 4096);  // small segments: several files
    uint64_t dropped = 0;
    for (int i = 0; i < 500; ++i) REQUIRE(s->Append(Payload(i), &dropped) == uint64_t(i + 1));
    CHECK(dropped == 0);
    CHECK(Segments(dir.path).size() > 3);
    uint64_t seq;
    std::string p;
    for (int i = 0; i < 200; ++i) {
      REQUIRE(s->ReadNext(&seq, &p));
      CHECK(seq == uint64_t(i + 1));
      CHECK(p == Payload(i));
      s->Ack(seq);
    }
    // Read 50 more but acknowledge none: they must come back after restart.
    for (int i = 0; i < 50; ++i) REQUIRE(s->ReadNext(&seq, &p));
    s->Maintain(true);
    CHECK(s->cursor() == 201);
  }
  auto s = OpenSpool(dir.path, 64 << 20, 4096);
  CHECK(s->pending() == 300);
  uint64_t seq;
  std::string p;
  for (int i = 200; i < 500; ++i) {
    REQUIRE(s->ReadNext(&seq, &p));
    REQUIRE(seq == uint64_t(i + 1));
    REQUIRE(p == Payload(i));
    s->Ack(seq);
  }
  CHECK_FALSE(s->ReadNext(&seq, &p));
  uint64_t dropped;
  CHECK(s->Append("next", &dropped) == 501u);  // sequence continues after restart
  s->Maintain(true);
  CHECK(Segments(dir.path).size() == 1);  // delivered segments are deleted
}

TEST_CASE("Spool acknowledgements out of order advance the cursor only when contiguous", "[unit]") {
  TempDir dir;
  auto s = OpenSpool(dir.path);
  uint64_t dropped, seq;
  std::string p;
  for (int i = 0; i < 5; ++i) s->Append(Payload(i), &dropped);
  for (int i = 0; i < 5; ++i) REQUIRE(s->ReadNext(&seq, &p));
  s->Ack(3);
  s->Ack(2);
  CHECK(s->cursor() == 1);
  s->Ack(1);
  CHECK(s->cursor() == 4);
  // Rewind hands out the unacknowledged ones again, in order.
  s->Rewind();
  REQUIRE(s->ReadNext(&seq, &p));
  CHECK(seq == 4);
  REQUIRE(s->ReadNext(&seq, &p));
  CHECK(seq == 5);
  CHECK_FALSE(s->ReadNext(&seq, &p));
}

TEST_CASE("Spool detects a corrupt tail, truncates it, counts it and keeps appending", "[unit]") {
  TempDir dir;
  {
    auto s = OpenSpool(dir.path);
    uint64_t dropped;
    for (int i = 0; i < 10; ++i) s->Append(Payload(i), &dropped);
  }
  auto seg = Segments(dir.path).at(0);
  auto good_size = fs::file_size(seg);
  {
    std::ofstream f(seg, std::ios::app | std::ios::binary);
    std::string partial;
    out::EncodeSpoolRecord(11, "torn record", &partial);
    f << partial.substr(0, 15);  // a write cut short by a crash
  }
  auto s = OpenSpool(dir.path);
  CHECK(s->corrupt() == 1);
  CHECK(fs::file_size(seg) == good_size);
  uint64_t dropped;
  CHECK(s->Append("after", &dropped) == 11u);
  uint64_t seq;
  std::string p;
  int n = 0;
  while (s->ReadNext(&seq, &p)) {
    ++n;
    CHECK(seq == uint64_t(n));
  }
  CHECK(n == 11);
  CHECK(p == "after");
}

TEST_CASE("Spool skips a corrupt record in the middle and replays the rest", "[unit]") {
  TempDir dir;
  {
    auto s = OpenSpool(dir.path);
    uint64_t dropped;
    for (int i = 0; i < 10; ++i) s->Append(Payload(i), &dropped);
  }
  auto seg = Segments(dir.path).at(0);
  {
    // Damage the payload of record 4 (seq 5): its checksum no longer matches.
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    std::size_t off = 0;
    for (int i = 0; i < 4; ++i) off += out::kSpoolHeaderSize + Payload(i).size();
    f.seekp(static_cast<std::streamoff>(off + out::kSpoolHeaderSize + 2));
    f.put('#');
  }
  auto s = OpenSpool(dir.path);
  CHECK(s->corrupt() == 1);
  std::vector<uint64_t> seqs;
  uint64_t seq;
  std::string p;
  while (s->ReadNext(&seq, &p)) {
    seqs.push_back(seq);
    s->Ack(seq);
  }
  CHECK(seqs == std::vector<uint64_t>{1, 2, 3, 4, 6, 7, 8, 9, 10});
  CHECK(s->pending() == 0);
}

TEST_CASE("A full spool drops the oldest segments and counts the undelivered records", "[unit]") {
  TempDir dir;
  auto s = OpenSpool(dir.path, 64 << 10, 8 << 10);  // 64 KiB, 8 KiB segments
  const std::string payload(200, 'a');
  uint64_t total_dropped = 0;
  for (int i = 0; i < 2000; ++i) {
    uint64_t dropped = 0;
    REQUIRE(s->Append(payload, &dropped));
    total_dropped += dropped;
  }
  CHECK(s->bytes() <= 64u << 10);
  CHECK(total_dropped > 0);
  // What remains plus what was dropped is everything appended.
  CHECK(s->pending() + total_dropped == 2000);
  uint64_t seq, first = 0, n = 0;
  std::string p;
  while (s->ReadNext(&seq, &p)) {
    if (n == 0) first = seq;
    CHECK(seq == first + n);  // what remains is contiguous: the newest
    ++n;
  }
  CHECK(first + n - 1 == 2000);
  CHECK(n == 2000 - total_dropped);
}

// Issue 24 item 1: overflow deleted the oldest segments even when their
// records were handed out (held only by the producer's queue), so a crash
// lost them uncounted. In-flight records now stay; newer, never handed out
// segments go instead, and every record is in the spool or counted.
TEST_CASE("Spool overflow keeps records in flight and counts every record it loses", "[unit]") {
  TempDir dir;
  auto s = OpenSpool(dir.path, 64 << 10, 8 << 10);
  const std::string payload(200, 'a');
  uint64_t lost = 0, dropped = 0, seq = 0;
  for (int i = 0; i < 100; ++i) REQUIRE(s->Append(payload, &dropped));
  std::string p;
  for (int i = 0; i < 50; ++i) REQUIRE(s->ReadNext(&seq, &p));  // 1..50 in flight
  CHECK(s->in_flight_bytes() == 50 * (out::kSpoolHeaderSize + payload.size()));
  for (int i = 0; i < 2000; ++i) {
    dropped = 0;
    if (!s->Append(payload, &dropped)) ++lost;
    lost += dropped;
  }
  CHECK(lost > 0);
  CHECK(s->refused_full() == 0);  // newer segments could always go
  CHECK(s->bytes() <= 64u << 10);
  for (uint64_t q = 1; q <= 50; ++q) CHECK(s->Retains(q));
  CHECK(s->pending() + lost == 2100);
  // After a failed delivery the in-flight records are handed out again.
  s->Rewind();
  std::vector<uint64_t> got;
  while (s->ReadNext(&seq, &p)) got.push_back(seq);
  REQUIRE(got.size() == 2100 - lost);
  for (uint64_t q = 1; q <= 50; ++q) CHECK(got[q - 1] == q);
  CHECK(got.back() == 2100);
}

TEST_CASE("A spool full of records in flight refuses new records instead of evicting them", "[unit]") {
  TempDir dir;
  auto s = OpenSpool(dir.path, 64 << 10, 8 << 10);
  const std::string payload(200, 'a');
  uint64_t dropped = 0, seq = 0, stored = 0;
  std::string p;
  for (int i = 0; i < 1000; ++i) {
    if (s->Append(payload, &dropped)) ++stored;
    CHECK(dropped == 0);
    while (s->ReadNext(&seq, &p)) {
    }  // everything handed out at once (a producer with room)
  }
  CHECK(s->refused_full() == 1000 - stored);
  CHECK(s->refused_full() > 0);
  CHECK(s->bytes() <= 64u << 10);
  CHECK(s->pending() == stored);
  for (uint64_t q = 1; q <= stored; ++q) CHECK(s->Retains(q));
  // Delivered records make room again.
  for (uint64_t q = 1; q <= stored; ++q) s->Ack(q);
  s->Maintain(true);
  CHECK(s->Append(payload, &dropped));
}

// Issue 22: with Kafka enabled on a fresh machine the agent refused to start
// because /var/lib/vigil (the spool's parent) was missing.
TEST_CASE("Spool creates its directory and missing parents with mode 0700", "[unit]") {
  TempDir dir;
  auto spool_dir = dir.path / "var" / "lib" / "vigil" / "spool";
  auto s = OpenSpool(spool_dir);
  uint64_t dropped = 0;
  CHECK(s->Append("x", &dropped));
  for (auto d : {dir.path / "var" / "lib", dir.path / "var" / "lib" / "vigil", spool_dir}) {
    struct stat st {};
    REQUIRE(::stat(d.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
  }
}

// Issue 24 item 8: a 0777 spool directory was accepted, so another user could
// move a pending segment away (alerts lost) or plant one.
TEST_CASE("Spool refuses a directory writable by group or others, or a symlink", "[unit]") {
  TempDir dir;
  out::SpoolOptions o;
  std::string error;
  fs::create_directory(dir.path / "open");
  fs::permissions(dir.path / "open", fs::perms(0777));
  o.dir = (dir.path / "open").string();
  CHECK_FALSE(out::Spool::Open(o, &error));
  CHECK(error == "spool: refusing " + o.dir + ": writable by group or others (mode 0777); another user could "
                 "move or replace spooled alerts");
  fs::create_directory(dir.path / "real");
  fs::permissions(dir.path / "real", fs::perms(0700));
  fs::create_directory_symlink(dir.path / "real", dir.path / "link");
  o.dir = (dir.path / "link").string();
  CHECK_FALSE(out::Spool::Open(o, &error));
  CHECK(error == "spool: refusing " + o.dir + ": a symbolic link; refusing to follow it");
  o.dir = (dir.path / "real").string();
  CHECK(out::Spool::Open(o, &error));
}

TEST_CASE("A corrupt cursor file replays everything rather than skipping", "[unit]") {
  TempDir dir;
  {
    auto s = OpenSpool(dir.path);
    uint64_t dropped, seq;
    std::string p;
    for (int i = 0; i < 5; ++i) s->Append(Payload(i), &dropped);
    for (int i = 0; i < 3; ++i) {
      s->ReadNext(&seq, &p);
      s->Ack(seq);
    }
    s->Maintain(true);
  }
  {
    std::fstream f(dir.path / "ack", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1);
    f.put('\x7f');
  }
  auto s = OpenSpool(dir.path);
  CHECK(s->corrupt() == 1);
  uint64_t seq;
  std::string p;
  REQUIRE(s->ReadNext(&seq, &p));
  CHECK(seq == 1);
}
