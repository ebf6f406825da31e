// SPDX-License-Identifier: Apache-2.0
#include "runtime/unix_http.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace vigil::runtime {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

bool WaitFor(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  int r;
  do {
    r = poll(&p, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

std::string Errno(std::string_view what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

bool DecodeChunked(const std::string& raw, std::string* out) {
  out->clear();
  std::size_t pos = 0;
  while (true) {
    std::size_t eol = raw.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    if (eol == pos || !std::isxdigit(static_cast<unsigned char>(raw[pos]))) return false;
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(raw.c_str() + pos, &end, 16);
    if (errno != 0 || end > raw.c_str() + eol) return false;
    if (n == 0) return true;
    pos = eol + 2;
    if (n > raw.size() || raw.size() < pos + n + 2) return false;
    out->append(raw, pos, n);
    pos += n + 2;
  }
}

namespace {

// A connected non-blocking stream socket to `socket_path` in s->fd.
bool ConnectUnix(const std::string& socket_path, std::chrono::milliseconds timeout, Fd* s, std::string* error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    *error = "socket path too long: " + socket_path;
    return false;
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->fd < 0) {
    *error = Errno("socket");
    return false;
  }
  if (connect(s->fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return true;
  if (errno != EINPROGRESS && errno != EAGAIN) {
    *error = Errno("connect " + socket_path);
    return false;
  }
  if (!WaitFor(s->fd, POLLOUT, timeout)) {
    *error = "connect " + socket_path + ": timed out";
    return false;
  }
  return true;
}

bool SendAll(int fd, const std::string& req, const std::string& socket_path, std::chrono::milliseconds timeout,
             std::string* error) {
  for (std::size_t off = 0; off < req.size();) {
    if (!WaitFor(fd, POLLOUT, timeout)) {
      *error = "send: timed out";
      return false;
    }
    ssize_t n = send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
      *error = Errno("send to " + socket_path);
      return false;
    }
    if (n > 0) off += static_cast<std::size_t>(n);
  }
  return true;
}

// Content-Length known and complete: no need to wait for the close.
bool AnswerComplete(const std::string& raw) {
  std::size_t hdr_end = raw.find("\r\n\r\n");
  if (hdr_end == std::string::npos) return false;
  std::string_view head(raw.data(), hdr_end);
  std::size_t cl = head.find("Content-Length:");
  if (cl == std::string_view::npos) cl = head.find("content-length:");
  if (cl == std::string_view::npos) return false;
  std::size_t len = std::strtoull(raw.c_str() + cl + 15, nullptr, 10);
  return raw.size() >= hdr_end + 4 + len;
}

// The raw answer, read until the peer closes or Content-Length is reached.
bool ReadAnswer(int fd, const std::string& socket_path, std::chrono::milliseconds timeout, std::size_t max_body,
                std::string* raw, std::string* error) {
  char buf[16384];
  while (true) {
    if (!WaitFor(fd, POLLIN, timeout)) {
      *error = "read from " + socket_path + ": timed out";
      return false;
    }
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      *error = Errno("read from " + socket_path);
      return false;
    }
    if (n == 0) return true;
    raw->append(buf, static_cast<std::size_t>(n));
    if (raw->size() > max_body + 65536) {
      *error = "answer larger than " + std::to_string(max_body) + " bytes";
      return false;
    }
    if (AnswerComplete(*raw)) return true;
  }
}

// Status and body of a raw answer (chunked or Content-Length bounded).
void ParseAnswer(const std::string& raw, const std::string& socket_path, HttpResponse* r) {
  std::size_t hdr_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 5, "HTTP/") != 0 || hdr_end == std::string::npos) {
    r->error = "not an HTTP answer from " + socket_path;
    return;
  }
  std::size_t sp = raw.find(' ');
  r->status = std::atoi(raw.c_str() + sp + 1);
  std::string head = raw.substr(0, hdr_end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string body = raw.substr(hdr_end + 4);
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    if (!DecodeChunked(body, &r->body)) {
      r->error = "malformed chunked answer from " + socket_path;
      r->status = 0;
    }
    return;
  }
  std::size_t cl = head.find("content-length:");
  if (cl != std::string::npos)
    body.resize(std::min<std::size_t>(body.size(), std::strtoull(head.c_str() + cl + 15, nullptr, 10)));
  r->body = std::move(body);
}

}  // namespace

HttpResponse UnixHttpGet(const std::string& socket_path, const std::string& target,
                         std::chrono::milliseconds timeout, std::size_t max_body) {
  HttpResponse r;
  Fd s;
  if (!ConnectUnix(socket_path, timeout, &s, &r.error)) return r;
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  if (!SendAll(s.fd, req, socket_path, timeout, &r.error)) return r;
  std::string raw;
  if (!ReadAnswer(s.fd, socket_path, timeout, max_body, &raw, &r.error)) return r;
  ParseAnswer(raw, socket_path, &r);
  return r;
}

}  // namespace vigil::runtime
