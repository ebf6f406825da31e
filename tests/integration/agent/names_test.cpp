// SPDX-License-Identifier: Apache-2.0
// Issue 18, under `vigil run` with the real capture (label root):
// - fd.sip.name: a rule `fd.sip.name = "localhost"` (resolved through
//   /etc/hosts by the agent's resolver thread) fires on a real connect to
//   127.0.0.1, and a rule on a name that resolves elsewhere (127.0.0.2) does
//   not (it fires on a connect there instead). Before, fd.*ip.name was always
//   <NA> and neither could fire.
// - fd.name of an fd-based call: a file opened through a symlink and then
//   fchmod'ed gives the symlink path in fd.name (libsinsp: the name the fd was
//   opened with) and the target in fd.name.resolved. Before, both were the target.
#include <catch2/catch.hpp>

#include "agent_process.h"
#include "metrics_scrape.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

namespace {

using vigil::testing::Write;
using vigil::testing::CountLines;
using vigil::testing::FirstLine;

using namespace std::chrono_literals;
using Agent = vigil::testing::AgentProcess;

bool WaitLines(const std::string& path, const std::string& needle, std::size_t n, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (CountLines(path, needle) < n && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  return CountLines(path, needle) >= n;
}

// A TCP listener on `ip`, any port, made before the agent starts so the
// rules can name its port (the test's own /metrics scrapes also connect to
// 127.0.0.1 and must not count).
struct Listener {
  explicit Listener(const char* ip) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &addr.sin_addr);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(fd, 4) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  }
  ~Listener() { close(fd); }
  int port() const { return ntohs(addr.sin_port); }
  void ConnectOnce() const {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(c >= 0);
    CHECK(connect(c, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    close(c);
  }
  int fd = -1;
  sockaddr_in addr{};
};

}  // namespace

TEST_CASE("vigil run: fd.sip.name by address, fd.name of fchmod is the opened name", "[root]") {
  const auto [dir, rules, config, alerts] = vigil::testing::AgentFiles("names");
  const std::string real = dir + "/real-file", link = dir + "/via-link";
  Write(real, "x");
  REQUIRE(symlink(real.c_str(), link.c_str()) == 0);
  const Listener local("127.0.0.1"), other("127.0.0.2");
  const std::string ports = " and fd.sport in (" + std::to_string(local.port()) + ", " + std::to_string(other.port()) + ")";
  Write(rules,
        "- rule: To localhost\n  desc: t\n"
        "  condition: evt.type = connect and proc.pid = " + std::to_string(getpid()) + ports +
        " and fd.sip.name = \"localhost\"\n"
        "  output: \"connect to %fd.sip.name (%fd.sip) names=%fd.rip.name\"\n  priority: WARNING\n"
        "- rule: To elsewhere\n  desc: t\n"
        "  condition: evt.type = connect and proc.pid = " + std::to_string(getpid()) + ports +
        " and fd.sip.name in (\"127.0.0.2\")\n"
        "  output: \"connect elsewhere %fd.sip\"\n  priority: WARNING\n"
        "- rule: Fchmod in dir\n  desc: t\n"
        "  condition: evt.type = fchmod and fd.name.resolved = " + real + "\n"
        "  output: \"fchmod name=%fd.name resolved=%fd.name.resolved file=%fd.filename dir=%fd.directory\"\n"
        "  priority: WARNING\n"
        // Names openat, so the kernel sends opens to user space (interest filter).
        "- rule: Open marker\n  desc: t\n"
        "  condition: evt.type in (open, openat) and fd.name = " + dir + "/never-opened\n"
        "  output: x\n  priority: WARNING\n");
  Write(config, vigil::testing::FileSinkConfig(alerts, vigil::testing::Metrics::kListen));

  const int early_fd = open(link.c_str(), O_RDONLY);  // before the agent: its open is not seen
  REQUIRE(early_fd >= 0);
  Agent agent({"run", "-c", config, "-r", rules});
  const bool running = agent.WaitFor("vigil running", 90s);
  INFO(agent.Log());
  REQUIRE(running);
  std::smatch m;
  const auto log = agent.Log();
  CHECK(log.find("dns: resolving 2 name(s)") != std::string::npos);
  REQUIRE(std::regex_search(log, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/metrics)")));
  const int port = std::stoi(m[1]);
  // Both names resolved (the metrics are published once a second).
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (vigil::testing::MetricValue(port, "vigil_dns_names{state=\"resolved\"} ") != "2" &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  REQUIRE(vigil::testing::MetricValue(port, "vigil_dns_names{state=\"resolved\"} ") == "2");
  CHECK(vigil::testing::MetricValue(port, "vigil_dns_lookups_total{result=\"failed\"} ") == "0");

  SECTION("fd.sip.name") {
    local.ConnectOnce();
    REQUIRE(WaitLines(alerts, "\"rule\":\"To localhost\"", 1, 10s));
    const std::string line = FirstLine(alerts, "\"rule\":\"To localhost\"");
    INFO(line);
    CHECK(line.find("connect to localhost (127.0.0.1) names=localhost") != std::string::npos);
    // The other name resolves to 127.0.0.2: a connect there fires it, the one to 127.0.0.1 did not.
    other.ConnectOnce();
    REQUIRE(WaitLines(alerts, "\"rule\":\"To elsewhere\"", 1, 10s));
    std::this_thread::sleep_for(1s);
    CHECK(CountLines(alerts, "\"rule\":\"To elsewhere\"") == 1);
    CHECK(CountLines(alerts, "\"rule\":\"To localhost\"") == 1);
    CHECK(FirstLine(alerts, "\"rule\":\"To elsewhere\"").find("connect elsewhere 127.0.0.2") != std::string::npos);
  }

  SECTION("fd.name of fchmod") {
    int fd = open(link.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    CHECK(fchmod(fd, 0640) == 0);
    close(fd);
    REQUIRE(WaitLines(alerts, "\"rule\":\"Fchmod in dir\"", 1, 10s));
    const std::string line = FirstLine(alerts, "\"rule\":\"Fchmod in dir\"");
    INFO(line);
    CHECK(line.find("fchmod name=" + link + " resolved=" + real + " file=via-link dir=" + dir) != std::string::npos);
    // Opened by its own path: fd.name is that path.
    int fd2 = open(real.c_str(), O_RDONLY);
    REQUIRE(fd2 >= 0);
    CHECK(fchmod(fd2, 0600) == 0);
    close(fd2);
    REQUIRE(WaitLines(alerts, "\"rule\":\"Fchmod in dir\"", 2, 10s));
    CHECK(CountLines(alerts, "fchmod name=" + real + " resolved=" + real) == 1);
    // Opened through the link before vigil started (the open was not seen):
    // fd.name falls back to the kernel's path.
    CHECK(fchmod(early_fd, 0644) == 0);
    REQUIRE(WaitLines(alerts, "\"rule\":\"Fchmod in dir\"", 3, 10s));
    CHECK(CountLines(alerts, "fchmod name=" + real + " resolved=" + real) == 2);
    CHECK(CountLines(alerts, "fchmod name=" + link + " ") == 1);
  }
  CHECK(agent.Stop() == 0);
  close(early_fd);
}
