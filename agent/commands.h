// SPDX-License-Identifier: Apache-2.0
// Sub-command registration for the `vigil` executable. Each family lives in
// its own file and adds its sub-commands to the root app; a sub-command's
// callback stores its process exit status in *exit_code.
#pragma once

namespace CLI {
class App;
}

namespace vigil::agent {

// `vigil probe`, `vigil events` (cmd_capture.cpp).
void RegisterCaptureCommands(CLI::App& app, int* exit_code);
// `vigil rules validate|test|list|explain`, `vigil fields`, `vigil replay` (cmd_rules.cpp).
void RegisterRulesCommands(CLI::App& app, int* exit_code);
// `vigil run` (cmd_run.cpp).
void RegisterRunCommand(CLI::App& app, int* exit_code);

}  // namespace vigil::agent
