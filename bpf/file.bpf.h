/* SPDX-License-Identifier: GPL-2.0-only */
/* File family: open/openat/openat2/creat, unlink*, rmdir, rename*, chmod*,
 * chown*, link*, symlink*, mkdir*, mount, umount2, truncate/ftruncate, the
 * calls that set a file's times (utimensat, futimesat, utimes, utime) and an
 * extended attribute (setxattr, lsetxattr, fsetxattr) and remove one
 * (removexattr, lremovexattr, fremovexattr). One sys_exit
 * program per call (VG_SYSCALL): arguments from the saved registers, user
 * strings and dentry names into the record's tail, one record with the
 * result. */
#pragma once

#include "common.bpf.h"

#define VG_O_CREAT_WRONLY_TRUNC 01101 /* what creat() means as open flags */
#define VG_FMODE_CREATED 0x100000     /* include/linux/fs.h: the open created the file (4.19+) */

/* Scratch record with the header filled and every argument field reset. The
 * strings go into the tail in the order struct vg_file lists them, each
 * appended at the running offset `off` (bytes of tail used). */
static __always_inline struct vg_file *vg_file_begin(__u16 type, long ret) {
  union vg_record *s = vg_scratch_get();
  if (!s) return 0;
  struct vg_file *f = &s->file;
  vg_fill_hdr(&f->hdr, VG_KIND_FILE, type, VG_FILE_HEAD_SIZE);
  f->hdr.res = ret;
  f->fd = -1;
  f->fd2 = -1;
  f->flags = 0;
  f->mode = 0;
  f->owner_uid = 0xffffffffu;
  f->owner_gid = 0xffffffffu;
  f->file_flags = 0;
  f->path_len = 0;
  f->fstype_len = 0;
  f->length = 0;
  f->atime_sec = 0;
  f->mtime_sec = 0;
  f->atime_nsec = 0;
  f->mtime_nsec = 0;
  f->target_len = 0;
  f->pad[0] = f->pad[1] = f->pad[2] = 0;
  __builtin_memset(&f->base, 0, sizeof(f->base));
  __builtin_memset(&f->target_base, 0, sizeof(f->target_base));
  return f;
}

/* `path` as given and the directory it is relative to. */
static __always_inline void vg_file_path(struct vg_file *f, __u32 *off, int dirfd, __u64 upath) {
  __u32 at = *off;
  f->path_len = vg_tail_user_str(f, off, (const void *)upath);
  vg_tail_walk_base(f, off, &f->base, dirfd, at, f->path_len);
}

static __always_inline void vg_file_target(struct vg_file *f, __u32 *off, int dirfd, __u64 upath) {
  __u32 at = *off;
  f->target_len = vg_tail_user_str(f, off, (const void *)upath);
  vg_tail_walk_base(f, off, &f->target_base, dirfd, at, f->target_len);
}

/* fd-based call: the base is the file itself. */
static __always_inline void vg_file_of_fd(struct vg_file *f, __u32 *off, int fd) {
  f->fd = fd;
  f->file_flags |= VG_FF_BASE_IS_FILE;
  vg_tail_walk(f, off, &f->base, 0, fd);
}

/* Open path filter (vigil_abi.h struct vg_open_key, engine/interest.h):
 * vg_open_filter 0 = every open is sent (at load, so `vigil events` records
 * the full stream); 1 + g = an open whose given path the kernel can judge is
 * sent only if it starts with a prefix of generation g and of the open's
 * access class in vg_open_paths. */
struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 4 * (VG_OPEN_PREFIXES_MAX + VG_RES_KEYS_MAX + 1)); /* 2 generations x 2 classes */
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct vg_open_key);
  __type(value, __u8);
} vg_open_paths SEC(".maps");

/* The lookup key, built per CPU (136 bytes: off the stack). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct vg_open_key);
} vg_open_scratch SEC(".maps");

/* Per type (index = enum vg_type): opens the path filter left in the kernel
 * (each also counted as sent by vg_interested(), which runs first). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, VG_T_MAX);
  __type(key, __u32);
  __type(value, __u64);
} vg_path_filtered SEC(".maps");

volatile __u32 vg_open_filter = 0;

static __always_inline void vg_count_path_filtered(__u16 type) {
  __u32 key = type;
  __u64 *c = bpf_map_lookup_elem(&vg_path_filtered, &key);
  if (c) *c += 1;
}

/* Per byte of `v`, 0x80 where the byte equals the byte `c * VG_BYTES_1`
 * repeats, else 0: exact (the sum of two 7-bit values carries into no
 * neighbouring byte). */
#define VG_BYTES_1 0x0101010101010101ull
#define VG_BYTES_7F 0x7f7f7f7f7f7f7f7full
static __always_inline __u64 vg_bytes_eq(__u64 v, __u64 c) {
  __u64 x = v ^ c;
  return ~(((x & VG_BYTES_7F) + VG_BYTES_7F) | x | VG_BYTES_7F);
}

/* The open's access class (engine/interest.h OpenClassOf): 1 (write) when
 * it asks for write access, O_CREAT, O_TRUNC, O_APPEND or O_TMPFILE (creat
 * passes its flags as O_CREAT|O_WRONLY|O_TRUNC), else 0 (read). */
#define VG_OPEN_WRITE_FLAGS 020003103
static __always_inline __u8 vg_open_class(__u32 flags) { return (flags & VG_OPEN_WRITE_FLAGS) ? 1 : 0; }

/* 1: send the open; 0: leave it in the kernel; 2: its given path fails but
 * its class has the resolved test, which decides (vg_open_resolved_passes,
 * with the generation put in *gen). Mirrors OpenPathKernelCheckable() and OpenPathPasses()
 * (engine/interest.cpp): an open in a 32-bit call, a path that is relative,
 * longer than the window or unreadable, or has a '/' followed by '/' or '.' (so every `.`, `..` and
 * empty component, and also names starting with '.'), is sent; otherwise it
 * is sent only if it starts with a prefix of the current generation and of
 * the open's access class. Runs
 * before the record is begun, so a dropped open costs one user string read,
 * 15 word compares and two trie lookups (the prefixes, then the class's resolved-test key). No loop: older verifiers (5.10, 6.1)
 * refuse the back-edge clang makes of a byte loop; the path is zeroed first,
 * so the bytes after its NUL match nothing. */
static __always_inline int vg_open_path_passes(__u16 type, __u64 upath, __u32 flags, __u8 *gen) {
  __u32 on = vg_open_filter;
  if (on == 0) return 1;
  if (vg_self_tgid != 0 && (__u32)(bpf_get_current_pid_tgid() >> 32) == vg_self_tgid) return 1;
  /* A 32-bit call's open is always sent: the filter is derived with
   * evt.is_compat false (engine/interest.cpp NativeOpenLeaf). */
  if (vg_in_compat(VG_TASK())) return 1;
  __u32 zero = 0;
  struct vg_open_key *k = bpf_map_lookup_elem(&vg_open_scratch, &zero);
  if (!k) return 1;
  __builtin_memset(k->path, 0, sizeof(k->path));
  long n = bpf_probe_read_user_str(k->path, sizeof(k->path), (const void *)upath);
  if (n <= 1 || n > VG_OPEN_PATH_WINDOW + 1 || k->path[0] != '/') return 1;
  __u64 odd = 0;
  /* One word at a time: the empty asm keeps clang from loading every word
   * up front, whose spills took 200 more bytes of the 512-byte stack that
   * the compat build's call chain shares. */
#pragma unroll
  for (int i = 0; i < (VG_OPEN_PATH_WINDOW + 1) / 8; i++) {
    __u64 w = k->words[i];
    __u64 next = (w >> 8) | (k->words[i + 1] << 56); /* the bytes one further on (little endian) */
    odd |= vg_bytes_eq(w, '/' * VG_BYTES_1) &
           (vg_bytes_eq(next, '/' * VG_BYTES_1) | vg_bytes_eq(next, '.' * VG_BYTES_1));
    asm volatile("" : "+r"(odd)::"memory");
  }
  if (odd) return 1;
  *gen = (__u8)((on - 1) & 1);
  k->gen = *gen;
  k->cls = vg_open_class(flags);
  k->kind = VG_OPEN_KIND_GIVEN;
  k->pad = 0;
  k->prefixlen = 32 + 8 * (__u32)(n - 1);
  if (bpf_map_lookup_elem(&vg_open_paths, k)) return 1;
  k->kind = VG_OPEN_KIND_RESOLVED;
  k->prefixlen = 32;
  if (bpf_map_lookup_elem(&vg_open_paths, k)) return 2;
  vg_count_path_filtered(type);
  return 0;
}

/* The resolved test (vigil_abi.h VG_OPEN_KIND_*, engine/interest.h
 * ResolvedPathPasses): 1 (send) unless the opened file's dentry chain in
 * target_base (names leaf first from tail byte `at`, the last one `last`
 * bytes further) reached the root and neither its top nor its leaf name
 * starts with a key of generation `gen` and class `cls`. A chain cut or
 * failed, the root itself, a name "" or "/" (which the decoder skips) or a
 * leaf of VG_RES_NAME_LEN - 1 bytes or more is sent. No loop: the leaf is
 * reversed by copying it to the end of 64 zeroed bytes and swapping those
 * bytes end for end, a word at a time. */
static __always_inline int vg_open_resolved_passes(struct vg_file *f, __u32 at, __u32 last, __u8 gen) {
  __u8 cls = vg_open_class(f->flags);
  if ((f->target_base.flags & (VG_CHAIN_COMPLETE | VG_CHAIN_CUT | VG_CHAIN_NAME_CUT)) != VG_CHAIN_COMPLETE ||
      f->target_base.depth == 0)
    return 1;
  __u32 top = at + last;
  if (at > VG_FILE_TAIL_MAX - VG_RES_NAME_LEN || top > VG_FILE_TAIL_MAX - VG_RES_NAME_LEN) return 1;
  __u32 zero = 0;
  struct vg_open_key *k = bpf_map_lookup_elem(&vg_open_scratch, &zero);
  if (!k) return 1;
  k->gen = gen;
  k->cls = cls;
  k->pad = 0;
#pragma unroll
  for (int i = 0; i < VG_RES_NAME_LEN / 8; i++) k->words[i] = 0;
  long n = bpf_probe_read_kernel_str(k->path, VG_RES_NAME_LEN, &f->tail[top]);
  if (n <= 1 || n > VG_RES_NAME_LEN || k->path[0] == '/') return 1;
  k->kind = VG_OPEN_KIND_TOP;
  k->prefixlen = 32 + 8 * (__u32)n;
  if (bpf_map_lookup_elem(&vg_open_paths, k)) return 1;
  n = bpf_probe_read_kernel_str(k->path, VG_RES_NAME_LEN, &f->tail[at]);
  if (n <= 1 || n >= VG_RES_NAME_LEN || k->path[0] == '/') return 1;
#pragma unroll
  for (int i = 0; i < VG_RES_NAME_LEN / 8; i++) k->words[i] = 0;
  __u32 len = (__u32)(n - 1) & (VG_RES_NAME_LEN - 1);
  if (bpf_probe_read_kernel(&k->path[(VG_RES_NAME_LEN - len) & (VG_RES_NAME_LEN - 1)], len, &f->tail[at]) < 0)
    return 1;
#pragma unroll
  for (int i = 0; i < VG_RES_NAME_LEN / 16; i++) {
    __u64 a = __builtin_bswap64(k->words[i]);
    __u64 b = __builtin_bswap64(k->words[VG_RES_NAME_LEN / 8 - 1 - i]);
    k->words[i] = b;
    k->words[VG_RES_NAME_LEN / 8 - 1 - i] = a;
  }
  k->kind = VG_OPEN_KIND_LEAF;
  k->prefixlen = 32 + 8 * (__u32)n;
  return bpf_map_lookup_elem(&vg_open_paths, k) != 0;
}

/* 1 when the resolved test leaves the open being built in vg_scratch in the
 * kernel (counted in vg_path_filtered under the record's type). A global
 * function that reads the record's type and flags itself: the verifier checks
 * it once on its own, and the caller keeps no constant live through its path
 * walks (a constant type used as an array key after the walks made the
 * verifier follow every way through them once per open call of
 * vg_compat_exit, past the 1M-instruction limit in the compat build). */
__attribute__((noinline)) int vg_open_resolved_drops(__u32 at, __u32 last, __u32 gen) {
  union vg_record *s = vg_scratch_get();
  if (!s) return 0;
  struct vg_file *f = &s->file;
  if (vg_open_resolved_passes(f, at, last, (__u8)gen)) return 0;
  vg_count_path_filtered(f->hdr.type);
  return 1;
}


/* open family: the path as given and the directory it is relative to (as
 * for any path call: fd.name, libsinsp's meaning); on success also the
 * opened file's own path (symlinks resolved: fd.name.resolved) as
 * target_base, flagged VG_FF_OPENED_FILE. The second walk costs a relative
 * open one more dentry walk; an absolute one walks nothing for its base. */
static __always_inline void vg_file_open(__u16 type, long ret, int dirfd, __u64 upath, __u32 flags, __u32 mode) {
  __u8 gen = 0;
  int pass = vg_open_path_passes(type, upath, flags, &gen);
  if (!pass) return;
  struct vg_file *f = vg_file_begin(type, ret);
  if (!f) return;
  __u32 off = 0;
  f->flags = flags;
  f->mode = mode;
  if (ret >= 0) {
    /* Whether the file existed: truncating a file this call made loses
     * nothing (bash creating its history file), one that existed may. Only
     * asked for O_CREAT opens; a read-only open cannot create. */
    if (flags & 0100) {
      struct file *file = vg_fd_file((int)ret);
      if (file && (BPF_CORE_READ(file, f_mode) & VG_FMODE_CREATED)) f->file_flags |= VG_FF_CREATED;
    }
    /* Whether the resolved test decides, and its generation, are kept in
     * the record through the walks, as is where the last name starts after
     * them: values in registers would make the verifier follow every way
     * through the walks once per value, values in map memory it does not
     * track. */
    f->pad[1] = pass == 2 ? (__u16)(2 | gen) : 0;
    f->fd = (int)ret;
    vg_file_path(f, &off, dirfd, upath);
    f->file_flags |= VG_FF_OPENED_FILE;
    __u32 at = off;
    f->pad[0] = (__u16)vg_tail_walk(f, &off, &f->target_base, 0, (int)ret);
    __u32 last = *(volatile __u16 *)&f->pad[0];
    __u32 test = *(volatile __u16 *)&f->pad[1];
    f->pad[0] = f->pad[1] = 0;
    if (test && vg_open_resolved_drops(at, last, test & 1)) return;
  } else {
    f->fd = dirfd;
    vg_file_path(f, &off, dirfd, upath);
  }
  vg_emit_file(f, off);
}

VG_SYSCALL(open, VG_T_OPEN, 3) { vg_file_open(VG_T_OPEN, ret, VG_AT_FDCWD, a->a[0], a->a[1], a->a[2]); }
VG_SYSCALL(openat, VG_T_OPENAT, 4) { vg_file_open(VG_T_OPENAT, ret, (int)a->a[0], a->a[1], a->a[2], a->a[3]); }
VG_SYSCALL(creat, VG_T_CREAT, 2) { vg_file_open(VG_T_CREAT, ret, VG_AT_FDCWD, a->a[0], VG_O_CREAT_WRONLY_TRUNC, a->a[1]); }
VG_SYSCALL(openat2, VG_T_OPENAT2, 4) {
  struct open_how how = {};
  if (bpf_probe_read_user(&how, sizeof(how), (const void *)a->a[2]) < 0) vg_count(VG_C_READ_PATH);
  vg_file_open(VG_T_OPENAT2, ret, (int)a->a[0], a->a[1], (__u32)how.flags, (__u32)how.mode);
}

VG_SYSCALL(unlink, VG_T_UNLINK, 1) {
  struct vg_file *f = vg_file_begin(VG_T_UNLINK, ret);
  if (!f) return;
  __u32 off = 0;
  vg_file_path(f, &off, VG_AT_FDCWD, a->a[0]);
  vg_emit_file(f, off);
}
VG_SYSCALL(unlinkat, VG_T_UNLINKAT, 3) {
  struct vg_file *f = vg_file_begin(VG_T_UNLINKAT, ret);
  if (!f) return;
  f->fd = (int)a->a[0];
  f->flags = a->a[2];
  __u32 off = 0;
  vg_file_path(f, &off, (int)a->a[0], a->a[1]);
  vg_emit_file(f, off);
}

VG_SYSCALL(rmdir, VG_T_RMDIR, 1) {
  struct vg_file *f = vg_file_begin(VG_T_RMDIR, ret);
  if (!f) return;
  __u32 off = 0;
  vg_file_path(f, &off, VG_AT_FDCWD, a->a[0]);
  vg_emit_file(f, off);
}

/* setxattr family (path or fd, name, value, size, flags): the file, then the
 * attribute's name as `target` (not a path: no base walked; XATTR_NAME_MAX
 * is 255, so it fits), the value's size as `length`. The value itself is not
 * read: its meaning depends on the name (security.capability is a binary
 * vfs_cap_data). setxattr follows a final symlink, lsetxattr does not: the
 * path is reported as given and joined to the cwd either way. */
static __always_inline void vg_file_xattr(__u16 type, long ret, int fd, __u64 upath, __u64 uname, __u64 size,
                                          __u32 flags) {
  struct vg_file *f = vg_file_begin(type, ret);
  if (!f) return;
  f->flags = flags;
  f->length = size;
  __u32 off = 0;
  if (fd >= 0) {
    /* fsetxattr: the name goes in `path` (the call has none), read before
     * the fd's walk: a string read after that walk was refused by 5.10's
     * and 6.1's verifiers ("math between map_value pointer and register
     * with unbounded min value"), as the open family reads its path first. */
    f->path_len = vg_tail_user_str(f, &off, (const void *)uname);
    vg_file_of_fd(f, &off, fd);
    vg_emit_file(f, off);
    return;
  }
  vg_file_path(f, &off, VG_AT_FDCWD, upath);
  f->target_len = vg_tail_user_str(f, &off, (const void *)uname);
  vg_emit_file(f, off);
}
VG_SYSCALL(setxattr, VG_T_SETXATTR, 5) {
  vg_file_xattr(VG_T_SETXATTR, ret, -1, a->a[0], a->a[1], a->a[3], (__u32)a->a[4]);
}
VG_SYSCALL(lsetxattr, VG_T_LSETXATTR, 5) {
  vg_file_xattr(VG_T_LSETXATTR, ret, -1, a->a[0], a->a[1], a->a[3], (__u32)a->a[4]);
}
VG_SYSCALL(fsetxattr, VG_T_FSETXATTR, 5) {
  vg_file_xattr(VG_T_FSETXATTR, ret, (int)a->a[0], 0, a->a[1], a->a[3], (__u32)a->a[4]);
}
/* removexattr family (path or fd, name): the same record, no value. */
VG_SYSCALL(removexattr, VG_T_REMOVEXATTR, 2) { vg_file_xattr(VG_T_REMOVEXATTR, ret, -1, a->a[0], a->a[1], 0, 0); }
VG_SYSCALL(lremovexattr, VG_T_LREMOVEXATTR, 2) { vg_file_xattr(VG_T_LREMOVEXATTR, ret, -1, a->a[0], a->a[1], 0, 0); }
VG_SYSCALL(fremovexattr, VG_T_FREMOVEXATTR, 2) { vg_file_xattr(VG_T_FREMOVEXATTR, ret, (int)a->a[0], 0, a->a[1], 0, 0); }

/* rename/link: old path, new path (each with its own dirfd) and flags. */
static __always_inline void vg_file_two(__u16 type, long ret, int olddfd, __u64 oldp, int newdfd, __u64 newp,
                                        __u32 flags) {
  struct vg_file *f = vg_file_begin(type, ret);
  if (!f) return;
  f->fd = olddfd;
  f->fd2 = newdfd;
  f->flags = flags;
  __u32 off = 0;
  vg_file_path(f, &off, olddfd, oldp);
  vg_file_target(f, &off, newdfd, newp);
  vg_emit_file(f, off);
}

VG_SYSCALL(rename, VG_T_RENAME, 2) { vg_file_two(VG_T_RENAME, ret, VG_AT_FDCWD, a->a[0], VG_AT_FDCWD, a->a[1], 0); }
VG_SYSCALL(renameat, VG_T_RENAMEAT, 4) {
  vg_file_two(VG_T_RENAMEAT, ret, (int)a->a[0], a->a[1], (int)a->a[2], a->a[3], 0);
}
VG_SYSCALL(renameat2, VG_T_RENAMEAT2, 5) {
  vg_file_two(VG_T_RENAMEAT2, ret, (int)a->a[0], a->a[1], (int)a->a[2], a->a[3], (__u32)a->a[4]);
}
VG_SYSCALL(link, VG_T_LINK, 2) { vg_file_two(VG_T_LINK, ret, VG_AT_FDCWD, a->a[0], VG_AT_FDCWD, a->a[1], 0); }
VG_SYSCALL(linkat, VG_T_LINKAT, 5) {
  vg_file_two(VG_T_LINKAT, ret, (int)a->a[0], a->a[1], (int)a->a[2], a->a[3], (__u32)a->a[4]);
}

/* symlink: `path` is the link's content (not resolved), `target` the link. */
static __always_inline void vg_file_symlink(__u16 type, long ret, __u64 content, int newdfd, __u64 linkp) {
  struct vg_file *f = vg_file_begin(type, ret);
  if (!f) return;
  f->fd2 = newdfd;
  __u32 off = 0;
  f->path_len = vg_tail_user_str(f, &off, (const void *)content);
  vg_file_target(f, &off, newdfd, linkp);
  vg_emit_file(f, off);
}
VG_SYSCALL(symlink, VG_T_SYMLINK, 2) { vg_file_symlink(VG_T_SYMLINK, ret, a->a[0], VG_AT_FDCWD, a->a[1]); }
VG_SYSCALL(symlinkat, VG_T_SYMLINKAT, 3) { vg_file_symlink(VG_T_SYMLINKAT, ret, a->a[0], (int)a->a[1], a->a[2]); }

/* path-based calls with a mode / owner / length */
static __always_inline void vg_file_attr(__u16 type, long ret, int dirfd, __u64 upath, __u32 mode, __u32 uid,
                                         __u32 gid, __u32 flags, __u64 length) {
  struct vg_file *f = vg_file_begin(type, ret);
  if (!f) return;
  f->fd = dirfd;
  f->mode = mode;
  f->owner_uid = uid;
  f->owner_gid = gid;
  f->flags = flags;
  f->length = length;
  __u32 off = 0;
  vg_file_path(f, &off, dirfd, upath);
  vg_emit_file(f, off);
}

static __always_inline void vg_file_fdattr(__u16 type, long ret, int fd, __u32 mode, __u32 uid, __u32 gid,
                                           __u64 length) {
  struct vg_file *f = vg_file_begin(type, ret);
  if (!f) return;
  f->mode = mode;
  f->owner_uid = uid;
  f->owner_gid = gid;
  f->length = length;
  __u32 off = 0;
  vg_file_of_fd(f, &off, fd);
  vg_emit_file(f, off);
}

#define VG_NOID 0xffffffffu
VG_SYSCALL(chmod, VG_T_CHMOD, 2) { vg_file_attr(VG_T_CHMOD, ret, VG_AT_FDCWD, a->a[0], a->a[1], VG_NOID, VG_NOID, 0, 0); }
VG_SYSCALL(fchmod, VG_T_FCHMOD, 2) { vg_file_fdattr(VG_T_FCHMOD, ret, (int)a->a[0], a->a[1], VG_NOID, VG_NOID, 0); }
VG_SYSCALL(fchmodat, VG_T_FCHMODAT, 3) {
  vg_file_attr(VG_T_FCHMODAT, ret, (int)a->a[0], a->a[1], a->a[2], VG_NOID, VG_NOID, 0, 0);
}
VG_SYSCALL(chown, VG_T_CHOWN, 3) { vg_file_attr(VG_T_CHOWN, ret, VG_AT_FDCWD, a->a[0], 0, a->a[1], a->a[2], 0, 0); }
VG_SYSCALL(lchown, VG_T_LCHOWN, 3) { vg_file_attr(VG_T_LCHOWN, ret, VG_AT_FDCWD, a->a[0], 0, a->a[1], a->a[2], 0, 0); }
VG_SYSCALL(fchown, VG_T_FCHOWN, 3) { vg_file_fdattr(VG_T_FCHOWN, ret, (int)a->a[0], 0, a->a[1], a->a[2], 0); }
VG_SYSCALL(fchownat, VG_T_FCHOWNAT, 5) {
  vg_file_attr(VG_T_FCHOWNAT, ret, (int)a->a[0], a->a[1], 0, a->a[2], a->a[3], a->a[4], 0);
}
VG_SYSCALL(mkdir, VG_T_MKDIR, 2) { vg_file_attr(VG_T_MKDIR, ret, VG_AT_FDCWD, a->a[0], a->a[1], VG_NOID, VG_NOID, 0, 0); }
VG_SYSCALL(mkdirat, VG_T_MKDIRAT, 3) {
  vg_file_attr(VG_T_MKDIRAT, ret, (int)a->a[0], a->a[1], a->a[2], VG_NOID, VG_NOID, 0, 0);
}
VG_SYSCALL(truncate, VG_T_TRUNCATE, 2) {
  vg_file_attr(VG_T_TRUNCATE, ret, VG_AT_FDCWD, a->a[0], 0, VG_NOID, VG_NOID, 0, a->a[1]);
}
VG_SYSCALL(ftruncate, VG_T_FTRUNCATE, 2) { vg_file_fdattr(VG_T_FTRUNCATE, ret, (int)a->a[0], 0, VG_NOID, VG_NOID, a->a[1]); }

/* mount(source, target, fstype, flags, data): path = the directory,
 * target = the source. */
VG_SYSCALL(mount, VG_T_MOUNT, 5) {
  struct vg_file *f = vg_file_begin(VG_T_MOUNT, ret);
  if (!f) return;
  f->flags = (__u32)a->a[3];
  __u32 off = 0;
  vg_file_path(f, &off, VG_AT_FDCWD, a->a[1]);
  __u32 o = off;
  if (a->a[2] && o <= VG_FILE_TAIL_MAX - VG_FSTYPE_LEN) {
    long n = bpf_probe_read_user_str(&f->tail[o], VG_FSTYPE_LEN, (const void *)a->a[2]);
    if (n > 0 && n <= VG_FSTYPE_LEN) {
      f->fstype_len = n;
      off = o + n;
    }
  }
  f->target_len = vg_tail_user_str(f, &off, (const void *)a->a[0]);
  vg_emit_file(f, off);
}

/* umount2 is traced as syscalls/sys_enter_umount on x86-64. */
VG_SYSCALL(umount, VG_T_UMOUNT2, 2) {
  struct vg_file *f = vg_file_begin(VG_T_UMOUNT2, ret);
  if (!f) return;
  f->flags = (__u32)a->a[1];
  __u32 off = 0;
  vg_file_path(f, &off, VG_AT_FDCWD, a->a[0]);
  vg_emit_file(f, off);
}

/* utimensat family. The times come in three layouts: struct timespec[2]
 * (utimensat: nanoseconds, with UTIME_NOW / UTIME_OMIT), struct timeval[2]
 * (utimes, futimesat: microseconds) and struct utimbuf (utime: seconds). */
enum { VG_TIMES_TIMESPEC, VG_TIMES_TIMEVAL, VG_TIMES_UTIMBUF };

/* A sub-second field as nanoseconds; the kernel's special values pass
 * through (timespec only), anything out of range is VG_NSEC_INVALID. */
static __always_inline __u32 vg_nsec(__s64 v, int layout) {
  if (layout == VG_TIMES_TIMESPEC) {
    if (v == VG_UTIME_NOW || v == VG_UTIME_OMIT) return (__u32)v;
    return v >= 0 && v < 1000000000 ? (__u32)v : VG_NSEC_INVALID;
  }
  return v >= 0 && v < 1000000 ? (__u32)v * 1000u : VG_NSEC_INVALID;
}

static __always_inline void vg_file_times_read(struct vg_file *f, __u64 utimes, int layout) {
  if (!utimes) {
    f->file_flags |= VG_FF_TIMES_NOW;
    return;
  }
  __s64 t[4] = {};
  long err = layout == VG_TIMES_UTIMBUF ? bpf_probe_read_user(t, 2 * sizeof(__s64), (const void *)utimes)
                                        : bpf_probe_read_user(t, sizeof(t), (const void *)utimes);
  if (err < 0) {
    f->file_flags |= VG_FF_TIMES_UNREAD;
    vg_count(VG_C_READ_TIMES);
    return;
  }
  if (layout == VG_TIMES_UTIMBUF) {
    f->atime_sec = t[0];
    f->mtime_sec = t[1];
    return;
  }
  f->atime_sec = t[0];
  f->atime_nsec = vg_nsec(t[1], layout);
  f->mtime_sec = t[2];
  f->mtime_nsec = vg_nsec(t[3], layout);
}

/* `upath` NULL: the call acts on `dirfd` itself (futimens is utimensat with
 * a NULL path); "" with AT_EMPTY_PATH likewise. */
static __always_inline void vg_file_times(__u16 type, long ret, int dirfd, __u64 upath, __u64 utimes, int layout,
                                          __u32 flags) {
  struct vg_file *f = vg_file_begin(type, ret);
  if (!f) return;
  f->fd = dirfd;
  f->flags = flags;
  vg_file_times_read(f, utimes, layout);
  __u32 off = 0;
  if (!upath && dirfd >= 0) {
    vg_file_of_fd(f, &off, dirfd);
  } else {
    vg_file_path(f, &off, dirfd, upath);
    if (f->path_len == 1 && (flags & VG_AT_EMPTY_PATH)) f->file_flags |= VG_FF_BASE_IS_FILE;
  }
  vg_emit_file(f, off);
}

VG_SYSCALL(utimensat, VG_T_UTIMENSAT, 4) {
  vg_file_times(VG_T_UTIMENSAT, ret, (int)a->a[0], a->a[1], a->a[2], VG_TIMES_TIMESPEC, (__u32)a->a[3]);
}
VG_SYSCALL(futimesat, VG_T_FUTIMESAT, 3) {
  vg_file_times(VG_T_FUTIMESAT, ret, (int)a->a[0], a->a[1], a->a[2], VG_TIMES_TIMEVAL, 0);
}
VG_SYSCALL(utimes, VG_T_UTIMES, 2) {
  vg_file_times(VG_T_UTIMES, ret, VG_AT_FDCWD, a->a[0], a->a[1], VG_TIMES_TIMEVAL, 0);
}
VG_SYSCALL(utime, VG_T_UTIME, 2) { vg_file_times(VG_T_UTIME, ret, VG_AT_FDCWD, a->a[0], a->a[1], VG_TIMES_UTIMBUF, 0); }
