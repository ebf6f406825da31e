// SPDX-License-Identifier: Apache-2.0
#include "engine/state/fd_table.h"

#include <algorithm>

namespace vigil {

FdTable::FdTable(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

void FdTable::Erase(List::iterator it) {
  index_.erase(Key(it->pid, it->fd));
  auto p = by_pid_.find(it->pid);
  if (p != by_pid_.end()) {
    auto& fds = p->second;
    fds.erase(std::remove(fds.begin(), fds.end(), it->fd), fds.end());
    if (fds.empty()) by_pid_.erase(p);
  }
  spare_.splice(spare_.begin(), lru_, it);
}

FdTable::Node* FdTable::Put(uint32_t pid, int32_t fd) {
  if (auto it = index_.find(Key(pid, fd)); it != index_.end()) {
    // The same descriptor again (a process opening and closing fd 3 in a
    // loop): the node and its string buffers are reused, nothing allocated.
    lru_.splice(lru_.begin(), lru_, it->second);
    auto& fds = by_pid_[pid];
    if (auto f = std::find(fds.begin(), fds.end(), fd); f != fds.end()) std::rotate(f, f + 1, fds.end());
    return &lru_.front();
  }
  auto& fds = by_pid_[pid];
  if (fds.size() >= kMaxFdsPerProcess) {
    auto it = index_.find(Key(pid, fds.front()));
    ++stats_.evictions;
    if (it != index_.end()) Erase(it->second);
  }
  if (index_.size() >= capacity_) {
    ++stats_.evictions;
    Erase(std::prev(lru_.end()));
  }
  if (spare_.empty()) spare_.emplace_front();
  lru_.splice(lru_.begin(), spare_, spare_.begin());
  Node& n = lru_.front();
  n.pid = pid;
  n.fd = fd;
  n.cloexec = false;
  index_[Key(pid, fd)] = lru_.begin();
  by_pid_[pid].push_back(fd);  // by_pid_ may have rehashed: look it up again
  return &n;
}

void FdTable::Opened(uint32_t pid, int32_t fd, std::string_view name, std::string_view resolved, bool cloexec) {
  if (fd < 0 || name.empty()) return;
  Node* n = Put(pid, fd);
  n->name.assign(name);
  n->resolved.assign(resolved);
  n->cloexec = cloexec;
}

void FdTable::Duplicated(uint32_t pid, int32_t oldfd, int32_t newfd) {
  if (newfd < 0 || oldfd == newfd) return;
  auto it = index_.find(Key(pid, oldfd));
  if (it == index_.end()) {
    Forget(pid, newfd);
    return;
  }
  // Copied before Put, which may evict the source.
  const std::string name = it->second->name, resolved = it->second->resolved;
  Node* n = Put(pid, newfd);
  n->name = name;
  n->resolved = resolved;
}

void FdTable::Forget(uint32_t pid, int32_t fd) {
  auto it = index_.find(Key(pid, fd));
  if (it != index_.end()) Erase(it->second);
}

void FdTable::Forked(uint32_t parent, uint32_t child) {
  if (parent == child) return;
  DropProcess(child);
  auto p = by_pid_.find(parent);
  if (p == by_pid_.end()) return;
  const std::vector<int32_t> fds = p->second;  // Put below changes by_pid_
  for (int32_t fd : fds) {
    auto it = index_.find(Key(parent, fd));
    if (it == index_.end()) continue;
    const Node src = *it->second;
    Node* n = Put(child, fd);
    n->name = src.name;
    n->resolved = src.resolved;
    n->cloexec = src.cloexec;
  }
}

void FdTable::Execed(uint32_t pid) {
  auto p = by_pid_.find(pid);
  if (p == by_pid_.end()) return;
  const std::vector<int32_t> fds = p->second;
  for (int32_t fd : fds) {
    auto it = index_.find(Key(pid, fd));
    if (it != index_.end() && it->second->cloexec) Erase(it->second);
  }
}

void FdTable::DropProcess(uint32_t pid) {
  auto p = by_pid_.find(pid);
  if (p == by_pid_.end()) return;
  const std::vector<int32_t> fds = p->second;
  for (int32_t fd : fds) Forget(pid, fd);
}

const std::string* FdTable::NameFor(uint32_t pid, int32_t fd, std::string_view resolved) {
  auto it = index_.find(Key(pid, fd));
  if (it == index_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  Node& n = *it->second;
  // The open's kernel path (or, when the record had none, its name) must be
  // the call's: otherwise the descriptor was closed and reused unseen, or the
  // file was renamed.
  if (resolved.empty() || (n.resolved.empty() ? n.name : n.resolved) != resolved) {
    ++stats_.stale;
    Erase(it->second);
    return nullptr;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &n.name;
}

FdTableStats FdTable::Stats() const {
  FdTableStats s = stats_;
  s.size = index_.size();
  return s;
}

}  // namespace vigil
