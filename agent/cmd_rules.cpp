// SPDX-License-Identifier: Apache-2.0
// `vigil rules validate|test|list|explain`, `vigil fields`, `vigil replay`:
// the rules author's tools. None of them needs root.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/commands.h"
#include "agent/config.h"
#include "agent/self_protection.h"
#include "engine/event_json.h"
#include "engine/iso_time.h"
#include "engine/replay.h"
#include "engine/interest.h"
#include "engine/rule_engine.h"
#include "engine/rule_tests.h"
#include "engine/sigma/sigma.h"

namespace vigil::agent {
namespace {

// How rules files are read: sigma.fields from the agent config given with -c
// (none: the built-in Sigma field table). Set once by the command's callback.
rules::LoadOptions g_load_opts;

bool ReadLoadOptions(const std::string& config) {
  if (config.empty()) return true;
  auto cfg = LoadAgentConfig(config, {}, {});
  for (const auto& e : cfg.errors) std::fprintf(stderr, "config: %s\n", e.c_str());
  if (!cfg.ok()) return false;
  g_load_opts.sigma_fields = cfg.config.sigma_fields;
  return true;
}

// Loads rules and prints the diagnostics (warnings too) to stdout.
std::unique_ptr<RuleEngine> LoadAndReport(const std::vector<std::string>& paths, bool quiet_warnings,
                                          Diagnostics* diags) {
  auto engine = RuleEngine::Load(paths, diags, HostInfo::FromSystem(), g_load_opts);
  for (const auto& d : diags->items()) {
    if (quiet_warnings && d.severity == Severity::kWarning) continue;
    std::printf("%s\n", d.ToString().c_str());
  }
  return engine;
}

// The alert as one Falco-style JSON line. Kept in one function so the
// outputs' encoders can replace it.
std::string AlertJsonLine(const Alert& a) {
  nlohmann::ordered_json j;
  j["uuid"] = a.uuid;
  j["time"] = IsoTimeString(a.time_ns);
  j["rule"] = a.rule;
  j["priority"] = std::string(PriorityName(a.priority));
  j["output"] = a.output;
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  for (const auto& [name, value] : a.output_fields) {
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::monostate>) fields[name] = nullptr;
          else fields[name] = v;
        },
        value);
  }
  j["output_fields"] = fields;
  j["tags"] = a.tags;
  j["hostname"] = a.hostname;
  j["source"] = a.source;
  j["action"] = a.action;
  if (!a.enforcement.empty()) j["enforcement"] = a.enforcement;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string JoinWords(const std::vector<std::string>& words, const char* sep = " ") {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : sep) + w;
  return out.empty() ? "-" : out;
}

// The resolved test of one class (engine/interest.h).
void PrintResolvedTest(const char* cls, const OpenPathFilter& f) {
  std::printf("capture filter: %s opens outside those prefixes also sent when they fail, or when the opened file's "
              "resolved path (fd.name.resolved) has first component in [%s] or starting with [%s], or last component "
              "in [%s] or ending with [%s] (%zu rule(s) bounded by fd.name.resolved: %s)\n",
              cls, JoinWords(f.top_names).c_str(), JoinWords(f.top_prefixes).c_str(), JoinWords(f.leaf_names).c_str(),
              JoinWords(f.leaf_suffixes).c_str(), f.resolved_rules.size(), JoinWords(f.resolved_rules, "; ").c_str());
}

int RunValidate(const std::vector<std::string>& files, bool quiet) {
  Diagnostics diags;
  auto engine = LoadAndReport(files, quiet, &diags);
  const auto& s = engine->stats();
  std::printf("%zu error(s), %zu warning(s); rules: %zu defined, %zu loaded, %zu enabled, %zu use <NA> fields "
              "(%zu in the condition), %zu can never fire here, %zu skipped; %zu macros, %zu lists\n",
              diags.ErrorCount(), diags.WarningCount(), s.rules_defined, s.rules_loaded, s.rules_enabled,
              s.rules_with_na, s.rules_with_na_condition, s.rules_never_fire, s.rules_skipped, s.macros, s.lists);
  if (s.sigma_rules > 0)
    std::printf("sigma: %zu rule(s) read, %zu translated, %zu unsupported (each named above)\n", s.sigma_rules,
                s.sigma_rules - s.sigma_unsupported, s.sigma_unsupported);
  // What `vigil run` would leave in the kernel with these rules (docs/capture.md).
  const Interest in = DeriveInterest(*engine);
  const compile::EventTypeSet kernel = KernelEventTypes();
  compile::EventTypeSet sent = in.types & kernel;
  sent |= SelfProtectionEventTypes() & kernel;  // self-protection, as the agent adds it
  std::printf("capture filter: %zu of %zu event types sent; left in the kernel: %s\n", sent.count(),
              kKernelEventTypeCount, sent == kernel ? "none" : EventTypeNames(kernel & ~sent).c_str());
  std::printf("capture filter: environment at exec: %s\n",
              in.env ? ("captured (rule '" + in.env_rule + "' reads proc.env)").c_str() : "not captured");
  std::printf("capture filter: payload of send/recv calls: %s\n",
              in.buffer ? ("first " + std::to_string(kDataBufferMax) + " bytes captured (rule '" + in.buffer_rule +
                           "' reads evt.buffer)")
                              .c_str()
                        : "not captured");
  const OpenPathFilters opens = DeriveOpenPathFilters(*engine, {"/proc/"});  // /proc/: self-protection, as the agent adds it
  for (std::size_t c = 0; c < kOpenClassCount; ++c) {
    const OpenPathFilter& f = opens.cls[c];
    const char* cls = OpenClassName(static_cast<OpenClass>(c));
    if (f.active) {
      std::string list;
      for (const std::string& p : f.prefixes) list += (list.empty() ? "" : " ") + p;
      std::printf("capture filter: %s opens of a plain absolute path sent only under %zu prefix(es): %s\n", cls,
                  f.prefixes.size(), list.c_str());
      if (f.resolved) PrintResolvedTest(cls, f);
    } else {
      std::printf("capture filter: every %s open sent (%zu rule(s) need them unbounded; first '%s')\n", cls,
                  f.unbounded_rules.size(), f.unbounded_rule.c_str());
    }
  }
  return diags.HasErrors() ? 1 : 0;
}

int RunTest(const std::vector<std::string>& files) {
  Diagnostics diags;
  auto engine = LoadAndReport(files, true, &diags);
  if (diags.HasErrors()) {
    std::printf("rules have errors; no tests run\n");
    return 1;
  }
  auto report = RunRuleTests(*engine);
  for (const auto& r : report.results) {
    std::printf("%s  %s:%u: rule '%s' test '%s'\n", r.passed ? "PASS" : "FAIL", r.loc.file.c_str(), r.loc.line,
                r.rule.c_str(), r.name.c_str());
    if (!r.passed) std::printf("      %s\n", r.detail.c_str());
  }
  std::printf("%zu passed, %zu failed\n", report.passed, report.failed);
  return report.failed > 0 ? 1 : 0;
}

std::string TypesText(const compile::EventTypeSet& types) {
  if (types.all()) return "(all)";
  std::string s;
  for (std::size_t t = 0; t < kEventTypeCount; ++t) {
    if (!types.test(t)) continue;
    if (!s.empty()) s += ",";
    s += EventTypeName(static_cast<EventType>(t));
  }
  return s.empty() ? "(none vigil captures)" : s;
}

std::string NaText(const CompiledRule& r) {
  if (r.na_fields.empty()) return "";
  std::string s = " <NA>:";
  for (const auto& f : r.na_fields) s += " " + f;
  return s;
}

int RunList(const std::vector<std::string>& files) {
  Diagnostics diags;
  auto engine = RuleEngine::Load(files, &diags, HostInfo::FromSystem(), g_load_opts);
  if (diags.HasErrors()) std::fprintf(stderr, "%s", diags.ToString().c_str());
  for (const auto& r : engine->rules()) {
    std::printf("%-55s %-13s %-8s %-6s %s  [%s]%s\n", r->name.c_str(), std::string(PriorityName(r->priority)).c_str(),
                r->enabled ? "enabled" : "disabled", r->action.c_str(), TypesText(r->types).c_str(),
                (r->loc.file + ":" + std::to_string(r->loc.line)).c_str(),
                NaText(*r).c_str());
  }
  return diags.HasErrors() ? 1 : 0;
}

// The engine for events another process recorded: none of them is this
// process's own (proc.is_vigil_self is false).
HostInfo RecordedEventsHost() {
  HostInfo host = HostInfo::FromSystem();
  host.sensor_pid = 0;
  return host;
}

int RunExplain(const std::vector<std::string>& files, const std::string& rule_name, const std::string& event_text) {
  Diagnostics diags;
  auto engine = RuleEngine::Load(files, &diags, RecordedEventsHost(), g_load_opts);
  if (diags.HasErrors()) std::fprintf(stderr, "%s", diags.ToString().c_str());
  const CompiledRule* rule = engine->FindRule(rule_name);
  if (rule == nullptr) {
    std::fprintf(stderr, "no loaded rule named '%s'\n", rule_name.c_str());
    return 1;
  }
  std::string json = event_text;
  if (!json.empty() && json[0] == '@') {  // @file: first line of a recorded file
    std::ifstream in(json.substr(1));
    if (!std::getline(in, json)) {
      std::fprintf(stderr, "cannot read an event from %s\n", event_text.c_str() + 1);
      return 1;
    }
  }
  Event event;
  OwnedAncestors ancestors;
  if (auto err = ParseEventJson(json, &event, &ancestors)) {
    std::fprintf(stderr, "--event: %s\n", err->c_str());
    return 1;
  }
  std::printf("%s", engine->Explain(*rule, event).c_str());
  return 0;
}

int RunFields(bool markdown) {
  if (markdown) {
    std::printf("%s", FieldsMarkdown().c_str());
    return 0;
  }
  for (const auto& f : AllFields()) {
    std::string name = f.name;
    if (f.arg_kind == ArgKind::kIndex || f.arg_kind == ArgKind::kOptionalIndex) name += "[N]";
    std::printf("%-40s %-7s %s%s\n", name.c_str(), std::string(FieldTypeName(f.type)).c_str(),
                f.available ? "" : "<NA> ", f.description);
  }
  return 0;
}

int RunReplay(const std::string& file, const std::vector<std::string>& rules_files) {
  Diagnostics diags;
  auto engine = RuleEngine::Load(rules_files, &diags, RecordedEventsHost(), g_load_opts);
  for (const auto& d : diags.items())
    if (d.severity == Severity::kError) spdlog::error("{}", d.ToString());
  if (diags.HasErrors()) return 1;
  std::ifstream in_file;
  std::istream* in = &std::cin;
  if (file != "-") {
    in_file.open(file);
    if (!in_file) {
      spdlog::error("replay: cannot open {}", file);
      return 1;
    }
    in = &in_file;
  }
  auto stats = Replay(
      *in, *engine, [](const Alert& a) { std::printf("%s\n", AlertJsonLine(a).c_str()); },
      [&](uint64_t line, const std::string& err) { spdlog::warn("replay: {}:{}: {}", file, line, err); });
  std::fflush(stdout);
  spdlog::info("replay: {} events, {} alerts, {} bad lines", stats.events, stats.alerts, stats.bad_lines);
  return stats.bad_lines > 0 ? 2 : 0;
}

// Sigma files -> one Falco-format rules file on stdout; diagnostics on stderr.
int RunImportSigma(const std::vector<std::string>& paths) {
  Diagnostics diags;
  auto files = rules::ExpandRulesPaths(paths, &diags);
  for (const auto& f : files) {  // a Falco-format file here is a mistake, not something to pass through
    try {
      if (!sigma::IsSigmaDocument(YAML::LoadFile(f)))
        diags.Error({f, 0, 0}, "", "", "", "not a Sigma rule file (no logsource/detection keys)");
    } catch (const YAML::Exception&) {
      // LoadRulesFiles reports it, located
    }
  }
  auto doc = rules::LoadRulesFiles(files, &diags, g_load_opts);
  for (const auto& d : diags.items()) std::fprintf(stderr, "%s\n", d.ToString().c_str());
  std::string header = "Generated by vigil rules import-sigma: " + std::to_string(doc.sigma_rules) +
                       " Sigma rule(s) read, " + std::to_string(doc.rules.size()) + " translated, " +
                       std::to_string(doc.sigma_unsupported) + " unsupported (named on stderr).";
  std::printf("%s", sigma::ExportRulesYaml(doc, header).c_str());
  std::fprintf(stderr, "%zu error(s), %zu warning(s); sigma: %zu read, %zu translated, %zu unsupported\n",
               diags.ErrorCount(), diags.WarningCount(), doc.sigma_rules, doc.rules.size(), doc.sigma_unsupported);
  return diags.HasErrors() ? 1 : 0;
}

}  // namespace

void RegisterRulesCommands(CLI::App& app, int* exit_code) {
  auto* rules = app.add_subcommand("rules", "Validate, test, list and explain rules files");
  rules->require_subcommand(1);

  struct Opts {
    std::vector<std::string> files;
    bool quiet = false;
    std::string rule, event, replay_file;
    bool markdown = false;
    std::string config;
  };
  auto opts = std::make_shared<Opts>();
  // A command's callback: -c read first (exit 2 when it is bad), then the command.
  auto with_config = [opts, exit_code](std::function<int()> run) {
    return [opts, exit_code, run] { *exit_code = ReadLoadOptions(opts->config) ? run() : 2; };
  };

  auto* validate = rules->add_subcommand("validate", "Load rules files; print every error and warning");
  validate->add_option("files", opts->files, "Rules files or directories, in load order")->required();
  validate->add_flag("-q,--quiet", opts->quiet, "Print errors only");
  validate->add_option("-c,--config", opts->config, "Agent config to read sigma.fields from");
  validate->callback(with_config([opts] { return RunValidate(opts->files, opts->quiet); }));

  auto* test = rules->add_subcommand("test", "Run the rules' inline tests: cases");
  test->add_option("files", opts->files, "Rules files or directories")->required();
  test->add_option("-c,--config", opts->config, "Agent config to read sigma.fields from");
  test->callback(with_config([opts] { return RunTest(opts->files); }));

  auto* list = rules->add_subcommand("list", "List the loaded rules");
  list->add_option("files", opts->files, "Rules files or directories")->required();
  list->add_option("-c,--config", opts->config, "Agent config to read sigma.fields from");
  list->callback(with_config([opts] { return RunList(opts->files); }));

  auto* explain = rules->add_subcommand("explain", "Show which sub-conditions of a rule hold for an event");
  explain->add_option("rule", opts->rule, "Rule name")->required();
  explain->add_option("--event", opts->event, "The event as a JSON line (or @FILE: its first line)")->required();
  explain->add_option("-r,--rules", opts->files, "Rules files or directories")->required();
  explain->add_option("-c,--config", opts->config, "Agent config to read sigma.fields from");
  explain->callback(with_config([opts] { return RunExplain(opts->files, opts->rule, opts->event); }));

  auto* import = rules->add_subcommand("import-sigma", "Translate Sigma rule files into vigil rules (YAML on stdout)");
  import->add_option("files", opts->files, "Sigma files or directories")->required();
  import->add_option("-c,--config", opts->config, "Agent config to read sigma.fields from");
  import->callback(with_config([opts] { return RunImportSigma(opts->files); }));

  auto* fields = app.add_subcommand("fields", "List every field rules can use: name, type, description");
  fields->add_flag("--markdown", opts->markdown, "Print docs/fields.md");
  fields->callback([opts, exit_code] { *exit_code = RunFields(opts->markdown); });

  auto* replay = app.add_subcommand("replay", "Run recorded events (vigil events -w) through rules; alerts on stdout");
  replay->add_option("file", opts->replay_file, "Recorded JSON lines ('-' for stdin)")->required();
  replay->add_option("-r,--rules", opts->files, "Rules files or directories")->required();
  replay->add_option("-c,--config", opts->config, "Agent config to read sigma.fields from");
  replay->callback(with_config([opts] { return RunReplay(opts->replay_file, opts->files); }));
}

}  // namespace vigil::agent
