// SPDX-License-Identifier: Apache-2.0
#include "bpf/procfs/cgroup_resolver.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <unordered_map>

#include "bpf/procfs/proc_scan.h"
#include "engine/state/container.h"

namespace vigil {
namespace {

constexpr int kMaxWalkDepth = 64;

// A file handle with room for kernfs's 8-byte node id.
struct KernfsHandle {
  struct file_handle fh;
  unsigned char bytes[sizeof(uint64_t)];
};

}  // namespace

struct CgroupResolver::Impl {
  struct Item {
    CgroupInfo info;
    bool known = false;
    std::chrono::steady_clock::time_point checked;
  };

  Impl(std::string root_path, std::size_t cap, Method method)
      : root(root_path.empty() ? FindCgroup2Mount() : std::move(root_path)), capacity(cap ? cap : 1) {
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    cache.reserve(capacity);
    root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (method == Method::kAuto && root_fd >= 0) {
      // Learn the handle type cgroupfs uses (FILEID_KERNFS) from the root itself.
      KernfsHandle h{};
      h.fh.handle_bytes = sizeof(h.bytes);
      int mount_id = 0;
      if (::name_to_handle_at(root_fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) == 0 &&
          h.fh.handle_bytes == sizeof(uint64_t)) {
        handle_type = h.fh.handle_type;
        use_handles = true;
      }
    }
  }
  ~Impl() {
    if (root_fd >= 0) ::close(root_fd);
  }

  // The path of `id` through a kernfs file handle. 1: found, 0: no such
  // cgroup, -1: handles refused here (no CAP_DAC_READ_SEARCH): stop using them.
  int ResolveByHandle(uint64_t id, std::string* path) {
    KernfsHandle h{};
    h.fh.handle_bytes = sizeof(h.bytes);
    h.fh.handle_type = handle_type;
    std::memcpy(h.bytes, &id, sizeof(id));
    int fd = ::open_by_handle_at(root_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno == EPERM ? -1 : 0;
    std::array<char, 4096> buf;
    std::string link = "/proc/self/fd/" + std::to_string(fd);
    ssize_t n = ::readlink(link.c_str(), buf.data(), buf.size());
    ::close(fd);
    if (n <= 0 || static_cast<std::size_t>(n) >= buf.size()) return 0;
    std::string_view full(buf.data(), static_cast<std::size_t>(n));
    // The link is the path in our mount namespace: strip the cgroup2 mount.
    if (!full.starts_with(root)) return 0;
    full.remove_prefix(root.size());
    if (full.empty()) full = "/";
    if (full.front() != '/') return 0;
    path->assign(full);
    return 1;
  }

  // Walks the tree below `dir_fd` (path `rel`), adding every cgroup to the cache
  // while there is room, and reporting whether `wanted` was seen.
  void Walk(int dir_fd, const std::string& rel, uint64_t wanted, int depth, bool* found) {
    if (depth > kMaxWalkDepth) return;
    DIR* dir = ::fdopendir(dir_fd);
    if (dir == nullptr) {
      ::close(dir_fd);
      return;
    }
    while (struct dirent* e = ::readdir(dir)) {
      if (e->d_type != DT_DIR || std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      std::string child = rel == "/" ? "/" + std::string(e->d_name) : rel + "/" + e->d_name;
      uint64_t ino = e->d_ino;  // kernfs reports the node id as the inode number
      if (ino == wanted) {
        Insert(ino, child, true);
        *found = true;
      } else if (cache.find(ino) == cache.end()) {
        Insert(ino, child, false);
      }
      int child_fd = ::openat(::dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (child_fd >= 0) Walk(child_fd, child, wanted, depth + 1, found);
    }
    ::closedir(dir);
  }

  bool Rescan(uint64_t wanted) {
    ++stats.rescans;
    last_rescan = std::chrono::steady_clock::now();
    bool found = false;
    struct stat st {};
    if (::stat(root.c_str(), &st) == 0) {
      Insert(st.st_ino, "/", st.st_ino == wanted);
      found = st.st_ino == wanted;
    }
    int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) Walk(fd, "/", wanted, 0, &found);
    return found;
  }

  bool RescanAllowed() const {
    return stats.rescans == 0 || std::chrono::steady_clock::now() - last_rescan >= kRescanInterval;
  }

  // Caches `id` -> `path`. When full, drops the oldest entry if `evict_if_full`,
  // else caches nothing and returns nullptr.
  Item* Insert(uint64_t id, std::string_view path, bool evict_if_full) {
    auto it = cache.find(id);
    if (it == cache.end()) {
      if (cache.size() >= capacity) {
        if (!evict_if_full) return nullptr;
        EvictOldest();
      }
      it = cache.emplace(id, Item{}).first;
      order.push_back(id);
    }
    Item& item = it->second;
    item.info.path.assign(path);
    item.info.container_id = ContainerIdFromCgroup(path);
    item.known = true;
    item.checked = std::chrono::steady_clock::now();
    return &item;
  }

  void MarkUnknown(uint64_t id) {
    auto it = cache.find(id);
    if (it == cache.end()) {
      if (cache.size() >= capacity) EvictOldest();
      it = cache.emplace(id, Item{}).first;
      order.push_back(id);
    }
    it->second.known = false;
    it->second.checked = std::chrono::steady_clock::now();
  }

  void EvictOldest() {
    while (!order.empty()) {
      uint64_t id = order.front();
      order.pop_front();
      if (cache.erase(id) != 0) {
        ++stats.evictions;
        return;
      }
    }
  }

  const CgroupInfo* Lookup(uint64_t id) {
    if (id == 0) {
      ++stats.unresolved;
      return nullptr;
    }
    auto it = cache.find(id);
    if (it != cache.end()) {
      if (it->second.known) {
        ++stats.hits;
        return &it->second.info;
      }
      // Known to be unknown: retry no more often than a rescan may run.
      if (std::chrono::steady_clock::now() - it->second.checked < kRescanInterval) {
        ++stats.unresolved;
        return nullptr;
      }
    }
    ++stats.misses;
    if (use_handles) {
      std::string path;
      int r = ResolveByHandle(id, &path);
      if (r == 1) {
        ++stats.handle_opens;
        return &Insert(id, path, true)->info;
      }
      if (r == 0) {
        MarkUnknown(id);
        ++stats.unresolved;
        return nullptr;
      }
      use_handles = false;  // refused: scan from now on
    }
    if (RescanAllowed() && Rescan(id)) return &cache.find(id)->second.info;
    MarkUnknown(id);
    ++stats.unresolved;
    return nullptr;
  }

  std::string root;
  std::size_t capacity;
  int root_fd = -1;
  bool use_handles = false;
  int handle_type = 0;
  std::unordered_map<uint64_t, Item> cache;
  std::deque<uint64_t> order;  // insertion order, for eviction
  std::chrono::steady_clock::time_point last_rescan{};
  CgroupResolverStats stats;
};

CgroupResolver::CgroupResolver(std::string cgroup_root, std::size_t capacity, Method method)
    : impl_(std::make_unique<Impl>(std::move(cgroup_root), capacity, method)) {}
CgroupResolver::~CgroupResolver() = default;

const CgroupInfo* CgroupResolver::Lookup(uint64_t cgroup_id) { return impl_->Lookup(cgroup_id); }

void CgroupResolver::Clear() {
  impl_->cache.clear();
  impl_->order.clear();
}

CgroupResolverStats CgroupResolver::Stats() const {
  CgroupResolverStats s = impl_->stats;
  s.size = impl_->cache.size();
  return s;
}

}  // namespace vigil
