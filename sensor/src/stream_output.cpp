// JSONL outputs: stdout and file:PATH. One line per event; heartbeats are written
// as heartbeat lines in the sandwatch format only (a Falco stream stays pure Falco).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "sandwatch/core/log.h"
#include "sandwatch/sensor/falco_format.h"
#include "sandwatch/sensor/http_output.h"
#include "sandwatch/sensor/output.h"

namespace sandwatch::sensor {
namespace {

class StreamOutput : public Output {
 public:
  StreamOutput(std::string name, int fd, bool owns_fd, OutputFormat format)
      : name_(std::move(name)), fd_(fd), owns_fd_(owns_fd), format_(format) {}
  ~StreamOutput() override {
    if (owns_fd_ && fd_ >= 0) ::close(fd_);
  }

  std::string_view Name() const override { return name_; }
  void Emit(const Event& e) override {
    if (!WriteLine(FormatEvent(e, format_))) ++dropped_;
  }
  void EmitHeartbeat(const Heartbeat& h) override {
    if (format_ == OutputFormat::kFalco) return;
    WriteLine(HeartbeatToJson(h).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  void Close(int64_t) override {
    if (owns_fd_ && fd_ >= 0) ::fsync(fd_);
  }
  void AddCounters(std::map<std::string, int64_t>* c) const override {
    (*c)["events_dropped"] += static_cast<int64_t>(dropped_.load());
    (*c)["spool_bytes"] += 0;
  }

 private:
  // One write(2) per line, so concurrent readers never see half a line.
  bool WriteLine(std::string line) {
    line += '\n';
    size_t done = 0;
    while (done < line.size()) {
      ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        SW_LOG(kError, "output", "write failed; event dropped", {"output", name_},
               {"error", std::strerror(errno)});
        return false;
      }
      done += static_cast<size_t>(n);
    }
    return true;
  }

  std::string name_;
  int fd_;
  bool owns_fd_;
  OutputFormat format_;
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace

std::string FormatEvent(const Event& e, OutputFormat format) {
  if (format == OutputFormat::kFalco) {
    return FalcoJson(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return EventToJsonLine(e);
}

Result<std::unique_ptr<Output>> MakeOutput(const SensorConfig& c, const Clock* clock) {
  OutputFormat format = c.format == "falco" ? OutputFormat::kFalco : OutputFormat::kSandwatch;
  std::string out = EffectiveOutput(c);
  if (out == "stdout") {
    return std::unique_ptr<Output>(new StreamOutput("stdout", STDOUT_FILENO, false, format));
  }
  if (out.rfind("file:", 0) == 0) {
    std::string path = out.substr(5);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return MakeError("--output " + out + ": " + std::strerror(errno), errno);
    return std::unique_ptr<Output>(new StreamOutput(out, fd, true, format));
  }
  auto url = SplitReceiverUrl(c.receiver_url);
  if (!url.ok()) return url.error();
  std::unique_ptr<EventQueue> queue;
  if (!c.spool_dir.empty()) {
    auto spool = Spool::Open(c.spool_dir, c.spool_max_bytes);
    if (!spool.ok()) return MakeError("--spool-dir: " + spool.error().message);
    queue = std::move(spool.value());
  } else {
    queue = std::make_unique<MemoryQueue>(std::min<uint64_t>(c.spool_max_bytes, 2u << 20));
  }
  auto transport = MakeHttpTransport(url->base, c.receiver_token);
  if (!transport.ok()) return MakeError("--receiver-url: " + transport.error().message);
  HttpOptions options;
  options.clock = clock;
  options.events_path = url->events_path;
  options.heartbeat_path = url->heartbeat_path;
  options.format = format;
  options.batch_size = static_cast<size_t>(c.batch_size);
  return std::unique_ptr<Output>(
      new HttpOutput(options, std::move(transport.value()), std::move(queue)));
}

}  // namespace sandwatch::sensor
