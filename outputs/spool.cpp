// SPDX-License-Identifier: Apache-2.0
#include "outputs/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>

#include "outputs/paths.h"
#include "outputs/spool_record.h"

namespace vigil::outputs {
namespace {

constexpr std::size_t kReadChunk = 1 << 20;

std::string SegmentPath(const std::string& dir, uint64_t first_seq) {
  char name[64];
  std::snprintf(name, sizeof name, "/seg-%020llu.vsp", static_cast<unsigned long long>(first_seq));
  return dir + name;
}

bool ParseSegmentName(const char* name, uint64_t* first_seq) {
  unsigned long long v = 0;
  int consumed = 0;
  if (std::strlen(name) != 28) return false;
  if (std::sscanf(name, "seg-%20llu.vsp%n", &v, &consumed) != 1 || consumed != 28) return false;
  *first_seq = v;
  return true;
}

bool ReadWholeFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

bool WriteAll(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

Spool::Spool(SpoolOptions options) : options_(std::move(options)) {
  if (options_.segment_bytes == 0)
    options_.segment_bytes = std::clamp<uint64_t>(options_.max_bytes / 8, 64 << 10, 16 << 20);
}

Spool::~Spool() { Close(); }

std::unique_ptr<Spool> Spool::Open(const SpoolOptions& options, std::string* error) {
  std::unique_ptr<Spool> s(new Spool(options));
  if (!s->Recover(error)) return nullptr;
  return s;
}

void Spool::ScanSegment(Segment* seg, bool newest) {
  std::string data;
  if (!ReadWholeFile(seg->path, &data)) {
    spdlog::error("spool: {}: cannot read: {}", seg->path, std::strerror(errno));
    return;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  std::size_t off = 0, valid_end = 0;
  seg->end_seq = seg->first_seq;
  while (off < data.size()) {
    DecodedRecord rec;
    DecodeStatus st = DecodeSpoolRecord(p + off, data.size() - off, &rec);
    if (st == DecodeStatus::kOk) {
      ++seg->records;
      seg->end_seq = std::max(seg->end_seq, rec.seq + 1);
      off += rec.consumed;
      valid_end = off;
      continue;
    }
    ++corrupt_;
    if (st == DecodeStatus::kNeedMore) {
      spdlog::warn("spool: {}: offset {}: truncated record ({} bytes at the tail){}", seg->path, off,
                   data.size() - off, newest ? ", truncating" : ", skipped");
      break;
    }
    std::size_t skip = ResyncSpool(p + off, data.size() - off);
    spdlog::warn("spool: {}: offset {}: corrupt record ({}), skipping {} bytes to offset {}", seg->path, off,
                 rec.reason, skip, off + skip);
    off += skip;
  }
  if (newest && valid_end < data.size()) {
    if (::truncate(seg->path.c_str(), static_cast<off_t>(valid_end)) != 0)
      spdlog::error("spool: {}: cannot truncate corrupt tail: {}", seg->path, std::strerror(errno));
    else
      data.resize(valid_end);
  }
  seg->bytes = data.size();
}

// The delivery cursor in <dir>/ack (opened and kept as ack_fd_): 0 when
// absent, and 0 (replay everything, counted as corrupt) when it fails its checksum.
bool Spool::ReadCursor(uint64_t* cursor, std::string* error) {
  std::string ack_path = options_.dir + "/ack";
  ack_fd_ = ::open(ack_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (ack_fd_ < 0) {
    *error = "spool: cannot open " + ack_path + ": " + std::strerror(errno);
    return false;
  }
  uint8_t ack[12];
  *cursor = 0;
  ssize_t n = ::pread(ack_fd_, ack, sizeof ack, 0);
  if (n == static_cast<ssize_t>(sizeof ack)) {
    uint32_t crc;
    std::memcpy(cursor, ack, 8);
    std::memcpy(&crc, ack + 8, 4);
    if (Crc32c(0, ack, 8) != crc) {
      spdlog::warn("spool: {}: cursor checksum mismatch; replaying every spooled record", ack_path);
      *cursor = 0;
      ++corrupt_;
    }
  } else if (n > 0) {
    spdlog::warn("spool: {}: short cursor ({} bytes); replaying every spooled record", ack_path, n);
    ++corrupt_;
  }
  return true;
}

// The segment files in the directory, by first sequence number (not yet scanned).
bool Spool::ListSegments(std::string* error) {
  const std::string& dir = options_.dir;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    *error = "spool: cannot list " + dir + ": " + std::strerror(errno);
    return false;
  }
  while (dirent* e = ::readdir(d)) {
    uint64_t first = 0;
    if (!ParseSegmentName(e->d_name, &first)) continue;
    Segment seg;
    seg.first_seq = first;
    seg.path = SegmentPath(dir, first);
    segments_.emplace(first, std::move(seg));
  }
  ::closedir(d);
  return true;
}

// Segments already delivered (or empty, unless the newest) are removed.
void Spool::DropDelivered(uint64_t cursor) {
  for (auto it = segments_.begin(); it != segments_.end();) {
    bool newest = std::next(it) == segments_.end();
    if (!newest && (it->second.end_seq <= cursor || it->second.records == 0)) {
      ::unlink(it->second.path.c_str());
      it = segments_.erase(it);
    } else {
      ++it;
    }
  }
}

// Appends go to the newest segment while it has room, else to a new one.
bool Spool::OpenNewestForAppend(std::string* error) {
  if (!segments_.empty() && segments_.rbegin()->second.bytes < options_.segment_bytes) {
    const Segment& newest = segments_.rbegin()->second;
    write_fd_ = ::open(newest.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (write_fd_ < 0) {
      *error = "spool: cannot open " + newest.path + ": " + std::strerror(errno);
      return false;
    }
  } else if (!OpenWriter(next_seq_)) {
    *error = "spool: cannot create a segment in " + options_.dir + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool Spool::Recover(std::string* error) {
  const std::string& dir = options_.dir;
  // A fresh machine has no /var/lib/vigil yet: create the missing parents too.
  if (auto err = MakeDirs(dir, 0700)) {
    *error = "spool: " + *err;
    return false;
  }
  if (auto err = CheckOwnedPath(dir, PathKind::kPrivateDir)) {
    *error = "spool: refusing " + *err;
    return false;
  }
  uint64_t cursor = 0;
  if (!ReadCursor(&cursor, error) || !ListSegments(error)) return false;
  for (auto it = segments_.begin(); it != segments_.end(); ++it)
    ScanSegment(&it->second, std::next(it) == segments_.end());
  DropDelivered(cursor);
  for (const auto& [first, seg] : segments_) total_bytes_ += seg.bytes;
  next_seq_ = std::max<uint64_t>(1, cursor);
  if (!segments_.empty()) next_seq_ = std::max(next_seq_, segments_.rbegin()->second.end_seq);
  read_seq_ = std::max<uint64_t>(1, cursor);
  persisted_cursor_ = cursor;
  if (!OpenNewestForAppend(error)) return false;
  if (pending() > 0)
    spdlog::info("spool: {}: {} records to replay from sequence {} ({} bytes)", dir, pending(), read_seq_,
                 total_bytes_);
  return true;
}

bool Spool::OpenWriter(uint64_t first_seq) {
  if (write_fd_ >= 0) {
    if (write_dirty_) ::fdatasync(write_fd_);
    ::close(write_fd_);
    write_fd_ = -1;
  }
  Segment seg;
  seg.first_seq = first_seq;
  seg.end_seq = first_seq;
  seg.path = SegmentPath(options_.dir, first_seq);
  int fd = ::open(seg.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    spdlog::error("spool: cannot create {}: {}", seg.path, std::strerror(errno));
    return false;
  }
  write_fd_ = fd;
  write_dirty_ = false;
  segments_[first_seq] = std::move(seg);
  return true;
}

uint64_t Spool::cursor() const { return in_flight_.empty() ? read_seq_ : in_flight_.front().seq; }

uint64_t Spool::pending() const {
  // Summed per segment: a segment dropped to make room leaves a gap in the
  // sequence numbers.
  const uint64_t c = cursor();
  uint64_t n = 0;
  for (const auto& [first, seg] : segments_) {
    if (seg.end_seq <= c) continue;
    n += first >= c ? seg.records : seg.end_seq - c;
  }
  return n;
}

bool Spool::Retains(uint64_t seq) const {
  auto it = segments_.upper_bound(seq);
  if (it == segments_.begin()) return false;
  --it;
  return seq < it->second.end_seq;
}

// Wholly delivered, or wholly not handed out yet: no record of it is held
// only by the producer.
bool Spool::Droppable(const Segment& seg) const {
  return seg.end_seq <= cursor() || seg.first_seq >= read_seq_;
}

// Deletes the oldest segment that holds no record in flight (and is not the
// one being written), counting its records not yet delivered in *dropped.
// False when there is none.
bool Spool::DropOneSegment(uint64_t* dropped) {
  auto it = segments_.begin();
  while (std::next(it) != segments_.end() && !Droppable(it->second)) ++it;
  if (std::next(it) == segments_.end()) return false;
  const Segment seg = it->second;
  if (seg.end_seq > cursor()) *dropped += seg.records;
  if (read_fd_ >= 0 && read_segment_ == seg.first_seq) CloseReader();
  if (read_seq_ >= seg.first_seq && read_seq_ < seg.end_seq) read_seq_ = seg.end_seq;
  ::unlink(seg.path.c_str());
  total_bytes_ -= seg.bytes;
  segments_.erase(it);
  return true;
}

std::optional<uint64_t> Spool::Append(std::string_view payload, uint64_t* dropped) {
  *dropped = 0;
  std::string rec;
  rec.reserve(kSpoolHeaderSize + payload.size());
  uint64_t seq = next_seq_;
  EncodeSpoolRecord(seq, payload, &rec);

  Segment* active = segments_.empty() ? nullptr : &segments_.rbegin()->second;
  if (active == nullptr || write_fd_ < 0 ||
      (active->records > 0 && active->bytes + rec.size() > options_.segment_bytes)) {
    if (!OpenWriter(seq)) return std::nullopt;
    active = &segments_.rbegin()->second;
  }
  while (total_bytes_ + rec.size() > options_.max_bytes) {
    if (DropOneSegment(dropped)) continue;
    if (active->records > 0 && Droppable(*active)) {
      // A bound smaller than a segment: start a new one so the full one can go.
      if (!OpenWriter(seq)) return std::nullopt;
      active = &segments_.rbegin()->second;
      continue;
    }
    if (total_bytes_ == 0) break;  // an empty spool takes even a record larger than the bound
    // Only segments with records in flight remain: refuse the new record
    // rather than exceed the bound or lose the only copy of those.
    ++refused_full_;
    return std::nullopt;
  }

  if (!WriteAll(write_fd_, rec.data(), rec.size())) {
    int err = errno;
    spdlog::error("spool: cannot append to {}: {}", active->path, std::strerror(err));
    // Leave no partial record behind for the reader or the next recovery.
    if (::ftruncate(write_fd_, static_cast<off_t>(active->bytes)) != 0)
      spdlog::error("spool: cannot truncate {}: {}", active->path, std::strerror(errno));
    return std::nullopt;
  }
  active->bytes += rec.size();
  active->records += 1;
  active->end_seq = seq + 1;
  total_bytes_ += rec.size();
  next_seq_ = seq + 1;
  write_dirty_ = true;
  if (options_.fsync_interval_ms == 0) {
    ::fdatasync(write_fd_);
    write_dirty_ = false;
  }
  return seq;
}

void Spool::CloseReader() {
  if (read_fd_ >= 0) ::close(read_fd_);
  read_fd_ = -1;
  read_len_ = 0;
  read_pos_ = 0;
  read_file_off_ = 0;
}

bool Spool::FillReader() {
  // Keep the unconsumed tail at the front, grow only for a record larger
  // than the buffer, then read what fits.
  if (read_pos_ > 0) {
    std::memmove(read_buf_.get(), read_buf_.get() + read_pos_, read_len_ - read_pos_);
    read_file_off_ += read_pos_;
    read_len_ -= read_pos_;
    read_pos_ = 0;
  }
  if (read_cap_ - read_len_ < kReadChunk / 4) {
    std::size_t cap = std::max(kReadChunk, read_cap_ * 2);
    auto bigger = std::make_unique_for_overwrite<uint8_t[]>(cap);
    if (read_len_ > 0) std::memcpy(bigger.get(), read_buf_.get(), read_len_);
    read_buf_ = std::move(bigger);
    read_cap_ = cap;
  }
  ssize_t n;
  do {
    n = ::pread(read_fd_, read_buf_.get() + read_len_, read_cap_ - read_len_,
                static_cast<off_t>(read_file_off_ + read_len_));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  read_len_ += static_cast<std::size_t>(n);
  return true;
}

bool Spool::ReadNext(uint64_t* seq, std::string* payload) {
  for (;;) {
    if (read_seq_ >= next_seq_) return false;
    if (read_fd_ < 0) {
      auto it = segments_.upper_bound(read_seq_);
      if (it != segments_.begin()) --it;
      if (it == segments_.end()) return false;
      read_fd_ = ::open(it->second.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (read_fd_ < 0) {
        spdlog::error("spool: cannot read {}: {}", it->second.path, std::strerror(errno));
        return false;
      }
      read_segment_ = it->first;
    }
    DecodedRecord rec;
    const uint8_t* p = read_buf_.get() + read_pos_;
    std::size_t avail = read_len_ - read_pos_;
    DecodeStatus st = avail == 0 ? DecodeStatus::kNeedMore : DecodeSpoolRecord(p, avail, &rec);
    if (st == DecodeStatus::kOk) {
      read_pos_ += rec.consumed;
      if (rec.seq < read_seq_) continue;  // delivered before, or handed out already
      read_seq_ = rec.seq + 1;
      *seq = rec.seq;
      payload->assign(rec.payload);
      in_flight_.push_back({rec.seq, rec.consumed, false});
      in_flight_bytes_ += rec.consumed;
      return true;
    }
    if (st == DecodeStatus::kCorrupt) {
      // Counted and logged when the spool was opened; skip quietly here.
      read_pos_ += ResyncSpool(p, avail);  // >= 1
      continue;
    }
    if (FillReader()) continue;
    // End of this segment's file: move on when a newer segment exists.
    auto next = segments_.upper_bound(read_segment_);
    if (next == segments_.end()) return false;
    CloseReader();
    read_seq_ = std::max(read_seq_, next->first);
  }
}

void Spool::Ack(uint64_t seq) {
  auto it = std::lower_bound(in_flight_.begin(), in_flight_.end(), seq,
                             [](const InFlight& f, uint64_t s) { return f.seq < s; });
  if (it == in_flight_.end() || it->seq != seq) return;  // dropped meanwhile, or acked twice
  it->acked = true;
  while (!in_flight_.empty() && in_flight_.front().acked) {
    in_flight_bytes_ -= in_flight_.front().bytes;
    in_flight_.pop_front();
  }
}

void Spool::Rewind() {
  if (in_flight_.empty()) return;
  read_seq_ = in_flight_.front().seq;
  in_flight_.clear();
  in_flight_bytes_ = 0;
  CloseReader();
}

void Spool::PersistCursor() {
  uint64_t c = cursor();
  uint8_t buf[12];
  std::memcpy(buf, &c, 8);
  uint32_t crc = Crc32c(0, buf, 8);
  std::memcpy(buf + 8, &crc, 4);
  if (::pwrite(ack_fd_, buf, sizeof buf, 0) != static_cast<ssize_t>(sizeof buf)) {
    spdlog::error("spool: cannot write {}/ack: {}", options_.dir, std::strerror(errno));
    return;
  }
  persisted_cursor_ = c;
  // Segments wholly below the persisted cursor are delivered: remove them.
  while (segments_.size() > 1 && segments_.begin()->second.end_seq <= persisted_cursor_) {
    auto it = segments_.begin();
    if (read_fd_ >= 0 && read_segment_ == it->first) CloseReader();
    ::unlink(it->second.path.c_str());
    total_bytes_ -= it->second.bytes;
    segments_.erase(it);
  }
}

void Spool::Maintain(bool force) {
  auto now = Clock::now();
  if (write_dirty_ && write_fd_ >= 0 && options_.fsync_interval_ms >= 0 &&
      (force || now - last_sync_ >= std::chrono::milliseconds(options_.fsync_interval_ms))) {
    ::fdatasync(write_fd_);
    write_dirty_ = false;
    last_sync_ = now;
  }
  if (ack_fd_ >= 0 && cursor() != persisted_cursor_ &&
      (force || now - last_persist_ >= std::chrono::milliseconds(options_.ack_persist_ms))) {
    PersistCursor();
    last_persist_ = now;
  }
}

void Spool::Close() {
  if (ack_fd_ < 0 && write_fd_ < 0) return;
  Maintain(true);
  if (write_fd_ >= 0) {
    if (write_dirty_) ::fdatasync(write_fd_);
    ::close(write_fd_);
    write_fd_ = -1;
  }
  CloseReader();
  if (ack_fd_ >= 0) ::close(ack_fd_);
  ack_fd_ = -1;
}

}  // namespace vigil::outputs
