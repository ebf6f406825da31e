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
  /* the scratch slot holds the previous record: the head starts zeroed and
   * the payload is left as it is (data_len says how much of it is used) */
  __builtin_memset(n, 0, VG_NET_HEAD_SIZE);
  vg_fill_hdr(&n->hdr, VG_KIND_NET, type, sizeof(*n));
  n->hdr.res = ret;
  n->fd = fd;
  return n;
}

/* A net record: its head and the used part of data (vigil_abi.h). */
static __always_inline void vg_net_emit(struct vg_net *n) {
  __u64 size = (__u64)n->data_len + VG_NET_HEAD_SIZE;
  VG_CLAMP(size, sizeof(struct vg_net));
  n->hdr.size = size;
  vg_emit(n, size);
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
  vg_net_emit(n);
}

/* connect: the socket's own view (local endpoint, type), then the remote as
 * the caller gave it (authoritative also when the connect failed). */
VG_SYSCALL(connect, VG_T_CONNECT, 3) {
  struct vg_net *n = vg_net_begin(VG_T_CONNECT, ret, (int)a->a[0]);
  if (!n) return;
  vg_net_from_fd(n, (int)a->a[0]);
  vg_read_user_sockaddr(&n->sock, (const void *)a->a[1], (int)a->a[2], 1);
  vg_net_emit(n);
}

/* accept: the new socket (the result) knows both ends. */
static __always_inline void vg_net_accept(__u16 type, long ret, int listen_fd) {
  struct vg_net *n = vg_net_begin(type, ret, ret >= 0 ? (int)ret : listen_fd);
  if (!n) return;
  vg_net_from_fd(n, ret >= 0 ? (int)ret : listen_fd);
  vg_net_emit(n);
}
VG_SYSCALL(accept, VG_T_ACCEPT, 3) { vg_net_accept(VG_T_ACCEPT, ret, (int)a->a[0]); }
VG_SYSCALL(accept4, VG_T_ACCEPT4, 4) { vg_net_accept(VG_T_ACCEPT4, ret, (int)a->a[0]); }

VG_SYSCALL(bind, VG_T_BIND, 3) {
  struct vg_net *n = vg_net_begin(VG_T_BIND, ret, (int)a->a[0]);
  if (!n) return;
  vg_net_from_fd(n, (int)a->a[0]);
  vg_read_user_sockaddr(&n->sock, (const void *)a->a[1], (int)a->a[2], 0);
  vg_net_emit(n);
}

VG_SYSCALL(listen, VG_T_LISTEN, 2) {
  struct vg_net *n = vg_net_begin(VG_T_LISTEN, ret, (int)a->a[0]);
  if (!n) return;
  n->backlog = (int)a->a[1];
  vg_net_from_fd(n, (int)a->a[0]);
  vg_net_emit(n);
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
  vg_net_emit(n);
}

/* sendto/recvfrom/sendmsg/recvmsg: the fd's socket (both ends, as the kernel
 * holds them), the length asked for, and the peer address the call names
 * when it names one (an unconnected datagram socket: sendto's dest_addr,
 * recvfrom's src_addr as the kernel filled it, a msghdr's msg_name). While
 * vg_want_data, also the payload's first VG_DATA_LEN bytes (evt.buffer), as
 * Falco's driver takes them: what was sent or received (the result), or for
 * a failed send what the caller asked to send; nothing for a failed receive. */
static __always_inline struct vg_net *vg_net_data(__u16 type, long ret, int fd, __u64 size) {
  struct vg_net *n = vg_net_begin(type, ret, fd);
  if (!n) return 0;
  n->size = size;
  vg_net_from_fd(n, fd);
  return n;
}

/* The payload's first bytes from one user buffer of `len` bytes. */
static __always_inline void vg_net_copy(struct vg_net *n, __u64 buf, __u64 len) {
  if (!vg_want_data) return;
  n->data_flags = VG_ND_CAPTURED;
  if (len > VG_DATA_LEN) {
    n->data_flags |= VG_ND_CUT;
    len = VG_DATA_LEN;
  }
  if (!buf || len == 0) return;
  VG_CLAMP(len, VG_DATA_LEN);
  if (bpf_probe_read_user(n->data, len, (const void *)buf) != 0) {
    n->data_flags |= VG_ND_UNREAD;
    vg_count(VG_C_READ_DATA);
    return;
  }
  n->data_len = len;
}

/* The payload's first bytes from an iovec array: `total` bytes in all
 * (~0: as many as the vectors hold), the first VG_DATA_IOVS vectors read. */
#define VG_DATA_IOVS 4
struct vg_iovec {
  __u64 base;
  __u64 len;
};
static __always_inline void vg_net_copy_iov(struct vg_net *n, __u64 iov, __u64 iovlen, __u64 total) {
  if (!vg_want_data) return;
  n->data_flags = VG_ND_CAPTURED;
  __u64 off = 0;
  __u32 i = 0;
#pragma unroll
  for (i = 0; i < VG_DATA_IOVS; i++) {
    if (i >= iovlen || total == 0) break;
    struct vg_iovec v = {};
    if (bpf_probe_read_user(&v, sizeof(v), (const void *)(iov + i * sizeof(v))) != 0) {
      n->data_flags |= VG_ND_UNREAD;
      vg_count(VG_C_READ_DATA);
      break;
    }
    __u64 take = v.len < total ? v.len : total;
    if (total != ~0ull) total -= take;
    if (take > VG_DATA_LEN - off) {
      n->data_flags |= VG_ND_CUT;
      take = VG_DATA_LEN - off;
    }
    VG_CLAMP(take, VG_DATA_LEN);
    __u64 at = off;
    VG_CLAMP(at, VG_DATA_LEN);
    if (take && bpf_probe_read_user(n->data + at, take, (const void *)v.base) != 0) {
      n->data_flags |= VG_ND_UNREAD;
      vg_count(VG_C_READ_DATA);
      break;
    }
    off += take;
    if (off >= VG_DATA_LEN) {
      if (total != 0 && (total != ~0ull || i + 1 < iovlen)) n->data_flags |= VG_ND_CUT;
      break;
    }
  }
  /* vectors left unread that hold more of the payload */
  if (i == VG_DATA_IOVS && i < iovlen && total != 0) n->data_flags |= VG_ND_CUT;
  VG_CLAMP(off, VG_DATA_LEN);
  n->data_len = off;
}

VG_SYSCALL(sendto, VG_T_SENDTO, 6) {
  struct vg_net *n = vg_net_data(VG_T_SENDTO, ret, (int)a->a[0], a->a[2]);
  if (!n) return;
  vg_read_user_sockaddr(&n->sock, (const void *)a->a[4], (int)a->a[5], 1);
  vg_net_copy(n, a->a[1], ret > 0 ? (__u64)ret : a->a[2]);
  vg_net_emit(n);
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
  vg_net_copy(n, a->a[1], ret > 0 ? (__u64)ret : 0);
  vg_net_emit(n);
}

/* The head of struct user_msghdr: the name and its length, the iovec array. */
struct vg_msghdr_head {
  __u64 name;
  __s32 namelen;
  __s32 pad;
  __u64 iov;
  __u64 iovlen;
};
/* struct mmsghdr: its msghdr (56 bytes), then msg_len, the bytes the call
 * sent or received for that message. */
#define VG_MMSG_LEN_OFF 56

/* `filled`: a receive (the name and the data are the kernel's, only after
 * success). `vec`: an mmsghdr vector, whose first message is read. */
static __always_inline void vg_net_msg(__u16 type, const struct vg_args *a, long ret, int filled, int vec) {
  struct vg_net *n = vg_net_data(type, ret, (int)a->a[0], 0);
  if (!n) return;
  struct vg_msghdr_head h = {};
  int have = 0;
  if (a->a[1]) {
    if (bpf_probe_read_user(&h, sizeof(h), (const void *)a->a[1]) == 0)
      have = 1;
    else
      vg_count(VG_C_READ_SOCKADDR);
  }
  if (have && (!filled || ret >= 0)) vg_read_user_sockaddr(&n->sock, (const void *)h.name, h.namelen, 1);
  if (vg_want_data) {
    /* bytes of the (first) message: the result, or mmsghdr.msg_len */
    __u64 total = 0;
    if (!vec) {
      total = ret >= 0 ? (__u64)ret : (filled ? 0 : ~0ull);
    } else if (ret > 0) {
      __u32 len = 0;
      if (bpf_probe_read_user(&len, sizeof(len), (const void *)(a->a[1] + VG_MMSG_LEN_OFF)) == 0) total = len;
    } else if (!filled) {
      total = ~0ull;
    }
    if (have)
      vg_net_copy_iov(n, h.iov, h.iovlen, total);
    else
      n->data_flags = VG_ND_CAPTURED;
  }
  vg_net_emit(n);
}
VG_SYSCALL(sendmsg, VG_T_SENDMSG, 3) { vg_net_msg(VG_T_SENDMSG, a, ret, 0, 0); }
VG_SYSCALL(recvmsg, VG_T_RECVMSG, 3) { vg_net_msg(VG_T_RECVMSG, a, ret, 1, 0); }
/* The vector calls: struct mmsghdr starts with its msghdr, so the first
 * message's name and data are read as sendmsg's; ret is the number of
 * messages. */
VG_SYSCALL(sendmmsg, VG_T_SENDMMSG, 4) { vg_net_msg(VG_T_SENDMMSG, a, ret, 0, 1); }
VG_SYSCALL(recvmmsg, VG_T_RECVMMSG, 5) { vg_net_msg(VG_T_RECVMMSG, a, ret, 1, 1); }
