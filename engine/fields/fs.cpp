// SPDX-License-Identifier: Apache-2.0
// fs.path.* (the paths a file event names) and the times a utimensat-family
// call sets (fs.atime, fs.mtime and their ISO and age forms). A time set to
// "now" or left unchanged is <NA> in the numeric fields (a check on it is
// false) and named in the .iso8601 ones.
#include "engine/fields/family.h"

namespace vigil {
namespace {

enum FsId : uint16_t {
  kPathName, kPathNameraw, kPathTarget, kPathTargetraw, kAtime, kMtime, kAtimeIso8601, kMtimeIso8601, kMtimeAge,
  kAtimeAge,
};

// fs.atime.iso8601 / fs.mtime.iso8601: <NA> when the event set no time.
bool FileTimeIso(int64_t t, std::string* buf, FieldValueRef* o) {
  buf->clear();
  RenderFileTime(t, buf);
  return !buf->empty() && Str(o, *buf);
}

// Seconds from the time set to the event; <NA> when no time was set.
bool FileTimeAge(const Event& e, int64_t t, FieldValueRef* o) {
  if (t < kFileTimeMin) return false;
  // In seconds first: the difference of two ns values can overflow.
  const int64_t t_secs = t / 1000000000 - (t % 1000000000 < 0);  // floor
  return Num(o, static_cast<int64_t>(e.wall_ns / 1000000000u) - t_secs);
}

constexpr FieldDef kRows[] = {
    {kPathName, "fs.path.name", T::kString, A::kNone, true, "Absolute path of the file an event acts on.",
     VIGIL_GETTER { return !c.event->file.abspath.empty() && Str(o, c.event->file.abspath); }, SetFileAbspath},
    {kPathNameraw, "fs.path.nameraw", T::kString, A::kNone, true, "Path as given by the process.",
     VIGIL_GETTER { return !c.event->file.path.empty() && Str(o, c.event->file.path); }, SetFilePath},
    {kPathTarget, "fs.path.target", T::kString, A::kNone, true,
     "rename/link/symlink/mount: the second path (absolute when known).",
     VIGIL_GETTER {
       const auto& f = c.event->file;
       const std::string& target = f.target_abs.empty() ? f.target : f.target_abs;
       return !target.empty() && Str(o, target);
     },
     SetFileTarget},
    {kPathTargetraw, "fs.path.targetraw", T::kString, A::kNone, true, "The second path as given.",
     VIGIL_GETTER { return !c.event->file.target.empty() && Str(o, c.event->file.target); }, nullptr},
    {kAtime, "fs.atime", T::kNumber, A::kNone, true,
     "vigil: utimensat/futimesat/utimes/utime: the access time set, ns since the epoch (<NA> when set to now or "
     "left unchanged).",
     VIGIL_GETTER { return c.event->file.atime >= kFileTimeMin && Num(o, c.event->file.atime); }, SetMember},
    {kMtime, "fs.mtime", T::kNumber, A::kNone, true,
     "vigil: utimensat/futimesat/utimes/utime: the modification time set, ns since the epoch (<NA> as fs.atime).",
     VIGIL_GETTER { return c.event->file.mtime >= kFileTimeMin && Num(o, c.event->file.mtime); }, SetMember},
    {kAtimeIso8601, "fs.atime.iso8601", T::kString, A::kNone, true,
     "vigil: fs.atime as ISO 8601 UTC, or now / omit (left unchanged).",
     VIGIL_GETTER { return FileTimeIso(c.event->file.atime, &s.buf, o); }, nullptr},
    {kMtimeIso8601, "fs.mtime.iso8601", T::kString, A::kNone, true,
     "vigil: fs.mtime as ISO 8601 UTC, or now / omit (left unchanged).",
     VIGIL_GETTER { return FileTimeIso(c.event->file.mtime, &s.buf, o); }, nullptr},
    {kMtimeAge, "fs.mtime.age", T::kNumber, A::kNone, true,
     "vigil: seconds between the modification time set and the event (evt.rawtime - fs.mtime; negative: a time in "
     "the future); <NA> as fs.mtime.",
     VIGIL_GETTER { return FileTimeAge(*c.event, c.event->file.mtime, o); }, nullptr},
    {kAtimeAge, "fs.atime.age", T::kNumber, A::kNone, true,
     "vigil: seconds between the access time set and the event (evt.rawtime - fs.atime; negative: a time in "
     "the future); <NA> as fs.atime.",
     VIGIL_GETTER { return FileTimeAge(*c.event, c.event->file.atime, o); }, nullptr},
};
static_assert(IdsInOrder(kRows));

}  // namespace

std::span<const FieldDef> FsFields() { return kRows; }

}  // namespace vigil
