// SPDX-License-Identifier: Apache-2.0
// BPF objects as the self-protection tests see them: the maps, programs and
// links a process holds (read from /proc/PID/fd and fdinfo, so finding them
// needs no bpf() call that could itself be alerted on), and the raw bpf()
// calls a test makes on objects of its own. Header-only and libbpf-free: the
// VM checks link nothing but libc.
#pragma once

#include <dirent.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace vigil::testing {

// One BPF object fd a process holds.
struct HeldBpfObject {
  std::string kind;  // "map", "prog", "link"
  uint32_t id = 0;
  std::map<std::string, std::string> info;  // fdinfo key -> value
};

// The BPF maps, programs and links process `pid` holds fds of (with their
// ids); empty when its fd directory cannot be read.
inline std::vector<HeldBpfObject> HeldBpfObjects(pid_t pid) {
  std::vector<HeldBpfObject> out;
  const std::string proc = "/proc/" + std::to_string(pid);
  DIR* d = opendir((proc + "/fd").c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char target[256] = {};
    if (e->d_name[0] == '.' || readlink((proc + "/fd/" + e->d_name).c_str(), target, sizeof(target) - 1) < 0)
      continue;
    const std::string t = target;
    HeldBpfObject o;
    o.kind = t == "anon_inode:bpf-map"                                    ? "map"
             : t == "anon_inode:bpf-prog"                                 ? "prog"
             : (t == "anon_inode:bpf_link" || t == "anon_inode:bpf-link") ? "link"
                                                                          : "";
    if (o.kind.empty()) continue;
    std::ifstream in(proc + "/fdinfo/" + e->d_name);
    std::string line;
    while (std::getline(in, line)) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      o.info[line.substr(0, colon)] = value;
    }
    const auto id = o.info.find(o.kind + "_id");
    if (id == o.info.end()) continue;
    o.id = static_cast<uint32_t>(std::stoul(id->second));
    out.push_back(std::move(o));
  }
  closedir(d);
  return out;
}

// bpf(2) without libbpf.
inline long Bpf(int cmd, bpf_attr* attr) { return syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }

// A one-element array map of this process (an object that is not vigil's):
// its fd, or -1 with errno set.
inline int CreateArrayMap() {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  return static_cast<int>(Bpf(BPF_MAP_CREATE, &attr));
}

// BPF_OBJ_GET_INFO_BY_FD of the map behind `fd` into *info; false (errno set)
// when the call failed.
inline bool MapInfo(int fd, bpf_map_info* info) {
  std::memset(info, 0, sizeof(*info));
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.info.bpf_fd = static_cast<uint32_t>(fd);
  attr.info.info_len = sizeof(*info);
  attr.info.info = reinterpret_cast<uint64_t>(info);
  return Bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) == 0;
}

// bpf(BPF_{PROG,MAP,LINK}_GET_FD_BY_ID) for `id`: the fd, or -1 with errno set.
inline int GetFdById(int cmd, uint32_t id) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_id = id;  // prog_id, map_id and link_id share the offset
  return static_cast<int>(Bpf(cmd, &attr));
}

}  // namespace vigil::testing
