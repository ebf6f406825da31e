// SPDX-License-Identifier: Apache-2.0
// libFuzzer: arbitrary bytes as a condition: parse, compile against a few
// lists/macros, evaluate on a fixed event, explain. Never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include <map>

#include "engine/compile/compiler.h"
#include "engine/condition/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (64u << 10)) return 0;
  std::string cond(reinterpret_cast<const char*>(data), size);
  // The condition goes through the parser directly (no YAML quoting) via a macro-free compile.
  auto parsed = vigil::condition::ParseCondition(cond);
  if (!parsed.root) return 0;
  std::map<std::string, vigil::compile::MacroEntry> macros;
  std::map<std::string, vigil::compile::ListEntry> lists;
  vigil::compile::ListEntry l;
  l.items = {"sh", "bash", "/etc", "10.0.0.0/8"};
  lists["shells"] = l;
  vigil::compile::MacroEntry m;
  m.ctx.text = "proc.name = bash";
  m.ast = vigil::condition::ParseCondition(m.ctx.text).root;
  macros["is_bash"] = std::move(m);
  vigil::Diagnostics diags;
  vigil::compile::Compiler compiler(&macros, &lists, &diags);
  vigil::compile::ItemContext ctx;
  ctx.kind = "rule";
  ctx.name = "fuzz";
  ctx.text = cond;
  auto r = compiler.Compile(*parsed.root, ctx);
  if (!r.ok) return 0;
  vigil::OwnedAncestors anc;
  anc.chain.resize(2);
  anc.chain[0].name = "sshd";
  vigil::Event e;
  e.type = vigil::EventType::openat;
  e.proc.name = "bash";
  e.proc.argv = {"bash", "-c", "x"};
  e.file.abspath = "/etc/shadow";
  e.ancestors = &anc;
  vigil::HostInfo host;
  std::vector<vigil::FieldCacheSlot> cache(compiler.cache_slots());
  vigil::FieldContext fctx{&e, &host, 1, cache.data()};
  (void)r.check->Eval(fctx);
  std::string out;
  r.check->Explain(fctx, 0, &out);
  return 0;
}
