// SPDX-License-Identifier: Apache-2.0
// evt.*: the event's type, result and arguments as one string, then its time,
// host, open kind, enforcement and 32-bit flags. The per-argument fields
// (evt.arg.*) are in evt_arg.cpp.
#include <cstring>

#include "engine/fields/family.h"
#include "engine/iso_time.h"

namespace vigil {
namespace {

enum EvtId : uint16_t {
  // EvtFields
  kType, kRes, kRawres, kFailed, kArgs,
  // EvtTimeFields
  kTime, kTimeIso8601, kRawtime, kNum, kHostname, kDir, kIsOpenRead, kIsOpenWrite, kIsOpenCreate, kIsOpenExec,
  kEnforcement, kIsCompat, kIsCompatFrom64bit,
};

// The file part of evt.args.
void AppendFileArgs(const Event& e, std::string* buf) {
  buf->append(" path=").append(e.file.path);
  if (!e.file.target.empty()) buf->append(" target=").append(e.file.target);
  if (IsXattrEvent(e.type)) {
    buf->append(" name=").append(e.file.xattr_name).append(" size=");
    AppendNum(buf, static_cast<int64_t>(e.file.length));
  }
  if (IsOpenEvent(e.type)) {
    *buf += " flags=";
    RenderOpenFlags(e.file.flags, buf);
  }
  if (!IsFileTimesEvent(e.type)) return;
  if (e.file.atime != kFileTimeUnset) {
    *buf += " atime=";
    RenderFileTime(e.file.atime, buf);
  }
  if (e.file.mtime != kFileTimeUnset) {
    *buf += " mtime=";
    RenderFileTime(e.file.mtime, buf);
  }
}

// evt.args: the arguments as one "name=value ..." string, for outputs.
bool GetEvtArgs(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  const Event& e = *c.event;
  s.buf.clear();
  s.buf += "res=";
  AppendNum(&s.buf, e.res);
  if (IsFileEvent(e.type)) {
    AppendFileArgs(e, &s.buf);
  } else if (IsNetEvent(e.type)) {
    FieldValueRef v;
    static thread_local Scratch inner;  // reused: no allocation per event once warm
    if (SocketName(e, inner, &v)) {
      s.buf += " tuple=";
      s.buf.append(v.str);
    }
    if (IsDataEvent(e.type)) {
      s.buf += " size=";
      AppendNum(&s.buf, static_cast<int64_t>(e.net.size));
    }
  } else if (IsExecEvent(e.type)) {
    s.buf.append(" filename=").append(e.proc.exepath);
  } else if (!e.args.name.empty()) {
    s.buf.append(" name=").append(e.args.name);
  }
  return Str(o, s.buf);
}

std::string SetEvtRes(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  if (t == "SUCCESS") {
    e.res = 0;
    return "";
  }
  int64_t v;
  if (ParseI64(t, &v)) {
    e.res = v;
    return "";
  }
  for (int err = 1; err < 134; ++err) {
    const char* name = strerrorname_np(err);
    if (name != nullptr && t == name) {
      e.res = -err;
      return "";
    }
  }
  return "expected SUCCESS, an errno name or a number";
}

constexpr FieldDef kEvtRows[] = {
    {kType, "evt.type", T::kString, A::kNone, true,
     "Event type (syscall name, procexit, container: a container seen for the first time, or container_removed: "
     "a container that exited).",
     VIGIL_GETTER { return Str(o, EventTypeName(c.event->type)); },
     VIGIL_SETTER {
       if (!EventTypeFromName(t, &e.type)) return "unknown event type '" + std::string(t) + "'";
       return "";
     }},
    {kRes, "evt.res", T::kString, A::kNone, true, "Result: SUCCESS, or the errno name (ENOENT, EACCES, ...).",
     VIGIL_GETTER { return Str(o, ResultName(c.event->res, &s.buf)); }, SetEvtRes},
    {kRawres, "evt.rawres", T::kNumber, A::kNone, true, "Result as a number (>= 0 success, < 0 is -errno).",
     VIGIL_GETTER { return Num(o, c.event->res); }, SetRawRes},
    {kFailed, "evt.failed", T::kBool, A::kNone, true, "True when the syscall returned an error.",
     VIGIL_GETTER { return Bool(o, c.event->res < 0); }, nullptr},
    {kArgs, "evt.args", T::kString, A::kNone, true, "All arguments as one name=value string.", GetEvtArgs, nullptr},
};
static_assert(IdsInOrder(kEvtRows, kType));

constexpr uint32_t kOCreat = 0100;         // O_CREAT
constexpr uint32_t kOTmpfile = 020000000;  // __O_TMPFILE (O_TMPFILE without its O_DIRECTORY)
constexpr uint32_t kExecBits = 0111;       // S_IXUSR | S_IXGRP | S_IXOTH

// evt.is_open_create as libsinsp has it: an open of the open family (not
// creat) that created the file (FMODE_CREATED), or a successful O_TMPFILE one.
bool OpenCreated(const Event& e) {
  if (e.type == EventType::creat) return false;
  return (e.file.flags & kOpenFlagCreated) != 0 || ((e.file.flags & kOTmpfile) != 0 && e.res >= 0);
}

// evt.is_open_exec as libsinsp has it: creat, or an open asking for O_CREAT
// or O_TMPFILE, with an execute bit in the mode argument (whether or not the
// call created the file, or succeeded).
bool OpenExec(const Event& e) {
  if (e.type != EventType::creat && (e.file.flags & (kOCreat | kOTmpfile)) == 0) return false;
  return (e.file.mode & kExecBits) != 0;
}

// evt.time ("HH:MM:SS.nnnnnnnnn") is the time-of-day part of the ISO form.
void AppendTime(uint64_t ns, bool iso, std::string* out) {
  char b[kIsoTimeLen];
  FormatIsoTime(ns, b);
  if (iso) out->assign(b, kIsoTimeLen);
  else out->assign(b + 11, kIsoTimeLen - 12);
}

// evt.rawtime in rule tests: ns since the epoch, not before 1970 (the event
// clock is unsigned; a negative value must not wrap to the year 2554).
std::string SetRawTime(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  int64_t v;
  if (!ParseI64(t, &v) || v < 0) return "expected ns since the epoch (0 or more), got '" + std::string(t) + "'";
  e.wall_ns = static_cast<uint64_t>(v);
  return "";
}

constexpr FieldDef kEvtTimeRows[] = {
    {kTime, "evt.time", T::kString, A::kNone, true, "Event time of day, UTC (HH:MM:SS.nnnnnnnnn).",
     VIGIL_GETTER {
       AppendTime(c.event->wall_ns, false, &s.buf);
       return Str(o, s.buf);
     },
     nullptr},
    {kTimeIso8601, "evt.time.iso8601", T::kString, A::kNone, true, "Event time, ISO 8601 UTC.",
     VIGIL_GETTER {
       AppendTime(c.event->wall_ns, true, &s.buf);
       return Str(o, s.buf);
     },
     nullptr},
    {kRawtime, "evt.rawtime", T::kNumber, A::kNone, true, "Event time, ns since the Unix epoch.",
     VIGIL_GETTER { return Num(o, static_cast<int64_t>(c.event->wall_ns)); }, SetRawTime},
    {kNum, "evt.num", T::kNumber, A::kNone, true, "Event number: events this engine has evaluated, from 1.",
     VIGIL_GETTER { return Num(o, static_cast<int64_t>(c.event_num)); }, nullptr},
    {kHostname, "evt.hostname", T::kString, A::kNone, true, "Host name of the machine.",
     VIGIL_GETTER { return Str(o, c.host->hostname); }, nullptr},
    {kDir, "evt.dir", T::kString, A::kNone, true, "Direction: always '<' (vigil events carry the result).",
     VIGIL_GETTER { return Str(o, "<"); }, nullptr},
    {kIsOpenRead, "evt.is_open_read", T::kBool, A::kNone, true, "Open for reading (O_RDONLY or O_RDWR).",
     VIGIL_GETTER { return IsOpenEvent(c.event->type) && Bool(o, (c.event->file.flags & 3u) != 1u); }, nullptr},
    {kIsOpenWrite, "evt.is_open_write", T::kBool, A::kNone, true, "Open for writing (O_WRONLY or O_RDWR).",
     VIGIL_GETTER { return IsOpenEvent(c.event->type) && Bool(o, (c.event->file.flags & 3u) != 0u); }, nullptr},
    {kIsOpenCreate, "evt.is_open_create", T::kBool, A::kNone, true,
     "Open that created the file (FMODE_CREATED), or a successful O_TMPFILE open; false for creat, as libsinsp.",
     VIGIL_GETTER { return IsOpenEvent(c.event->type) && Bool(o, OpenCreated(*c.event)); }, nullptr},
    {kIsOpenExec, "evt.is_open_exec", T::kBool, A::kNone, true,
     "creat, or an open with O_CREAT or O_TMPFILE, whose mode has an execute bit (libsinsp's test: the flags asked "
     "for, not whether the file was created).",
     VIGIL_GETTER { return IsOpenEvent(c.event->type) && Bool(o, OpenExec(*c.event)); }, nullptr},
    {kEnforcement, "evt.enforcement", T::kString, A::kNone, true,
     "vigil: the action the kernel took (deny, kill, or empty).",
     VIGIL_GETTER { return Str(o, c.event->enforcement); }, SetMember},
    {kIsCompat, "evt.is_compat", T::kBool, A::kNone, true,
     "vigil: the call came through the 32-bit (ia32) syscall entry of an x86-64 kernel (int 0x80, sysenter): an i386 "
     "program's calls, or a 64-bit program's 32-bit ones. For an exec, the execve call (not the new image).",
     VIGIL_GETTER { return Bool(o, c.event->compat); }, SetMember},
    {kIsCompatFrom64bit, "evt.is_compat_from_64bit", T::kBool, A::kNone, true,
     "vigil: a 32-bit (ia32) syscall made by a 64-bit program (its image has a 64-bit address space): the int 0x80 "
     "way past syscall tracepoints. False for an i386 program's calls and for every 64-bit call.",
     VIGIL_GETTER { return Bool(o, c.event->compat_from_64bit); }, SetMember},
};
static_assert(IdsInOrder(kEvtTimeRows, kTime));

}  // namespace

std::span<const FieldDef> EvtFields() { return kEvtRows; }
std::span<const FieldDef> EvtTimeFields() { return kEvtTimeRows; }

}  // namespace vigil
