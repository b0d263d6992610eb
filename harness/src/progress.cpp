#include "sandwatch/harness/progress.h"

#include <cstdio>

namespace sandwatch::harness {

Progress::Progress(const Clock& clock, int total_cells, bool quiet)
    : clock_(clock), total_(total_cells), quiet_(quiet), start_mono_(clock.MonoNs()) {}

std::string Progress::LineLocked() const {
  double elapsed = static_cast<double>(clock_.MonoNs() - start_mono_) / 1e9;
  std::string line = "[harness] cell " + std::to_string(current_ + 1) + "/" +
                     std::to_string(total_) + " " + label_ + ", elapsed " + FormatDuration(elapsed);
  if (done_ > 0) {
    double per_cell = done_seconds_ / done_;
    double in_cell = static_cast<double>(clock_.MonoNs() - cell_start_mono_) / 1e9;
    double left = per_cell * (total_ - done_) - (current_ >= done_ ? in_cell : 0);
    line += ", ~" + FormatDuration(left) + " left";
  }
  return line;
}

std::string Progress::Line() const {
  std::lock_guard<std::mutex> lock(mu_);
  return LineLocked();
}

void Progress::BeginCell(int index, const std::string& label) {
  std::lock_guard<std::mutex> lock(mu_);
  current_ = index;
  label_ = label;
  cell_start_mono_ = clock_.MonoNs();
  if (!quiet_) std::fprintf(stderr, "%s\n", LineLocked().c_str());
}

void Progress::EndCell(int /*index*/, bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += 1;
  double took = static_cast<double>(clock_.MonoNs() - cell_start_mono_) / 1e9;
  done_seconds_ += took;
  if (!quiet_) {
    std::fprintf(stderr, "[harness] cell %d/%d %s %s in %s\n", current_ + 1, total_, label_.c_str(),
                 ok ? "done" : "FAILED", FormatDuration(took).c_str());
  }
}

void Progress::Note(const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (quiet_) return;
  if (current_ < 0) {
    std::fprintf(stderr, "[harness] prepare, elapsed %s: %s\n",
                 FormatDuration(static_cast<double>(clock_.MonoNs() - start_mono_) / 1e9).c_str(),
                 what.c_str());
    return;
  }
  std::fprintf(stderr, "%s: %s\n", LineLocked().c_str(), what.c_str());
}

}  // namespace sandwatch::harness
