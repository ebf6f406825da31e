// SPDX-License-Identifier: Apache-2.0
// Event reuse on the hot path: after Event::Reset(), filling argv again (from
// the process table or the decoder) reuses the released string buffers, so a
// process with long arguments does not cost an allocation per argument per
// event. Allocations are counted by replacing the global operator new in this
// test binary.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "engine/event.h"

namespace {
std::atomic<long> g_allocs{0};
}

// Under AddressSanitizer the sanitizer owns operator new/delete (memory from
// its new freed by a replacement delete is reported as a mismatch), so the
// counting replacement exists only in the plain build; the sanitizer build
// still checks the copies.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCounting = false;
#else
constexpr bool kCounting = true;
void* operator new(std::size_t n) {
  ++g_allocs;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

using vigil::Event;

TEST_CASE("argv refilled after Reset does not allocate once warm", "[unit]") {
  const std::vector<std::string> table_argv = {"/usr/lib/jvm/java-17/bin/java", "-Xmx4096m",
                                               "-Djava.security.properties=/etc/app/security.properties",
                                               "-jar", "/opt/application/service-with-a-long-name.jar"};
  Event e;
  for (int warm = 0; warm < 3; ++warm) {
    e.Reset();
    vigil::AssignArgv(&e.proc.argv, table_argv);
  }
  long before = g_allocs.load();
  for (int i = 0; i < 1000; ++i) {
    e.Reset();
    REQUIRE(e.proc.argv.empty());
    vigil::AssignArgv(&e.proc.argv, table_argv);
  }
  if (kCounting) CHECK(g_allocs.load() - before == 0);
  CHECK(e.proc.argv == table_argv);

  // The decoder's path (one element at a time) reuses the same buffers.
  before = g_allocs.load();
  for (int i = 0; i < 1000; ++i) {
    e.Reset();
    for (const auto& a : table_argv) vigil::AppendArgv(&e.proc.argv, a);
  }
  if (kCounting) CHECK(g_allocs.load() - before == 0);
  CHECK(e.proc.argv == table_argv);
}

TEST_CASE("AssignArgv copies exactly, whatever was there before", "[unit]") {
  Event e;
  vigil::AssignArgv(&e.proc.argv, {"a", "b", "c"});
  vigil::AssignArgv(&e.proc.argv, {"only"});
  CHECK(e.proc.argv == std::vector<std::string>{"only"});
  vigil::AssignArgv(&e.proc.argv, {});
  CHECK(e.proc.argv.empty());
  e.Reset();
  vigil::AppendArgv(&e.proc.argv, "x");
  CHECK(e.proc.argv == std::vector<std::string>{"x"});
}
