#include "sandwatch/harness/progress.h"

#include <array>
#include <cmath>
#include <cstdio>

namespace sandwatch::harness {

std::string FormatSeconds(double s) {
  if (s < 0) s = 0;
  auto total = std::lround(s);
  std::array<char, 32> buf{};
  if (total >= 3600) {
    std::snprintf(buf.data(), buf.size(), "%ldh%02ldm", total / 3600, (total % 3600) / 60);
  } else if (total >= 60) {
    std::snprintf(buf.data(), buf.size(), "%ldm%02lds", total / 60, total % 60);
  } else {
    std::snprintf(buf.data(), buf.size(), "%lds", total);
  }
  return buf.data();
}

Progress::Progress(const Clock& clock, int total_cells, bool quiet)
    : clock_(clock), total_(total_cells), quiet_(quiet), start_mono_(clock.MonoNs()) {}

double Progress::ElapsedSeconds() const {
  return static_cast<double>(clock_.MonoNs() - start_mono_) / 1e9;
}

std::string Progress::LineLocked() const {
  double elapsed = static_cast<double>(clock_.MonoNs() - start_mono_) / 1e9;
  std::string line = "[harness] cell " + std::to_string(current_ + 1) + "/" +
                     std::to_string(total_) + " " + label_ + ", elapsed " + FormatSeconds(elapsed);
  if (done_ > 0) {
    double per_cell = done_seconds_ / done_;
    double in_cell = static_cast<double>(clock_.MonoNs() - cell_start_mono_) / 1e9;
    double left = per_cell * (total_ - done_) - (current_ >= done_ ? in_cell : 0);
    line += ", ~" + FormatSeconds(left) + " left";
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
                 ok ? "done" : "FAILED", FormatSeconds(took).c_str());
  }
}

void Progress::Note(const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (quiet_) return;
  if (current_ < 0) {
    std::fprintf(stderr, "[harness] prepare, elapsed %s: %s\n",
                 FormatSeconds(static_cast<double>(clock_.MonoNs() - start_mono_) / 1e9).c_str(),
                 what.c_str());
    return;
  }
  std::fprintf(stderr, "%s: %s\n", LineLocked().c_str(), what.c_str());
}

}  // namespace sandwatch::harness
