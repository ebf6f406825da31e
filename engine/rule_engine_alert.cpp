// SPDX-License-Identifier: Apache-2.0
// Alert construction: runs only for rules that fired.
#include "engine/rule_engine.h"

namespace vigil {
namespace {

std::string Cmdline(const ProcessInfo& p) {
  std::string s = p.name;
  for (std::size_t i = 1; i < p.argv.size(); ++i) s += " " + p.argv[i];
  return s;
}

std::string IpText(const IpAddr& a, uint16_t family) {
  FieldValueRef v;
  v.ip = a;
  v.family = family;
  std::string s;
  RenderFieldValue(FieldType::kIpAddr, v, &s);
  return s;
}

}  // namespace

void FillAlertContext(const Event& e, Alert* out) {
  Alert& a = *out;
  a.event_type = e.type;
  a.event_res = e.res;
  a.process.pid = e.proc.pid;
  a.process.ppid = e.proc.ppid;
  a.process.uid = e.proc.uid;
  a.process.name = e.proc.name;
  a.process.exepath = e.proc.exepath;
  a.process.cmdline = Cmdline(e.proc);
  a.process.exec_id = e.proc.ExecId();
  if (e.ancestors != nullptr) {
    if (const ProcessInfo* parent = e.ancestors->Ancestor(1)) {
      a.process.parent_name = parent->name;
      a.process.parent_exepath = parent->exepath;
    }
  }
  a.container_id = e.proc.container_id.empty() ? "host" : e.proc.container_id;
  a.file_path = e.file.abspath.empty() ? e.file.path : e.file.abspath;
  if (IsNetEvent(e.type) && (e.net.family == 2 || e.net.family == 10)) {
    a.remote_ip = IpText(e.net.remote_addr, e.net.family);
    a.remote_port = e.net.remote_port;
    a.local_ip = IpText(e.net.local_addr, e.net.family);
    a.local_port = e.net.local_port;
  }
}

Alert RuleEngine::MakeAlert(const CompiledRule& rule, const Event& e) const {
  Alert a;
  a.uuid = NewUuid();
  a.time_ns = e.wall_ns;
  a.rule = rule.name;
  a.priority = rule.priority;
  // A fresh event number: the cache may hold values of another event.
  FieldContext ctx{&e, &host_, ++event_num_, cache_.data()};
  rule.output.Render(ctx, &a.output, &a.output_fields);
  // A burst's alert names what made it: the distinct values, first seen first.
  if (rule.correlate && !rule.correlate->state->last_burst().empty()) {
    std::string seen;
    for (const auto& v : rule.correlate->state->last_burst()) seen += (seen.empty() ? "" : ",") + v;
    a.output += " (" + std::to_string(rule.correlate->state->last_burst().size()) + " distinct " +
                rule.correlate->distinct->text + " in the window: " + seen + ")";
    a.output_fields.emplace_back("correlate.values", rule.correlate->state->last_burst());
  }
  a.tags = rule.tags;
  a.hostname = host_.hostname;
  a.source = rule.source;
  a.action = rule.action;
  a.enforcement = e.enforcement;

  FillAlertContext(e, &a);
  return a;
}

}  // namespace vigil
