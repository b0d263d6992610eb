#include "sandwatch/harness/tune/cell.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "sandwatch/core/fd_io.h"
#include "sandwatch/core/files.h"
#include "sandwatch/core/json_fields.h"

namespace sandwatch::harness::tune {

std::string SweepCell::Label() const {
  return capture + " P=" + FormatSeconds(poll_interval_s) + "s L=" + std::to_string(lifetime_ms) +
         "ms" + (binary.empty() ? "" : " " + binary) +
         (vantage == "unprivileged" ? ", unprivileged" : "");
}

std::vector<SweepCell> PrimaryCells(const std::vector<SweepCell>& cells) {
  std::map<std::string, bool> has_unprivileged;  // capture -> measured without privileges
  for (const auto& c : cells) has_unprivileged[c.capture] |= c.vantage == "unprivileged";
  std::vector<SweepCell> out;
  for (const auto& c : cells) {
    const bool unprivileged = c.vantage == "unprivileged";
    if (unprivileged == has_unprivileged[c.capture] && c.binary != "dynamic") out.push_back(c);
  }
  return out;
}

namespace {

// Every stored field of a cell by its JSON name (required or not): one list for
// writing cells.jsonl and for reading it back.
template <class Cell, class F>
void ForEachField(Cell& c, F&& f) {
  f("capture", c.capture, true);
  f("poll_interval_s", c.poll_interval_s, true);
  f("lifetime_ms", c.lifetime_ms, true);
  f("trials", c.trials, true);
  f("detected", c.detected, true);
  f("mean_lifetime_ms", c.mean_lifetime_ms, false);
  f("scan_s", c.scan_s, false);
  f("model", c.model, false);
  f("cpu_s_per_min", c.cpu_s_per_min, false);
  f("load_cpu_s_per_min", c.load_cpu_s_per_min, false);
  f("stat_cpu_s_per_min", c.stat_cpu_s_per_min, false);
  f("rss_kib", c.rss_kib, false);
  f("rss_peak_kib", c.rss_peak_kib, false);
  f("delayed_starts", c.delayed_starts, false);
  f("cmdline_unreadable", c.cmdline_unreadable, false);
  f("pair_id", c.pair_id, false);
  f("sensor_capture", c.sensor_capture, false);
  f("load1", c.load1, false);
  f("processes", c.processes, false);
}

nlohmann::json OrNull(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nullptr; }

}  // namespace

nlohmann::json CellToJson(const SweepCell& c) {
  nlohmann::json j = nlohmann::json::object();
  ForEachField(c, [&j](const char* name, const auto& v, bool) { j[name] = v; });
  j["latency_p50_ms"] = OrNull(c.latency_p50_ms);
  j["latency_p99_ms"] = OrNull(c.latency_p99_ms);
  if (!c.binary.empty()) j["binary"] = c.binary;
  if (!c.vantage.empty()) j["vantage"] = c.vantage;
  return j;
}

Result<SweepCell> CellFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return MakeError("cell: expected a JSON object");
  SweepCell c;
  Status st = OkStatus();
  ForEachField(c, [&](const char* name, auto& v, bool required) {
    using T = std::decay_t<decltype(v)>;
    if (!st) return;
    if constexpr (std::is_same_v<T, std::string>) {
      st = jsonf::ReadString(j, name, name, required, &v);
    } else if constexpr (std::is_same_v<T, double>) {
      st = jsonf::ReadDouble(j, name, name, required, &v);
    } else {
      st = jsonf::ReadInt(j, name, name, required, &v);
    }
  });
  double p50 = NAN;
  double p99 = NAN;
  if (st) st = jsonf::ReadDouble(j, "latency_p50_ms", "latency_p50_ms", false, &p50);
  if (st) st = jsonf::ReadDouble(j, "latency_p99_ms", "latency_p99_ms", false, &p99);
  if (st) st = jsonf::ReadString(j, "binary", "binary", false, &c.binary);
  if (st) st = jsonf::ReadString(j, "vantage", "vantage", false, &c.vantage);
  if (!st) return st.error();
  if (c.trials < 0 || c.detected < 0 || c.detected > c.trials) {
    return MakeError("detected: must be between 0 and trials");
  }
  if (!(c.poll_interval_s > 0)) return MakeError("poll_interval_s: must be positive");
  if (c.lifetime_ms <= 0) return MakeError("lifetime_ms: must be positive");
  if (!std::isnan(p50)) c.latency_p50_ms = p50;
  if (!std::isnan(p99)) c.latency_p99_ms = p99;
  return c;
}

nlohmann::json CellToSummaryEntry(const SweepCell& c) {
  // The stored fields the contract's entry keeps, then its derived ones.
  const nlohmann::json stored = CellToJson(c);
  nlohmann::json j = nlohmann::json::object();
  for (const char* key :
       {"capture", "poll_interval_s", "lifetime_ms", "trials", "detected", "model", "cpu_s_per_min",
        "latency_p50_ms", "latency_p99_ms", "rss_kib", "binary", "vantage"}) {
    if (stored.contains(key)) j[key] = stored[key];
  }
  const Proportion r = c.Rate();
  j["detection_rate"] = r.p;
  j["wilson_lo"] = r.lo;
  j["wilson_hi"] = r.hi;
  j["model_disagrees"] = c.Disagrees();
  return j;
}

Result<std::vector<SweepCell>> ReadCells(const std::string& path) {
  std::vector<SweepCell> out;
  auto text = ReadFileToString(path);
  if (!text && text.error().code == ENOENT) return out;  // not started yet
  if (!text) return text.error();
  int lineno = 0;
  for (const std::string& line : SplitLines(*text)) {
    ++lineno;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      return MakeError(path + ":" + std::to_string(lineno) + ": " + e.what());
    }
    auto cell = CellFromJson(j);
    if (!cell) return MakeError(path + ":" + std::to_string(lineno) + ": " + cell.error().message);
    out.push_back(std::move(*cell));
  }
  return out;
}

Status AppendSynced(const std::string& path, std::string_view text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return OsError("cannot open " + path, errno);
  if (!WriteAll(fd, text)) {
    const int err = errno;
    close(fd);
    return OsError("cannot write " + path, err);
  }
  fsync(fd);
  close(fd);
  return OkStatus();
}

Status AppendCells(const std::string& path, const std::vector<SweepCell>& cells) {
  std::string text;
  for (const auto& c : cells) text += CellToJson(c).dump() + "\n";
  return AppendSynced(path, text);
}

}  // namespace sandwatch::harness::tune
