// SPDX-License-Identifier: Apache-2.0
// SelfMonitor: built-in detection of access to vigil's own BPF objects and of
// changes to its links (see self_protect.h for what is and is not covered).
#include "bpf/enforce/self_protect.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <spdlog/fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vigil::enforce {

const char* GetFdByIdName(int32_t cmd) {
  switch (cmd) {
    case kBpfProgGetFdById: return "BPF_PROG_GET_FD_BY_ID";
    case kBpfMapGetFdById: return "BPF_MAP_GET_FD_BY_ID";
    case kBpfLinkGetFdById: return "BPF_LINK_GET_FD_BY_ID";
    default: return "";
  }
}

// One watched link: vigil's own fd on it and what its info said when watched.
struct SelfMonitor::Link {
  uint32_t id = 0;
  int fd = -1;
  uint32_t type = 0;
  uint32_t prog_id = 0;
  uint64_t cgroup_id = 0;  // cgroup links: the cgroup it is attached to (0 once detached)
  bool reported = false;
  ~Link() {
    if (fd >= 0) close(fd);
  }
};

namespace {

bool ReadLinkInfo(int fd, bpf_link_info* info) {
  std::memset(info, 0, sizeof(*info));
  uint32_t len = sizeof(*info);
  return bpf_obj_get_info_by_fd(fd, info, &len) == 0;
}

void AddSorted(std::vector<uint32_t>* set, const std::vector<uint32_t>& ids) {
  set->insert(set->end(), ids.begin(), ids.end());
  std::sort(set->begin(), set->end());
  set->erase(std::unique(set->begin(), set->end()), set->end());
}

}  // namespace

SelfMonitor::SelfMonitor() = default;
SelfMonitor::~SelfMonitor() = default;

void SelfMonitor::Watch(const SelfIds& ids) {
  AddSorted(&progs_, ids.progs);
  AddSorted(&maps_, ids.maps);
  std::vector<uint32_t> failed;
  std::string why;
  for (std::size_t i = 0; i < ids.links.size(); ++i) {
    const uint32_t id = ids.links[i];
    if (std::any_of(watched_.begin(), watched_.end(), [&](const auto& l) { return l->id == id; })) continue;
    auto l = std::make_unique<Link>();
    l->id = id;
    l->fd = i < ids.link_fds.size() ? fcntl(ids.link_fds[i], F_DUPFD_CLOEXEC, 0) : bpf_link_get_fd_by_id(id);
    bpf_link_info info;
    if (l->fd < 0 || !ReadLinkInfo(l->fd, &info)) {
      why = std::strerror(errno);
      failed.push_back(id);
      continue;
    }
    l->type = info.type;
    l->prog_id = info.prog_id;
    if (info.type == BPF_LINK_TYPE_CGROUP) l->cgroup_id = info.cgroup.cgroup_id;
    watched_.push_back(std::move(l));
  }
  // One line, not one per link: a sandbox that refuses one refuses them all.
  if (!failed.empty())
    spdlog::warn("self-protection: {} of {} links cannot be watched for replacement or detachment ({}); ids {}",
                 failed.size(), ids.links.size(), why, fmt::join(failed, ","));
  AddSorted(&links_, ids.links);
}

bool SelfMonitor::ForeignAccess(const Event& ev, uint32_t self_pid) const {
  if (ev.type != EventType::bpf || ev.proc.pid == self_pid) return false;
  const std::vector<uint32_t>* set = ev.bpf.cmd == kBpfProgGetFdById   ? &progs_
                                     : ev.bpf.cmd == kBpfMapGetFdById  ? &maps_
                                     : ev.bpf.cmd == kBpfLinkGetFdById ? &links_
                                                                       : nullptr;
  return set != nullptr && std::binary_search(set->begin(), set->end(), ev.bpf.id);
}

std::vector<std::string> SelfMonitor::Check() {
  std::vector<std::string> problems;
  for (auto& l : watched_) {
    if (l->reported) continue;
    bpf_link_info info;
    std::string what;
    if (!ReadLinkInfo(l->fd, &info)) {
      what = std::string("its info cannot be read any more: ") + std::strerror(errno);
    } else if (info.prog_id != l->prog_id) {
      what = "its program was replaced (program id " + std::to_string(l->prog_id) + " -> " +
             std::to_string(info.prog_id) + ", BPF_LINK_UPDATE)";
    } else if (l->type == BPF_LINK_TYPE_CGROUP && info.cgroup.cgroup_id != l->cgroup_id) {
      what = "it was detached from cgroup " + std::to_string(l->cgroup_id) + " (BPF_LINK_DETACH)";
    }
    if (what.empty()) continue;
    l->reported = true;
    problems.push_back("vigil's BPF link " + std::to_string(l->id) + " (program " + std::to_string(l->prog_id) +
                       "): " + what);
  }
  return problems;
}

}  // namespace vigil::enforce
