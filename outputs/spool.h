// SPDX-License-Identifier: Apache-2.0
// A crash-safe, bounded, ordered disk spool (write-ahead log) for the Kafka sink.
//
// Layout: DIR/seg-<first seq, 20 digits>.vsp segment files of records (see
// spool_record.h) and DIR/ack, the persisted delivery cursor.
//
// Contract:
// - Single-threaded: one owner thread calls every method.
// - Append() writes the whole record with one write(2) before returning, so
//   once it returns the record survives SIGKILL of the process (page cache);
//   fsync_interval_ms bounds what a power loss can take (0 = every append).
// - Records are read back by ReadNext() in sequence order. A record counts as
//   done when Ack()ed (delivered) or skipped (corrupt, dropped). The cursor —
//   the lowest sequence not yet done — is persisted at most every
//   ack_persist_ms and on Close(); after a restart reading resumes at the
//   persisted cursor, so a record delivered just before a crash may be sent
//   again (the alert uuid identifies the duplicate), never skipped.
// - Bounded: when the spool would exceed max_bytes, whole segments are
//   deleted, oldest first, but never one holding a record handed out and not
//   yet acknowledged (in flight): the caller (the producer's queue) holds only
//   a copy of those, which a crash would lose. Append() reports how many
//   undelivered records the deletions lost; when no segment may go it refuses
//   the new record instead (counted in refused_full()). So every record that
//   leaves the spool undelivered is reported to the caller by one of the two.
// - Corruption (bad magic, length or checksum) is detected, logged with file
//   and offset, counted, and skipped; a torn tail of the newest segment is
//   truncated at open so appends continue cleanly.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::outputs {

struct SpoolOptions {
  std::string dir;
  uint64_t max_bytes = 256ull << 20;
  uint64_t segment_bytes = 0;  // 0 = derived from max_bytes (1/8, 64 KiB .. 16 MiB)
  int fsync_interval_ms = 1000;  // < 0 never
  int ack_persist_ms = 100;
};

class Spool {
 public:
  // Creates DIR and its missing parents (mode 0700) and recovers what is in it. Returns
  // nullptr and sets *error when the directory cannot be used, or another
  // user controls it (a symlink, not owned by root or us, writable by group
  // or others: paths.h). Files in it are opened O_NOFOLLOW.
  static std::unique_ptr<Spool> Open(const SpoolOptions& options, std::string* error);
  ~Spool();

  // Appends a record and returns its sequence number, or nullopt when it was
  // not stored: the write failed (error logged; nothing partial is left
  // behind) or the spool is full of records in flight (refused_full() grows;
  // not logged here). When segments had to go to make room, *dropped counts
  // the undelivered records deleted with them.
  std::optional<uint64_t> Append(std::string_view payload, uint64_t* dropped);

  // The next record not yet handed out since the last Rewind(); false when
  // every record has been read.
  bool ReadNext(uint64_t* seq, std::string* payload);

  // Marks a record handed out by ReadNext() as delivered.
  void Ack(uint64_t seq);

  // Hands out again every record handed out but not acknowledged.
  void Rewind();

  // Records handed out but not acknowledged, and their size on disk.
  std::size_t in_flight() const { return in_flight_.size(); }
  uint64_t in_flight_bytes() const { return in_flight_bytes_; }
  // False once `seq` has been dropped to make room (or was never appended).
  bool Retains(uint64_t seq) const;
  // Appends refused because every segment that could go held records in flight.
  uint64_t refused_full() const { return refused_full_; }
  // Records not yet done (approximate when corrupt records are inside).
  uint64_t pending() const;
  uint64_t bytes() const { return total_bytes_; }
  uint64_t corrupt() const { return corrupt_; }
  uint64_t cursor() const;

  // Persists the cursor, deletes fully delivered segments and applies the
  // fsync interval. Cheap to call often.
  void Maintain(bool force = false);
  void Close();

 private:
  struct Segment {
    uint64_t first_seq = 0;
    uint64_t end_seq = 0;  // one past the last record's seq
    uint64_t bytes = 0;
    uint64_t records = 0;
    std::string path;
  };
  struct InFlight {
    uint64_t seq;
    uint64_t bytes;
    bool acked;
  };
  using Clock = std::chrono::steady_clock;

  explicit Spool(SpoolOptions options);
  bool Recover(std::string* error);
  bool ReadCursor(uint64_t* cursor, std::string* error);
  bool ListSegments(std::string* error);
  void DropDelivered(uint64_t cursor);
  bool OpenNewestForAppend(std::string* error);
  void ScanSegment(Segment* seg, bool newest);
  bool OpenWriter(uint64_t first_seq);
  bool Droppable(const Segment& seg) const;
  bool DropOneSegment(uint64_t* dropped);
  void CloseReader();
  bool FillReader();
  void PersistCursor();

  SpoolOptions options_;
  std::map<uint64_t, Segment> segments_;  // by first_seq
  uint64_t total_bytes_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t corrupt_ = 0;
  uint64_t refused_full_ = 0;

  int write_fd_ = -1;
  bool write_dirty_ = false;
  Clock::time_point last_sync_ = Clock::now();

  // Reading: the next sequence to hand out and a buffered reader on its segment.
  uint64_t read_seq_ = 1;
  std::deque<InFlight> in_flight_;
  uint64_t in_flight_bytes_ = 0;
  int read_fd_ = -1;
  uint64_t read_segment_ = 0;   // first_seq of the segment being read
  uint64_t read_file_off_ = 0;  // file offset of read_buf_[0]
  // A plain buffer rather than std::string: refilling must not zero-fill.
  std::unique_ptr<uint8_t[]> read_buf_;
  std::size_t read_cap_ = 0;
  std::size_t read_len_ = 0;
  std::size_t read_pos_ = 0;

  uint64_t persisted_cursor_ = 0;
  int ack_fd_ = -1;
  Clock::time_point last_persist_ = Clock::now();
};

}  // namespace vigil::outputs
