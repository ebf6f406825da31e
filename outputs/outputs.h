// SPDX-License-Identifier: Apache-2.0
// Building the configured sinks: what the agent calls at start-up.
//
// Contract: BuildOutputs() adds one sink per enabled output of `config` to
// `fanout` (not started), or returns an error naming the output that cannot
// be set up (unwritable file, unusable spool, bad librdkafka property).
// Alerts that a sink raises itself (spool overflow) are submitted to `fanout`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "outputs/config.h"
#include "outputs/fanout.h"

namespace vigil::outputs {

std::optional<std::string> BuildOutputs(const OutputsConfig& config, FanOut* fanout);

// What BuildOutputs() and the first writes would trip over, found without
// creating or changing anything (`vigil run --dry-run`): a file sink path or
// a spool directory that cannot be created or written, a Kafka producer
// configuration librdkafka refuses. One message per
// problem, naming the key and the path.
std::vector<std::string> CheckOutputs(const OutputsConfig& config);

}  // namespace vigil::outputs
