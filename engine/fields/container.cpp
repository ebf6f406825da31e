// SPDX-License-Identifier: Apache-2.0
// container.id (the cgroup's container id, or "host"), then the container and
// Kubernetes fields, read from the runtime's metadata the event
// carries (Event::container, engine/state/container_meta.h). No metadata (a
// host process, a runtime vigil cannot reach, or not fetched yet) is <NA>, as
// in Falco before its container plugin has the container.

#include <fnmatch.h>

#include <charconv>

#include "engine/fields/family.h"
#include "engine/state/container_meta.h"

namespace vigil {
namespace {

using C = const FieldContext&;
using G = const FieldArg&;

enum ContainerId : uint16_t {
  // ContainerIdFields
  kId,
  // ContainerFields
  kName, kType, kImage, kImageRepository, kImageTag, kImageDigest, kImageId, kPrivileged, kStartTs, kDuration,
  kMounts, kMount, kMountSource, kMountDest, kMountMode, kMountRdwr, kMountPropagation, kLabel, kLabels,
  kK8sPodName, kK8sNsName, kK8sPodUid, kK8sPodLabel,
};

// The mount a bracket argument names: an index ("[0]") or, as in Falco, a
// glob on the *other* end: container.mount.source[/host/proc] names the mount
// by its destination, every other container.mount* field by its source
// (container.mount.dest[/proc*]: where the host's /proc is mounted). The first
// that matches.
const ContainerMount* MountFor(const ContainerMeta& m, G a, bool key_is_dest) {
  if (!a.present) return m.mounts.empty() ? nullptr : &m.mounts.front();
  std::size_t index = 0;
  auto r = std::from_chars(a.key.data(), a.key.data() + a.key.size(), index);
  if (r.ec == std::errc() && r.ptr == a.key.data() + a.key.size())
    return index < m.mounts.size() ? &m.mounts[index] : nullptr;
  for (const ContainerMount& mt : m.mounts) {
    const std::string& end = key_is_dest ? mt.dest : mt.source;
    if (fnmatch(a.key.c_str(), end.c_str(), 0) == 0) return &mt;
  }
  return nullptr;
}

// A path glob argument (not an index).
bool IsGlobKey(G a) {
  return a.present && !a.key.empty() && a.key.find_first_not_of("0123456789") != std::string::npos;
}

void MountText(const ContainerMount& mt, std::string* out) {
  *out += mt.source;
  *out += ':';
  *out += mt.dest;
  *out += ':';
  *out += mt.mode;
  *out += ':';
  *out += mt.rw ? "true" : "false";
  *out += ':';
  *out += mt.propagation;
}

bool GetMountPart(const FieldDef& d, C c, G a, Scratch& s, FieldValueRef* o) {
  const ContainerMeta* m = c.event->container.get();
  const ContainerMount* mt = m == nullptr ? nullptr : MountFor(*m, a, d.id == kMountSource);
  // No mount at that path (or no metadata) is the text "<NA>", as Falco's
  // container plugin gives it: its sensitive_mount idiom is
  // `not container.mount.dest[/proc*] in ("<NA>","N/A")`, which an absent
  // value (a false check, negated) would make true for every container
  // (Launch Sensitive Mount Container fired on a privileged container
  // without mounts; container_podman_test).
  if (mt == nullptr) return IsGlobKey(a) ? Str(o, "<NA>") : false;
  switch (d.id) {
    case kMountSource: return Str(o, mt->source);
    case kMountDest: return Str(o, mt->dest);
    case kMountMode: return Str(o, mt->mode);
    case kMountRdwr: return Str(o, mt->rw ? "true" : "false");
    case kMountPropagation: return Str(o, mt->propagation);
    default:
      s.buf.clear();
      MountText(*mt, &s.buf);
      return Str(o, s.buf);
  }
}

// "k1:v1,k2:v2" (sorted by key).
bool LabelsText(const ContainerMeta& m, std::string_view prefix, Scratch& s, FieldValueRef* o) {
  s.buf.clear();
  for (const auto& [k, v] : m.labels) {
    if (!k.starts_with(prefix)) continue;
    if (!s.buf.empty()) s.buf += ',';
    s.buf += k;
    s.buf += ':';
    s.buf += v;
  }
  return Str(o, s.buf);
}

const ContainerMeta* Meta(C c) { return c.event->container.get(); }

// A row reading one string of the metadata; <NA> when empty.
#define STR_FIELD(id, name, member, desc)                               \
  {id, name, T::kString, A::kNone, true, desc,                          \
   VIGIL_GETTER {                                                       \
     const ContainerMeta* m = Meta(c);                                  \
     return m != nullptr && !m->member.empty() && Str(o, m->member);    \
   },                                                                   \
   nullptr}

bool GetImageId(const FieldDef&, C c, G, Scratch&, FieldValueRef* o) {
  const ContainerMeta* m = Meta(c);
  return m != nullptr && !m->image_id.empty() && Str(o, std::string_view(m->image_id).substr(0, 12));
}

bool GetPrivileged(const FieldDef&, C c, G, Scratch&, FieldValueRef* o) {
  const ContainerMeta* m = Meta(c);
  return m != nullptr && (o->boolean = m->privileged, true);
}

bool GetStartTs(const FieldDef&, C c, G, Scratch&, FieldValueRef* o) {
  const ContainerMeta* m = Meta(c);
  return m != nullptr && m->start_ns > 0 && (o->num = m->start_ns, true);
}

bool GetDuration(const FieldDef&, C c, G, Scratch&, FieldValueRef* o) {
  const ContainerMeta* m = Meta(c);
  return m != nullptr && m->start_ns > 0 && (o->num = static_cast<int64_t>(c.event->wall_ns) - m->start_ns, true);
}

bool GetMounts(const FieldDef&, C c, G, Scratch& s, FieldValueRef* o) {
  const ContainerMeta* m = Meta(c);
  if (m == nullptr) return false;
  s.buf.clear();
  for (const ContainerMount& mt : m->mounts) {
    if (!s.buf.empty()) s.buf += ',';
    MountText(mt, &s.buf);
  }
  return Str(o, s.buf);
}

bool GetLabel(const FieldDef&, C c, G a, Scratch&, FieldValueRef* o) {
  const ContainerMeta* m = Meta(c);
  const std::string* val = m != nullptr && a.present ? m->Label(a.key) : nullptr;
  return val != nullptr && Str(o, *val);
}

bool GetLabels(const FieldDef&, C c, G, Scratch& s, FieldValueRef* o) {
  const ContainerMeta* m = Meta(c);
  return m != nullptr && LabelsText(*m, "", s, o);
}

bool GetPodLabel(const FieldDef&, C c, G a, Scratch&, FieldValueRef* o) {
  const ContainerMeta* m = Meta(c);
  const std::string* val = m != nullptr && a.present ? m->PodLabel(a.key) : nullptr;
  return val != nullptr && Str(o, *val);
}

constexpr FieldDef kIdRows[] = {
    {kId, "container.id", T::kString, A::kNone, true, "Container id (12 hex), or \"host\".",
     VIGIL_GETTER {
       const auto& id = c.event->proc.container_id;
       return Str(o, id.empty() ? std::string_view("host") : std::string_view(id));
     },
     SetMember},
};
static_assert(IdsInOrder(kIdRows, kId));

#define MOUNT_BY " by [index] or [source glob]; no such mount: \"<NA>\"."

constexpr FieldDef kRows[] = {
    STR_FIELD(kName, "container.name", name, "Container name, from the runtime's API."),
    STR_FIELD(kType, "container.type", type, "Runtime that reported the container: docker or podman."),
    STR_FIELD(kImage, "container.image", image, "Image as the container was created from (repository:tag)."),
    STR_FIELD(kImageRepository, "container.image.repository", image_repository,
              "Image repository (the image without tag or digest)."),
    STR_FIELD(kImageTag, "container.image.tag", image_tag, "Image tag (latest when the reference named none)."),
    STR_FIELD(kImageDigest, "container.image.digest", image_digest, "Image digest, when the reference had one."),
    {kImageId, "container.image.id", T::kString, A::kNone, true, "Image id, first 12 hex characters.", GetImageId,
     nullptr},
    {kPrivileged, "container.privileged", T::kBool, A::kNone, true, "Container runs privileged (--privileged).",
     GetPrivileged, nullptr},
    {kStartTs, "container.start_ts", T::kNumber, A::kNone, true, "Container start, ns since the epoch.", GetStartTs,
     nullptr},
    {kDuration, "container.duration", T::kNumber, A::kNone, true, "ns from the container's start to the event.",
     GetDuration, nullptr},
    {kMounts, "container.mounts", T::kString, A::kNone, true,
     "Mounts, comma-separated, each source:dest:mode:rdwr:propagation.", GetMounts, nullptr},
    {kMount, "container.mount", T::kString, A::kAny, true,
     "One mount (source:dest:mode:rdwr:propagation)," MOUNT_BY, GetMountPart, nullptr},
    {kMountSource, "container.mount.source", T::kString, A::kAny, true,
     "Mount source, by [index] or [destination glob]; no such mount: \"<NA>\".", GetMountPart, nullptr},
    {kMountDest, "container.mount.dest", T::kString, A::kAny, true, "Mount destination," MOUNT_BY, GetMountPart,
     nullptr},
    {kMountMode, "container.mount.mode", T::kString, A::kAny, true, "Mount mode string," MOUNT_BY, GetMountPart,
     nullptr},
    {kMountRdwr, "container.mount.rdwr", T::kString, A::kAny, true, "true for a read-write mount," MOUNT_BY,
     GetMountPart, nullptr},
    {kMountPropagation, "container.mount.propagation", T::kString, A::kAny, true, "Mount propagation," MOUNT_BY,
     GetMountPart, nullptr},
    {kLabel, "container.label", T::kString, A::kAny, true, "Container label [NAME].", GetLabel, nullptr},
    {kLabels, "container.labels", T::kString, A::kNone, true, "Container labels, comma-separated key:value.",
     GetLabels, nullptr},
    STR_FIELD(kK8sPodName, "k8s.pod.name", k8s_pod_name,
              "Kubernetes pod name (CRI: the pod sandbox's; else the io.kubernetes.pod.name label)."),
    STR_FIELD(kK8sNsName, "k8s.ns.name", k8s_ns_name,
              "Kubernetes namespace (CRI: the pod sandbox's; else the io.kubernetes.pod.namespace label)."),
    STR_FIELD(kK8sPodUid, "k8s.pod.uid", k8s_pod_uid,
              "Kubernetes pod uid (CRI: the pod sandbox's; else the io.kubernetes.pod.uid label)."),
    {kK8sPodLabel, "k8s.pod.label", T::kString, A::kAny, true,
     "Pod label [NAME] (CRI: the pod's labels; docker/podman: the container's labels, as pod labels are not copied).",
     GetPodLabel, nullptr},
};
static_assert(IdsInOrder(kRows, kName));
#undef MOUNT_BY
#undef STR_FIELD

}  // namespace

std::span<const FieldDef> ContainerIdFields() { return kIdRows; }
std::span<const FieldDef> ContainerFields() { return kRows; }

}  // namespace vigil
