// SPDX-License-Identifier: Apache-2.0
// A TCP listener on 127.0.0.1 at a port the kernel picks, for the tests that
// connect to something real (capture of connect/dup2, enforcement of connect).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

#include "engine/non_copyable.h"

namespace vigil::testing {

struct LoopbackListener : NonCopyable {
  // `type_flags`: e.g. SOCK_CLOEXEC. fd is -1 when the socket could not be
  // bound or listened on.
  explicit LoopbackListener(int backlog = 16, int type_flags = 0) {
    fd = socket(AF_INET, SOCK_STREAM | type_flags, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
    port = ntohs(addr.sin_port);
  }
  ~LoopbackListener() {
    if (fd >= 0) close(fd);
  }

  int fd = -1;
  sockaddr_in addr{};  // where it listens
  uint16_t port = 0;   // host order
};

}  // namespace vigil::testing
