// The shared event and alert contracts: names, reuse, priorities, uuids.
#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "engine/alert.h"
#include "engine/event.h"

using vigil::Event;
using vigil::EventType;

TEST_CASE("event type names round-trip", "[unit]") {
  for (std::size_t i = 0; i < vigil::kEventTypeCount; ++i) {
    auto type = static_cast<EventType>(i);
    EventType back{};
    REQUIRE(vigil::EventTypeFromName(vigil::EventTypeName(type), &back));
    CHECK(back == type);
  }
  EventType t{};
  CHECK_FALSE(vigil::EventTypeFromName("no_such_syscall", &t));
  CHECK(vigil::EventTypeName(EventType::procexit) == "procexit");
  CHECK(vigil::EventTypeName(EventType::openat) == "openat");
}

TEST_CASE("Event::Reset clears fields and keeps capacity", "[unit]") {
  Event e;
  e.type = EventType::connect;
  e.res = -13;
  e.proc.pid = 42;
  e.proc.exepath.assign(200, 'x');
  e.proc.argv = {"a", "b"};
  e.file.path.assign(300, 'p');
  e.net.remote_port = 443;
  e.bpf.AddHelper(36);
  e.args.target_pid = 7;
  e.enforcement = "kill";
  const auto exe_cap = e.proc.exepath.capacity();
  const auto path_cap = e.file.path.capacity();

  e.Reset();
  CHECK(e.type == EventType::execve);
  CHECK(e.res == 0);
  CHECK(e.proc.pid == 0);
  CHECK(e.proc.exepath.empty());
  CHECK(e.proc.argv.empty());
  CHECK(e.proc.loginuid == vigil::kNoLoginUid);
  CHECK(e.file.path.empty());
  CHECK(e.net.remote_port == 0);
  CHECK_FALSE(e.bpf.HasHelper(36));
  CHECK(e.args.target_pid == 0);
  CHECK(e.enforcement.empty());
  CHECK(e.proc.exepath.capacity() == exe_cap);
  CHECK(e.file.path.capacity() == path_cap);
}

TEST_CASE("bpf helper set", "[unit]") {
  vigil::BpfArgs b;
  for (uint32_t id : {0u, 36u, 63u, 64u, 109u, 255u}) b.AddHelper(id);
  b.AddHelper(256);  // out of range: ignored
  for (uint32_t id : {0u, 36u, 63u, 64u, 109u, 255u}) CHECK(b.HasHelper(id));
  CHECK_FALSE(b.HasHelper(58));
  CHECK_FALSE(b.HasHelper(256));
}

TEST_CASE("priorities parse Falco's names", "[unit]") {
  struct Case {
    const char* text;
    bool ok;
    vigil::Priority want;
  };
  const Case cases[] = {
      {"Emergency", true, vigil::Priority::kEmergency}, {"CRITICAL", true, vigil::Priority::kCritical},
      {"warning", true, vigil::Priority::kWarning},     {"Informational", true, vigil::Priority::kInformational},
      {"info", true, vigil::Priority::kInformational},  {"debug", true, vigil::Priority::kDebug},
      {"severe", false, vigil::Priority::kDebug},       {"", false, vigil::Priority::kDebug},
  };
  for (const auto& c : cases) {
    vigil::Priority p = vigil::Priority::kDebug;
    INFO(c.text);
    CHECK(vigil::ParsePriority(c.text, &p) == c.ok);
    if (c.ok) CHECK(p == c.want);
  }
  CHECK(vigil::PriorityName(vigil::Priority::kNotice) == "Notice");
}

TEST_CASE("uuids are v4 and distinct", "[unit]") {
  const std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto u = vigil::NewUuid();
    REQUIRE(std::regex_match(u, v4));
    seen.insert(u);
  }
  CHECK(seen.size() == 1000);
}
