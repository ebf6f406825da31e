// SPDX-License-Identifier: Apache-2.0
// Alerts vigil raises about itself, and the watch over the kernel's loss
// counters that turns a gap in capture into one of them.
//
// Contracts:
// - SelfAlert() fills what every alert carries (uuid, wall time, hostname,
//   source "internal", tag "vigil"), so a SIEM can file it like any other.
// - CaptureLossMonitor never lets a loss pass unreported: every increase of a
//   loss counter is in exactly one "vigil events lost" alert (several
//   increases within `min_interval` are summed into the next one; Flush()
//   reports the rest at exit). A counter that goes down was written by
//   someone else (the counters map is only ever incremented by the kernel
//   programs): that is a Critical "vigil self-protection" alert at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/alert.h"
#include "outputs/sink.h"

namespace vigil::agent {

Alert SelfAlert(const std::string& rule, Priority priority, const std::string& output);

class CaptureLossMonitor {
 public:
  using Clock = std::chrono::steady_clock;
  using Counters = std::vector<std::pair<std::string, uint64_t>>;

  // `loss_counters`: the names whose increase means events were lost.
  CaptureLossMonitor(std::vector<std::string> loss_counters, std::chrono::milliseconds min_interval);

  // Compares `now_values` (every kernel counter, read now) with the previous
  // reading; the first reading compares with zero (the programs were loaded
  // by this process, so their counters started at zero).
  std::vector<Alert> Observe(const Counters& now_values, Clock::time_point now);
  // Losses observed but not yet reported (rate limit), as one alert, or none.
  std::vector<Alert> Flush();

  uint64_t total_lost() const { return total_lost_; }

 private:
  Alert LossAlert();

  std::vector<std::string> loss_counters_;
  std::chrono::milliseconds min_interval_;
  std::map<std::string, uint64_t> last_;
  std::map<std::string, uint64_t> unreported_;
  uint64_t total_lost_ = 0;
  Clock::time_point next_report_{};
};

// Alerts a sink lost for good (its queue full, its retry buffer full, a spool
// write that failed) are reported in a "vigil alerts dropped" alert, sent
// through every sink (the one that dropped may drop this one too; the others
// carry it). Every drop not already announced by the sink itself
// (SinkStats::dropped_reported: Kafka's "vigil spool overflow") is in exactly
// one such alert: increases within `min_interval` are summed into the next,
// Flush() reports the rest before the sinks close.
class AlertLossMonitor {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AlertLossMonitor(std::chrono::milliseconds min_interval) : min_interval_(min_interval) {}

  std::vector<Alert> Observe(const std::vector<outputs::SinkStats>& sinks, Clock::time_point now);
  std::vector<Alert> Flush();

  uint64_t total_dropped() const { return total_; }

 private:
  Alert DropAlert();

  std::chrono::milliseconds min_interval_;
  std::map<std::string, uint64_t> last_;  // sink -> unannounced drops seen so far
  std::map<std::string, uint64_t> unreported_;
  uint64_t total_ = 0;
  Clock::time_point next_report_{};
};

}  // namespace vigil::agent
