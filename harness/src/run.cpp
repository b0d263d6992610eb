// The pieces every scenario kind shares: the cell loop, the results folder, stamps.
#include "sandwatch/harness/run.h"

#include <array>
#include <ctime>
#include <filesystem>

#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/progress.h"

namespace sandwatch::harness {

namespace fs = std::filesystem;

std::string RunCells(Progress& progress, size_t n, const std::function<std::string(size_t)>& label,
                     const std::function<CellStep(size_t)>& run) {
  for (size_t i = 0; i < n; ++i) {
    if (Interrupted()) return "interrupted";
    const int index = static_cast<int>(i);
    const std::string name = label(i);
    if (name.empty()) continue;
    progress.BeginCell(index, name);
    const CellStep step = run(i);
    progress.EndCell(index, step.end == CellEnd::kOk);
    if (step.end == CellEnd::kStop) return step.stop_reason;
  }
  return "";
}

Result<std::string> MakeResultsDir(const std::string& out_dir, const std::string& default_name) {
  const std::string dir =
      out_dir.empty() ? ResolveSourceDir() + "/results/" + default_name : out_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return MakeError("--out: cannot create " + dir + ": " + ec.message(), 2);
  return fs::absolute(dir).string();
}

std::string UtcStamp(int64_t wall_ns, bool with_time) {
  const auto t = static_cast<std::time_t>(wall_ns / 1000000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), with_time ? "%Y%m%dT%H%M%SZ" : "%Y-%m-%d", &tm);
  return buf.data();
}

}  // namespace sandwatch::harness
