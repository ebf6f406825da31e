// SPDX-License-Identifier: Apache-2.0
#include "agent/heartbeat.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>

#include "agent/self_alerts.h"

namespace vigil::agent {

CaptureHeartbeat::CaptureHeartbeat(std::string prefix, std::chrono::milliseconds interval,
                                   std::chrono::milliseconds timeout)
    : prefix_(std::move(prefix)), interval_(interval), timeout_(timeout), last_ack_(Clock::now()) {}

CaptureHeartbeat::~CaptureHeartbeat() { Stop(); }

void CaptureHeartbeat::Start() {
  last_ack_ = Clock::now();
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      SendOne();
      lock.lock();
      cv_.wait_for(lock, interval_, [this] { return stop_; });
    }
  });
}

void CaptureHeartbeat::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t CaptureHeartbeat::SendOne() {
  const uint64_t seq = sent_.load() + 1;
  sent_.store(seq);
  const std::string path = prefix_ + std::to_string(seq);
  // The path does not exist: the open fails (ENOENT) and is captured all the same.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) ::close(fd);
  return seq;
}

bool CaptureHeartbeat::OnEvent(const std::string& path) {
  if (path.size() <= prefix_.size() || path.compare(0, prefix_.size(), prefix_) != 0) return false;
  uint64_t seq = 0;
  const char* begin = path.data() + prefix_.size();
  const char* end = path.data() + path.size();
  auto r = std::from_chars(begin, end, seq);
  if (r.ec != std::errc() || r.ptr != end || seq == 0) return false;
  ++received_;
  if (seq > last_seq_ + 1 && last_seq_ != 0) {
    gaps_.emplace_back(last_seq_ + 1, seq - 1);
    missing_ += seq - 1 - last_seq_;
  }
  if (seq > last_seq_) last_seq_ = seq;
  last_ack_ = Clock::now();
  return true;
}

std::vector<Alert> CaptureHeartbeat::Check(Clock::time_point now) {
  std::vector<Alert> out;
  for (const auto& [first, last] : gaps_) {
    const uint64_t n = last - first + 1;
    Alert a = SelfAlert("vigil capture gap", Priority::kCritical,
                        "vigil heartbeat events " + std::to_string(first) + (n > 1 ? ".." + std::to_string(last) : "") +
                            " never arrived while later ones did: events were taken from the ring buffer or lost "
                            "(compare vigil_kernel_errors_total{site=\"ringbuf_drop\"})");
    a.output_fields = {{"vigil.heartbeat.first_missing", first}, {"vigil.heartbeat.missing", n}};
    a.tags.push_back("tampering");
    out.push_back(std::move(a));
  }
  gaps_.clear();
  const bool behind = sent_.load() > last_seq_;
  if (behind && now - last_ack_ > timeout_) {
    if (!blinded_) {
      blinded_ = true;
      const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - last_ack_).count();
      Alert a = SelfAlert("vigil capture blinded", Priority::kCritical,
                          "no vigil heartbeat event arrived for " + std::to_string(secs) + " s (" +
                              std::to_string(sent_.load() - last_seq_) +
                              " sent since the last one): capture is detached, drained by another process, or "
                              "that far behind; rules see nothing meanwhile");
      a.output_fields = {{"vigil.heartbeat.last_received", last_seq_}, {"vigil.heartbeat.sent", sent_.load()}};
      a.tags.push_back("tampering");
      out.push_back(std::move(a));
    }
  } else {
    blinded_ = false;
  }
  return out;
}

}  // namespace vigil::agent
