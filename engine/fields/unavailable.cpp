// SPDX-License-Identifier: Apache-2.0
// Falco fields that need the container/k8s plugins or kernel data vigil does
// not capture: they load without error and are always <NA>, as in Falco
// without the plugin. The `*` rows stand for a family FindField() resolves
// by prefix (container.image.*, k8s.*, ...).
#include "engine/fields/family.h"

namespace vigil {
namespace {

enum UnavailableId : uint16_t {
  kProcPpidDuration, kProcIsExeWritable, kProcIsContainerHealthcheck, kProcIsContainerLivenessProbe,
  kProcIsContainerReadinessProbe, kThreadCapInheritable, kThreadVtid, kUserHomedir, kUserShell, kFdNameChanged,
  kFdTypes, kFdDev, kFdIno, kContainerIp, kContainerCniJson, kContainerInfo, kContainerImageAny,
  kContainerMountAny, kContainerHealthcheckAny, kContainerProbesAny, kK8sAny, kK8smetaAny, kKaAny,
};

#define NA_ROW(id, name, desc) {id, name, FieldType::kString, ArgKind::kAny, false, desc, NotAvailable, nullptr}

constexpr FieldDef kRows[] = {
    NA_ROW(kProcPpidDuration, "proc.ppid.duration", "Parent's age (not tracked)."),
    NA_ROW(kProcIsExeWritable, "proc.is_exe_writable", "Executable writable by the process (not captured)."),
    NA_ROW(kProcIsContainerHealthcheck, "proc.is_container_healthcheck",
           "Container health check (needs a container runtime plugin)."),
    NA_ROW(kProcIsContainerLivenessProbe, "proc.is_container_liveness_probe",
           "Container probe (needs a container runtime plugin)."),
    NA_ROW(kProcIsContainerReadinessProbe, "proc.is_container_readiness_probe",
           "Container probe (needs a container runtime plugin)."),
    NA_ROW(kThreadCapInheritable, "thread.cap_inheritable", "Inheritable capabilities (not captured)."),
    NA_ROW(kThreadVtid, "thread.vtid", "Thread id in its pid namespace (not captured)."),
    NA_ROW(kUserHomedir, "user.homedir", "Home directory (not resolved)."),
    NA_ROW(kUserShell, "user.shell", "Login shell (not resolved)."),
    NA_ROW(kFdNameChanged, "fd.name_changed",
           "The event changed the fd's name (a UDP peer change): libsinsp's socket state, which vigil does not "
           "have (docs/rules.md)."),
    NA_ROW(kFdTypes, "fd.types", "Types of all fds of the process (not tracked)."),
    NA_ROW(kFdDev, "fd.dev", "Device of the file (not captured)."),
    NA_ROW(kFdIno, "fd.ino", "Inode of the file (not captured)."),
    NA_ROW(kContainerIp, "container.ip", "Container IP (needs the container plugin)."),
    NA_ROW(kContainerCniJson, "container.cni.json", "Container CNI result (needs the container plugin)."),
    NA_ROW(kContainerInfo, "container.info", "Container summary (needs the container plugin)."),
    NA_ROW(kContainerImageAny, "container.image.*",
           "Other container image fields (not reported by the runtimes' APIs)."),
    NA_ROW(kContainerMountAny, "container.mount.*", "Other container mount fields (not reported)."),
    NA_ROW(kContainerHealthcheckAny, "container.healthcheck*", "Container health check (needs the container plugin)."),
    NA_ROW(kContainerProbesAny, "container.probes*", "Container probes (need the container plugin)."),
    NA_ROW(kK8sAny, "k8s.*", "Kubernetes metadata (needs the k8smeta plugin)."),
    NA_ROW(kK8smetaAny, "k8smeta.*", "Kubernetes metadata (needs the k8smeta plugin)."),
    NA_ROW(kKaAny, "ka.*", "Kubernetes audit (another event source)."),
};
static_assert(IdsInOrder(kRows));
#undef NA_ROW

}  // namespace

bool NotAvailable(const FieldDef&, const FieldContext&, const FieldArg&, Scratch&, FieldValueRef*) { return false; }

std::span<const FieldDef> UnavailableFields() { return kRows; }

}  // namespace vigil
