// Progress for long runs: which cell is running, elapsed and estimated time
// left, one line on stderr per update. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "sandwatch/core/clock.h"
#include "sandwatch/harness/format.h"

namespace sandwatch::harness {

class Progress {
 public:
  // `quiet`: no output (tests). Lines go to stderr.
  Progress(const Clock& clock, int total_cells, bool quiet);
  void BeginCell(int index, const std::string& label);
  void EndCell(int index, bool ok);
  // A sub-step inside the current cell ("booting VM", "chain running").
  void Note(const std::string& what);
  // "cell 2/4 runc-blog-default-r0, elapsed 1m02s, ~1m30s left"
  std::string Line() const;

 private:
  std::string LineLocked() const;
  mutable std::mutex mu_;
  const Clock& clock_;
  int total_;
  bool quiet_;
  int64_t start_mono_;
  int done_ = 0;
  int current_ = -1;
  std::string label_;
  double done_seconds_ = 0;  // sum of finished cells' durations
  int64_t cell_start_mono_ = 0;
};

}  // namespace sandwatch::harness
