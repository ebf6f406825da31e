// SPDX-License-Identifier: Apache-2.0
#include "agent/ruleset.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "agent/self_protection.h"
#include "bpf/sensor.h"
#include "bpf/vigil_abi.h"
#include "engine/interest.h"
#include "engine/state/dns_cache.h"

namespace vigil::agent {
namespace {

void LogLines(spdlog::level::level_enum level, const std::string& text) {
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) spdlog::log(level, "{}", text.substr(start, end - start));
    start = end + 1;
  }
}

std::vector<std::string> ErrorLines(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& item : d.items())
    if (item.severity == Severity::kError) out.push_back(item.ToString());
  return out;
}

void LogLoaded(const Loaded& l) {
  if (l.engine->host().host_ns_source != "/proc/1/ns")
    spdlog::info("host namespaces: {}", l.engine->host().host_ns_source);
  const auto& st = l.engine->stats();
  spdlog::info("config: {}; rules: {} loaded, {} enabled from {}", l.config.source, st.rules_loaded,
               st.rules_enabled, fmt::format("{}", fmt::join(l.config.rules_paths, ", ")));
  if (st.sigma_rules > 0)
    spdlog::info("sigma: {} rule(s) read, {} translated, {} unsupported (each logged above with its reason)",
                 st.sigma_rules, st.sigma_rules - st.sigma_unsupported, st.sigma_unsupported);
}

}  // namespace

std::string SummariseErrors(const std::vector<std::string>& errors) {
  std::string out;
  std::size_t shown = 0;
  for (const auto& e : errors) {
    if (shown == 3 || out.size() > 800) break;
    out += (out.empty() ? "" : "; ") + e;
    ++shown;
  }
  if (shown < errors.size()) out += fmt::format("; and {} more", errors.size() - shown);
  return out;
}

std::unique_ptr<Loaded> LoadAll(const RunOptions& o, std::string* problems) {
  auto cfg = LoadAgentConfig(o.config, o.overrides, o.rules);
  for (const auto& w : cfg.warnings) spdlog::warn("config: {}", w);
  for (const auto& e : cfg.errors) spdlog::error("config: {}", e);
  if (!cfg.ok()) {
    if (problems) *problems = SummariseErrors(cfg.errors);
    return nullptr;
  }
  auto out = std::make_unique<Loaded>();
  out->config = std::move(cfg.config);
  Diagnostics diags;
  rules::LoadOptions load_opts;
  load_opts.sigma_fields = out->config.sigma_fields;
  out->engine = RuleEngine::Load(out->config.rules_paths, &diags, HostInfo::FromSystem(), load_opts);
  LogLines(diags.HasErrors() ? spdlog::level::err : spdlog::level::warn, diags.ToString());
  if (diags.HasErrors() || out->engine == nullptr) {
    spdlog::error("rules: {} error(s) in {}; refusing this ruleset", diags.ErrorCount(),
                  fmt::format("{}", fmt::join(out->config.rules_paths, ", ")));
    if (problems)
      *problems = diags.HasErrors() ? SummariseErrors(ErrorLines(diags)) : "the rules could not be loaded";
    return nullptr;
  }
  Diagnostics pdiags;
  auto spec = policy::CompilePolicy(*out->engine, &pdiags);
  LogLines(pdiags.HasErrors() ? spdlog::level::err : spdlog::level::warn, pdiags.ToString());
  if (!spec) {
    spdlog::error("enforcement: {} rule(s) with action deny|kill cannot be decided in the kernel; refusing this "
                  "ruleset", pdiags.ErrorCount());
    if (problems) *problems = SummariseErrors(ErrorLines(pdiags));
    return nullptr;
  }
  out->policy = std::move(*spec);
  LogLoaded(*out);
  return out;
}

void StartDnsNames(const RuleEngine& engine, const RuleEngine* previous) {
  DnsCache* dns = engine.host().dns.get();
  if (dns == nullptr) return;
  const std::vector<std::string> names = dns->Names();
  if (names.empty()) return;
  if (previous != nullptr && previous->host().dns != nullptr) dns->AdoptAddresses(*previous->host().dns);
  spdlog::info("dns: resolving {} name(s) the rules compare fd.*ip.name with, in the background: {}", names.size(),
               fmt::format("{}", fmt::join(names, ", ")));
  dns->Start([](const std::string& line) { spdlog::warn("{}", line); });
}

static_assert(kDataBufferMax == VG_DATA_LEN, "engine/event.h mirrors bpf/vigil_abi.h");
static_assert(kOpenPathWindow == VG_OPEN_PATH_WINDOW && kOpenPrefixesMax == VG_OPEN_PREFIXES_MAX,
              "engine/interest.h mirrors bpf/vigil_abi.h");
static_assert(kResolvedNameWindow + 1 == VG_RES_NAME_LEN && kResolvedKeysMax == VG_RES_KEYS_MAX &&
                  static_cast<int>(ResolvedKind::kTop) == VG_OPEN_KIND_TOP &&
                  static_cast<int>(ResolvedKind::kLeaf) == VG_OPEN_KIND_LEAF,
              "engine/interest.h mirrors bpf/vigil_abi.h");

namespace {

// The open path filter (docs/capture.md, "Open path filter"). Self-protection
// reads opens of /proc/<pid>/mem by fd.name whatever the rules ask.
void ApplyOpenPathFilter(capture::Sensor* sensor, const RuleEngine& engine) {
  const OpenPathFilters f = DeriveOpenPathFilters(engine, {"/proc/"});
  capture::OpenFilterClass classes[kOpenClassCount];
  for (std::size_t c = 0; c < kOpenClassCount; ++c) {
    classes[c] = {f.cls[c].active, f.cls[c].prefixes, f.cls[c].resolved, {}};
    for (const ResolvedKey& k : OpenResolvedKeys(f.cls[c]))
      classes[c].resolved_keys.emplace_back(static_cast<uint8_t>(k.kind), k.bytes);
  }
  std::string error;
  if (!sensor->SetOpenFilter(classes, &error)) {
    spdlog::warn("capture filter: {}; every open is sent", error);
    return;
  }
  for (std::size_t c = 0; c < kOpenClassCount; ++c) {
    const OpenPathFilter& k = f.cls[c];
    const char* cls = OpenClassName(static_cast<OpenClass>(c));
    if (k.active)
      spdlog::info("capture filter: {} opens of an absolute plain path are sent only under {} path prefix(es) that "
                   "the {} enabled rule(s) on the open family (and self-protection) need{}",
                   cls, k.prefixes.size(), k.bounded_rules,
                   k.resolved ? fmt::format(", or when they fail, or when the opened file's resolved path passes {} "
                                            "name key(s) that {} rule(s) on fd.name.resolved need",
                                            classes[c].resolved_keys.size(), k.resolved_rules.size())
                              : std::string());
    else
      spdlog::info("capture filter: every {} open is sent (rule '{}' has no path bound the kernel can test)", cls,
                   k.unbounded_rule);
  }
}

}  // namespace

void ApplyInterest(capture::Sensor* sensor, const RuleEngine& engine) {
  const Interest in = DeriveInterest(engine);
  const compile::EventTypeSet kernel = KernelEventTypes();
  compile::EventTypeSet types = in.types & kernel;
  types |= SelfProtectionEventTypes() & kernel;  // built-in self-protection reads these whatever the rules ask
  sensor->SetInterest(types, static_cast<uint32_t>(getpid()), in.env, in.buffer);
  ApplyOpenPathFilter(sensor, engine);
  if (in.env)
    spdlog::info("capture filter: exec records carry the environment (rule '{}' reads proc.env)", in.env_rule);
  else
    spdlog::info("capture filter: environments stay in the kernel (no enabled rule reads proc.env)");
  if (in.buffer)
    spdlog::info("capture filter: send/recv records carry the payload's first {} bytes (rule '{}' reads evt.buffer)",
                 kDataBufferMax, in.buffer_rule);
  else
    spdlog::info("capture filter: payloads stay in the kernel (no enabled rule reads evt.buffer)");
  if (types == kernel)
    spdlog::info("capture filter: every event type is sent{}",
                 in.unrestricted_rule.empty() ? std::string()
                                              : " (rule '" + in.unrestricted_rule + "' does not restrict evt.type)");
  else
    spdlog::info("capture filter: {} of {} event types sent; left in the kernel (no enabled rule uses them, nor "
                 "the process table or self-protection): {}",
                 types.count(), kKernelEventTypeCount, EventTypeNames(kernel & ~types));
}

}  // namespace vigil::agent
