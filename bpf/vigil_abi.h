/* SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0 */
/* vigil kernel/user ABI: the records the BPF programs write into the ring
 * buffer and the counters they keep. Plain C (linux/types.h only, no
 * vmlinux.h) so that clang -target bpf and g++ include the same definitions.
 *
 * Contract:
 * - Every record starts with struct vg_hdr; hdr.size is the record's length in
 *   bytes and hdr.kind says which struct follows (enum vg_kind); hdr.type is
 *   the syscall/event (enum vg_type). The decoder rejects a record whose
 *   length disagrees with its kind.
 * - A file record is a fixed head and a packed tail of strings (struct
 *   vg_file): only the bytes used are written and sent, so an open of
 *   /etc/hostname is 299 ring-buffer bytes instead of ~2.8 KB. The decoder
 *   rejects a record whose tail lengths disagree with its size or whose
 *   strings are not NUL-terminated where the head says they end.
 * - Strings in fixed arrays are NUL-terminated when shorter than the array;
 *   a string filling its array may lack the NUL (the decoder bounds it).
 * - All structs are naturally aligned with explicit padding, so the layout is
 *   the same for both compilers (checked by tests/unit/capture/abi_layout_test).
 * - Bump VG_ABI_VERSION on any change of layout or of a field's meaning. A
 *   new flag bit in a flags field is not one: a decoder that predates it
 *   ignores it.
 */
#ifndef VIGIL_BPF_VIGIL_ABI_H_
#define VIGIL_BPF_VIGIL_ABI_H_

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VG_ABI_VERSION 15

#define VG_COMM_LEN 16
#define VG_PATH_LEN 256   /* a path as the caller gave it, in fixed-size records (exec, proc, bpf) */
#define VG_FILE_PATH_LEN 4096 /* a file record's path as given: PATH_MAX, the longest the kernel accepts */
#define VG_NAME_LEN 256   /* one dentry name in a chain: NAME_MAX + its NUL (longer ones are cut, flagged) */
#define VG_CHAIN_DEPTH 16 /* dentries walked from a file towards the root */
#define VG_ARGV_LEN 1024  /* argv bytes (NUL-separated) kept for an exec */
#define VG_ENV_LEN 4096   /* environment bytes (NUL-separated NAME=value) kept for an exec */
#define VG_UNIX_PATH_LEN 108
#define VG_STDIN_NAME_LEN 64 /* exec: the last path component of a regular file on fd 0 */
#define VG_INSN_CHUNK 64   /* bpf() insns read per step of the helper scan */
#define VG_INSN_CHUNKS 128 /* steps: VG_INSN_CHUNK * VG_INSN_CHUNKS insns scanned at most */

enum vg_kind {
  VG_KIND_EXEC = 1,
  VG_KIND_PROC = 2, /* fork/clone, exit, escape and privilege indicators */
  VG_KIND_FILE = 3,
  VG_KIND_NET = 4,
  VG_KIND_BPF = 5,
};

/* Event types: VG_T_<TYPE> = its number, from the one table of types
 * (vigil_events.def: numbers, record kinds, names). Numbers are part of the
 * ABI; the decoder maps them to vigil::EventType. */
enum vg_type {
#define VG_EVENT(num, TYPE, name, kind, hook, families) VG_T_##TYPE = num,
#include "vigil_events.def"
  VG_T_MAX
};

/* The interest filter's mask: bit (type - 1) % 64 of word (type - 1) / 64. */
#define VG_INTEREST_WORDS 2

/* Per-CPU counters by site (map vg_counters, index = enum vg_counter). */
enum vg_counter {
  VG_C_RINGBUF_DROP = 0,   /* ring buffer full: record lost */
  VG_C_PENDING_FULL,       /* enter/exit pairing slot not allocated: event lost */
  VG_C_EXIT_UNPAIRED,      /* paired call: the stored sys_enter was another call's, whose exit was never seen */
  VG_C_READ_ARGV,          /* argv could not be read (exec) */
  VG_C_READ_PATH,          /* user path string could not be read */
  VG_C_READ_SOCKADDR,      /* user sockaddr could not be read */
  VG_C_READ_BPF_ATTR,      /* union bpf_attr could not be read */
  VG_C_READ_BPF_INSNS,     /* program instructions could not be read */
  VG_C_READ_TASK,          /* task/cred/namespace fields could not be read */
  VG_C_READ_DENTRY,        /* dentry chain walk read failure */
  VG_C_SCRATCH,            /* per-CPU scratch lookup failed (should not happen) */
  VG_C_READ_TIMES,         /* utimensat family: the user times array could not be read */
  VG_C_READ_ENV,           /* exec: the environment could not be read (the record says none was captured) */
  VG_C_PRIO_DROP,          /* priority lane (vg_events_hi) full: a security-relevant record lost */
  VG_C_READ_DATA,          /* send/recv family: the payload could not be read (evt.buffer; ABI 15) */
  VG_C_MAX
};

/* Interest filter counts per event type (map vg_filter_counts, index = enum
 * vg_type; bit type - 1 of the filter mask, so at most 64 * VG_INTEREST_WORDS
 * types). */
struct vg_filter_count {
  __u64 sent;     /* passed the filter */
  __u64 filtered; /* left in the kernel: no loaded rule can use it */
};

/* hdr.flags */
#define VG_HF_NO_ENTER (1u << 0) /* the sys_enter half was not seen (args missing) */
/* The call came through the 32-bit (ia32: int 0x80, sysenter, 32-bit syscall)
 * entry of an x86-64 kernel: hdr.type is the call, its arguments were read
 * from the ia32 registers. */
#define VG_HF_COMPAT (1u << 1)
/* With VG_HF_COMPAT: the calling image has a 32-bit address space (an i386
 * ELF, whose every call is a compat one). Without it, a 64-bit program made
 * the 32-bit call. For an exec, both describe the image that called execve. */
#define VG_HF_ADDR32 (1u << 2)

struct vg_hdr {
  __u32 size; /* bytes in the whole record */
  __u16 kind; /* enum vg_kind */
  __u16 type; /* enum vg_type */
  __u64 ts_ns;
  __s64 res; /* syscall result (>= 0 ok, -errno) */
  __u32 pid;  /* tgid */
  __u32 tid;
  __u32 ppid; /* real parent's tgid */
  __u32 vpid; /* tgid in its own pid namespace */
  __u32 pidns_level;
  __u32 uid, gid, euid, egid, loginuid;
  __u32 flags; /* VG_HF_* */
  __u32 abi_version;
  __u64 cap_effective;
  __u64 cap_permitted;
  __u64 start_ns; /* group leader's start_boottime */
  __u64 cgroup_id;
  __u64 ns_pid, ns_mnt, ns_net, ns_user, ns_uts, ns_ipc, ns_cgroup;
  char comm[VG_COMM_LEN];
  __u32 tty; /* controlling terminal as /proc/PID/stat's tty_nr encodes it; 0 = none */
  __u32 pad;
};

/* chain.flags */
#define VG_CHAIN_COMPLETE (1u << 0) /* reached the root: the chain is the full path */
#define VG_CHAIN_NAME_CUT (1u << 1) /* a name was longer than VG_NAME_LEN - 1 */
#define VG_CHAIN_CUT (1u << 2)      /* out of names (VG_CHAIN_DEPTH) or bytes: the names are the leaf end of a longer path */

/* A path as dentry names from the file up towards the root (comp[0] = leaf),
 * crossing mount points; joined in userspace. */
struct vg_chain {
  __u16 depth; /* names filled */
  __u16 flags; /* VG_CHAIN_* */
  __u32 pad;
  char comp[VG_CHAIN_DEPTH][VG_NAME_LEN];
};

/* exec.flags */
#define VG_EXEC_ARGV_TRUNC (1u << 0) /* argv longer than VG_ARGV_LEN */
#define VG_EXEC_HAVE_ENTER (1u << 1) /* old_comm/filename come from sys_enter_execve* */
#define VG_EXEC_ADDR32 (1u << 2)     /* the new image has a 32-bit address space (an i386 or x32 ELF) */
#define VG_EXEC_ENV_TRUNC (1u << 3)  /* the environment was longer than VG_ENV_LEN: env holds its first bytes */
#define VG_EXEC_ENV (1u << 4)        /* the environment was captured (env_len bytes; 0 = an empty one) */
#define VG_EXEC_EXE_INODE (1u << 5)  /* exe_ino, exe_ctime_ns, exe_mtime_ns were read (ABI 13) */
/* The executable is on overlayfs (s_magic OVERLAYFS_SUPER_MAGIC) and the
 * kernel's BTF (vmlinux, or the overlay module's when it was loaded before
 * vigil) has struct ovl_inode: VG_EXEC_UPPER_LAYER then says whether its
 * overlay inode has an upper dentry (a file written or copied up in the
 * container). Not set for an overlay file without that BTF: unknown. */
#define VG_EXEC_LAYER_KNOWN (1u << 6)
#define VG_EXEC_UPPER_LAYER (1u << 7)
#define VG_EXEC_OVERLAY (1u << 8)    /* the executable is on overlayfs */

/* vg_stdio.type: the file type (S_IFMT) of a descriptor's inode */
enum vg_stdio_type {
  VG_FD_NONE = 0, /* no such descriptor (closed), or unreadable */
  VG_FD_FILE = 1, /* regular file */
  VG_FD_PIPE = 2, /* pipe or FIFO */
  VG_FD_SOCK = 3,
  VG_FD_CHR = 4,  /* character device: a terminal, /dev/null */
  VG_FD_DIR = 5,
  VG_FD_BLK = 6,
  VG_FD_OTHER = 7, /* symlink or an inode with no S_IFMT type (anon_inode: eventfd, epoll, ...) */
};

struct vg_stdio {
  __u64 ino;   /* inode number */
  __u32 dev;   /* the inode's superblock s_dev (kernel encoding: major << 20 | minor) */
  __u16 type;  /* enum vg_stdio_type */
  __u16 pad;
};

struct vg_exec {
  struct vg_hdr hdr;
  __u32 flags;
  __u32 argv_len; /* bytes used in argv */
  __s32 dirfd;    /* execveat */
  __u32 at_flags; /* execveat */
  char old_comm[VG_COMM_LEN];
  char filename[VG_PATH_LEN];
  struct vg_chain exe;
  struct vg_chain cwd;
  char argv[VG_ARGV_LEN];
  __u32 env_len; /* bytes used in env: the record ends there */
  /* Session and process group (signal->pids[PIDTYPE_SID/PGID]) when the
   * record was made: the ids in the initial pid namespace, and as the task's
   * own pid namespace numbers them (pid_nr_ns(): 0 when the session or group
   * leader is outside that namespace). They change only through setsid() and
   * setpgid(), which are not captured: a process that calls one keeps its
   * exec-time ids in vigil's state until its next exec (docs/capture.md). */
  __u32 sid;
  __u32 pgid;
  __u32 vsid;
  __u32 vpgid;
  __u32 pad2;
  /* Descriptors 0, 1, 2 of the new image (fd->f_inode): what feeds the
   * process and where its output goes. Pipes are matched to their other end
   * in userspace by (dev, ino): `curl URL | bash` typed at a prompt makes two
   * siblings whose only link is the pipe (docs/capture.md). */
  struct vg_stdio stdio[3];
  /* fd 0 on a regular file: its name (the dentry's, not the path); "" else */
  char stdin_name[VG_STDIN_NAME_LEN];
  /* The executable's inode (mm->exe_file->f_inode, the file exec'd; ABI 13),
   * with VG_EXEC_EXE_INODE: its number and its ctime and mtime in ns since
   * the epoch. */
  __u64 exe_ino;
  __s64 exe_ctime_ns;
  __s64 exe_mtime_ns;
  /* start_boottime of the init (child_reaper) of the task's own pid
   * namespace; 0 = unread. */
  __u64 pidns_start_ns;
  /* Only while env capture is on (vg_want_env): a rule or an output needs
   * proc.env, or nobody narrowed the capture (`vigil events`). The record is
   * VG_EXEC_HEAD_SIZE + env_len bytes, so an exec without it costs what it
   * did before. */
  char env[VG_ENV_LEN];
};
#define VG_EXEC_HEAD_SIZE __builtin_offsetof(struct vg_exec, env)

/* Socket endpoints. Addresses in network order, ports in host order. */
struct vg_sock {
  __u16 family;
  __u16 lport;
  __u16 rport;
  __u16 unix_len; /* bytes of unix_path used (abstract names start with NUL) */
  __u32 type;     /* SOCK_* without flags */
  __u32 protocol;
  __u8 laddr[16];
  __u8 raddr[16];
  char unix_path[VG_UNIX_PATH_LEN];
  __u32 pad;
};

struct vg_proc {
  struct vg_hdr hdr;
  __u64 flags; /* clone/unshare flags, setns nstype, memfd flags, module flags */
  __s64 request;
  __u64 caps[3];          /* capset: effective, permitted, inheritable */
  __u64 child_start_ns;   /* fork: the child's start_boottime */
  __s32 target_pid;       /* ptrace/process_vm_readv/writev target, pidfd_getfd's process; fork child tgid */
  __s32 fd;               /* setns/finit_module fd */
  __s32 oldfd;            /* dup* */
  __s32 newfd;            /* dup* */
  __u32 ids[3];           /* set*id: real, effective, saved (-1 = unchanged) */
  __s32 exit_code;
  __s32 exit_signal;
  __u32 has_sock;         /* dup*: oldfd is a socket, sock is filled */
  struct vg_sock sock;
  char name[VG_PATH_LEN]; /* memfd name, module params */
};

/* file: the base chains say what a relative path is relative to */
#define VG_FF_BASE_IS_FILE (1u << 0) /* fd-based call (fchmod, ftruncate): base is the file itself */
#define VG_FF_TIMES_NOW (1u << 1)    /* utimensat family: times argument NULL (both set to now) */
#define VG_FF_TIMES_UNREAD (1u << 2) /* utimensat family: the times could not be read (counted) */
#define VG_FF_CREATED (1u << 3)      /* open family: this call created the file (FMODE_CREATED) */
/* open family, success: target_base is the opened file itself (its path,
 * symlinks resolved); base is the given path's directory, as on failure.
 * (ABI 10; before, a successful open's base was the file.) */
#define VG_FF_OPENED_FILE (1u << 4)

/* vg_file.atime_nsec / mtime_nsec besides 0..999999999 (the first two are
 * the kernel's UTIME_NOW and UTIME_OMIT) */
#define VG_UTIME_NOW ((1u << 30) - 1u)
#define VG_UTIME_OMIT ((1u << 30) - 2u)
#define VG_NSEC_INVALID 0xffffffffu /* out of range: the kernel refuses the call (EINVAL) */

/* The names of a dentry chain packed in a file record's tail: `depth` names,
 * leaf first, each NUL-terminated, in `len` bytes (at most VG_NAMES_MAX). */
struct vg_names {
  __u16 depth;
  __u16 flags; /* VG_CHAIN_* */
  __u16 len;
  __u16 pad;
};

#define VG_FSTYPE_LEN 32
/* Packed names take as many bytes as the path they spell ("/a/b" and "b\0a\0"
 * are both 4), so a path shorter than PATH_MAX fits; the walk takes a name
 * only while a whole VG_NAME_LEN slot is left, hence the extra slot. */
#define VG_NAMES_MAX (4096 + VG_NAME_LEN)
#define VG_FILE_TAIL_MAX (2 * VG_FILE_PATH_LEN + VG_FSTYPE_LEN + 2 * VG_NAMES_MAX)

/* A file record is the head below (up to `tail`) followed by its strings,
 * packed in this order, each NUL-terminated and counted with its NUL (a
 * length of 0: absent):
 *   path (path_len)           as given; mount: the directory
 *   base names (base.len)     the directory `path` is relative to, or the
 *                             file itself (VG_FF_BASE_IS_FILE); depth 0:
 *                             absolute path, or unknown
 *   fstype (fstype_len)       mount
 *   target (target_len)       rename/link: new path; symlink: the link;
 *                             mount: the source
 *   target_base names (target_base.len)   target's base; a successful
 *                             open (VG_FF_OPENED_FILE): the opened file
 * hdr.size = VG_FILE_HEAD_SIZE + the five lengths. */
struct vg_file {
  struct vg_hdr hdr;
  __s32 fd;  /* dirfd / fd argument; open: the result */
  __s32 fd2; /* second dirfd (renameat, linkat) */
  __u32 flags;
  __u32 mode;
  __u32 owner_uid;
  __u32 owner_gid;
  __u32 file_flags; /* VG_FF_* */
  __u16 path_len;
  __u16 fstype_len;
  __u64 length;
  /* utimensat family: the times asked for (seconds since the epoch; nsec is
   * 0..999999999, VG_UTIME_NOW, VG_UTIME_OMIT or VG_NSEC_INVALID). Both
   * zero with VG_FF_TIMES_NOW (a NULL times argument: both set to now). */
  __s64 atime_sec;
  __s64 mtime_sec;
  __u32 atime_nsec;
  __u32 mtime_nsec;
  __u16 target_len;
  __u16 pad[3];
  struct vg_names base;
  struct vg_names target_base;
  char tail[VG_FILE_TAIL_MAX];
};

#define VG_FILE_HEAD_SIZE (__builtin_offsetof(struct vg_file, tail))

/* Data calls' payload (evt.buffer, ABI 15): the first VG_DATA_LEN bytes,
 * Falco's default snaplen. */
#define VG_DATA_LEN 80
/* net.data_flags */
#define VG_ND_CAPTURED (1u << 0) /* data capture was on: data holds the payload's first data_len bytes */
#define VG_ND_CUT (1u << 1)      /* the payload was longer than VG_DATA_LEN: data is its beginning */
#define VG_ND_UNREAD (1u << 2)   /* the caller's buffer could not be read (counted: VG_C_READ_DATA) */

/* A net record is the head below (up to `data`) followed by data_len bytes
 * of payload: hdr.size = VG_NET_HEAD_SIZE + data_len. Only the send/recv
 * family fills data, and only while data capture is on (vg_want_data: a
 * loaded rule reads evt.buffer), so other records cost what they did. */
struct vg_net {
  struct vg_hdr hdr;
  __s32 fd;
  __s32 backlog;
  __s32 sockopt_level;
  __s32 sockopt_name;
  struct vg_sock sock;
  __u64 size; /* send/recv family: the length argument */
  __u32 data_len;   /* bytes of data used: the record ends there (<= VG_DATA_LEN) */
  __u32 data_flags; /* VG_ND_* */
  __u8 data[VG_DATA_LEN];
};
#define VG_NET_HEAD_SIZE (__builtin_offsetof(struct vg_net, data))

/* bpf.flags */
#define VG_BPF_HELPERS_COMPLETE (1u << 0) /* every instruction was scanned */

struct vg_bpf {
  struct vg_hdr hdr;
  __s32 cmd;
  __u32 prog_type;
  __u32 expected_attach_type;
  __u32 attach_type;
  __u32 insn_cnt;
  __u32 prog_flags;
  __u32 attach_btf_id;
  __u32 map_type;
  __u32 id;
  __s32 target_fd;
  __u32 flags; /* VG_BPF_* */
  __u32 pad;
  __u64 helpers[4]; /* bit n = helper id n */
  char prog_name[16];
  char map_name[16];
  char license[64];
  char target[VG_PATH_LEN]; /* raw tracepoint name, pin path */
};

/* Priority lane (docs/capture.md): the key of vg_prio_paths, an LPM trie
 * the loader fills from capture.priority_paths. An exact path is stored with
 * its NUL (prefixlen covers it), a directory prefix ending in '/' without.
 * The kernel looks up the first VG_PRIO_PATH_LEN bytes of an open's path as
 * given, so a priority path is at most VG_PRIO_PATH_LEN - 1 bytes. */
#define VG_PRIO_PATH_LEN 64
#define VG_PRIO_PATHS_MAX 64
struct vg_prio_key {
  __u32 prefixlen; /* bits */
  char path[VG_PRIO_PATH_LEN];
};

/* Open path filter (engine/interest.h, docs/capture.md "Open path filter"):
 * the key of vg_open_paths, an LPM trie the loader fills with the path
 * prefixes some enabled rule on the open family needs, under a generation
 * byte (a reload fills the other generation, then flips vg_open_filter) and
 * an access-class byte (an open's class is judged by its own prefixes; a
 * class whose filter is off has the empty prefix).
 * The kernel judges an open only when its given path is absolute, at most
 * VG_OPEN_PATH_WINDOW bytes and has no empty, `.` or `..` component;
 * prefixes are cut to VG_OPEN_PATH_WINDOW bytes. */
#define VG_OPEN_PATH_LEN 128
#define VG_OPEN_PATH_WINDOW 119 /* kOpenPathWindow in engine/interest.h */
#define VG_OPEN_PREFIXES_MAX 4096 /* per generation and class: kOpenPrefixesMax */
/* The resolved test (engine/interest.h, file.bpf.h vg_open_resolved_passes)
 * shares the trie, told apart by the kind byte: a class with the
 * VG_OPEN_KIND_RESOLVED key (no path bytes) sends an open whose given path
 * fails unless it succeeded and the opened file's complete dentry chain has
 * neither its first component (VG_OPEN_KIND_TOP: the name's first
 * VG_RES_NAME_LEN - 1 bytes and a NUL) nor its last (VG_OPEN_KIND_LEAF: the
 * name reversed and a NUL; a longer leaf is sent) starting with a key. */
#define VG_OPEN_KIND_GIVEN 0
#define VG_OPEN_KIND_TOP 1
#define VG_OPEN_KIND_LEAF 2
#define VG_OPEN_KIND_RESOLVED 3
#define VG_RES_NAME_LEN 64     /* kResolvedNameWindow + 1 */
#define VG_RES_KEYS_MAX 1024   /* per generation and class: kResolvedKeysMax */
struct vg_open_key {
  __u32 prefixlen; /* bits: 32 (gen, class and the zero pad) + 8 per path byte */
  __u8 gen;
  __u8 cls;    /* the open's access class: 0 read, 1 write (file.bpf.h vg_open_class) */
  __u8 kind;   /* VG_OPEN_KIND_* */
  __u8 pad;    /* 0: the path starts 8-aligned, read as words */
  union {
    char path[VG_OPEN_PATH_LEN];
    __u64 words[VG_OPEN_PATH_LEN / 8];
  };
};

/* Priority lane counters (map vg_lane_counts, per CPU): records written to
 * the priority ring (received); its losses are VG_C_PRIO_DROP. */
enum vg_lane_counter {
  VG_L_PRIO_RECEIVED = 0,
  VG_L_MAX
};

#endif /* VIGIL_BPF_VIGIL_ABI_H_ */
