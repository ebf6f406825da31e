// SPDX-License-Identifier: Apache-2.0
// `vigil probe` and `vigil events`: what this kernel supports, and the live
// event stream as JSON lines.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "agent/commands.h"
#include "agent/signals.h"
#include "bpf/enforce/enforcement.h"
#include "bpf/features.h"
#include "bpf/sensor.h"
#include "engine/event_json.h"

namespace vigil::agent {
namespace {

const char* YesNo(bool b) { return b ? "yes" : "no"; }

int RunProbe() {
  capture::Features f = capture::ProbeFeatures();
  std::printf("kernel               %s\n", f.kernel_release.c_str());
  std::printf("root                 %s\n", YesNo(f.is_root));
  std::printf("btf                  %s\n", YesNo(f.btf));
  std::printf("tracefs              %s\n", f.tracefs.empty() ? "no" : f.tracefs.c_str());
  std::printf("bpf_lsm              %s (lsm=%s%s%s)\n", YesNo(f.bpf_lsm), f.lsm_list.empty() ? "?" : f.lsm_list.c_str(),
              f.bpf_lsm_note.empty() ? "" : "; ", f.bpf_lsm_note.c_str());
  std::printf("tp_btf               %s\n", YesNo(f.tp_btf));
  std::printf("ringbuf              %s\n", YesNo(f.ringbuf));
  std::printf("bpf_loop             %s\n", YesNo(f.bpf_loop));
  std::printf("cgroup_sock_addr     %s\n", YesNo(f.cgroup_sock_addr));
  std::printf("send_signal          %s\n", YesNo(f.send_signal));
  std::printf("rdonly_cast          %s%s%s\n", YesNo(f.rdonly_cast), f.rdonly_cast_note.empty() ? "" : " (",
              f.rdonly_cast_note.empty() ? "" : (f.rdonly_cast_note + ")").c_str());
  std::printf("ia32_syscalls        %s (%s)\n", std::string(capture::Ia32SyscallsName(f.ia32)).c_str(),
              f.ia32_note.c_str());

  // Load the programs for real: what the verifier and this kernel's hooks accept.
  capture::SensorOptions opts;
  opts.seed_from_proc = false;
  opts.ringbuf_bytes = 1u << 16;
  std::string error;
  auto sensor = capture::Sensor::Open(opts, &error);
  auto has = [&](std::string_view prog) {
    if (!sensor) return false;
    for (const auto& a : sensor->attached())
      if (a == prog) return true;
    return false;
  };
  std::printf("\ncapability           mechanism\n");
  auto cap = [](const char* what, bool ok, const char* how) {
    std::printf("%-20s %s\n", what, ok ? how : "unavailable");
  };
  cap("exec capture", has("vg_sched_exec"), "tracepoint sched/sched_process_exec + syscalls/sys_{enter,exit}_execve*");
  cap("fork capture", has("vg_fork_btf") || has("vg_fork_tp"),
      has("vg_fork_btf") ? "tp_btf sched_process_fork" : "tracepoint sched/sched_process_fork");
  cap("exit capture", has("vg_sched_exit"), "tracepoint sched/sched_process_exit");
  cap("file capture", has("vg_exit_openat"), "tracepoints syscalls/sys_exit_<call> (arguments from saved registers)");
  cap("network capture", has("vg_exit_connect"), "tracepoints syscalls/sys_exit_<call> (arguments from saved registers)");
  cap("bpf capture", has("vg_exit_bpf"), "tracepoints syscalls/sys_{enter,exit}_bpf (insn scan for helper ids)");
  cap("escape capture", has("vg_exit_unshare"), "tracepoints syscalls/sys_exit_<call> (dup2/dup3 paired per task)");
  const bool compat = has("vg_compat_exit");
  std::printf("%-20s %s\n", "32-bit syscalls",
              f.ia32 == capture::Ia32Syscalls::kOff
                  ? "none to capture: this kernel refuses them"
                  : compat ? "tp_btf sys_enter/sys_exit, compat calls only (exec, open family, unlink, socket calls "
                             "incl. socketcall, ptrace, set*id, modules, memfd, unshare, setns, bpf; evt.is_compat)"
                  : f.ia32 == capture::Ia32Syscalls::kOn
                        ? "NOT captured: this kernel runs them and they skip the syscalls/ tracepoints "
                          "(boot with ia32_emulation=0 to refuse them)"
                        : "not captured if this kernel runs them (unknown)");
  // Enforcement, as the enforcement module decides it (BPF LSM counts only when
  // `bpf` is an active LSM and an LSM program actually loads).
  for (const auto& e : enforce::ProbeEnforcement())
    std::printf("%-27s %s\n", ("enforce: " + e.capability).c_str(), e.mechanism.c_str());
  if (sensor) {
    std::printf("\nBPF build            %s\n", std::string(capture::BpfBuildName(sensor->build())).c_str());
    std::printf("programs attached    %zu\n", sensor->attached().size());
    for (const auto& d : sensor->disabled()) std::printf("program off          %s: %s\n", d.name.c_str(), d.reason.c_str());
    return 0;
  }
  std::printf("\ncapture unavailable: %s\n", error.c_str());
  return 1;
}

void LogStats(const capture::Sensor& s, uint64_t events, bool to_stderr) {
  std::string line = "events=" + std::to_string(events);
  for (const auto& c : s.ReadCounters()) line += " kernel." + std::string(c.name) + "=" + std::to_string(c.value);
  const auto& d = s.decode_stats();
  line += " decoder.decoded=" + std::to_string(d.decoded);
  for (std::size_t i = 1; i < d.rejected.size(); ++i)
    line += " decoder." + std::string(capture::DecodeStatusName(static_cast<capture::DecodeStatus>(i))) + "=" +
            std::to_string(d.rejected[i]);
  auto t = s.table_stats();
  line += " table.size=" + std::to_string(t.size) + " table.misses=" + std::to_string(t.misses) +
          " table.evictions=" + std::to_string(t.evictions) + " table.live_evictions=" +
          std::to_string(t.live_evictions) + " table.pid_reuses=" + std::to_string(t.pid_reuses);
  auto c = s.cgroup_stats();
  line += " cgroup.misses=" + std::to_string(c.misses) + " cgroup.unresolved=" + std::to_string(c.unresolved);
  if (to_stderr)
    std::fprintf(stderr, "%s\n", line.c_str());
  else
    spdlog::info("stats: {}", line);
}

struct EventsOptions {
  std::string write_file;
  bool stats = false;
  int stats_interval_s = 10;
  uint32_t ringbuf_mb = 16;
  std::string bpf_build = "auto";
  std::string ia32_programs = "auto";
};

int RunEvents(const EventsOptions& o) {
  capture::SensorOptions opts;
  opts.ringbuf_bytes = o.ringbuf_mb << 20;
  capture::ParseBpfBuild(o.bpf_build, &opts.build);  // checked by the option's validator
  capture::ParseIa32Programs(o.ia32_programs, &opts.ia32_programs);
  std::string error;
  auto sensor = capture::Sensor::Open(opts, &error);
  if (!sensor) {
    spdlog::error("capture cannot start: {}", error);
    return 1;
  }
  for (const auto& d : sensor->disabled()) {
    if (d.reason.rfind("superseded", 0) == 0)
      spdlog::debug("program {} off: {}", d.name, d.reason);
    else
      spdlog::warn("program {} off: {}", d.name, d.reason);
  }
  spdlog::info("capturing with {} programs ({} BPF build); {} processes seeded from /proc",
               sensor->attached().size(), capture::BpfBuildName(sensor->build()), sensor->seeded());

  std::FILE* out = stdout;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(nullptr, &std::fclose);
  if (!o.write_file.empty()) {
    file.reset(std::fopen(o.write_file.c_str(), "we"));
    if (!file) {
      spdlog::error("cannot open {} for writing: {}", o.write_file, std::strerror(errno));
      return 1;
    }
    out = file.get();
  }
  InstallSignalHandlers();
  uint64_t events = 0;
  std::string line;
  capture::Sensor::Callback cb = [&](const Event& e) {
    line.clear();
    AppendEventJson(e, &line);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), out);
    ++events;
  };
  auto next_stats = std::chrono::steady_clock::now() + std::chrono::seconds(o.stats_interval_s);
  int rc = 0;
  while (!StopRequested()) {
    int n = sensor->Poll(100, cb);
    if (n < 0 && n != -EINTR) {
      spdlog::error("ring buffer poll failed: {}", std::strerror(-n));
      rc = 1;
      break;
    }
    std::fflush(out);
    if (o.stats && std::chrono::steady_clock::now() >= next_stats) {
      LogStats(*sensor, events, false);
      next_stats += std::chrono::seconds(o.stats_interval_s);
    }
  }
  // Drain what is already in the ring buffer before exiting.
  sensor->Poll(0, cb);
  std::fflush(out);
  if (o.stats) LogStats(*sensor, events, true);
  return rc;
}

}  // namespace

void RegisterCaptureCommands(CLI::App& app, int* exit_code) {
  auto* probe = app.add_subcommand("probe", "Print what this kernel supports and how each capability is provided");
  probe->callback([exit_code] { *exit_code = RunProbe(); });

  auto opts = std::make_shared<EventsOptions>();
  auto* events = app.add_subcommand("events", "Stream captured events as JSON lines (needs root)");
  events->add_option("-w,--write", opts->write_file, "Record events to FILE instead of stdout");
  events->add_flag("--stats", opts->stats, "Log counters periodically and print them at exit (stderr)");
  events->add_option("--stats-interval", opts->stats_interval_s, "Seconds between periodic stats logs")
      ->check(CLI::Range(1, 3600));
  events->add_option("--ringbuf-mb", opts->ringbuf_mb, "Ring buffer size in MiB (power of two)")
      ->check(CLI::IsMember({1, 2, 4, 8, 16, 32, 64, 128, 256}));
  events->add_option("--bpf-build", opts->bpf_build,
                     "Which build of the BPF programs to load: auto (typed where the kernel allows, legacy without bpf_loop), typed, compat, legacy")
      ->check(CLI::IsMember({"auto", "typed", "compat", "legacy"}));
  events->add_option("--ia32-programs", opts->ia32_programs,
                     "The 32-bit (int 0x80) syscall programs: auto (unless this kernel refuses 32-bit calls), on, off")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  events->callback([exit_code, opts] { *exit_code = RunEvents(*opts); });
}

}  // namespace vigil::agent
