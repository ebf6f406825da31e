// SPDX-License-Identifier: Apache-2.0
#include "engine/state/dns_cache.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_map>

namespace vigil {

struct DnsCache::Shared {
  struct Entry {
    std::string name;
    std::vector<DnsAddress> addrs;
    uint64_t next_due = 0;                // 0: at once
    uint64_t interval = kBaseRefreshNs;   // the next refresh's distance
    uint64_t last_used = 0;               // 0: never (counts from the first lookup)
    bool looked_up = false;               // a lookup has answered at least once
    bool failing = false;                 // the last lookup failed (logged once)
    bool idle = false;                    // unused for kIdleAfterNs: not refreshed
  };

  DnsResolver resolver;
  std::function<uint64_t()> now;
  std::function<void(const std::string&)> log;

  mutable std::mutex mu;  // entries, ids, stats, stop, wake
  mutable std::vector<Entry> entries;  // the event path marks entries used
  std::unordered_map<std::string, int> ids;
  DnsCacheStats stats;
  mutable std::condition_variable cv;
  bool stop = false;
  bool started = false;
  mutable bool wake = false;

  std::mutex refresh_mu;  // one RefreshDue at a time

  bool Holds(const Entry& e, uint16_t family, const IpAddr& addr) const {
    for (const auto& a : e.addrs)
      if (a.family == family && a.addr.bytes == addr.bytes) return true;
    return false;
  }

  // Under mu: the event path used entry `e`.
  void Use(Entry& e) const {
    e.last_used = now();
    if (!e.idle) return;
    e.idle = false;
    e.next_due = 0;
    wake = true;
    cv.notify_one();
  }

  uint64_t Refresh(uint64_t now_ns);
};

namespace {

uint64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

bool Less(const DnsAddress& a, const DnsAddress& b) {
  return a.family != b.family ? a.family < b.family : a.addr.bytes < b.addr.bytes;
}

}  // namespace

uint64_t DnsCache::Shared::Refresh(uint64_t now_ns) {
  std::lock_guard<std::mutex> serial(refresh_mu);
  std::vector<std::pair<int, std::string>> due;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      Entry& e = entries[i];
      if (e.last_used == 0) e.last_used = now_ns;
      if (!e.idle && now_ns - std::min(now_ns, e.last_used) > kIdleAfterNs) e.idle = true;
      if (!e.idle && now_ns >= e.next_due) due.emplace_back(static_cast<int>(i), e.name);
    }
  }
  for (const auto& [id, name] : due) {
    std::vector<DnsAddress> got;
    std::string error;
    bool ok = resolver(name, &got, &error);  // no lock held: the event path never waits for this
    if (ok && got.empty()) {
      ok = false;
      error = "no address";
    }
    std::sort(got.begin(), got.end(), Less);
    got.erase(std::unique(got.begin(), got.end()), got.end());
    if (got.size() > kMaxAddrsPerName) got.resize(kMaxAddrsPerName);
    std::string line;
    {
      std::lock_guard<std::mutex> lock(mu);
      Entry& e = entries[static_cast<std::size_t>(id)];
      ++stats.lookups;
      bool changed = false;
      if (ok) {
        changed = got != e.addrs;
        if (changed && e.looked_up) ++stats.changes;
        e.addrs = std::move(got);
        e.looked_up = true;
        e.failing = false;
      } else {
        ++stats.failures;
        if (!e.failing) line = "dns: cannot resolve '" + e.name + "' (" + error + "); rules comparing fd.*ip.name with it "
                               "use its last addresses (none yet: no match) and it is retried with back-off";
        e.failing = true;
      }
      // libsinsp's back-off: unchanged answers (failures included) double the
      // interval up to the maximum; a change starts again from the base.
      e.interval = changed ? kBaseRefreshNs : std::min(e.interval * 2, kMaxRefreshNs);
      e.next_due = now_ns + e.interval;
    }
    if (!line.empty() && log) log(line);
  }
  std::lock_guard<std::mutex> lock(mu);
  uint64_t wait = kBaseRefreshNs;
  for (const auto& e : entries)
    if (!e.idle) wait = std::min(wait, e.next_due > now_ns ? e.next_due - now_ns : 0);
  return wait;
}

DnsCache::DnsCache(DnsResolver resolver, std::function<uint64_t()> now_ns, std::function<void(const std::string&)> log)
    : s_(std::make_shared<Shared>()) {
  s_->resolver = std::move(resolver);
  s_->now = now_ns ? std::move(now_ns) : std::function<uint64_t()>(MonotonicNs);
  s_->log = std::move(log);
}

DnsCache::~DnsCache() {
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->stop = true;
  s_->cv.notify_all();
}

DnsResolver DnsCache::SystemResolver() {
  return [](const std::string& name, std::vector<DnsAddress>* out, std::string* error) {
    out->clear();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;  // one answer per address, not one per socket type
    addrinfo* res = nullptr;
    const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
    if (rc != 0) {
      *error = gai_strerror(rc);
      return false;
    }
    for (const addrinfo* p = res; p != nullptr; p = p->ai_next) {
      DnsAddress a;
      if (p->ai_family == AF_INET && p->ai_addrlen >= sizeof(sockaddr_in)) {
        a.family = AF_INET;
        std::memcpy(a.addr.bytes.data(), &reinterpret_cast<const sockaddr_in*>(p->ai_addr)->sin_addr, 4);
      } else if (p->ai_family == AF_INET6 && p->ai_addrlen >= sizeof(sockaddr_in6)) {
        a.family = AF_INET6;
        std::memcpy(a.addr.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(p->ai_addr)->sin6_addr, 16);
      } else {
        continue;
      }
      out->push_back(a);
    }
    freeaddrinfo(res);
    return true;
  };
}

int DnsCache::Register(std::string_view name) {
  std::lock_guard<std::mutex> lock(s_->mu);
  std::string key(name);
  if (auto it = s_->ids.find(key); it != s_->ids.end()) return it->second;
  if (s_->entries.size() >= kMaxNames) {
    ++s_->stats.refused;
    return -1;
  }
  const int id = static_cast<int>(s_->entries.size());
  s_->entries.push_back({});
  s_->entries.back().name = key;
  s_->ids.emplace(std::move(key), id);
  s_->wake = true;
  s_->cv.notify_one();
  return id;
}

bool DnsCache::Contains(int id, uint16_t family, const IpAddr& addr) const {
  std::lock_guard<std::mutex> lock(s_->mu);
  if (id < 0 || static_cast<std::size_t>(id) >= s_->entries.size()) return false;
  auto& e = s_->entries[static_cast<std::size_t>(id)];
  s_->Use(e);
  return s_->Holds(e, family, addr);
}

bool DnsCache::NameOf(uint16_t family, const IpAddr& addr, std::string* out) const {
  std::lock_guard<std::mutex> lock(s_->mu);
  for (auto& e : s_->entries) {
    if (!s_->Holds(e, family, addr)) continue;
    s_->Use(e);
    *out = e.name;
    return true;
  }
  return false;
}

uint64_t DnsCache::RefreshDue(uint64_t now_ns) { return s_->Refresh(now_ns); }

void DnsCache::Start(std::function<void(const std::string&)> log) {
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->started) return;
    s_->started = true;
  }
  if (log) s_->log = std::move(log);  // before the thread: it alone reads it from now on
  // Detached, holding the shared state: a getaddrinfo() can take the
  // resolver's full timeout, and neither shutdown nor a reload waits for it.
  std::thread([s = s_] {
    std::unique_lock<std::mutex> lock(s->mu);
    while (!s->stop) {
      lock.unlock();
      const uint64_t wait = s->Refresh(s->now());
      lock.lock();
      if (s->stop) break;
      if (!s->wake) s->cv.wait_for(lock, std::chrono::nanoseconds(wait), [&] { return s->stop || s->wake; });
      s->wake = false;
    }
  }).detach();
}

void DnsCache::AdoptAddresses(const DnsCache& old) {
  if (&old == this) return;
  std::vector<std::pair<std::string, std::vector<DnsAddress>>> known;
  {
    std::lock_guard<std::mutex> lock(old.s_->mu);
    for (const auto& e : old.s_->entries)
      if (e.looked_up) known.emplace_back(e.name, e.addrs);
  }
  std::lock_guard<std::mutex> lock(s_->mu);
  for (auto& [name, addrs] : known) {
    auto it = s_->ids.find(name);
    if (it == s_->ids.end()) continue;
    auto& e = s_->entries[static_cast<std::size_t>(it->second)];
    if (e.looked_up) continue;
    e.addrs = std::move(addrs);
  }
}

DnsCacheStats DnsCache::Stats() const {
  std::lock_guard<std::mutex> lock(s_->mu);
  DnsCacheStats st = s_->stats;
  st.names = s_->entries.size();
  st.resolved = 0;
  st.idle = 0;
  for (const auto& e : s_->entries) {
    if (!e.addrs.empty()) ++st.resolved;
    if (e.idle) ++st.idle;
  }
  return st;
}

std::vector<std::string> DnsCache::Names() const {
  std::lock_guard<std::mutex> lock(s_->mu);
  std::vector<std::string> out;
  out.reserve(s_->entries.size());
  for (const auto& e : s_->entries) out.push_back(e.name);
  return out;
}

}  // namespace vigil
