// SPDX-License-Identifier: Apache-2.0
// Network family on the real kernel: a loopback TCP listener and client
// (socket, bind, listen, connect, accept), IPv6, a unix socket, and a
// setsockopt(SO_ATTACH_FILTER), each asserted with addresses and ports.
#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <bitset>
#include <cerrno>
#include <cstring>

#include "capture_fixture.h"

using namespace vigil;
using namespace vigil::capture::testing;

namespace {

std::optional<Seen> WaitNet(EventType type, int fd) {
  uint32_t me = static_cast<uint32_t>(getpid());
  return WaitFor([&](const Event& e) { return e.type == type && e.proc.pid == me && e.net.fd == fd; });
}

uint16_t FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

bool IsLoopback4(const IpAddr& a) { return a.bytes[0] == 127 && a.bytes[1] == 0 && a.bytes[2] == 0 && a.bytes[3] == 1; }

// A UDP socket bound to 127.0.0.1:`port`; *a is that address.
int BoundUdpLoopback(uint16_t port, sockaddr_in* a) {
  int srv = socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(srv >= 0);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a->sin_port = htons(port);
  REQUIRE(bind(srv, reinterpret_cast<sockaddr*>(a), sizeof(*a)) == 0);
  return srv;
}

}  // namespace

TEST_CASE("TCP over IPv4 loopback: socket, bind, listen, connect, accept", "[root]") {
  TheSensor();
  uint16_t port = FreePort();
  Drain();  // after FreePort: its socket had the same fd number
  int srv = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(srv >= 0);
  int one = 1;
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  REQUIRE(bind(srv, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  REQUIRE(listen(srv, 7) == 0);
  int cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(connect(cli, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  sockaddr_in cl{};
  socklen_t cl_len = sizeof(cl);
  getsockname(cli, reinterpret_cast<sockaddr*>(&cl), &cl_len);
  int acc = accept(srv, nullptr, nullptr);
  REQUIRE(acc >= 0);

  auto so = WaitNet(EventType::socket, srv);
  REQUIRE(so);
  CHECK(so->event.net.family == AF_INET);
  CHECK(so->event.net.type == SOCK_STREAM);
  CHECK(so->event.res == srv);

  auto so2 = WaitNet(EventType::socket, cli);
  REQUIRE(so2);
  CHECK(so2->event.net.type == SOCK_STREAM);  // SOCK_CLOEXEC stripped

  auto bi = WaitNet(EventType::bind, srv);
  REQUIRE(bi);
  CHECK(bi->event.res == 0);
  CHECK(bi->event.net.local_port == port);
  CHECK(IsLoopback4(bi->event.net.local_addr));
  CHECK(bi->event.net.protocol == IPPROTO_TCP);

  auto li = WaitNet(EventType::listen, srv);
  REQUIRE(li);
  CHECK(li->event.net.backlog == 7);
  CHECK(li->event.net.local_port == port);

  auto co = WaitNet(EventType::connect, cli);
  REQUIRE(co);
  CHECK(co->event.res == 0);
  CHECK(co->event.net.family == AF_INET);
  CHECK(IsLoopback4(co->event.net.remote_addr));
  CHECK(co->event.net.remote_port == port);
  CHECK(co->event.net.local_port == ntohs(cl.sin_port));
  CHECK(co->event.proc.container_id == "host");

  auto ac = WaitNet(EventType::accept, acc);
  if (!ac) ac = WaitNet(EventType::accept4, acc);  // glibc may use accept4
  REQUIRE(ac);
  CHECK(ac->event.res == acc);
  CHECK(ac->event.net.local_port == port);
  CHECK(ac->event.net.remote_port == ntohs(cl.sin_port));
  CHECK(IsLoopback4(ac->event.net.remote_addr));
  close(acc);
  close(cli);
  close(srv);
}

TEST_CASE("failed connect carries -errno and the address asked for (IPv6)", "[root]") {
  TheSensor();
  uint16_t port = FreePort();  // nothing listens there now
  Drain();
  int s = socket(AF_INET6, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  a.sin6_port = htons(port);
  REQUIRE(connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == -1);
  auto co = WaitNet(EventType::connect, s);
  REQUIRE(co);
  CHECK(co->event.res == -ECONNREFUSED);
  CHECK(co->event.net.family == AF_INET6);
  CHECK(co->event.net.remote_port == port);
  CHECK(co->event.net.remote_addr.bytes[15] == 1);
  CHECK(co->event.net.remote_addr.bytes[0] == 0);
  close(s);
}

TEST_CASE("unix socket path on bind and connect", "[root]") {
  TheSensor();
  Drain();
  std::string path = "/tmp/vigil-cap-" + std::to_string(getpid()) + ".sock";
  unlink(path.c_str());
  int srv = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
  REQUIRE(bind(srv, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  REQUIRE(listen(srv, 1) == 0);
  int cli = socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(connect(cli, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  auto bi = WaitNet(EventType::bind, srv);
  REQUIRE(bi);
  CHECK(bi->event.net.family == AF_UNIX);
  CHECK(bi->event.net.unix_path == path);
  auto co = WaitNet(EventType::connect, cli);
  REQUIRE(co);
  CHECK(co->event.net.unix_path == path);
  close(cli);
  close(srv);
  unlink(path.c_str());
}

TEST_CASE("setsockopt SO_ATTACH_FILTER is captured, other options are not", "[root]") {
  TheSensor();
  Drain();
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  int one = 1;
  REQUIRE(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
  sock_filter code[] = {{BPF_RET | BPF_K, 0, 0, 0xffff}};
  sock_fprog prog{1, code};
  REQUIRE(setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) == 0);
  auto ev = WaitNet(EventType::setsockopt, s);
  REQUIRE(ev);
  CHECK(ev->event.net.sockopt_level == SOL_SOCKET);
  CHECK(ev->event.net.sockopt_name == SO_ATTACH_FILTER);
  CHECK(ev->event.net.type == SOCK_DGRAM);
  CHECK(ev->event.res == 0);
  // the SO_REUSEADDR call made no event
  auto none = WaitFor(
      [&](const Event& e) {
        return e.type == EventType::setsockopt && e.proc.pid == uint32_t(getpid()) && e.net.sockopt_name == SO_REUSEADDR;
      },
      std::chrono::milliseconds(300));
  CHECK_FALSE(none);
  close(s);
}

// sendto/recvfrom/sendmsg/recvmsg (issue 18: Falco rules name them): the fd's
// socket with both ends, the length asked for, and the peer address the call
// names (an unconnected UDP socket), in the fields Falco rules read.
TEST_CASE("UDP over IPv4 loopback: sendto, recvfrom, sendmsg, recvmsg with the socket tuple", "[root]") {
  TheSensor();
  uint16_t port = FreePort();
  Drain();
  sockaddr_in a{};
  int srv = BoundUdpLoopback(port, &a);
  int cli = socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(cli >= 0);
  REQUIRE(sendto(cli, "hello", 5, 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 5);
  sockaddr_in cl{};
  socklen_t cl_len = sizeof(cl);
  getsockname(cli, reinterpret_cast<sockaddr*>(&cl), &cl_len);
  const uint16_t cport = ntohs(cl.sin_port);
  char buf[64];
  sockaddr_in from{};
  socklen_t from_len = sizeof(from);
  REQUIRE(recvfrom(srv, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &from_len) == 5);

  // sendmsg with msg_name (the msghdr's address) and recvmsg filling one
  iovec iov{const_cast<char*>("ping!!"), 6};
  msghdr m{};
  m.msg_name = &a;
  m.msg_namelen = sizeof(a);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  REQUIRE(sendmsg(cli, &m, 0) == 6);
  sockaddr_in from2{};
  iovec riov{buf, sizeof(buf)};
  msghdr rm{};
  rm.msg_name = &from2;
  rm.msg_namelen = sizeof(from2);
  rm.msg_iov = &riov;
  rm.msg_iovlen = 1;
  REQUIRE(recvmsg(srv, &rm, 0) == 6);

  auto st = WaitNet(EventType::sendto, cli);
  REQUIRE(st);
  CHECK(st->event.res == 5);
  CHECK(st->event.net.size == 5);
  CHECK(st->event.net.family == AF_INET);
  CHECK(st->event.net.type == SOCK_DGRAM);
  CHECK(IsLoopback4(st->event.net.remote_addr));
  CHECK(st->event.net.remote_port == port);
  CHECK(st->event.net.local_port == cport);
  // The client never bound nor connected: the kernel bound it to the
  // wildcard address on the first send, which is what its socket holds.
  const std::string tuple = "0.0.0.0:" + std::to_string(cport) + "->127.0.0.1:" + std::to_string(port);
  CHECK(RuleOutput(st->event, "evt.type = sendto and fd.l4proto = udp",
                   "%evt.type %fd.name %evt.arg.size %evt.res %fd.type %evt.arg.fd") ==
        "sendto " + tuple + " 5 SUCCESS ipv4 " + std::to_string(cli));

  auto rf = WaitNet(EventType::recvfrom, srv);
  REQUIRE(rf);
  CHECK(rf->event.res == 5);
  CHECK(rf->event.net.size == sizeof(buf));
  CHECK(rf->event.net.local_port == port);
  CHECK(rf->event.net.remote_port == cport);  // from src_addr, as the kernel filled it
  CHECK(IsLoopback4(rf->event.net.remote_addr));
  CHECK(RuleOutput(rf->event, "evt.type = recvfrom", "%fd.name %fd.lport %fd.rport") ==
        "127.0.0.1:" + std::to_string(port) + "->127.0.0.1:" + std::to_string(cport) + " " + std::to_string(port) +
            " " + std::to_string(cport));

  auto sm = WaitNet(EventType::sendmsg, cli);
  REQUIRE(sm);
  CHECK(sm->event.res == 6);
  CHECK(sm->event.net.remote_port == port);  // from msg_name
  CHECK(IsLoopback4(sm->event.net.remote_addr));
  CHECK(RuleOutput(sm->event, "evt.type in (sendto, sendmsg) and fd.rport = " + std::to_string(port), "%fd.name") ==
        tuple);

  auto rm2 = WaitNet(EventType::recvmsg, srv);
  REQUIRE(rm2);
  CHECK(rm2->event.res == 6);
  CHECK(rm2->event.net.remote_port == cport);
  CHECK(rm2->event.net.local_port == port);
  close(cli);
  close(srv);
}

// sendmmsg/recvmmsg (issue 22, the example of adding an event type): the
// vector calls come as sendmsg's record, the first message's msg_name as the
// peer, res = the number of messages.
TEST_CASE("UDP over IPv4 loopback: sendmmsg and recvmmsg with the socket tuple", "[root]") {
  TheSensor();
  uint16_t port = FreePort();
  Drain();
  sockaddr_in a{};
  int srv = BoundUdpLoopback(port, &a);
  int cli = socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(cli >= 0);

  iovec iov[2] = {{const_cast<char*>("one"), 3}, {const_cast<char*>("two!"), 4}};
  mmsghdr out[2]{};
  for (int i = 0; i < 2; ++i) {
    out[i].msg_hdr.msg_name = &a;
    out[i].msg_hdr.msg_namelen = sizeof(a);
    out[i].msg_hdr.msg_iov = &iov[i];
    out[i].msg_hdr.msg_iovlen = 1;
  }
  REQUIRE(sendmmsg(cli, out, 2, 0) == 2);
  sockaddr_in cl{};
  socklen_t cl_len = sizeof(cl);
  getsockname(cli, reinterpret_cast<sockaddr*>(&cl), &cl_len);
  const uint16_t cport = ntohs(cl.sin_port);

  char bufs[2][16];
  sockaddr_in from[2]{};
  iovec riov[2] = {{bufs[0], sizeof(bufs[0])}, {bufs[1], sizeof(bufs[1])}};
  mmsghdr in[2]{};
  for (int i = 0; i < 2; ++i) {
    in[i].msg_hdr.msg_name = &from[i];
    in[i].msg_hdr.msg_namelen = sizeof(from[i]);
    in[i].msg_hdr.msg_iov = &riov[i];
    in[i].msg_hdr.msg_iovlen = 1;
  }
  REQUIRE(recvmmsg(srv, in, 2, MSG_WAITFORONE, nullptr) >= 1);

  auto sm = WaitNet(EventType::sendmmsg, cli);
  REQUIRE(sm);
  CHECK(sm->event.res == 2);
  CHECK(sm->event.net.family == AF_INET);
  CHECK(sm->event.net.type == SOCK_DGRAM);
  CHECK(sm->event.net.remote_port == port);  // the first message's msg_name
  CHECK(IsLoopback4(sm->event.net.remote_addr));
  CHECK(sm->event.net.local_port == cport);
  CHECK(RuleOutput(sm->event, "evt.type = sendmmsg and fd.l4proto = udp", "%evt.type %fd.name %evt.res") ==
        "sendmmsg 0.0.0.0:" + std::to_string(cport) + "->127.0.0.1:" + std::to_string(port) + " SUCCESS");

  auto rm = WaitNet(EventType::recvmmsg, srv);
  REQUIRE(rm);
  CHECK(rm->event.res >= 1);
  CHECK(rm->event.net.local_port == port);
  CHECK(rm->event.net.remote_port == cport);  // from the first message's msg_name, as the kernel filled it
  CHECK(IsLoopback4(rm->event.net.remote_addr));
  close(cli);
  close(srv);
}

TEST_CASE("TCP send and recv: the connected socket's ends, no address argument", "[root]") {
  TheSensor();
  uint16_t port = FreePort();
  Drain();
  int srv = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(srv >= 0);
  int one = 1;
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  REQUIRE(bind(srv, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  REQUIRE(listen(srv, 1) == 0);
  int cli = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(connect(cli, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  int acc = accept(srv, nullptr, nullptr);
  REQUIRE(acc >= 0);
  REQUIRE(send(cli, "abc", 3, 0) == 3);  // glibc: sendto(fd, buf, 3, 0, NULL, 0)
  char buf[8];
  REQUIRE(recv(acc, buf, sizeof(buf), 0) == 3);  // glibc: recvfrom(fd, buf, 8, 0, NULL, NULL)

  auto st = WaitNet(EventType::sendto, cli);
  REQUIRE(st);
  CHECK(st->event.net.type == SOCK_STREAM);
  CHECK(st->event.net.remote_port == port);
  CHECK(st->event.net.size == 3);
  CHECK(RuleOutput(st->event, "evt.type = sendto", "%fd.connected %fd.l4proto %fd.rport") ==
        "true tcp " + std::to_string(port));
  auto rf = WaitNet(EventType::recvfrom, acc);
  REQUIRE(rf);
  CHECK(rf->event.res == 3);
  CHECK(rf->event.net.local_port == port);
  CHECK(rf->event.net.remote_port == st->event.net.local_port);
  close(acc);
  close(cli);
  close(srv);
}

// evt.buffer (issue 18, ABI 15): while a rule reads it, a data call's record
// carries the payload's first VG_DATA_LEN bytes as the call sent or received
// them (recvmsg: joined across its iovecs); a longer payload is cut and says
// so; a failed receive carries none. With the capture off (no rule reads
// evt.buffer, SetInterest's `data` false) no payload leaves the kernel.
TEST_CASE("evt.buffer: the payload of sendto, recvfrom, sendmsg, recvmsg; none while off", "[root]") {
  capture::Sensor& sensor = TheSensor();
  std::bitset<kEventTypeCount> all;
  all.set();
  sensor.SetInterest(all, 0, true, true);
  uint16_t port = FreePort();
  Drain();
  sockaddr_in a{};
  int srv = BoundUdpLoopback(port, &a);
  int cli = socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(cli >= 0);
  REQUIRE(connect(cli, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  const uint32_t me = static_cast<uint32_t>(getpid());
  auto next = [&](EventType type, int fd) {
    return WaitFor([&](const Event& e) { return e.type == type && e.proc.pid == me && e.net.fd == fd; });
  };

  // The class-file magic and a NUL, as Falco's event-generator sends it (plus bytes after it).
  const std::string magic("\xca\xfe\xba\xbe\x00\x01" "ok", 8);
  REQUIRE(send(cli, magic.data(), magic.size(), 0) == static_cast<ssize_t>(magic.size()));  // sendto(..., NULL, 0)
  char buf[256];
  REQUIRE(recvfrom(srv, buf, sizeof(buf), 0, nullptr, nullptr) == static_cast<ssize_t>(magic.size()));
  auto st = next(EventType::sendto, cli);
  REQUIRE(st);
  CHECK(st->event.net.data.captured);
  CHECK(st->event.net.data.bytes == magic);
  CHECK_FALSE(st->event.net.data.cut);
  auto rf = next(EventType::recvfrom, srv);
  REQUIRE(rf);
  CHECK(rf->event.net.data.captured);
  CHECK(rf->event.net.data.bytes == magic);  // the bytes received (res), not the buffer's 256
  CHECK(RuleOutput(rf->event, "evt.type = recvfrom and fd.type = ipv4 and evt.buffer bcontains cafebabe",
                   "%evt.buffer") == "......ok");

  // 200 bytes: the first 80 kept, cut; recvmsg joins two iovecs
  std::string big(200, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('A' + i % 26);
  REQUIRE(send(cli, big.data(), big.size(), 0) == 200);
  char part1[5], part2[250];
  iovec riov[2] = {{part1, sizeof(part1)}, {part2, sizeof(part2)}};
  msghdr rm{};
  rm.msg_iov = riov;
  rm.msg_iovlen = 2;
  REQUIRE(recvmsg(srv, &rm, 0) == 200);
  auto big_out = next(EventType::sendto, cli);
  REQUIRE(big_out);
  CHECK(big_out->event.net.data.bytes == big.substr(0, kDataBufferMax));
  CHECK(big_out->event.net.data.cut);
  auto big_in = next(EventType::recvmsg, srv);
  REQUIRE(big_in);
  CHECK(big_in->event.net.data.bytes == big.substr(0, kDataBufferMax));
  CHECK(big_in->event.net.data.cut);

  // sendmsg of two iovecs, 9 bytes in all; recvfrom of it into a 4-byte
  // buffer (the datagram is truncated to what was received: res 4)
  iovec siov[2] = {{const_cast<char*>("GET "), 4}, {const_cast<char*>("/x.class"), 5}};
  msghdr sm{};
  sm.msg_iov = siov;
  sm.msg_iovlen = 2;
  REQUIRE(sendmsg(cli, &sm, 0) == 9);
  REQUIRE(recvfrom(srv, buf, 4, 0, nullptr, nullptr) == 4);
  auto so = next(EventType::sendmsg, cli);
  REQUIRE(so);
  CHECK(so->event.net.data.bytes == "GET /x.cl");
  CHECK_FALSE(so->event.net.data.cut);
  auto ri = next(EventType::recvfrom, srv);
  REQUIRE(ri);
  CHECK(ri->event.net.data.bytes == "GET ");

  // a failed receive: captured, empty
  REQUIRE(recvfrom(srv, buf, sizeof(buf), MSG_DONTWAIT, nullptr, nullptr) == -1);
  auto eagain = next(EventType::recvfrom, srv);
  REQUIRE(eagain);
  CHECK(eagain->event.res == -EAGAIN);
  CHECK(eagain->event.net.data.captured);
  CHECK(eagain->event.net.data.bytes.empty());

  // off: the records come without a payload
  sensor.SetInterest(all, 0, true, false);
  REQUIRE(send(cli, magic.data(), magic.size(), 0) == static_cast<ssize_t>(magic.size()));
  REQUIRE(recvfrom(srv, buf, sizeof(buf), 0, nullptr, nullptr) == static_cast<ssize_t>(magic.size()));
  auto off_out = next(EventType::sendto, cli);
  auto off_in = next(EventType::recvfrom, srv);
  sensor.SetInterest(all, 0, true, true);  // as loaded, for the tests after this one
  REQUIRE(off_out);
  REQUIRE(off_in);
  CHECK(off_in->event.res == static_cast<int64_t>(magic.size()));
  CHECK_FALSE(off_out->event.net.data.captured);
  CHECK_FALSE(off_in->event.net.data.captured);
  CHECK(RuleOutput(off_in->event, "evt.type = recvfrom", "%evt.buffer") == "<NA>");
  uint64_t read_data = 0;
  for (const auto& c : sensor.ReadCounters())
    if (c.name == "read_data") read_data = c.value;
  CHECK(read_data == 0);
  close(cli);
  close(srv);
}
