// SPDX-License-Identifier: Apache-2.0
// mock_broker: keeps a librdkafka mock cluster (a Kafka protocol broker on
// loopback) alive in its own process, so a producing process can be killed
// and restarted against the same broker and its data.
//
// Usage: mock_broker TOPIC[:PARTITIONS]...
// Prints "bootstrap <host:port>" then reads commands on stdin, one per line:
//   down   broker 1 refuses and drops connections   (answers "ok down")
//   up     broker 1 accepts connections again        (answers "ok up")
//   quit / EOF   exits
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "mock_broker: rd_kafka_new: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, 1);
  if (mc == nullptr) {
    std::fprintf(stderr, "mock_broker: cannot create the mock cluster\n");
    return 1;
  }
  for (int i = 1; i < argc; ++i) {
    std::string spec = argv[i];
    int partitions = 1;
    auto colon = spec.find(':');
    if (colon != std::string::npos) {
      partitions = std::atoi(spec.c_str() + colon + 1);
      spec.resize(colon);
    }
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, spec.c_str(), partitions, 1);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "mock_broker: topic %s: %s\n", spec.c_str(), rd_kafka_err2str(e));
      return 1;
    }
  }
  std::printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "down") {
      rd_kafka_mock_broker_set_down(mc, 1);
      std::printf("ok down\n");
    } else if (line == "up") {
      rd_kafka_mock_broker_set_up(mc, 1);
      std::printf("ok up\n");
    } else if (line == "quit") {
      break;
    } else {
      std::printf("error unknown command '%s'\n", line.c_str());
    }
    std::fflush(stdout);
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
