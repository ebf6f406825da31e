// SPDX-License-Identifier: Apache-2.0
// One /metrics scrape for the agent integration tests: the rest of the first
// line that starts with `prefix` (a metric name with its labels and the space
// before the value), or "" when the agent does not answer or has no such line.
#pragma once

#include <httplib.h>

#include <sstream>
#include <string>

namespace vigil::testing {

inline std::string MetricValue(int port, const std::string& prefix) {
  httplib::Client http("127.0.0.1", port);
  auto r = http.Get("/metrics");
  if (!r) return "";
  std::istringstream in(r->body);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  return "";
}

}  // namespace vigil::testing
