// SPDX-License-Identifier: Apache-2.0
// Falco's `container` event (agent/container_events.h): one on a container's
// first event, none for the host or a container already seen, re-emitted
// once when the metadata arrives after the container event went without it.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "agent/container_events.h"
#include "engine/state/container_meta.h"

using vigil::ContainerMeta;
using vigil::ContainerMetaCache;
using vigil::Event;
using vigil::EventType;
using vigil::agent::ContainerEvents;

namespace {

const std::string kA = "0123456789ab", kB = "abcdefabcdef", kC = "111111111111";

Event Ev(EventType type, const std::string& container, uint32_t pid) {
  Event e;
  e.type = type;
  e.proc.container_id = container;
  e.proc.pid = pid;
  e.proc.name = "p" + std::to_string(pid);
  e.ts_ns = 1000 + pid;
  return e;
}

std::shared_ptr<ContainerMeta> Meta(const std::string& id, const std::string& name) {
  auto m = std::make_shared<ContainerMeta>();
  m->id = id;
  m->name = name;
  m->image_repository = "localhost/img";
  m->privileged = true;
  return m;
}

}  // namespace

TEST_CASE("container events: one per container on its first event, with that event's process", "[unit]") {
  struct Row {
    EventType type;
    std::string container;
    uint32_t pid;
    bool announced;
  };
  const std::vector<Row> rows = {
      {EventType::openat, "host", 1, false},   // the host is no container
      {EventType::openat, "", 2, false},       // unknown cgroup
      {EventType::openat, kA, 10, true},       // first sight of A (e.g. runc init's opens)
      {EventType::execve, kA, 11, false},      // A again
      {EventType::execve, kB, 20, true},       // B
      {EventType::container, kC, 30, false},   // a container event never announces itself
      {EventType::procexit, kC, 31, true},     // C's first real event
      {EventType::openat, kB, 21, false},
  };
  ContainerEvents ce(nullptr);
  for (const auto& r : rows) {
    INFO(vigil::EventTypeName(r.type) << " " << r.container << " pid " << r.pid);
    Event out;
    Event ev = Ev(r.type, r.container, r.pid);
    REQUIRE(ce.OnEvent(ev, &out) == r.announced);
    if (!r.announced) continue;
    CHECK(out.type == EventType::container);
    CHECK(out.proc.container_id == r.container);
    CHECK(out.proc.pid == r.pid);
    CHECK(out.proc.name == ev.proc.name);
    CHECK(out.ts_ns == ev.ts_ns);
    CHECK(out.container == nullptr);
  }
  CHECK(ce.stats().started == 3);
  CHECK(ce.known() == 3);
  CHECK(vigil::EventTypeName(EventType::container) == "container");
  EventType t;
  REQUIRE(vigil::EventTypeFromName("container", &t));
  CHECK(t == EventType::container);
  CHECK_FALSE(vigil::IsKernelEventType(EventType::container));
  CHECK(vigil::IsKernelEventType(EventType::utime));
}

TEST_CASE("container events: the metadata the first event has is carried", "[unit]") {
  auto cache = std::make_shared<ContainerMetaCache>(8);
  ContainerEvents ce(cache);
  Event ev = Ev(EventType::execve, kA, 10);
  ev.container = Meta(kA, "web");
  Event out;
  REQUIRE(ce.OnEvent(ev, &out));
  REQUIRE(out.container != nullptr);
  CHECK(out.container->name == "web");
  ce.Evaluated(out);  // complete: nothing to re-emit
  CHECK(ce.stats().incomplete == 0);
}

TEST_CASE("container events: evaluated without metadata, re-emitted once when it arrives", "[unit]") {
  auto cache = std::make_shared<ContainerMetaCache>(8);
  ContainerEvents ce(cache);
  std::vector<Event> emitted;
  auto emit = [&](const Event& e) { emitted.push_back(e); };

  // A: fetch pending (the sensor's Lookup queued it); the hold let the event go without.
  REQUIRE(cache->Lookup(kA) == nullptr);
  REQUIRE(cache->Pending(kA));
  Event a;
  REQUIRE(ce.OnEvent(Ev(EventType::openat, kA, 10), &a));
  ce.Evaluated(a);
  // B: its fetch fails (no runtime knows it): never re-emitted.
  REQUIRE(cache->Lookup(kB) == nullptr);
  Event b;
  REQUIRE(ce.OnEvent(Ev(EventType::openat, kB, 20), &b));
  ce.Evaluated(b);
  CHECK(ce.stats().incomplete == 2);

  ce.Poll(emit);
  CHECK(emitted.empty());  // both still pending
  REQUIRE(cache->NextRequest(std::chrono::milliseconds(0)) == kA);
  REQUIRE(cache->NextRequest(std::chrono::milliseconds(0)) == kB);
  cache->Put(Meta(kA, "late"));
  cache->Fail(kB);
  ce.Poll(emit);
  REQUIRE(emitted.size() == 1);
  CHECK(emitted[0].type == EventType::container);
  CHECK(emitted[0].proc.pid == 10);
  REQUIRE(emitted[0].container != nullptr);
  CHECK(emitted[0].container->name == "late");
  CHECK(emitted[0].ts_ns > 0);
  ce.Evaluated(emitted[0]);  // it has metadata: not remembered again
  ce.Poll(emit);
  CHECK(emitted.size() == 1);
  CHECK(ce.stats().reemitted == 1);
  CHECK(ce.stats().gave_up == 1);
  // Re-emission neither queued a fetch nor counted a lookup (Peek).
  CHECK(cache->Stats().lookups == 2);
}

TEST_CASE("container events: bounded; a forgotten container is announced again", "[unit]") {
  ContainerEvents ce(nullptr, 2);
  Event out;
  CHECK(ce.OnEvent(Ev(EventType::openat, kA, 1), &out));
  CHECK(ce.OnEvent(Ev(EventType::openat, kB, 2), &out));
  CHECK(ce.OnEvent(Ev(EventType::openat, kC, 3), &out));  // A forgotten
  CHECK(ce.known() == 2);
  CHECK_FALSE(ce.OnEvent(Ev(EventType::openat, kC, 3), &out));
  CHECK(ce.OnEvent(Ev(EventType::openat, kA, 1), &out));
  // Without a cache nothing waits for re-emission.
  out.container.reset();
  ce.Evaluated(out);
  CHECK(ce.stats().incomplete == 1);
  CHECK(ce.stats().gave_up == 0);
}

TEST_CASE("container events: a container that exited gets one container_removed event; late events are no new start",
          "[unit]") {
  auto cache = std::make_shared<ContainerMetaCache>(8);
  ContainerEvents ce(cache);
  std::vector<Event> emitted;
  auto emit = [&](const Event& e) { emitted.push_back(e); };
  auto none_held = [](const std::string&) { return false; };
  Event out;
  REQUIRE(ce.OnEvent(Ev(EventType::execve, kA, 10), &out));
  REQUIRE(ce.OnEvent(Ev(EventType::execve, kB, 20), &out));
  cache->Put(Meta(kA, "web"));
  cache->Lookup(kB);  // pending
  ce.PollExited(none_held, emit);
  CHECK(emitted.empty());

  // The watcher's listing no longer has them: A is erased; B's fetch is still
  // pending, so B stays until its answer is in.
  REQUIRE(cache->Erase(kA));
  CHECK_FALSE(cache->Erase(kB));
  ce.PollExited(none_held, emit);
  REQUIRE(emitted.size() == 1);
  const Event& r = emitted[0];
  CHECK(r.type == EventType::container_removed);
  CHECK(vigil::EventTypeName(r.type) == "container_removed");
  CHECK(r.proc.container_id == kA);
  CHECK(r.proc.pid == 0);  // no process
  REQUIRE(r.container != nullptr);
  CHECK(r.container->name == "web");
  CHECK(r.container->image_repository == "localhost/img");
  CHECK(r.ts_ns > 0);
  CHECK(r.wall_ns > 0);
  CHECK(ce.stats().removed == 1);
  ce.PollExited(none_held, emit);
  CHECK(emitted.size() == 1);  // once

  // Regression (139edbe): late events of A (still in the ring buffer or the
  // hold) announced A as a new container, and a second removal followed.
  CHECK_FALSE(ce.OnEvent(Ev(EventType::procexit, kA, 10), &out));
  CHECK_FALSE(ce.OnEvent(Ev(EventType::procexit, kA, 12), &out));
  CHECK(ce.stats().late == 2);
  CHECK(ce.stats().started == 2);
  REQUIRE(cache->Lookup(kA));  // with A's last metadata
  CHECK_FALSE(cache->Erase(kA));
  ce.PollExited(none_held, emit);
  CHECK(emitted.size() == 1);

  // B's fetch failed (no runtime knew it); the next listing forgets it
  // without announcing it: its absence from the listing proves nothing.
  cache->Fail(kB);
  REQUIRE(cache->Erase(kB));
  ce.PollExited(none_held, emit);
  CHECK(emitted.size() == 1);
  CHECK_FALSE(ce.OnEvent(Ev(EventType::execve, kB, 22), &out));  // still known

  // A restarted (listed again, same id): its next event announces it again.
  REQUIRE(cache->Revive(kA));
  CHECK(ce.OnEvent(Ev(EventType::execve, kA, 11), &out));
  CHECK(ce.known() == 2);
}

TEST_CASE("container events: the removal comes after the container's start event", "[unit]") {
  auto cache = std::make_shared<ContainerMetaCache>(8);
  ContainerEvents ce(cache);
  std::vector<Event> emitted;
  auto emit = [&](const Event& e) { emitted.push_back(e); };
  Event out;
  REQUIRE(ce.OnEvent(Ev(EventType::execve, kA, 10), &out));
  REQUIRE(ce.OnEvent(Ev(EventType::execve, kB, 20), &out));
  cache->Lookup(kA);
  cache->Lookup(kB);
  while (cache->NextRequest(std::chrono::milliseconds(0))) {
  }
  cache->Put(Meta(kA, "held"));
  cache->Put(Meta(kB, "late"));
  REQUIRE(cache->Erase(kA));
  REQUIRE(cache->Erase(kB));

  // A's start event still waits in the hold (behind another container's
  // events): its removal waits too.
  bool a_held = true;
  auto held = [&](const std::string& id) { return id == kA && a_held; };
  // B's start event was evaluated without metadata (the hold timed out) and
  // the metadata came in the same instant the listing found B gone: the start
  // goes out again with it, then the removal.
  out.container.reset();
  ce.Evaluated(out);
  ce.PollExited(held, emit);
  REQUIRE(emitted.size() == 2);
  CHECK(emitted[0].type == EventType::container);
  CHECK(emitted[0].proc.container_id == kB);
  REQUIRE(emitted[0].container);
  CHECK(emitted[0].container->name == "late");
  CHECK(emitted[1].type == EventType::container_removed);
  CHECK(emitted[1].proc.container_id == kB);
  CHECK(ce.stats().reemitted == 1);

  a_held = false;  // the hold let A's events go
  ce.PollExited(held, emit);
  REQUIRE(emitted.size() == 3);
  CHECK(emitted[2].type == EventType::container_removed);
  CHECK(emitted[2].proc.container_id == kA);
  CHECK(ce.stats().removed == 2);
}
