#include "sensor_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <nlohmann/json.hpp>

namespace sandwatch::harness::tune {

SensorOutput::SensorOutput(std::string path, std::string marker_prefix)
    : path_(std::move(path)), prefix_(std::move(marker_prefix)) {}

void SensorOutput::Poll() {
  const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (lseek(fd, static_cast<off_t>(offset_), SEEK_SET) < 0) {
    close(fd);
    return;
  }
  std::array<char, 65536> buf;
  for (;;) {
    const ssize_t n = read(fd, buf.data(), buf.size());
    if (n <= 0) break;
    offset_ += static_cast<uint64_t>(n);
    partial_.append(buf.data(), static_cast<size_t>(n));
    size_t start = 0;
    for (;;) {
      const auto nl = partial_.find('\n', start);
      if (nl == std::string::npos) break;
      Line(partial_.substr(start, nl - start));
      start = nl + 1;
    }
    partial_.erase(0, start);
  }
  close(fd);
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
