/* SPDX-License-Identifier: Apache-2.0 */
// Reader of a BPF ring buffer map (BPF_MAP_TYPE_RINGBUF) for the one hot
// thread. Same record format as libbpf's ring_buffer, with three differences
// that matter at hundreds of thousands of records a second, and one for
// memory:
//
// - The consumer position is published once per batch (every kPublishBytes
//   and at the end of a Consume), not after every record. Each publication
//   is a write to a cache line every producer reads (space check, wakeup
//   decision), so a store per record made producers on other CPUs take a
//   cache miss per record.
// - The map is watched edge-triggered: a wait ends on a producer's wakeup
//   (vigil's BPF side wakes per 256 KiB of waiting data) or the timeout, not
//   as soon as a single record is waiting, so records are taken in batches
//   instead of one or two per wakeup.
// - Consume() stops at the producer position it read on entry: it always
//   returns, however fast records keep arriving (libbpf's drains until the
//   ring is empty, which a busy host may never let happen).
// - The data area is mapped once, not twice back to back as libbpf maps it.
//   The kernel inserts every page of a ring's mapping when it is made, so
//   each byte mapped counts in the process's RSS: the double mapping made a
//   16 MiB ring 32 MiB of VmRSS. A record that wraps around the end (rare:
//   records are a few hundred bytes, the ring megabytes) is copied into a
//   buffer of the reader's and handed on from there.
//
// Contract: one thread calls Poll/Consume. Records are handed to the callback
// in order, in place or (one that wraps) from the reader's copy; either way
// valid only during the call and until the reader's next Peek. A discarded record is
// skipped; a record still being written stops the batch (it is read by the
// next call). Nothing is skipped otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/non_copyable.h"

namespace vigil::capture {

class RingReader : NonCopyable {
 public:
  using RecordFn = void (*)(void* ctx, const void* data, std::size_t len);

  // Maps the ring buffer map `map_fd` (not owned; must outlive the reader).
  // nullptr and *error on failure.
  static std::unique_ptr<RingReader> Open(int map_fd, std::string* error);
  ~RingReader();

  // Waits up to timeout_ms (0: not at all) for a wakeup, then consumes.
  // Returns the number of records handled, or -errno (-EINTR on a signal:
  // the records already waiting are still consumed).
  int Poll(int timeout_ms, RecordFn fn, void* ctx);

  // Handles the records committed before the call. Returns how many, or
  // -EBADMSG for a record header the kernel cannot have written (the reader
  // stops there rather than read past the ring).
  int Consume(RecordFn fn, void* ctx);

  static constexpr uint64_t kPublishBytes = 64 * 1024;

  // Record-at-a-time access, for merging two rings (MergedReader). Begin()
  // reads the producer position; Peek() looks at the next record without
  // consuming it (discarded records are skipped), re-reading the producer
  // position when `refresh` and the snapshot is used up; Next() consumes the
  // record Peek() returned; End() publishes the consumer position. Same
  // thread rule as Consume().
  enum class PeekResult { kRecord, kEmpty, kBusy, kBad };
  void Begin();
  PeekResult Peek(bool refresh, const unsigned char** data, std::size_t* len);
  void Next();
  void End();
  // Bytes between the consumer position and the producer position read at
  // Begin() (what Begin() saw waiting).
  uint64_t pending_at_begin() const { return prod_ - begin_cons_; }
  // Position of the next record (bytes since the ring was made).
  uint64_t position() const { return cons_; }
  // The epoll descriptor watching this ring (edge-triggered).
  int epoll_fd() const { return epoll_fd_; }
  int map_fd() const { return map_fd_; }

 private:
  RingReader() = default;
  // The record of `len` bytes after the header at ring offset `off`: in the
  // mapping, or copied into wrap_ when it runs past the end of the data area.
  const unsigned char* RecordData(uint64_t off, uint64_t len);
  int map_fd_ = -1;
  uint64_t cons_ = 0;        // Begin..End: the next record
  uint64_t published_ = 0;   // consumer position last stored
  uint64_t prod_ = 0;        // producer position last read
  uint64_t begin_cons_ = 0;  // cons_ at Begin()
  uint64_t next_len_ = 0;    // bytes of the record Peek() returned, header and padding included
  int epoll_fd_ = -1;
  std::size_t page_size_ = 0;
  uint64_t mask_ = 0;
  void* consumer_page_ = nullptr;  // rw: unsigned long consumer_pos
  void* producer_map_ = nullptr;   // ro: producer page + data (once)
  std::size_t producer_map_size_ = 0;
  const unsigned char* data_ = nullptr;
  std::unique_ptr<unsigned char[]> wrap_;  // a wrapping record's copy
  std::size_t wrap_size_ = 0;
};

// Reader of the two rings of the priority lane (docs/capture.md): the
// priority ring (vg_events_hi) and the bulk ring (vg_events), merged by the
// kernel timestamp in the record header (struct vg_hdr.ts_ns).
//
// Contract: records reach the callback in timestamp order as far as both
// rings show them, and in program order for any one thread: a record is
// handed on only when the other ring's next committed record is newer, or
// that ring was seen empty after this record was seen committed (so a record
// the same thread made earlier, in the other ring, is already visible). An
// exec in the priority ring therefore never overtakes the opens its old
// image made before it, nor an open of the new image the exec. A record
// still being written in either ring stops the batch (both wait for the next
// call). Same one-thread rule as RingReader; both readers are borrowed.
class MergedReader : NonCopyable {
 public:
  static std::unique_ptr<MergedReader> Open(RingReader* hi, RingReader* bulk, std::string* error);
  ~MergedReader();

  // As RingReader::Poll, over both rings: a wakeup of either ends the wait.
  int Poll(int timeout_ms, RingReader::RecordFn fn, void* ctx);
  // Handles the records committed to either ring before the call (and those
  // committed since that sort before them). Returns how many, or -EBADMSG.
  int Consume(RingReader::RecordFn fn, void* ctx);

  // Records handed on from the priority ring (for tests and metrics).
  uint64_t hi_records() const { return hi_records_; }

 private:
  MergedReader() = default;
  RingReader* hi_ = nullptr;
  RingReader* bulk_ = nullptr;
  int epoll_fd_ = -1;
  uint64_t hi_records_ = 0;
};

}  // namespace vigil::capture
