// SPDX-License-Identifier: Apache-2.0
// Compiler: condition AST -> Check tree, once per rule at load.
//
// It expands macros (inlining their parsed bodies) and list names, resolves
// every field to its FieldDef, builds sets/tries/RE2 objects, and derives the
// event types a condition can match the way Falco does (evt.type checks
// combined through and/or/not; anything else allows every type).
//
// Contract: Compile() reports each problem to Diagnostics with the location
// of the item (rule or macro) whose text holds it, reports a problem inside a
// shared macro once, and returns ok=false if the condition cannot run.
// Expansion is bounded: a condition whose macros inline to more than
// kMaxConditionNodes nodes, or a comparison whose lists expand to more than
// kMaxListItems values, is an error (a few self-doubling macros in a 2 KB
// file would otherwise take gigabytes and minutes), found after at most that
// much work.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/compile/checks.h"
#include "engine/condition/ast.h"
#include "engine/diagnostics.h"

namespace vigil::compile {

inline constexpr std::size_t kMaxConditionNodes = 100000;
inline constexpr std::size_t kMaxListItems = 100000;

// Which item a piece of condition text belongs to, and how to locate a byte
// offset of that text in its file.
struct ItemContext {
  std::string kind;  // "rule", "macro", "exception"...
  std::string name;
  std::string key = "condition";
  std::string text;  // the condition text offsets refer to
  std::function<SourceLoc(uint32_t offset)> locate;
};

struct MacroEntry {
  std::unique_ptr<condition::Node> ast;  // null when the body did not parse
  ItemContext ctx;
  bool used = false;
};

struct ListEntry {
  std::vector<std::string> items;  // resolved (nested lists expanded)
  ItemContext ctx;
  mutable bool used = false;  // set by ExpandValues; unused lists are warned about
};

// The values of comparison `n` with list names expanded, the one expansion
// both the rules compiler and the enforcement policy compiler use: under a
// list operator (in, intersects, pmatch) an unquoted value naming a list
// stands for its items, and `x in name` without parentheses must name a list;
// other operators take their values as written. False with *error and
// *error_offset (into the condition text) on an undefined list or more than
// kMaxListItems values.
bool ExpandValues(const condition::Node& n, const std::map<std::string, ListEntry>& lists,
                  std::vector<std::string>* out, std::string* error, uint32_t* error_offset);

// What the compiler can tell about a condition without an event: it depends
// on the event, or it is the same for every event vigil can capture (a check
// on a field that is always <NA> here is false; an evt.type check naming only
// syscalls vigil never captures is false).
enum class Konst : uint8_t { kDepends, kFalse, kTrue };

struct KonstInfo {
  Konst konst = Konst::kDepends;
  // When not kDepends: why, one phrase per check that decides it
  // ("'fd.name_changed' is always <NA> in vigil", ...), in condition order.
  std::vector<std::string> reasons;
};

struct CompileResult {
  std::unique_ptr<Check> check;
  EventTypeSet types;
  KonstInfo konst;
  bool ok = false;
  bool unknown_field = false;          // at least one unknown field (skip-if-unknown-filter)
  std::set<std::string> na_fields;     // referenced fields that are always <NA> here
};

class Compiler {
 public:
  Compiler(std::map<std::string, MacroEntry>* macros, std::map<std::string, ListEntry>* lists, Diagnostics* diags)
      : macros_(macros), lists_(lists), diags_(diags) {}

  // `unknown_is_warning`: report unknown fields as warnings (skip-if-unknown-filter).
  CompileResult Compile(const condition::Node& root, const ItemContext& ctx, bool unknown_is_warning = false);

  // Resolves a field reference (also for output templates). nullptr + *error when unknown/invalid.
  std::unique_ptr<FieldAccessor> ResolveField(const condition::FieldRef& ref, std::string* error, bool* unknown);
  // Number of distinct (field, argument) pairs: the size of the per-event value cache.
  std::size_t cache_slots() const { return slots_.size(); }
  // Field references resolved so far that need the environment captured
  // (FieldNeedsEnv): a rule needs it when this grew while compiling it.
  std::size_t env_refs() const { return env_refs_; }
  // The same for evt.buffer (FieldNeedsBuffer): the capture copies data calls' payloads.
  std::size_t buffer_refs() const { return buffer_refs_; }
  // Where `=`/`!=`/`in` on fd.*ip.name register their names (engine/compile/dns_check.h).
  // Null: those compare the rendered name as text (no cache, so never true).
  void set_dns(DnsCache* dns) { dns_ = dns; }

 private:
  struct Sub {
    std::unique_ptr<Check> check;
    EventTypeSet types;
    bool exact = false;  // truth depends on the event type only
    KonstInfo konst;
  };
  bool Budget();  // counts one node; false (reported once) past kMaxConditionNodes
  bool CompileNode(const condition::Node& n, const ItemContext& ctx, std::string_view text, Sub* out);
  bool CompileAndOr(const condition::Node& n, const ItemContext& ctx, std::string_view text, Sub* out);
  bool CompileMacro(const condition::Node& n, const ItemContext& ctx, Sub* out);
  bool CompileCompare(const condition::Node& n, const ItemContext& ctx, Sub* out);
  // Warns when a value compared with evt.buffer is longer than the bytes captured.
  void WarnPastBufferBound(const condition::Node& n, const ItemContext& ctx, const std::vector<std::string>& values);
  bool CompileFieldCompare(const condition::Node& n, const ItemContext& ctx, std::unique_ptr<FieldAccessor> field,
                           Sub* out);
  static void MarkAlwaysNa(const FieldAccessor& f, const condition::FieldRef& ref, Sub* out);
  void CompileEventTypes(const condition::Node& n, const std::vector<std::string>& values, Sub* out);
  void Report(const ItemContext& ctx, uint32_t offset, std::string message, bool warning = false);

  std::map<std::string, MacroEntry>* macros_;
  std::map<std::string, ListEntry>* lists_;
  Diagnostics* diags_;
  std::set<std::string> reported_;
  std::map<std::string, int> slots_;
  std::vector<std::string> macro_stack_;
  const ItemContext* root_ctx_ = nullptr;
  std::size_t nodes_ = 0;      // nodes compiled for the current condition
  bool over_budget_ = false;   // kMaxConditionNodes exceeded: stop at once
  CompileResult* result_ = nullptr;
  std::size_t env_refs_ = 0;
  std::size_t buffer_refs_ = 0;
  bool unknown_is_warning_ = false;
  DnsCache* dns_ = nullptr;
};

}  // namespace vigil::compile
