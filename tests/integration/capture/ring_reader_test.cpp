// SPDX-License-Identifier: Apache-2.0
// RingReader and MergedReader against real BPF ring buffers of one page
// (ring_writer.bpf.c writes the records), so records wrap around the end of
// the data area within a few writes. The reader maps the data area once and
// joins a wrapping record from two pieces; these cases check every byte of
// records that wrap at each kind of place, in both read paths.
#include <bpf/bpf.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bpf/ring_reader.h"
#include "ring_writer_bpf.skel.h"

using vigil::capture::MergedReader;
using vigil::capture::RingReader;

namespace {

struct SkelDeleter {
  void operator()(ring_writer_bpf* s) const { ring_writer_bpf__destroy(s); }
};
using Skel = std::unique_ptr<ring_writer_bpf, SkelDeleter>;

Skel Load() {
  Skel s(ring_writer_bpf__open_and_load());
  REQUIRE(s);
  return s;
}

// Writes one record of `len` bytes starting at byte value `fill`, stamped
// with a count of the records written (bytes 8-15), into ring 0 (a) or 1 (b).
void Emit(ring_writer_bpf* s, uint32_t ring, uint32_t len, uint32_t fill) {
  s->bss->stamp += 1;
  s->bss->ring = ring;
  s->bss->len = len;
  s->bss->fill = fill;
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  REQUIRE(bpf_prog_test_run_opts(bpf_program__fd(s->progs.emit), &opts) == 0);
  REQUIRE(opts.retval == 0);
}

// What Emit() just wrote.
std::vector<unsigned char> Written(const ring_writer_bpf* s, uint32_t len, uint32_t fill) {
  std::vector<unsigned char> v(len);
  for (uint32_t i = 0; i < len; ++i) v[i] = static_cast<unsigned char>(fill + i);
  if (len >= 16) std::memcpy(v.data() + 8, &s->bss->stamp, sizeof(s->bss->stamp));
  return v;
}

using Records = std::vector<std::vector<unsigned char>>;

void Collect(void* ctx, const void* data, std::size_t len) {
  auto* out = static_cast<Records*>(ctx);
  const auto* p = static_cast<const unsigned char*>(data);
  out->emplace_back(p, p + len);
}

std::unique_ptr<RingReader> OpenRing(bpf_map* map) {
  std::string error;
  auto r = RingReader::Open(bpf_map__fd(map), &error);
  INFO(error);
  REQUIRE(r);
  return r;
}

}  // namespace

// Lengths chosen against the 4,096-byte ring (each record takes 8 header
// bytes, rounded up to 8): 1,000-byte records wrap mid-record on the 5th;
// 4,080 leaves the next header in the ring's last 8 bytes, so that record's
// data starts exactly at offset 0; after a 4-byte record (16 bytes in the
// ring), 4,072 bytes run exactly to the ring's last byte.
TEST_CASE("RingReader: records that wrap around the ring's end arrive whole and in order", "[root]") {
  struct Row {
    const char* what;
    std::vector<uint32_t> lens;
  };
  const std::vector<Row> rows = {
      {"1,000-byte records, the 5th and 9th wrap", {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}},
      {"data starting at offset 0", {4080, 16, 4080, 24}},
      {"odd lengths (padding) crossing the end", {1001, 1003, 1005, 1007, 1009, 1011, 1013}},
      {"a record ending at the ring's last byte", {4, 4072, 3000, 4072}},
  };
  for (const Row& row : rows) {
    SECTION(row.what) {
      Skel s = Load();
      auto reader = OpenRing(s->maps.rw_ring_a);
      Records want;
      Records got;
      uint32_t fill = 7;
      for (uint32_t len : row.lens) {
        Emit(s.get(), 0, len, fill);
        want.push_back(Written(s.get(), len, fill));
        fill += 31;
        // one record at a time: the ring holds at most one of 4,080 bytes
        REQUIRE(reader->Consume(&Collect, &got) == 1);
      }
      CHECK(got == want);
    }
  }
}

TEST_CASE("MergedReader: wrapping records of both rings arrive whole, in write order", "[root]") {
  Skel s = Load();
  auto a = OpenRing(s->maps.rw_ring_a);
  auto b = OpenRing(s->maps.rw_ring_b);
  std::string error;
  auto merged = MergedReader::Open(a.get(), b.get(), &error);
  REQUIRE(merged);
  Records want;
  Records got;
  uint32_t fill = 3;
  // Alternating rings, 3 records of 700-1,300 bytes per batch: both rings
  // wrap several times over the 24 batches.
  for (int batch = 0; batch < 24; ++batch) {
    for (int k = 0; k < 3; ++k) {
      const uint32_t ring = static_cast<uint32_t>((batch + k) % 2);
      const uint32_t len = 700 + static_cast<uint32_t>((batch * 3 + k) * 97 % 600);
      Emit(s.get(), ring, len, fill);
      want.push_back(Written(s.get(), len, fill));
      fill += 13;
    }
    REQUIRE(merged->Consume(&Collect, &got) == 3);
  }
  CHECK(got == want);
}
