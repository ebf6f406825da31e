/* SPDX-License-Identifier: Apache-2.0 */
// Reader of a BPF ring buffer map (BPF_MAP_TYPE_RINGBUF) for the one hot
// thread. Same record format and mapping as libbpf's ring_buffer, with three
// differences that matter at hundreds of thousands of records a second:
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
//
// Contract: one thread calls Poll/Consume. Records are handed to the callback
// in order, in place (valid only during the call). A discarded record is
// skipped; a record still being written stops the batch (it is read by the
// next call). Nothing is skipped otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace vigil::capture {

class RingReader {
 public:
  using RecordFn = void (*)(void* ctx, const void* data, std::size_t len);

  // Maps the ring buffer map `map_fd` (not owned; must outlive the reader).
  // nullptr and *error on failure.
  static std::unique_ptr<RingReader> Open(int map_fd, std::string* error);
  ~RingReader();
  RingReader(const RingReader&) = delete;
  RingReader& operator=(const RingReader&) = delete;

  // Waits up to timeout_ms (0: not at all) for a wakeup, then consumes.
  // Returns the number of records handled, or -errno (-EINTR on a signal:
  // the records already waiting are still consumed).
  int Poll(int timeout_ms, RecordFn fn, void* ctx);

  // Handles the records committed before the call. Returns how many, or
  // -EBADMSG for a record header the kernel cannot have written (the reader
  // stops there rather than read past the ring).
  int Consume(RecordFn fn, void* ctx);

  static constexpr uint64_t kPublishBytes = 64 * 1024;

 private:
  RingReader() = default;
  int epoll_fd_ = -1;
  std::size_t page_size_ = 0;
  uint64_t mask_ = 0;
  void* consumer_page_ = nullptr;  // rw: unsigned long consumer_pos
  void* producer_map_ = nullptr;   // ro: producer page + data mapped twice
  std::size_t producer_map_size_ = 0;
  const unsigned char* data_ = nullptr;
};

}  // namespace vigil::capture
