#include "sensor_output.h"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

namespace sandwatch::harness::tune {

SensorOutput::SensorOutput(std::string path, std::string marker_prefix)
    : path_(std::move(path)), prefix_(std::move(marker_prefix)) {}

void SensorOutput::Poll() {
  std::ifstream in(path_, std::ios::binary);
  if (!in.seekg(static_cast<std::streamoff>(offset_))) return;
  const std::string added{std::istreambuf_iterator<char>(in), {}};
  offset_ += added.size();
  partial_ += added;
  size_t start = 0;
  for (size_t nl = 0; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
    Line(partial_.substr(start, nl - start));
  }
  partial_.erase(0, start);
}

void SensorOutput::Line(const std::string& line) {
  if (line.empty()) return;
  // Not an exception: a malformed line is a discarded value, which is no object.
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object()) {
    ++bad_lines_;
    return;
  }
  if (j.value("schema", std::string()) == kHeartbeatSchema) {
    auto hb = HeartbeatFromJson(j);
    if (hb) {
      heartbeats_.push_back(std::move(*hb));
    } else {
      ++bad_lines_;
    }
    return;
  }
  auto ev = EventFromJson(j);
  if (!ev) {
    ++bad_lines_;
    return;
  }
  ++events_total_;
  if (!ev->process || ev->process->cmdline.empty()) return;
  const std::string& argv0 = ev->process->cmdline.front();
  if (argv0.compare(0, prefix_.size(), prefix_) != 0) return;
  first_.emplace(argv0, MarkedEvent{ev->time_ns, ev->sensor.capture});  // keeps the first
}

int64_t SensorOutput::LastCounter(const std::string& name) const {
  // Newest first. A range-for over std::views::reverse does not parse under clang-tidy 14
  // with libstdc++ 12, so the reverse iterators are spelled out.
  // NOLINTNEXTLINE(modernize-loop-convert)
  for (auto hb = heartbeats_.rbegin(); hb != heartbeats_.rend(); ++hb) {
    auto c = hb->counters.find(name);
    if (c != hb->counters.end()) return c->second;
  }
  return -1;
}

}  // namespace sandwatch::harness::tune
