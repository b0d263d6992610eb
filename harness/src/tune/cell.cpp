#include "sandwatch/harness/tune/cell.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

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
    if (unprivileged != has_unprivileged[c.capture]) continue;
    if (c.binary == "dynamic") continue;
    out.push_back(c);
  }
  return out;
}

nlohmann::json CellToJson(const SweepCell& c) {
  nlohmann::json j = {
      {"capture", c.capture},
      {"poll_interval_s", c.poll_interval_s},
      {"lifetime_ms", c.lifetime_ms},
      {"trials", c.trials},
      {"detected", c.detected},
      {"mean_lifetime_ms", c.mean_lifetime_ms},
      {"scan_s", c.scan_s},
      {"model", c.model},
      {"latency_p50_ms", nullptr},
      {"latency_p99_ms", nullptr},
      {"cpu_s_per_min", c.cpu_s_per_min},
      {"load_cpu_s_per_min", c.load_cpu_s_per_min},
      {"stat_cpu_s_per_min", c.stat_cpu_s_per_min},
      {"rss_kib", c.rss_kib},
      {"rss_peak_kib", c.rss_peak_kib},
      {"delayed_starts", c.delayed_starts},
      {"cmdline_unreadable", c.cmdline_unreadable},
      {"pair_id", c.pair_id},
      {"sensor_capture", c.sensor_capture},
      {"load1", c.load1},
      {"processes", c.processes},
  };
  if (!c.binary.empty()) j["binary"] = c.binary;
  if (!c.vantage.empty()) j["vantage"] = c.vantage;
  if (c.latency_p50_ms) j["latency_p50_ms"] = *c.latency_p50_ms;
  if (c.latency_p99_ms) j["latency_p99_ms"] = *c.latency_p99_ms;
  return j;
}

Result<SweepCell> CellFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return MakeError("cell: expected a JSON object");
  SweepCell c;
  double p50 = NAN;
  double p99 = NAN;
  Status st = jsonf::ReadString(j, "capture", "capture", true, &c.capture);
  if (st) st = jsonf::ReadDouble(j, "poll_interval_s", "poll_interval_s", true, &c.poll_interval_s);
  if (st) st = jsonf::ReadInt(j, "lifetime_ms", "lifetime_ms", true, &c.lifetime_ms);
  if (st) st = jsonf::ReadInt(j, "trials", "trials", true, &c.trials);
  if (st) st = jsonf::ReadInt(j, "detected", "detected", true, &c.detected);
  if (st)
    st = jsonf::ReadDouble(j, "mean_lifetime_ms", "mean_lifetime_ms", false, &c.mean_lifetime_ms);
  if (st) st = jsonf::ReadDouble(j, "scan_s", "scan_s", false, &c.scan_s);
  if (st) st = jsonf::ReadDouble(j, "model", "model", false, &c.model);
  if (st) st = jsonf::ReadDouble(j, "latency_p50_ms", "latency_p50_ms", false, &p50);
  if (st) st = jsonf::ReadDouble(j, "latency_p99_ms", "latency_p99_ms", false, &p99);
  if (st) st = jsonf::ReadDouble(j, "cpu_s_per_min", "cpu_s_per_min", false, &c.cpu_s_per_min);
  if (st)
    st = jsonf::ReadDouble(j, "load_cpu_s_per_min", "load_cpu_s_per_min", false,
                           &c.load_cpu_s_per_min);
  if (st)
    st = jsonf::ReadDouble(j, "stat_cpu_s_per_min", "stat_cpu_s_per_min", false,
                           &c.stat_cpu_s_per_min);
  if (st) st = jsonf::ReadInt(j, "rss_kib", "rss_kib", false, &c.rss_kib);
  if (st) st = jsonf::ReadInt(j, "rss_peak_kib", "rss_peak_kib", false, &c.rss_peak_kib);
  if (st) st = jsonf::ReadInt(j, "delayed_starts", "delayed_starts", false, &c.delayed_starts);
  if (st)
    st =
        jsonf::ReadInt(j, "cmdline_unreadable", "cmdline_unreadable", false, &c.cmdline_unreadable);
  if (st) st = jsonf::ReadString(j, "pair_id", "pair_id", false, &c.pair_id);
  if (st) st = jsonf::ReadString(j, "sensor_capture", "sensor_capture", false, &c.sensor_capture);
  if (st) st = jsonf::ReadDouble(j, "load1", "load1", false, &c.load1);
  if (st) st = jsonf::ReadInt(j, "processes", "processes", false, &c.processes);
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
  const Proportion r = c.Rate();
  nlohmann::json j = {{"capture", c.capture},
                      {"poll_interval_s", c.poll_interval_s},
                      {"lifetime_ms", c.lifetime_ms},
                      {"trials", c.trials},
                      {"detected", c.detected},
                      {"model", c.model},
                      {"cpu_s_per_min", c.cpu_s_per_min},
                      {"detection_rate", r.p},
                      {"wilson_lo", r.lo},
                      {"wilson_hi", r.hi},
                      {"model_disagrees", c.Disagrees()},
                      {"latency_p50_ms", nullptr},
                      {"latency_p99_ms", nullptr},
                      {"rss_kib", c.rss_kib}};
  if (!c.binary.empty()) j["binary"] = c.binary;
  if (!c.vantage.empty()) j["vantage"] = c.vantage;
  if (c.latency_p50_ms) j["latency_p50_ms"] = *c.latency_p50_ms;
  if (c.latency_p99_ms) j["latency_p99_ms"] = *c.latency_p99_ms;
  return j;
}

Result<std::vector<SweepCell>> ReadCells(const std::string& path) {
  std::vector<SweepCell> out;
  std::ifstream in(path);
  if (!in) {
    if (access(path.c_str(), F_OK) != 0) return out;
    return MakeError("cannot read " + path, errno);
  }
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
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

Status AppendCells(const std::string& path, const std::vector<SweepCell>& cells) {
  std::string text;
  for (const auto& c : cells) text += CellToJson(c).dump() + "\n";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return MakeError("cannot open " + path + ": " + std::strerror(errno), errno);
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      return MakeError("cannot write " + path + ": " + std::strerror(err), err);
    }
    off += static_cast<size_t>(n);
  }
  fsync(fd);
  close(fd);
  return OkStatus();
}

}  // namespace sandwatch::harness::tune
