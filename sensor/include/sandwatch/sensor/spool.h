// Event queues between the publisher and the HTTP sender.
//
// Spool: a bounded on-disk queue in SPOOL_DIR. Records (one formatted event each,
// single-line JSON) are appended to segment files "<20-digit number>.seg" of about
// 1 MiB; the delivery cursor ("<segment> <offset>") lives in the file "cursor",
// replaced atomically (write + rename) after every delivered batch. Fully
// delivered segments are deleted.
//   fsync policy: every Append is written with one write(2) and made durable with
//   fdatasync(2) before Append returns (events are rare; durability wins). The
//   cursor is renamed into place but not fsynced: after a crash a batch may be sent
//   twice, and the receiver drops duplicate ids (at-least-once delivery).
//   Crash mid-append: a last line without its newline is cut off at open.
//   Full: when pending bytes would exceed max_bytes, Append refuses the record and
//   counts it in Dropped(); nothing already queued is lost.
// MemoryQueue: the same interface in memory, for when no SPOOL_DIR is set.
//
// Thread-safety: neither is thread-safe; the HTTP output holds a lock around calls.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::sensor {

class EventQueue {
 public:
  virtual ~EventQueue() = default;
  // Queues one record; false (and Dropped() + 1) when the queue is full or the write failed.
  virtual bool Append(const std::string& record) = 0;
  // Up to `max_records` oldest records (at least one if any, then up to `max_bytes`),
  // without removing them.
  virtual std::vector<std::string> Peek(size_t max_records, size_t max_bytes) = 0;
  // Removes the first `n` records returned by the last Peek (they were delivered).
  virtual Status Commit(size_t n) = 0;
  virtual uint64_t PendingBytes() const = 0;
  virtual uint64_t PendingRecords() const = 0;
  virtual uint64_t Dropped() const = 0;
};

class MemoryQueue : public EventQueue {
 public:
  explicit MemoryQueue(uint64_t max_bytes) : max_bytes_(max_bytes) {}
  bool Append(const std::string& record) override;
  std::vector<std::string> Peek(size_t max_records, size_t max_bytes) override;
  Status Commit(size_t n) override;
  uint64_t PendingBytes() const override { return bytes_; }
  uint64_t PendingRecords() const override { return q_.size(); }
  uint64_t Dropped() const override { return dropped_; }

 private:
  uint64_t max_bytes_;
  std::deque<std::string> q_;
  uint64_t bytes_ = 0;
  uint64_t dropped_ = 0;
};

class Spool : public EventQueue {
 public:
  // Creates `dir` if needed and resumes what an earlier run left there.
  static Result<std::unique_ptr<Spool>> Open(const std::string& dir, uint64_t max_bytes,
                                             uint64_t segment_bytes = 1 << 20);
  ~Spool() override;
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  bool Append(const std::string& record) override;
  std::vector<std::string> Peek(size_t max_records, size_t max_bytes) override;
  Status Commit(size_t n) override;
  uint64_t PendingBytes() const override { return bytes_; }
  uint64_t PendingRecords() const override { return records_; }
  uint64_t Dropped() const override { return dropped_; }

 private:
  Spool(std::string dir, uint64_t max_bytes, uint64_t segment_bytes)
      : dir_(std::move(dir)), max_bytes_(max_bytes), segment_bytes_(segment_bytes) {}
  std::string SegPath(uint64_t seg) const;
  Status OpenActive(uint64_t seg);
  Status WriteCursor();

  std::string dir_;
  uint64_t max_bytes_;
  uint64_t segment_bytes_;
  std::vector<uint64_t> segments_;  // ascending; the last is the active one
  uint64_t cursor_seg_ = 0;
  uint64_t cursor_off_ = 0;
  int active_fd_ = -1;
  uint64_t active_size_ = 0;
  uint64_t bytes_ = 0;    // pending bytes (records + newlines)
  uint64_t records_ = 0;  // pending records
  uint64_t dropped_ = 0;
  // Positions after each record of the last Peek: (segment, offset).
  std::vector<std::pair<uint64_t, uint64_t>> peek_ends_;
};

}  // namespace sandwatch::sensor
