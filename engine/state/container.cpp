// SPDX-License-Identifier: Apache-2.0
#include "engine/state/container.h"

#include <array>

namespace vigil {
namespace {

constexpr std::size_t kFullIdLength = 64;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsFullId(std::string_view s) { return s.size() == kFullIdLength && IsLowerHex(s); }

// `<prefix><id><suffix>` exactly, with a 64-hex id; returns the id or "".
std::string_view Wrapped(std::string_view component, std::string_view prefix, std::string_view suffix) {
  if (component.size() != prefix.size() + kFullIdLength + suffix.size()) return {};
  if (!component.starts_with(prefix) || !component.ends_with(suffix)) return {};
  std::string_view id = component.substr(prefix.size(), kFullIdLength);
  return IsLowerHex(id) ? id : std::string_view{};
}

// Parents under which the cgroupfs drivers place a container's cgroup named by
// its bare id: docker (/docker/<id>), containerd's namespaces as used by ctr,
// nerdctl and the CRI plugin without kubelet (/default/<id>, /k8s.io/<id>,
// /moby/<id>). A 64-hex name under any other parent is not taken for a
// container (a systemd unit or a user's cgroup may be named by a hash).
bool IsBareIdParent(std::string_view parent) {
  static constexpr std::array<std::string_view, 5> kParents = {"docker", "default", "k8s.io", "moby", "nerdctl"};
  for (std::string_view p : kParents) {
    if (parent == p) return true;
  }
  return false;
}

// A containerd identifier (containerd's identifiers.Validate): 1 to 76
// characters, letters and digits in runs joined by single '.', '_' or '-'.
bool IsContainerdId(std::string_view s) {
  constexpr std::size_t kMaxLength = 76;
  if (s.empty() || s.size() > kMaxLength) return false;
  bool after_separator = true;  // the first character must be alphanumeric
  for (char c : s) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alnum) {
      after_separator = false;
    } else if (c == '.' || c == '_' || c == '-') {
      if (after_separator) return false;
      after_separator = true;
    } else {
      return false;
    }
  }
  return !after_separator;
}

// The id one path component encodes, given the component before it; "" if none.
// The conmon monitors of CRI-O and podman (`crio-conmon-<id>`,
// `libpod-conmon-<id>.scope`) fail the hex check after the prefix, so they are
// not containers, as intended: they run on the host side of the runtime.
std::string_view IdInComponent(std::string_view component, std::string_view previous, bool under_kubepods) {
  // cgroupfs driver: a bare id under its runtime's parent cgroup, or anywhere
  // under kubelet's kubepods tree.
  if (IsFullId(component) && (under_kubepods || IsBareIdParent(previous))) return component;
  // containerd's CRI namespace names a container's cgroup by its id, which
  // need not be hex when the container was made with ctr or nerdctl there.
  if (previous == "k8s.io" && IsContainerdId(component)) return component;
  struct Form {
    std::string_view prefix, suffix;
  };
  static constexpr std::array<Form, 8> kForms = {{
      {"docker-", ".scope"},
      {"cri-containerd-", ".scope"},
      {"crio-", ".scope"},
      {"crio-", ""},
      {"libpod-", ".scope"},
      {"libpod-", ""},  // podman, cgroupfs manager: /libpod_parent/libpod-<id>
      {"libpod-payload-", ""},  // podman --cgroups=split
      {"nerdctl-", ".scope"},
  }};
  for (const Form& form : kForms) {
    std::string_view id = Wrapped(component, form.prefix, form.suffix);
    if (!id.empty()) return id;
  }
  // systemd-driver slice naming used by kubelet+containerd: "<slice>:cri-containerd:<id>".
  constexpr std::string_view kCriTag = ":cri-containerd:";
  if (component.size() > kCriTag.size() + kFullIdLength) {
    std::string_view tail = component.substr(component.size() - kFullIdLength);
    std::string_view tag = component.substr(component.size() - kFullIdLength - kCriTag.size(), kCriTag.size());
    if (tag == kCriTag && IsLowerHex(tail)) return tail;
  }
  return {};
}

// The 64-hex id of the innermost (last) matching component, or "".
std::string_view FindId(std::string_view path) {
  std::string_view found, previous;
  bool under_kubepods = false;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view component = path.substr(pos, slash - pos);
    if (!component.empty()) {
      std::string_view id = IdInComponent(component, previous, under_kubepods);
      if (!id.empty()) found = id;
      if (component == "kubepods" || component.starts_with("kubepods.") || component.starts_with("kubepods-")) {
        under_kubepods = true;
      }
      previous = component;
    }
    pos = slash + 1;
  }
  return found;
}

}  // namespace

std::string ContainerIdFromCgroup(std::string_view cgroup_path) {
  std::string_view id = FindId(cgroup_path);
  if (id.empty()) return std::string(kHostContainerId);
  return ShortContainerId(id);
}

std::string ShortContainerId(std::string_view full_id) {
  if (IsFullId(full_id)) return std::string(full_id.substr(0, kContainerIdLength));
  return std::string(full_id);
}

bool IsContainerCgroup(std::string_view cgroup_path) { return !FindId(cgroup_path).empty(); }

bool InContainer(const ProcessInfo& proc, const Namespaces& host) {
  if (!proc.container_id.empty() && proc.container_id != kHostContainerId) return true;
  bool other_mnt = proc.ns.mnt != 0 && host.mnt != 0 && proc.ns.mnt != host.mnt;
  return other_mnt && proc.pidns_level > 0;
}

}  // namespace vigil
