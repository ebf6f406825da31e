// SPDX-License-Identifier: Apache-2.0
// The table of Event members: one row per member (or per group of members
// that travel together), in the order a JSON line writes them. It drives
// Event::Reset (engine/event.cpp), the JSON writer and reader
// (engine/event_json.cpp) and the every-member round-trip test, so a new
// member is one row here (plus its codec when no existing one fits).
//
// Row: X(key, member, codec, when, anc)
//   key     the JSON key (docs/replay.md); the event type's and the process
//           block's rows carry keys of their own
//   member  the member's path inside the struct (Event, or ProcessInfo for
//           VIGIL_PROCESS_MEMBERS)
//   codec   how it is written, read and reset: Num, Str, Bool, Ip (an address
//           in the event's net.family), FileTime ("now"/"omit" or ns),
//           Array (a fixed array of numbers), Helpers (bpf helper ids),
//           Argv, Env, Session, Stdio (groups of process members),
//           ExeLayer (proc.is_exe_upper_layer: a boolean, absent when unknown),
//           Buffer (evt.buffer as hex, and evt.buffer_cut; absent when not
//           captured),
//           Type, WallTime (evt.time and evt.rawtime), Process (the block
//           of VIGIL_PROCESS_MEMBERS)
//   when    Always: written every time; IfSet: only when it differs from the
//           member's default, so a line carries what its event type filled
//   anc     Anc: also written for each ancestor and pipe peer (what the
//           proc.aN / proc.pN fields read); Own: the acting process only
#pragma once

#define VIGIL_EVENT_MEMBERS(X)                                            \
  X("evt.type", type, Type, Always, Own)                                  \
  X("evt.rawtime", wall_ns, WallTime, Always, Own)                        \
  X("evt.ts", ts_ns, Num, Always, Own)                                    \
  X("evt.res", res, Num, Always, Own)                                     \
  X("evt.enforcement", enforcement, Str, IfSet, Own)                      \
  X("evt.is_compat", compat, Bool, IfSet, Own)                            \
  X("evt.is_compat_from_64bit", compat_from_64bit, Bool, IfSet, Own)      \
  X("proc", proc, Process, Always, Own)                                   \
  X("fd.num", file.fd, Num, IfSet, Own)                                   \
  X("fd.name", file.abspath, Str, IfSet, Own)                             \
  X("fd.name.resolved", file.resolved, Str, IfSet, Own)                   \
  X("fs.path", file.path, Str, IfSet, Own)                                \
  X("fs.target", file.target, Str, IfSet, Own)                            \
  X("fs.target_abs", file.target_abs, Str, IfSet, Own)                    \
  X("fs.flags", file.flags, Num, IfSet, Own)                              \
  X("fs.mode", file.mode, Num, IfSet, Own)                                \
  X("fs.uid", file.owner_uid, Num, IfSet, Own)                            \
  X("fs.gid", file.owner_gid, Num, IfSet, Own)                            \
  X("fs.fstype", file.fstype, Str, IfSet, Own)                            \
  X("fs.source", file.source, Str, IfSet, Own)                            \
  X("fs.length", file.length, Num, IfSet, Own)                            \
  X("fs.xattr", file.xattr_name, Str, IfSet, Own)                         \
  X("fs.atime", file.atime, FileTime, IfSet, Own)                         \
  X("fs.mtime", file.mtime, FileTime, IfSet, Own)                         \
  X("net.fd", net.fd, Num, IfSet, Own)                                    \
  X("net.family", net.family, Num, IfSet, Own)                            \
  X("net.type", net.type, Num, IfSet, Own)                                \
  X("net.protocol", net.protocol, Num, IfSet, Own)                        \
  X("fd.lip", net.local_addr, Ip, IfSet, Own)                             \
  X("fd.lport", net.local_port, Num, IfSet, Own)                          \
  X("fd.rip", net.remote_addr, Ip, IfSet, Own)                            \
  X("fd.rport", net.remote_port, Num, IfSet, Own)                         \
  X("net.unix_path", net.unix_path, Str, IfSet, Own)                      \
  X("net.backlog", net.backlog, Num, IfSet, Own)                          \
  X("net.sockopt_level", net.sockopt_level, Num, IfSet, Own)              \
  X("net.sockopt_name", net.sockopt_name, Num, IfSet, Own)                \
  X("net.size", net.size, Num, IfSet, Own)                                \
  X("evt.buffer", net.data, Buffer, IfSet, Own)                           \
  X("bpf.cmd", bpf.cmd, Num, IfSet, Own)                                  \
  X("bpf.prog.type", bpf.prog_type, Num, IfSet, Own)                      \
  X("bpf.prog.expected_attach_type", bpf.expected_attach_type, Num, IfSet, Own) \
  X("bpf.attach_type", bpf.attach_type, Num, IfSet, Own)                  \
  X("bpf.prog.insn_cnt", bpf.insn_cnt, Num, IfSet, Own)                   \
  X("bpf.prog.flags", bpf.prog_flags, Num, IfSet, Own)                    \
  X("bpf.prog.attach_btf_id", bpf.attach_btf_id, Num, IfSet, Own)         \
  X("bpf.prog.name", bpf.prog_name, Str, IfSet, Own)                      \
  X("bpf.prog.license", bpf.license, Str, IfSet, Own)                     \
  X("bpf.prog.helpers", bpf.helpers, Helpers, IfSet, Own)                 \
  X("bpf.prog.helpers_complete", bpf.helpers_complete, Bool, IfSet, Own)  \
  X("bpf.map.type", bpf.map_type, Num, IfSet, Own)                        \
  X("bpf.map.name", bpf.map_name, Str, IfSet, Own)                        \
  X("bpf.id", bpf.id, Num, IfSet, Own)                                    \
  X("bpf.target_fd", bpf.target_fd, Num, IfSet, Own)                      \
  X("bpf.target", bpf.target, Str, IfSet, Own)                            \
  X("arg.flags", args.flags, Num, IfSet, Own)                             \
  X("arg.target_pid", args.target_pid, Num, IfSet, Own)                   \
  X("arg.request", args.request, Num, IfSet, Own)                         \
  X("arg.fd", args.fd, Num, IfSet, Own)                                   \
  X("arg.oldfd", args.oldfd, Num, IfSet, Own)                             \
  X("arg.newfd", args.newfd, Num, IfSet, Own)                             \
  X("arg.ids", args.ids, Array, IfSet, Own)                               \
  X("arg.caps", args.caps, Array, IfSet, Own)                             \
  X("arg.name", args.name, Str, IfSet, Own)                               \
  X("arg.exit_code", args.exit_code, Num, IfSet, Own)                     \
  X("arg.exit_signal", args.exit_signal, Num, IfSet, Own)

// The process block (ProcessInfo), written for the acting process and, the
// Anc rows only, for each ancestor and pipe peer. Argv: proc.argv (and
// proc.argv_truncated); Env: proc.env and proc.env_truncated, absent when
// not captured; Session: proc.sid, proc.vpgid, proc.sid_host,
// proc.pgid_host when known; Stdio: proc.stdio and proc.stdin.name when known.
#define VIGIL_PROCESS_MEMBERS(X)                                           \
  X("proc.pid", pid, Num, Always, Anc)                                     \
  X("thread.tid", tid, Num, Always, Own)                                   \
  X("proc.ppid", ppid, Num, Always, Anc)                                   \
  X("proc.vpid", vpid, Num, Always, Own)                                   \
  X("proc.pidns_level", pidns_level, Num, Always, Own)                     \
  X("proc.name", name, Str, Always, Anc)                                   \
  X("proc.exepath", exepath, Str, Always, Anc)                             \
  X("proc.is_exe_32bit", exe_32bit, Bool, IfSet, Own)                      \
  X("proc.argv", argv, Argv, Always, Anc)                                  \
  X("proc.argv_truncated", argv_truncated, Bool, IfSet, Anc)               \
  X("proc.env", env, Env, Always, Own)                                     \
  X("proc.cwd", cwd, Str, Always, Own)                                     \
  X("user.uid", uid, Num, Always, Anc)                                     \
  X("group.gid", gid, Num, Always, Own)                                    \
  X("user.euid", euid, Num, Always, Own)                                   \
  X("group.egid", egid, Num, Always, Own)                                  \
  X("user.loginuid", loginuid, Num, Always, Own)                           \
  X("thread.cap_effective", cap_effective, Num, Always, Own)               \
  X("thread.cap_permitted", cap_permitted, Num, Always, Own)               \
  X("proc.start_ns", start_ns, Num, Always, Anc)                           \
  X("proc.exec_ns", exec_ns, Num, Always, Anc)                             \
  X("proc.tty", tty, Num, Always, Own)                                     \
  X("proc.sid", sid, Session, Always, Anc)                                 \
  X("proc.stdio", stdio, Stdio, Always, Own)                               \
  X("proc.exe_ino", exe_ino, Num, IfSet, Own)                              \
  X("proc.exe_ino.ctime", exe_ctime_ns, Num, IfSet, Own)                   \
  X("proc.exe_ino.mtime", exe_mtime_ns, Num, IfSet, Own)                   \
  X("proc.is_exe_upper_layer", exe_layer, ExeLayer, IfSet, Own)            \
  X("proc.pidns_start_ns", pidns_start_ns, Num, IfSet, Own)                \
  X("proc.cgroup_id", cgroup_id, Num, Always, Own)                         \
  X("proc.cgroup", cgroup, Str, Always, Own)                               \
  X("container.id", container_id, Str, Always, Own)                        \
  X("ns.pid", ns.pid, Num, Always, Own)                                    \
  X("ns.mnt", ns.mnt, Num, Always, Own)                                    \
  X("ns.net", ns.net, Num, Always, Own)                                    \
  X("ns.user", ns.user, Num, Always, Own)                                  \
  X("ns.uts", ns.uts, Num, Always, Own)                                    \
  X("ns.ipc", ns.ipc, Num, Always, Own)                                    \
  X("ns.cgroup", ns.cgroup, Num, Always, Own)
