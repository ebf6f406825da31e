// SPDX-License-Identifier: Apache-2.0
#include "bpf/ring_reader.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vigil::capture {

namespace {

// The kernel's record header (include/uapi/linux/bpf.h, kernel/bpf/ringbuf.c):
// u32 length with the two top bits as flags, u32 page offset; records start
// 8-byte aligned.
constexpr uint32_t kBusyBit = BPF_RINGBUF_BUSY_BIT;
constexpr uint32_t kDiscardBit = BPF_RINGBUF_DISCARD_BIT;
constexpr uint64_t kHeaderSize = BPF_RINGBUF_HDR_SZ;

uint64_t LoadAcquire(const void* p) {
  return __atomic_load_n(static_cast<const uint64_t*>(p), __ATOMIC_ACQUIRE);
}

}  // namespace

std::unique_ptr<RingReader> RingReader::Open(int map_fd, std::string* error) {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(map_fd, &info, &len) != 0) {
    *error = std::string("reading the ring buffer map's info failed: ") + std::strerror(errno);
    return nullptr;
  }
  if (info.type != BPF_MAP_TYPE_RINGBUF || info.max_entries == 0 ||
      (info.max_entries & (info.max_entries - 1)) != 0) {
    *error = "the ring buffer map is not a BPF ring buffer of a power-of-two size";
    return nullptr;
  }
  std::unique_ptr<RingReader> r(new RingReader());
  r->map_fd_ = map_fd;
  r->page_size_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  r->mask_ = info.max_entries - 1;
  r->consumer_page_ = mmap(nullptr, r->page_size_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
  if (r->consumer_page_ == MAP_FAILED) {
    r->consumer_page_ = nullptr;
    *error = std::string("mapping the ring buffer's consumer page failed: ") + std::strerror(errno);
    return nullptr;
  }
  // producer page, then the data area once (the kernel would map it twice
  // over for a length of 2 * max_entries; RecordData joins a wrapping record)
  r->producer_map_size_ = r->page_size_ + static_cast<std::size_t>(info.max_entries);
  r->producer_map_ =
      mmap(nullptr, r->producer_map_size_, PROT_READ, MAP_SHARED, map_fd, static_cast<off_t>(r->page_size_));
  if (r->producer_map_ == MAP_FAILED) {
    r->producer_map_ = nullptr;
    *error = std::string("mapping the ring buffer's data failed: ") + std::strerror(errno);
    return nullptr;
  }
  r->data_ = static_cast<const unsigned char*>(r->producer_map_) + r->page_size_;
  r->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (r->epoll_fd_ < 0) {
    *error = std::string("epoll_create1 failed: ") + std::strerror(errno);
    return nullptr;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  if (epoll_ctl(r->epoll_fd_, EPOLL_CTL_ADD, map_fd, &ev) != 0) {
    *error = std::string("watching the ring buffer failed: ") + std::strerror(errno);
    return nullptr;
  }
  return r;
}

RingReader::~RingReader() {
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (producer_map_) munmap(producer_map_, producer_map_size_);
  if (consumer_page_) munmap(consumer_page_, page_size_);
}

const unsigned char* RingReader::RecordData(uint64_t off, uint64_t len) {
  const uint64_t size = mask_ + 1;
  const uint64_t start = (off + kHeaderSize) & mask_;  // headers are 8-aligned: never split
  if (start + len <= size) return data_ + start;
  if (wrap_size_ < len) {
    wrap_.reset(new unsigned char[len]);
    wrap_size_ = static_cast<std::size_t>(len);
  }
  const uint64_t head = size - start;
  std::memcpy(wrap_.get(), data_ + start, static_cast<std::size_t>(head));
  std::memcpy(wrap_.get() + head, data_, static_cast<std::size_t>(len - head));
  return wrap_.get();
}

int RingReader::Consume(RecordFn fn, void* ctx) {
  uint64_t* consumer_pos = static_cast<uint64_t*>(consumer_page_);
  uint64_t cons = __atomic_load_n(consumer_pos, __ATOMIC_RELAXED);  // only this thread writes it
  const uint64_t prod = LoadAcquire(producer_map_);
  uint64_t published = cons;
  int handled = 0;
  int rc = 0;
  while (cons < prod) {
    const unsigned char* hdr = data_ + (cons & mask_);
    uint32_t word = __atomic_load_n(reinterpret_cast<const uint32_t*>(hdr), __ATOMIC_ACQUIRE);
    if (word & kBusyBit) break;  // reserved, not yet committed: next call
    uint64_t len = word & ~(kBusyBit | kDiscardBit);
    if (len > mask_) {  // longer than the ring: not a record the kernel wrote
      rc = -EBADMSG;
      break;
    }
    if (!(word & kDiscardBit)) {
      fn(ctx, RecordData(cons & mask_, len), static_cast<std::size_t>(len));
      ++handled;
    }
    cons += (len + kHeaderSize + 7) & ~uint64_t{7};
    if (cons - published >= kPublishBytes) {
      __atomic_store_n(consumer_pos, cons, __ATOMIC_RELEASE);
      published = cons;
    }
  }
  if (cons != published) __atomic_store_n(consumer_pos, cons, __ATOMIC_RELEASE);
  return rc < 0 ? rc : handled;
}

void RingReader::Begin() {
  cons_ = __atomic_load_n(static_cast<uint64_t*>(consumer_page_), __ATOMIC_RELAXED);
  published_ = begin_cons_ = cons_;
  prod_ = LoadAcquire(producer_map_);
  next_len_ = 0;
}

RingReader::PeekResult RingReader::Peek(bool refresh, const unsigned char** data, std::size_t* len) {
  for (;;) {
    if (cons_ >= prod_) {
      if (!refresh) return PeekResult::kEmpty;
      prod_ = LoadAcquire(producer_map_);
      if (cons_ >= prod_) return PeekResult::kEmpty;
    }
    const unsigned char* hdr = data_ + (cons_ & mask_);
    uint32_t word = __atomic_load_n(reinterpret_cast<const uint32_t*>(hdr), __ATOMIC_ACQUIRE);
    if (word & kBusyBit) return PeekResult::kBusy;
    uint64_t n = word & ~(kBusyBit | kDiscardBit);
    if (n > mask_) return PeekResult::kBad;
    uint64_t step = (n + kHeaderSize + 7) & ~uint64_t{7};
    if (word & kDiscardBit) {
      cons_ += step;
      continue;
    }
    *data = RecordData(cons_ & mask_, n);
    *len = static_cast<std::size_t>(n);
    next_len_ = step;
    return PeekResult::kRecord;
  }
}

void RingReader::Next() {
  cons_ += next_len_;
  next_len_ = 0;
  if (cons_ - published_ >= kPublishBytes) {
    __atomic_store_n(static_cast<uint64_t*>(consumer_page_), cons_, __ATOMIC_RELEASE);
    published_ = cons_;
  }
}

void RingReader::End() {
  if (cons_ != published_) __atomic_store_n(static_cast<uint64_t*>(consumer_page_), cons_, __ATOMIC_RELEASE);
  published_ = cons_;
}

int RingReader::Poll(int timeout_ms, RecordFn fn, void* ctx) {
  int wait_rc = 0;
  if (timeout_ms != 0) {
    epoll_event ev{};
    if (epoll_wait(epoll_fd_, &ev, 1, timeout_ms) < 0) wait_rc = -errno;
  }
  if (wait_rc < 0 && wait_rc != -EINTR) return wait_rc;
  int n = Consume(fn, ctx);
  if (n < 0) return n;
  return wait_rc < 0 && n == 0 ? wait_rc : n;
}

namespace {

// struct vg_hdr: u32 size, u16 kind, u16 type, u64 ts_ns (bpf/vigil_abi.h).
uint64_t RecordTs(const unsigned char* data, std::size_t len) {
  if (len < 16) return 0;
  uint64_t ts;
  std::memcpy(&ts, data + 8, sizeof(ts));
  return ts;
}

}  // namespace

std::unique_ptr<MergedReader> MergedReader::Open(RingReader* hi, RingReader* bulk, std::string* error) {
  std::unique_ptr<MergedReader> m(new MergedReader());
  m->hi_ = hi;
  m->bulk_ = bulk;
  m->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (m->epoll_fd_ < 0) {
    *error = std::string("epoll_create1 failed: ") + std::strerror(errno);
    return nullptr;
  }
  for (RingReader* r : {hi, bulk}) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    if (epoll_ctl(m->epoll_fd_, EPOLL_CTL_ADD, r->map_fd(), &ev) != 0) {
      *error = std::string("watching the ring buffers failed: ") + std::strerror(errno);
      return nullptr;
    }
  }
  return m;
}

MergedReader::~MergedReader() {
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

int MergedReader::Consume(RingReader::RecordFn fn, void* ctx) {
  using P = RingReader::PeekResult;
  hi_->Begin();
  bulk_->Begin();
  const uint64_t hi_end = hi_->position() + hi_->pending_at_begin();
  const uint64_t bulk_end = bulk_->position() + bulk_->pending_at_begin();
  int handled = 0;
  int rc = 0;
  while (hi_->position() < hi_end || bulk_->position() < bulk_end) {
    const unsigned char* hd = nullptr;
    const unsigned char* bd = nullptr;
    std::size_t hl = 0;
    std::size_t bl = 0;
    P h = hi_->Peek(true, &hd, &hl);
    if (h == P::kBad) {
      rc = -EBADMSG;
      break;
    }
    if (h == P::kBusy) break;
    // Peeked after the priority head was seen committed: an empty bulk ring
    // here means no earlier bulk record of that thread is still to come.
    P b = bulk_->Peek(true, &bd, &bl);
    if (b == P::kBad) {
      rc = -EBADMSG;
      break;
    }
    if (b == P::kBusy) break;
    if (h == P::kEmpty && b == P::kEmpty) break;
    if (h == P::kEmpty) {
      // The bulk head was seen after the priority ring was: look again, so
      // an earlier priority record of its thread committed meanwhile is seen.
      h = hi_->Peek(true, &hd, &hl);
      if (h == P::kBad) {
        rc = -EBADMSG;
        break;
      }
      if (h == P::kBusy) break;
    }
    bool take_hi;
    if (h == P::kEmpty)
      take_hi = false;
    else if (b == P::kEmpty)
      take_hi = true;
    else
      // Either head newer than the other is safe to hold back: a record its
      // thread made earlier was reserved before the other head was, so it is
      // already behind us (ts is taken before the reservation).
      take_hi = RecordTs(hd, hl) < RecordTs(bd, bl);
    if (take_hi) {
      fn(ctx, hd, hl);
      hi_->Next();
      ++hi_records_;
    } else {
      fn(ctx, bd, bl);
      bulk_->Next();
    }
    ++handled;
  }
  hi_->End();
  bulk_->End();
  return rc < 0 ? rc : handled;
}

int MergedReader::Poll(int timeout_ms, RingReader::RecordFn fn, void* ctx) {
  int wait_rc = 0;
  if (timeout_ms != 0) {
    epoll_event ev[2];
    if (epoll_wait(epoll_fd_, ev, 2, timeout_ms) < 0) wait_rc = -errno;
  }
  if (wait_rc < 0 && wait_rc != -EINTR) return wait_rc;
  int n = Consume(fn, ctx);
  if (n < 0) return n;
  return wait_rc < 0 && n == 0 ? wait_rc : n;
}

}  // namespace vigil::capture
