// SPDX-License-Identifier: Apache-2.0
#include "agent/self_alerts.h"

#include <unistd.h>

#include <algorithm>

namespace vigil::agent {

namespace {

const std::string& HostName() {
  static const std::string name = [] {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) return std::string();
    return std::string(host);
  }();
  return name;
}

}  // namespace

Alert SelfAlert(const std::string& rule, Priority priority, const std::string& output) {
  Alert a;
  a.uuid = NewUuid();
  a.time_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  a.rule = rule;
  a.priority = priority;
  a.output = output;
  a.source = "internal";
  a.tags = {"vigil"};
  a.hostname = HostName();
  a.container_id = "host";
  return a;
}

CaptureLossMonitor::CaptureLossMonitor(std::vector<std::string> loss_counters, std::chrono::milliseconds min_interval)
    : loss_counters_(std::move(loss_counters)), min_interval_(min_interval) {}

std::vector<Alert> CaptureLossMonitor::Observe(const Counters& now_values, Clock::time_point now) {
  std::vector<Alert> out;
  for (const auto& [name, value] : now_values) {
    const uint64_t before = last_.count(name) ? last_[name] : 0;
    last_[name] = value;
    if (value < before) {
      Alert a = SelfAlert("vigil self-protection", Priority::kCritical,
                          "vigil integrity: kernel counter " + name + " went down from " + std::to_string(before) +
                              " to " + std::to_string(value) +
                              ": another process wrote vigil's counters map (losses may be hidden)");
      a.output_fields = {{"vigil.counter", name}, {"vigil.counter.before", before}, {"vigil.counter.after", value}};
      a.tags.push_back("tampering");
      out.push_back(std::move(a));
      continue;
    }
    if (value > before &&
        std::find(loss_counters_.begin(), loss_counters_.end(), name) != loss_counters_.end()) {
      unreported_[name] += value - before;
      total_lost_ += value - before;
    }
  }
  if (!unreported_.empty() && now >= next_report_) {
    out.push_back(LossAlert());
    next_report_ = now + min_interval_;
  }
  return out;
}

std::vector<Alert> CaptureLossMonitor::Flush() {
  if (unreported_.empty()) return {};
  return {LossAlert()};
}

Alert CaptureLossMonitor::LossAlert() {
  uint64_t lost = 0;
  std::string parts;
  for (const auto& [name, n] : unreported_) {
    lost += n;
    parts += (parts.empty() ? "" : ", ") + name + "=" + std::to_string(n);
  }
  Alert a = SelfAlert("vigil events lost", Priority::kCritical,
                      "vigil capture lost " + std::to_string(lost) + " events (" + parts + "; " +
                          std::to_string(total_lost_) +
                          " since start): activity in that window was not evaluated by any rule");
  a.output_fields.emplace_back("vigil.events.lost", lost);
  a.output_fields.emplace_back("vigil.events.lost_total", total_lost_);
  for (const auto& [name, n] : unreported_) a.output_fields.emplace_back("vigil.lost." + name, n);
  a.tags.push_back("data_loss");
  unreported_.clear();
  return a;
}

std::vector<Alert> AlertLossMonitor::Observe(const std::vector<outputs::SinkStats>& sinks, Clock::time_point now) {
  for (const auto& s : sinks) {
    const uint64_t unannounced = s.dropped > s.dropped_reported ? s.dropped - s.dropped_reported : 0;
    uint64_t& before = last_[s.name];
    if (unannounced > before) {
      unreported_[s.name] += unannounced - before;
      total_ += unannounced - before;
    }
    before = std::max(before, unannounced);
  }
  if (unreported_.empty() || now < next_report_) return {};
  next_report_ = now + min_interval_;
  return {DropAlert()};
}

std::vector<Alert> AlertLossMonitor::Flush() {
  if (unreported_.empty()) return {};
  return {DropAlert()};
}

Alert AlertLossMonitor::DropAlert() {
  uint64_t dropped = 0;
  std::string parts;
  for (const auto& [sink, n] : unreported_) {
    dropped += n;
    parts += (parts.empty() ? "" : ", ") + sink + "=" + std::to_string(n);
  }
  Alert a = SelfAlert("vigil alerts dropped", Priority::kError,
                      "vigil dropped " + std::to_string(dropped) + " alerts (" + parts + "; " +
                          std::to_string(total_) +
                          " since start): a sink could not keep them (queue full, retry buffer full or write "
                          "failure); see vigil_alerts_dropped_total{sink}");
  a.output_fields.emplace_back("vigil.alerts.dropped", dropped);
  a.output_fields.emplace_back("vigil.alerts.dropped_total", total_);
  for (const auto& [sink, n] : unreported_) a.output_fields.emplace_back("vigil.dropped." + sink, n);
  a.tags.push_back("data_loss");
  unreported_.clear();
  return a;
}

}  // namespace vigil::agent
