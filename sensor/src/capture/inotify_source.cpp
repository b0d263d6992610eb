#include "inotify_source.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

#include "inotify_decode.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "watch_paths.h"

namespace sandwatch::sensor {

namespace {

constexpr const char* kLdCache = "/etc/ld.so.cache";
constexpr uint32_t kFileMask = IN_OPEN | IN_ACCESS;
constexpr uint32_t kDropMask = IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB;

}  // namespace

InotifySource::InotifySource(InotifyOptions options) : options_(std::move(options)) {
  if (options_.sensitive_patterns.empty()) options_.sensitive_patterns = DefaultSensitivePatterns();
}

bool InotifySource::AddOne(int fd, const std::string& rel, uint32_t mask, int64_t delay_ns,
                           bool rewatch_dir, int64_t gap_ns) {
  int wd =
      inotify_add_watch(fd, UnderRoot(options_.workload_root, rel).c_str(), mask | IN_MASK_ADD);
  if (wd < 0) return false;
  std::lock_guard<std::mutex> lock(watches_mu_);
  auto [it, inserted] = watches_.try_emplace(wd, Watch{rel, delay_ns, gap_ns, rewatch_dir});
  if (!inserted) {  // same inode reached twice (/bin -> /usr/bin): keep the quickest trigger
    if (delay_ns < it->second.delay_ns) it->second.delay_ns = delay_ns;
    if (gap_ns >= 0) it->second.gap_ns = gap_ns;
    it->second.rewatch_dir = it->second.rewatch_dir && rewatch_dir;
  }
  return true;
}

int InotifySource::AddWatches(int fd) {
  const std::string& root = options_.workload_root;
  AddOne(fd, kLdCache, IN_OPEN, 0, false);
  AddOne(fd, "/etc", IN_CREATE | IN_MOVED_TO, 0, true);
  for (const std::string& dir : ExistingUnderRoot(root, DefaultBinDirs())) {
    AddOne(fd, dir, IN_OPEN, options_.exec_delay_ns, false);
  }
  for (const std::string& file : ExistingUnderRoot(root, options_.sensitive_patterns)) {
    AddOne(fd, file, kFileMask, 0, false, options_.sensitive_gap_ns);
  }
  for (const std::string& dir : ExistingUnderRoot(root, DefaultDropDirs())) {
    AddOne(fd, dir, kDropMask, 0, false);
  }
  std::lock_guard<std::mutex> lock(watches_mu_);
  watch_count_.store(static_cast<int64_t>(watches_.size()));
  return static_cast<int>(watches_.size());
}

Status InotifySource::Probe() const {
  int fd = inotify_init1(IN_CLOEXEC);
  if (fd < 0) return MakeError(ErrnoText("inotify refused: inotify_init1", errno), errno);
  std::string probe = UnderRoot(options_.workload_root, kLdCache);
  int wd = inotify_add_watch(fd, probe.c_str(), IN_OPEN);
  int err = errno;
  if (wd < 0) {
    probe = UnderRoot(options_.workload_root, "/usr/bin");
    wd = inotify_add_watch(fd, probe.c_str(), IN_OPEN);
    err = errno;
  }
  close(fd);
  if (wd < 0) return MakeError(ErrnoText("inotify refused: watch " + probe, err), err);
  return OkStatus();
}

Status InotifySource::Start(ObservationSink* sink) {
  if (thread_.joinable()) return MakeError("inotify source already started");
  if (!wake_.ok()) return MakeError("eventfd failed");
  fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd_ < 0) return MakeError(ErrnoText("inotify_init1", errno), errno);
  {
    std::lock_guard<std::mutex> lock(watches_mu_);
    watches_.clear();
  }
  if (AddWatches(fd_) <= 1) {  // only /etc, or nothing
    close(fd_);
    fd_ = -1;
    return MakeError("inotify: nothing to watch under " + options_.workload_root);
  }
  wake_.Drain();
  thread_ = std::thread([this, sink] { Loop(sink); });
  return OkStatus();
}

void InotifySource::Stop() {
  if (thread_.joinable()) {
    wake_.Signal();
    thread_.join();
  }
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

std::vector<std::string> InotifySource::watched() const {
  std::lock_guard<std::mutex> lock(watches_mu_);
  std::vector<std::string> out;
  for (const auto& [wd, w] : watches_) out.push_back(w.path);
  return out;
}

void InotifySource::Loop(ObservationSink* sink) {
  const ThreadPriority prio =
      RaiseThreadPriority(options_.priority.nice, options_.priority.realtime);
  nice_.store(prio.nice);
  rt_.store(prio.realtime);
  ScanCoalescer coalescer(options_.min_gap_ns);
  alignas(inotify_event) uint8_t buf[64 * 1024];
  std::vector<InotifyRecord> records;
  pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_.fd(), POLLIN, 0}};
  auto emit = [&](int64_t now) {
    scans_.fetch_add(1, std::memory_order_relaxed);
    Observation obs;
    obs.kind = Observation::Kind::kScan;
    obs.method = "inotify";
    obs.kernel_mono_ns = now;
    sink->Push(std::move(obs));
  };
  while (true) {
    int timeout_ms = -1;
    if (int64_t due = coalescer.Deadline(); due >= 0) {
      int64_t wait = due - SystemClock().MonoNs();
      timeout_ms = wait <= 0 ? 0 : static_cast<int>((wait + 999'999) / 1'000'000);
    }
    int n = poll(fds, 2, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (fds[1].revents & POLLIN)) break;
    if (fds[0].revents & POLLIN) {
      while (true) {
        ssize_t got = read(fd_, buf, sizeof(buf));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        records.clear();
        DecodeInotify(std::span<const uint8_t>(buf, static_cast<size_t>(got)), &records);
        for (const InotifyRecord& rec : records) {
          events_.fetch_add(1, std::memory_order_relaxed);
          int64_t delay = 0;
          int64_t gap = -1;
          if (rec.mask & IN_Q_OVERFLOW) {
            overflows_.fetch_add(1, std::memory_order_relaxed);
          } else if (auto it = watches_.find(rec.wd); it != watches_.end()) {
            if (it->second.rewatch_dir) {
              if (rec.name == "ld.so.cache") AddOne(fd_, kLdCache, IN_OPEN, 0, false);
              continue;  // not a trigger by itself
            }
            delay = it->second.delay_ns;
            gap = it->second.gap_ns;
            if (rec.mask & IN_IGNORED) {
              std::lock_guard<std::mutex> lock(watches_mu_);
              watches_.erase(it);
              continue;
            }
          }
          if (coalescer.OnEvent(SystemClock().MonoNs(), delay, gap)) emit(SystemClock().MonoNs());
        }
        cpu_ns_.store(ThreadCpuNs(), std::memory_order_relaxed);
      }
    }
    int64_t now = SystemClock().MonoNs();
    if (coalescer.OnTimer(now)) emit(now);
    cpu_ns_.store(ThreadCpuNs(), std::memory_order_relaxed);
  }
}

void InotifySource::AddCounters(std::map<std::string, int64_t>* counters) const {
  (*counters)["inotify_events"] += events_.load();
  (*counters)["inotify_scans_triggered"] += scans_.load();
  (*counters)["inotify_overflows"] += overflows_.load();
  (*counters)["inotify_watches"] += watch_count_.load();
  (*counters)["inotify_cpu_us"] += cpu_ns_.load() / 1000;
  (*counters)["inotify_thread_nice"] += nice_.load();
  (*counters)["inotify_thread_rt"] += rt_.load() ? 1 : 0;
}

}  // namespace sandwatch::sensor
