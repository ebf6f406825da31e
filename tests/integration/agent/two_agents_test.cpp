// SPDX-License-Identifier: Apache-2.0
// Two BPF sensors on one host (issue 17): a second agent loads programs,
// opens its own links by id and uses bpf_send_signal, which the default eBPF
// rules of the first agent report, until the second one's executable is in
// the overridable known_bpf_sensors list; then the first stays quiet about it.
// Both agents are real `vigil run` processes on this kernel; the second runs
// from a copy of the binary, as another sensor installed elsewhere would.
#include <catch2/catch.hpp>

#include "agent_process.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace {

using vigil::testing::Write;

using namespace std::chrono_literals;
using Agent = vigil::testing::AgentProcess;

// Alert lines of the eBPF rules (tag "ebpf") whose output names `needle`.
std::size_t EbpfAlertsNaming(const std::string& path, const std::string& needle) {
  return vigil::testing::CountLines(path, "\"ebpf\"", needle);
}

// Runs the other sensor until it is up, then stops it cleanly.
void RunOtherSensor(const std::string& binary, const std::string& dir) {
  Agent other({"run", "-c", dir + "/other.yaml", "-r", dir + "/other-rules.yaml"}, binary);
  REQUIRE(other.WaitFor("vigil running", 60s));
  CHECK(other.Stop() == 0);
}

}  // namespace

TEST_CASE("a second sensor's BPF activity alerts until its binary is a known sensor", "[root]") {
  char tmpl[] = "/var/tmp/vigil-two-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const std::string other_bin = dir + "/othersensor", alerts = dir + "/alerts.json";
  REQUIRE(std::system(("cp " VIGIL_BIN " " + other_bin + " && chmod 0755 " + other_bin).c_str()) == 0);
  REQUIRE(chmod(dir.c_str(), 0755) == 0);
  Write(dir + "/main.yaml", vigil::testing::FileSinkConfig(alerts, vigil::testing::Metrics::kListen));
  Write(dir + "/other.yaml", "outputs:\n  file:\n    enabled: true\n    path: " + dir +
                                 "/other-alerts.json\nmetrics:\n  listen: 127.0.0.1:0\nstats_interval_s: 0\n");
  Write(dir + "/other-rules.yaml",
        "- rule: Other Marker\n  desc: d\n  condition: evt.type = execve and proc.name = vigil-no-such\n"
        "  output: x\n  priority: NOTICE\n");
  const std::string local = dir + "/local.yaml";
  Write(local, "- list: known_bpf_sensors\n  items: []\n  append: true\n");

  Agent main_agent({"run", "-c", dir + "/main.yaml", "-r", VIGIL_RULES_DIR, "-r", local});
  REQUIRE(main_agent.WaitFor("vigil running", 60s));

  // Not listed: the other agent's start-up is reported by the eBPF rules.
  RunOtherSensor(other_bin, dir);
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (EbpfAlertsNaming(alerts, other_bin) == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(200ms);
  const std::size_t unlisted = EbpfAlertsNaming(alerts, other_bin);
  CHECK(unlisted > 0);
  CHECK(EbpfAlertsNaming(alerts, "BPF Object Opened by Id") + EbpfAlertsNaming(alerts, "BPF Program Sends Signals") > 0);

  // Listed from a local rules file (as /etc/vigil/rules.d/ would), reloaded:
  // a second run of the same sensor raises none.
  Write(local, "- list: known_bpf_sensors\n  items: [" + other_bin + "]\n  append: true\n");
  main_agent.Signal(SIGHUP);
  REQUIRE(main_agent.WaitFor("new ruleset active", 30s));
  RunOtherSensor(other_bin, dir);
  // The first run's alerts arrived within a second or two; wait as long again.
  std::this_thread::sleep_for(5s);
  CHECK(EbpfAlertsNaming(alerts, other_bin) == unlisted);
  CHECK(main_agent.Stop() == 0);
  CHECK(std::system(("rm -rf " + dir).c_str()) == 0);
}
