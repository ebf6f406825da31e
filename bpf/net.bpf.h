/* SPDX-License-Identifier: GPL-2.0-only */
/* Network family: socket, connect, accept/accept4, bind, listen, setsockopt
 * attaching a socket filter (SO_ATTACH_FILTER / SO_ATTACH_BPF), and the data
 * calls sendto, sendmsg, sendmmsg, recvfrom, recvmsg, recvmmsg. The data calls are the hottest
 * syscalls of a busy host: the interest filter leaves them in the kernel
 * unless a loaded rule names them (no default rule does). */
#pragma once

#include "common.bpf.h"

#define VG_SOL_SOCKET 1
#define VG_SO_ATTACH_FILTER 26
#define VG_SO_ATTACH_BPF 50

static __always_inline struct vg_net *vg_net_begin(__u16 type, long ret, int fd) {
  union vg_record *s = vg_scratch_get();
  if (!s) return 0;
  struct vg_net *n = &s->net;
  vg_fill_hdr(&n->hdr, VG_KIND_NET, type, sizeof(*n));
  n->hdr.res = ret;
  n->fd = fd;
  n->backlog = 0;
  n->sockopt_level = 0;
  n->sockopt_name = 0;
  n->size = 0;
  vg_zero_sock(&n->sock);
  return n;
}

/* Endpoints of the socket behind `fd` (nothing when it is not a socket). */
static __always_inline void vg_net_from_fd(struct vg_net *n, int fd) {
  struct sock *sk = vg_file_sock(vg_fd_file(fd));
  if (sk) vg_read_sock(&n->sock, sk);
}

VG_SYSCALL(socket, VG_T_SOCKET, 3) {
  struct vg_net *n = vg_net_begin(VG_T_SOCKET, ret, ret >= 0 ? (int)ret : -1);
  if (!n) return;
  n->sock.family = (__u16)a->a[0];
  n->sock.type = (__u32)a->a[1] & 0xf; /* without SOCK_NONBLOCK / SOCK_CLOEXEC */
  n->sock.protocol = (__u32)a->a[2];
  vg_emit(n, sizeof(*n));
}

/* connect: the socket's own view (local endpoint, type), then the remote as
 * the caller gave it (authoritative also when the connect failed). */
VG_SYSCALL(connect, VG_T_CONNECT, 3) {
  struct vg_net *n = vg_net_begin(VG_T_CONNECT, ret, (int)a->a[0]);
  if (!n) return;
  vg_net_from_fd(n, (int)a->a[0]);
  vg_read_user_sockaddr(&n->sock, (const void *)a->a[1], (int)a->a[2], 1);
  vg_emit(n, sizeof(*n));
}

/* accept: the new socket (the result) knows both ends. */
static __always_inline void vg_net_accept(__u16 type, long ret, int listen_fd) {
  struct vg_net *n = vg_net_begin(type, ret, ret >= 0 ? (int)ret : listen_fd);
  if (!n) return;
  vg_net_from_fd(n, ret >= 0 ? (int)ret : listen_fd);
  vg_emit(n, sizeof(*n));
}
VG_SYSCALL(accept, VG_T_ACCEPT, 3) { vg_net_accept(VG_T_ACCEPT, ret, (int)a->a[0]); }
VG_SYSCALL(accept4, VG_T_ACCEPT4, 4) { vg_net_accept(VG_T_ACCEPT4, ret, (int)a->a[0]); }

VG_SYSCALL(bind, VG_T_BIND, 3) {
  struct vg_net *n = vg_net_begin(VG_T_BIND, ret, (int)a->a[0]);
  if (!n) return;
  vg_net_from_fd(n, (int)a->a[0]);
  vg_read_user_sockaddr(&n->sock, (const void *)a->a[1], (int)a->a[2], 0);
  vg_emit(n, sizeof(*n));
}

VG_SYSCALL(listen, VG_T_LISTEN, 2) {
  struct vg_net *n = vg_net_begin(VG_T_LISTEN, ret, (int)a->a[0]);
  if (!n) return;
  n->backlog = (int)a->a[1];
  vg_net_from_fd(n, (int)a->a[0]);
  vg_emit(n, sizeof(*n));
}

/* Only filter attachment is interesting (classic or eBPF socket filters are a
 * sniffing / backdoor technique); other options are not paired at all. */
SEC("tracepoint/syscalls/sys_enter_setsockopt")
int vg_enter_setsockopt(struct trace_event_raw_sys_enter *ctx) {
  int level = (int)ctx->args[1];
  int name = (int)ctx->args[2];
  if (level != VG_SOL_SOCKET || (name != VG_SO_ATTACH_FILTER && name != VG_SO_ATTACH_BPF)) return 0;
  vg_enter(VG_T_SETSOCKOPT, ctx, 3);
  return 0;
}
VG_SYS_EXIT(setsockopt, VG_T_SETSOCKOPT, 0) {
  struct vg_net *n = vg_net_begin(VG_T_SETSOCKOPT, ret, (int)a->a[0]);
  if (!n) return;
  n->sockopt_level = (int)a->a[1];
  n->sockopt_name = (int)a->a[2];
  vg_net_from_fd(n, (int)a->a[0]);
  vg_emit(n, sizeof(*n));
}

/* sendto/recvfrom/sendmsg/recvmsg: the fd's socket (both ends, as the kernel
 * holds them), the length asked for, and the peer address the call names
 * when it names one (an unconnected datagram socket: sendto's dest_addr,
 * recvfrom's src_addr as the kernel filled it, a msghdr's msg_name). */
static __always_inline struct vg_net *vg_net_data(__u16 type, long ret, int fd, __u64 size) {
  struct vg_net *n = vg_net_begin(type, ret, fd);
  if (!n) return 0;
  n->size = size;
  vg_net_from_fd(n, fd);
  return n;
}

VG_SYSCALL(sendto, VG_T_SENDTO, 6) {
  struct vg_net *n = vg_net_data(VG_T_SENDTO, ret, (int)a->a[0], a->a[2]);
  if (!n) return;
  vg_read_user_sockaddr(&n->sock, (const void *)a->a[4], (int)a->a[5], 1);
  vg_emit(n, sizeof(*n));
}

VG_SYSCALL(recvfrom, VG_T_RECVFROM, 6) {
  struct vg_net *n = vg_net_data(VG_T_RECVFROM, ret, (int)a->a[0], a->a[2]);
  if (!n) return;
  if (ret >= 0 && a->a[4] && a->a[5]) {
    int len = 0;
    if (bpf_probe_read_user(&len, sizeof(len), (const void *)a->a[5]) == 0)
      vg_read_user_sockaddr(&n->sock, (const void *)a->a[4], len, 1);
    else
      vg_count(VG_C_READ_SOCKADDR);
  }
  vg_emit(n, sizeof(*n));
}

/* The head of struct user_msghdr: the name and its length. */
struct vg_msghdr_head {
  __u64 name;
  __s32 namelen;
  __s32 pad;
};

static __always_inline void vg_net_msg(__u16 type, const struct vg_args *a, long ret, int filled) {
  struct vg_net *n = vg_net_data(type, ret, (int)a->a[0], 0);
  if (!n) return;
  struct vg_msghdr_head h = {};
  if (a->a[1] && (!filled || ret >= 0)) {
    if (bpf_probe_read_user(&h, sizeof(h), (const void *)a->a[1]) == 0)
      vg_read_user_sockaddr(&n->sock, (const void *)h.name, h.namelen, 1);
    else
      vg_count(VG_C_READ_SOCKADDR);
  }
  vg_emit(n, sizeof(*n));
}
VG_SYSCALL(sendmsg, VG_T_SENDMSG, 3) { vg_net_msg(VG_T_SENDMSG, a, ret, 0); }
VG_SYSCALL(recvmsg, VG_T_RECVMSG, 3) { vg_net_msg(VG_T_RECVMSG, a, ret, 1); }
/* The vector calls: struct mmsghdr starts with its msghdr, so the first
 * message's name is read as sendmsg's; ret is the number of messages. */
VG_SYSCALL(sendmmsg, VG_T_SENDMMSG, 4) { vg_net_msg(VG_T_SENDMMSG, a, ret, 0); }
VG_SYSCALL(recvmmsg, VG_T_RECVMMSG, 5) { vg_net_msg(VG_T_RECVMMSG, a, ret, 1); }
