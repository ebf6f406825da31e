// SPDX-License-Identifier: Apache-2.0
#include "outputs/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "outputs/paths.h"

namespace vigil::outputs {

FileSink::FileSink(FileSinkOptions options) : options_(std::move(options)) {
  if (options_.path.empty()) fd_ = options_.fd;
  else EnsureOpen();
}

FileSink::~FileSink() {
  if (!options_.path.empty()) CloseFd();
}

void FileSink::LogError(const char* what, int err) {
  auto now = Clock::now();
  // One message when an episode starts, then at most one every 10 s.
  if (!failing_ || now - last_error_log_ > std::chrono::seconds(10)) {
    spdlog::error("{} sink: {} {}: {} ({} alerts kept for retry)", Name(), what,
                  options_.path.empty() ? "fd" : options_.path, std::strerror(err), pending_.size());
    last_error_log_ = now;
  }
  failing_ = true;
  counters_.MarkFailing(err);
}

void FileSink::Refuse(const std::string& why) {
  auto now = Clock::now();
  if (!failing_ || now - last_error_log_ > std::chrono::seconds(10)) {
    spdlog::error("{} sink: refusing to write: {} ({} alerts kept for retry)", Name(), why, pending_.size());
    last_error_log_ = now;
  }
  failing_ = true;
  counters_.MarkFailing(EPERM);
}

bool FileSink::EnsureOpen() {
  if (fd_ >= 0) return true;
  if (options_.path.empty()) return false;
  constexpr int kFlags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
  if (auto err = CheckOwnedPath(ParentDir(options_.path), PathKind::kParentDir)) {
    Refuse(*err);
    return false;
  }
  int fd = ::open(options_.path.c_str(), kFlags, 0600);
  if (fd < 0 && errno == ENOENT) {
    // A fresh machine has no log directory yet: create it (and its parents).
    const std::string dir = ParentDir(options_.path);
    if (auto err = MakeDirs(dir, kDirMode)) {
      if (!failing_ || Clock::now() - last_error_log_ > std::chrono::seconds(10))
        spdlog::error("{} sink: {}", Name(), *err);
    } else {
      spdlog::info("{} sink: created directory {} (mode {:o})", Name(), dir, kDirMode);
      fd = ::open(options_.path.c_str(), kFlags, 0600);
    }
  }
  if (fd < 0 && errno == ELOOP) {
    Refuse(options_.path + ": a symbolic link; refusing to follow it");
    return false;
  }
  if (fd < 0) {
    LogError("cannot open", errno);
    return false;
  }
  if (auto err = CheckOwnedFd(fd, options_.path, PathKind::kFile)) {
    ::close(fd);
    Refuse(*err);
    return false;
  }
  struct stat st {};
  size_ = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  fd_ = fd;
  return true;
}

void FileSink::CloseFd() {
  if (fd_ < 0 || options_.path.empty()) return;
  if (dirty_) ::fdatasync(fd_);
  dirty_ = false;
  ::close(fd_);
  fd_ = -1;
}

void FileSink::Rotate() {
  CloseFd();
  const std::string& p = options_.path;
  if (options_.backups <= 0) {
    if (::truncate(p.c_str(), 0) != 0 && errno != ENOENT) LogError("cannot truncate", errno);
  } else {
    ::unlink((p + "." + std::to_string(options_.backups)).c_str());
    for (int i = options_.backups - 1; i >= 1; --i) {
      std::string from = p + "." + std::to_string(i);
      std::string to = p + "." + std::to_string(i + 1);
      if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) LogError("cannot rotate", errno);
    }
    if (::rename(p.c_str(), (p + ".1").c_str()) != 0 && errno != ENOENT) LogError("cannot rotate", errno);
  }
  EnsureOpen();
}

void FileSink::Write(const Alert& alert) { WriteLine(Encode(alert, options_.format, options_.falco_json)); }

void FileSink::WriteLine(std::string line) {
  line.push_back('\n');
  // Bound memory: drop the oldest lines not yet started.
  while (!pending_.empty() && pending_bytes_ + line.size() > options_.max_pending_bytes) {
    std::size_t victim = head_offset_ > 0 ? 1 : 0;
    if (victim >= pending_.size()) break;
    pending_bytes_ -= pending_[victim].size();
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(victim));
    counters_.dropped.fetch_add(1, std::memory_order_relaxed);
  }
  pending_bytes_ += line.size();
  pending_.push_back(std::move(line));
  if (failing_ && Clock::now() < retry_at_) {
    counters_.spooled.fetch_add(1, std::memory_order_relaxed);  // held for retry
    return;
  }
  Flush();
}

void FileSink::Flush() {
  if (reopen_requested_.exchange(false, std::memory_order_relaxed) && !options_.path.empty()) {
    CloseFd();
    spdlog::info("file sink: reopened {}", options_.path);
  }
  if (pending_.empty()) return;
  if (!EnsureOpen()) {
    retry_at_ = Clock::now() + std::chrono::milliseconds(options_.retry_interval_ms);
    return;
  }
  bool wrote = false;
  while (!pending_.empty()) {
    const std::string& line = pending_.front();
    if (head_offset_ == 0 && options_.max_size_bytes > 0 && !options_.path.empty() && size_ > 0 &&
        size_ + line.size() > options_.max_size_bytes) {
      Rotate();
      if (fd_ < 0) break;
    }
    ssize_t n = ::write(fd_, line.data() + head_offset_, line.size() - head_offset_);
    if (n < 0) {
      if (errno == EINTR) continue;
      counters_.failed.fetch_add(1, std::memory_order_relaxed);
      LogError("cannot write", errno);
      retry_at_ = Clock::now() + std::chrono::milliseconds(options_.retry_interval_ms);
      break;
    }
    wrote = true;
    size_ += static_cast<uint64_t>(n);
    head_offset_ += static_cast<std::size_t>(n);
    if (head_offset_ == line.size()) {
      pending_bytes_ -= line.size();
      pending_.pop_front();
      head_offset_ = 0;
      counters_.sent.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (wrote) dirty_ = true;
  if (pending_.empty() && failing_) {
    spdlog::info("{} sink: writing to {} again, nothing lost", Name(),
                 options_.path.empty() ? "fd" : options_.path);
    failing_ = false;
    counters_.MarkDelivering();
  }
  MaybeSync(false);
}

void FileSink::MaybeSync(bool force) {
  if (!dirty_ || fd_ < 0 || options_.path.empty()) return;
  if (options_.fsync_interval_ms < 0 && !force) return;
  auto now = Clock::now();
  if (force || options_.fsync_interval_ms == 0 ||
      now - last_sync_ >= std::chrono::milliseconds(options_.fsync_interval_ms)) {
    if (::fdatasync(fd_) != 0) LogError("cannot fdatasync", errno);
    dirty_ = false;
    last_sync_ = now;
  }
}

void FileSink::CheckPath() {
  const auto now = Clock::now();
  if (options_.path.empty() || fd_ < 0 || now < next_path_check_) return;
  next_path_check_ = now + std::chrono::milliseconds(options_.path_check_interval_ms);
  struct stat open_st {}, path_st {};
  if (::fstat(fd_, &open_st) != 0) return;
  const bool gone = ::stat(options_.path.c_str(), &path_st) != 0;
  if (!gone && path_st.st_dev == open_st.st_dev && path_st.st_ino == open_st.st_ino) return;
  spdlog::warn("{} sink: {} was {}; opening it anew", Name(), options_.path,
               gone ? "deleted or renamed away" : "replaced");
  CloseFd();
  EnsureOpen();
}

void FileSink::Tick() {
  CheckPath();
  if (reopen_requested_.load(std::memory_order_relaxed) || (!pending_.empty() && Clock::now() >= retry_at_))
    Flush();
  MaybeSync(false);
}

void FileSink::Close(int deadline_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(deadline_ms);
  Flush();
  while (!pending_.empty() && Clock::now() < deadline) {
    ::usleep(static_cast<useconds_t>(options_.retry_interval_ms) * 1000);
    Flush();
  }
  if (!pending_.empty())
    spdlog::error("{} sink: closing with {} alerts never written to {}: counted as dropped", Name(),
                  pending_.size(), options_.path.empty() ? "fd" : options_.path);
  counters_.dropped.fetch_add(pending_.size(), std::memory_order_relaxed);
  MaybeSync(true);
}

}  // namespace vigil::outputs
