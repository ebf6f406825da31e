// SPDX-License-Identifier: Apache-2.0
// vigil: Linux runtime-security sensor. Entry point: parses the command line
// and hands over to the sub-command.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "agent/commands.h"
#include "agent/version.h"

int main(int argc, char** argv) {
  // Logs go to stderr; stdout belongs to data (events, alerts, listings).
  auto logger = spdlog::stderr_color_mt("vigil");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

  CLI::App app{"vigil: Linux runtime-security sensor (eBPF capture, YAML rules, alerts)"};
  app.set_version_flag("--version", std::string("vigil ") + vigil::kVersion);
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|critical|off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.parse_complete_callback([&] { spdlog::set_level(spdlog::level::from_str(log_level)); });

  int exit_code = 0;
  vigil::agent::RegisterCaptureCommands(app, &exit_code);
  vigil::agent::RegisterRulesCommands(app, &exit_code);
  vigil::agent::RegisterRunCommand(app, &exit_code);

  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
