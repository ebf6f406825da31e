// SPDX-License-Identifier: Apache-2.0
// What the container metadata tests (docker/podman inspect, CRI status)
// compare: a container's identity and image, and a mount, each as one value,
// so one CHECK prints every field of both sides when any differs.
#pragma once

#include <string>
#include <vector>

#include "engine/state/container_meta.h"

namespace vigil::testing {

// id, name, type, image, image_repository, image_tag, image_id.
inline std::vector<std::string> IdentityOf(const ContainerMeta& m) {
  return {m.id, m.name, m.type, m.image, m.image_repository, m.image_tag, m.image_id};
}

// source, dest, mode, rw ("true"/"false"), propagation.
inline std::vector<std::string> FieldsOf(const ContainerMount& mount) {
  return {mount.source, mount.dest, mount.mode, mount.rw ? "true" : "false", mount.propagation};
}

}  // namespace vigil::testing
