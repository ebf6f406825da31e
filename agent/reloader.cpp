// SPDX-License-Identifier: Apache-2.0
#include "agent/reloader.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include "agent/self_alerts.h"

namespace vigil::agent {

ReloadOutcome Reloader::Reload(const AgentConfig& running) {
  spdlog::info("reload: SIGHUP received; re-reading configuration and rules");
  ReloadOutcome out;
  std::string problems;
  out.next = steps_.load(&problems);
  if (out.next && !steps_.install(out.next->policy)) {
    spdlog::error("reload: the new enforcement policy could not be installed; the previous one stays");
    problems = "the new enforcement policy could not be installed in the kernel";
    out.next.reset();
  }
  steps_.rewatch();
  if (out.next) {
    out.restart_only = RestartOnlyChanges(running, out.next->config);
    if (!out.restart_only.empty())
      spdlog::warn("reload: changed, but applied only when vigil restarts (the running values stay): {}",
                   fmt::format("{}", fmt::join(out.restart_only, ", ")));
    return out;
  }
  spdlog::error("reload: the new configuration or ruleset is broken; the previous one stays active");
  ::malloc_trim(0);
  Alert a = SelfAlert("vigil rules reload failed", Priority::kError,
                      "vigil kept its previous ruleset: the new configuration or rules have errors: " + problems);
  a.output_fields = {{"vigil.reload.errors", problems}};
  out.failure = std::move(a);
  return out;
}

}  // namespace vigil::agent
