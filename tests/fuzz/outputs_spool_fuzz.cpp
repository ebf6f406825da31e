// SPDX-License-Identifier: Apache-2.0
// Fuzzes the Kafka spool's record reader: the input is the content of a
// segment file found on disk at start-up (torn, corrupted or hostile). Both
// the pure decoder and the Spool's recovery + replay path must never crash,
// hang or hand out a record whose checksum does not hold.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <spdlog/spdlog.h>

#include "outputs/kafka_sink.h"
#include "outputs/spool.h"
#include "outputs/spool_record.h"

namespace out = vigil::outputs;

namespace {
// The fuzzer's scratch directory, removed when the run exits (libFuzzer ends
// a timed run with exit(), which runs atexit handlers).
std::string g_dir;
void RemoveDir() {
  std::error_code ec;
  std::filesystem::remove_all(g_dir, ec);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    spdlog::set_level(spdlog::level::off);
    char tmpl[] = "/tmp/vigil-spool-fuzz-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    g_dir = tmpl;
    std::atexit(RemoveDir);
    return g_dir;
  }();

  // 1. The pure decoder walking the buffer as recovery does.
  std::size_t off = 0;
  while (off < size) {
    out::DecodedRecord rec;
    auto st = out::DecodeSpoolRecord(data + off, size - off, &rec);
    if (st == out::DecodeStatus::kOk) {
      if (rec.consumed < out::kSpoolHeaderSize || rec.consumed > size - off) std::abort();
      out::KafkaSink::Message m;
      (void)out::KafkaSink::UnpackMessage(rec.payload, &m);
      off += rec.consumed;
    } else if (st == out::DecodeStatus::kNeedMore) {
      break;
    } else {
      std::size_t skip = out::ResyncSpool(data + off, size - off);
      if (skip == 0) std::abort();
      off += skip;
    }
  }

  // 2. The same bytes as a segment file: open (recover), replay, append.
  std::filesystem::remove_all(dir);
  std::filesystem::create_directory(dir);
  std::string seg = dir + "/seg-00000000000000000001.vsp";
  int fd = ::open(seg.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  if (size > 0 && ::write(fd, data, size) != static_cast<ssize_t>(size)) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  out::SpoolOptions o;
  o.dir = dir;
  o.fsync_interval_ms = -1;
  std::string error;
  auto spool = out::Spool::Open(o, &error);
  if (!spool) return 0;
  uint64_t seq = 0, last = 0;
  std::string payload;
  int guard = 0;
  while (spool->ReadNext(&seq, &payload) && ++guard < 100000) {
    if (last != 0 && seq <= last) std::abort();  // replay order is strictly increasing
    last = seq;
    spool->Ack(seq);
  }
  uint64_t dropped = 0;
  (void)spool->Append("after", &dropped);
  return 0;
}
