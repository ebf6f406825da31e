// SPDX-License-Identifier: Apache-2.0
// The real actions the end-to-end test performs, each in a form that cannot
// damage the host:
// - files are written only in a scratch directory, or in a child's private
//   mount namespace on a tmpfs mounted over the real directory (/etc, /root,
//   /var/log, /run, /dev), which vanishes with the child;
// - sysctls and /proc/<pid>/mem are opened for writing and closed unwritten;
// - connects to non-loopback addresses happen only in a fresh network
//   namespace with no routes (they fail with ENETUNREACH; no packet leaves);
// - "containers" are a throwaway cgroup v2 directory named like a Docker
//   scope, removed afterwards; BPF programs are never attached to anything but
//   for a moment, and refused loads are the point for helpers lockdown forbids.
// Each action returns a note for the test log (what the kernel answered).
#pragma once

#include <functional>
#include <string>

namespace vigil::e2e {

struct Scratch {
  std::string dir;       // a fresh directory under /tmp, removed at the end
  std::string tag;       // unique per run, used in names the alerts must show
  std::string cgroup2;   // mount point of the cgroup v2 hierarchy
  std::string container_cgroup;  // the throwaway "container" cgroup directory
  std::string container_id;      // its 12-hex short id
};

// Creates the scratch directory and the "container" cgroup. "" or an error.
std::string MakeScratch(Scratch* s);
// Removes both (best effort; reports what it could not remove).
std::string RemoveScratch(const Scratch& s);

using Action = std::function<std::string(const Scratch&)>;

// --- eBPF ---
std::string BpfPlainLoad(const Scratch& s);        // socket filter "e2e_plain"
std::string BpfProbeWriteUser(const Scratch& s);   // kprobe calling helper 36
std::string BpfOverrideReturn(const Scratch& s);   // kprobe calling helper 58
std::string BpfSendSignal(const Scratch& s);       // tracepoint prog calling helper 109
std::string BpfLargeProgram(const Scratch& s);     // longer than the capture scans
std::string BpfRawTracepointSysEnter(const Scratch& s);
std::string BpfXdpLoad(const Scratch& s);
std::string BpfMapByIdAndPin(const Scratch& s);    // MAP_GET_FD_BY_ID; OBJ_PIN in a private bpffs
std::string BpfInContainer(const Scratch& s);
std::string OpenUnprivilegedBpfSysctl(const Scratch& s);

// --- container escape ---
std::string ReleaseAgentWrite(const Scratch& s);
std::string CorePatternOpenForWrite(const Scratch& s);
std::string ContainerSysctlAndNamespaces(const Scratch& s);
std::string ContainerMountProc(const Scratch& s);
// mount(2) of /dev/sda1 by a process without capabilities in the cgroup: refused (EPERM/EACCES).
std::string ContainerMountRefused(const Scratch& s);
std::string OpenDevMem(const Scratch& s);
std::string ContainerOpensBlockDevice(const Scratch& s);
std::string ContainerRuntimeSocket(const Scratch& s);
std::string FinitModuleBadFd(const Scratch& s);
std::string PtraceChild(const Scratch& s);
std::string ProcMemWrite(const Scratch& s);
std::string ContainerProcSelfFdWrite(const Scratch& s);
std::string ContainerSetuidCapsetExec(const Scratch& s);

// --- credentials, persistence, evasion ---
std::string CatShadow(const Scratch& s);
std::string PersistenceInPrivateEtc(const Scratch& s);  // cron, systemd, profile.d, sudoers.d, ld.so.preload, ssh
std::string KubeTokenRead(const Scratch& s);
std::string LogTruncate(const Scratch& s);
std::string HistoryTruncate(const Scratch& s);
std::string ChmodSetuid(const Scratch& s);
std::string SetcapOnCopy(const Scratch& s);  // setcap cap_net_raw+ep on <dir>/capped-<tag>, a copy of /bin/true
std::string Timestomp(const Scratch& s);  // touch -d 2019-01-01 on a new file
std::string Run32BitProgram(const Scratch& s);  // a static i386 program copied to <dir>/agent32, run
// Set by Run32BitProgram when the kernel refused the i386 exec (no ia32 emulation).
extern bool g_kernel_refuses_32bit;
std::string HiddenDirInTmp(const Scratch& s);

// --- execution, network ---
std::string NginxSpawnsShell(const Scratch& s);
std::string MemfdExec(const Scratch& s);
std::string DevShmExec(const Scratch& s);
std::string ReverseShellDup2(const Scratch& s);
std::string MinerCommandLine(const Scratch& s);

// --- issue 17 techniques: tests/e2e/technique_actions.sh DIR TAG, run as a whole ---
std::string TechniqueActions(const Scratch& s);
// Set by TechniqueActions when gdb's gcore is not installed (its step is skipped).
extern bool g_no_gcore;
std::string ConnectsInEmptyNetns(const Scratch& s);  // miner port, AF_PACKET
std::string ContainerMetadataConnect(const Scratch& s);

}  // namespace vigil::e2e
