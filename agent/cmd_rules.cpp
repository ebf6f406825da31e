#include <CLI/CLI.hpp>

#include "agent/commands.h"

namespace vigil::agent {

// Filled in by the rules-engine work (issue 3): rules, fields, replay.
void RegisterRulesCommands(CLI::App& /*app*/, int* /*exit_code*/) {}

}  // namespace vigil::agent
