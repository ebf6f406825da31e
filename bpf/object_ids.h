// SPDX-License-Identifier: Apache-2.0
// Kernel ids of a loaded BPF object's programs, maps and links, which the
// capture sensor and the enforcement object both hand to self-protection
// (another process opening them by id is refused under BPF LSM, alerted
// otherwise). Program, map and link ids are separate id spaces.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstdint>
#include <vector>

namespace vigil::bpfobj {

struct ObjectIds {
  std::vector<uint32_t> progs;  // loaded programs
  std::vector<uint32_t> maps;   // maps of the object (incl. .rodata/.bss)
  std::vector<uint32_t> links;  // attachments
  // The owner's fds of `links`, same order (borrowed: valid while the owner
  // lives). The monitor dups them: getting a link's fd by id needs
  // CAP_SYS_ADMIN, which the shipped unit does not grant.
  std::vector<int> link_fds;
};

// The ids of `obj`'s loaded programs and maps and of `links`; an object
// whose info cannot be read is left out.
inline ObjectIds IdsOf(bpf_object* obj, const std::vector<bpf_link*>& links) {
  ObjectIds ids;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, obj) {
    int fd = bpf_program__fd(prog);
    if (fd < 0) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) ids.progs.push_back(info.id);
  }
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, obj) {
    int fd = bpf_map__fd(map);
    if (fd < 0) continue;
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) ids.maps.push_back(info.id);
  }
  for (bpf_link* l : links) {
    bpf_link_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_link__fd(l), &info, &len) == 0) {
      ids.links.push_back(info.id);
      ids.link_fds.push_back(bpf_link__fd(l));
    }
  }
  return ids;
}

}  // namespace vigil::bpfobj
