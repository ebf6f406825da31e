// SPDX-License-Identifier: Apache-2.0
// Shared pieces of the Kafka integration tests: the mock broker process and
// consuming a topic with kcat (an independent Kafka client).
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.h"

namespace vigil::testing {

struct KafkaRecord {
  int partition = -1;
  long long offset = -1;
  std::string key;
  std::string headers;  // kcat's %h: name=value,name=value
  std::string value;
};

// Starts mock_broker with the given topics; `bootstrap` is its address.
struct MockBroker {
  std::unique_ptr<ChildProcess> proc;
  std::string bootstrap;

  explicit MockBroker(const std::vector<std::string>& topics) {
    std::vector<std::string> argv = {MOCK_BROKER_PATH};
    argv.insert(argv.end(), topics.begin(), topics.end());
    proc = std::make_unique<ChildProcess>(argv);
    REQUIRE(proc->started());
    auto line = proc->WaitFor("bootstrap ", 10000);
    REQUIRE(line);
    bootstrap = line->substr(10);
  }
  void Command(const std::string& cmd) {
    REQUIRE(proc->WriteLine(cmd));
    REQUIRE(proc->WaitFor("ok " + cmd, 5000));
  }
};

// Every record of `topic` from the beginning, via kcat -e (exit at end).
inline std::vector<KafkaRecord> ConsumeAll(const std::string& bootstrap, const std::string& topic) {
  ChildProcess kcat({"kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f",
                     "%p\t%o\t%k\t%h\t%s\n"});
  REQUIRE(kcat.started());
  std::vector<KafkaRecord> out;
  while (auto line = kcat.ReadLine(30000)) {
    std::vector<std::string> parts;
    std::size_t pos = 0;
    for (int i = 0; i < 4; ++i) {
      auto tab = line->find('\t', pos);
      if (tab == std::string::npos) break;
      parts.push_back(line->substr(pos, tab - pos));
      pos = tab + 1;
    }
    INFO(*line);
    REQUIRE(parts.size() == 4);
    KafkaRecord r;
    r.partition = std::stoi(parts[0]);
    r.offset = std::stoll(parts[1]);
    r.key = parts[2];
    r.headers = parts[3];
    r.value = line->substr(pos);
    out.push_back(std::move(r));
  }
  CHECK(kcat.Wait() == 0);
  return out;
}

}  // namespace vigil::testing
