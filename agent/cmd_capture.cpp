#include <CLI/CLI.hpp>

#include "agent/commands.h"

namespace vigil::agent {

// Filled in by the capture work (issue 2): `vigil probe`, `vigil events`.
void RegisterCaptureCommands(CLI::App& /*app*/, int* /*exit_code*/) {}

}  // namespace vigil::agent
