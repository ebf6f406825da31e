// SPDX-License-Identifier: Apache-2.0
// A minimal HTTP/1.1 GET over a unix socket: what the container runtimes'
// APIs (dockerd, podman's compatible service) speak. Debian 12's cpp-httplib
// (0.11.4) cannot dial a unix socket, hence this.
//
// Contract: blocking, one connection per call ("Connection: close"), bounded
// by `timeout` for connect, send and every read, and by `max_body` bytes.
// Handles Content-Length, chunked and read-to-close bodies. Never throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace vigil::runtime {

struct HttpResponse {
  int status = 0;      // 0: no HTTP answer (see error)
  std::string body;
  std::string error;   // "" on an HTTP answer of any status
};

HttpResponse UnixHttpGet(const std::string& socket_path, const std::string& target,
                         std::chrono::milliseconds timeout, std::size_t max_body = 4u << 20);

// Decodes a chunked body in place of `raw`; false on a malformed one.
bool DecodeChunked(const std::string& raw, std::string* out);

}  // namespace vigil::runtime
