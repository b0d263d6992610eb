#include "inotify_source.h"

#include <dirent.h>
#include <poll.h>
#include <sched.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <sstream>

#include "inotify_decode.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "watch_paths.h"

namespace sandwatch::sensor {

namespace {

constexpr const char* kLdCache = "/etc/ld.so.cache";
constexpr uint32_t kFileMask = IN_OPEN | IN_ACCESS;
// A drop-tree directory: new entries (files to watch, directories to follow).
constexpr uint32_t kDropMask =
    IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR | IN_DONT_FOLLOW;
// A file that appeared in a drop tree: its exec (or any read) opens it. The
// watch is on the inode, so it follows a rename out of the tree.
constexpr uint32_t kDroppedFileMask = IN_OPEN | IN_DONT_FOLLOW;

// How often a SCHED_FIFO event thread re-reads a pending exec (it must not spin):
// 20 us after a look, doubling up to 320 us.
constexpr int64_t kRealtimeRecheckNs = 20'000;
constexpr int64_t kRealtimeRecheckMaxNs = 320'000;

std::string JoinRel(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

}  // namespace

InotifySource::InotifySource(InotifyOptions options)
    : options_(std::move(options)),
      look_(NewPidLookOptions{options_.proc_root, options_.workload_root}) {
  if (options_.sensitive_patterns.empty()) options_.sensitive_patterns = DefaultSensitivePatterns();
  if (options_.drop_dirs.empty()) options_.drop_dirs = DefaultDropDirs();
}

bool InotifySource::AddOne(int fd, const std::string& rel, uint32_t mask, int64_t delay_ns,
                           WatchKind kind, int64_t gap_ns, bool scan, bool dropped) {
  {
    std::lock_guard<std::mutex> lock(watches_mu_);
    if (watches_.size() >= options_.max_watches) {
      watches_failed_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  }
  int wd =
      inotify_add_watch(fd, UnderRoot(options_.workload_root, rel).c_str(), mask | IN_MASK_ADD);
  if (wd < 0) {
    if (errno != ENOENT) watches_failed_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  std::lock_guard<std::mutex> lock(watches_mu_);
  auto [it, inserted] = watches_.try_emplace(wd, Watch{rel, delay_ns, gap_ns, kind, scan, dropped});
  if (!inserted) {  // same inode reached twice (/bin -> /usr/bin): keep the quickest trigger
    if (delay_ns < it->second.delay_ns) it->second.delay_ns = delay_ns;
    if (gap_ns >= 0) it->second.gap_ns = gap_ns;
    if (it->second.kind == WatchKind::kRewatchDir) it->second.kind = kind;
    it->second.scan = it->second.scan || scan;
  }
  watch_count_.store(static_cast<int64_t>(watches_.size()));
  return inserted;
}

void InotifySource::AddDropTree(int fd, const std::string& rel, int depth, bool files) {
  if (!AddOne(fd, rel, kDropMask, 0, WatchKind::kDropDir)) return;
  drop_dirs_.fetch_add(1, std::memory_order_relaxed);
  // What is already there. At start only the directories: files that existed
  // before the sensor are not dropped binaries, and watching them turns every
  // read of an old temp file into a trigger. In a directory made after start,
  // the files too: they appeared before the watch was in place.
  DIR* dir = opendir(UnderRoot(options_.workload_root, rel).c_str());
  if (dir == nullptr) return;
  std::vector<std::pair<std::string, unsigned char>> entries;
  while (dirent* ent = readdir(dir)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..") entries.emplace_back(name, ent->d_type);
  }
  closedir(dir);
  for (const auto& [name, type] : entries) {
    if (type == DT_DIR && depth > 0) {
      AddDropTree(fd, JoinRel(rel, name), depth - 1, files);
    } else if (type == DT_REG && files) {
      if (AddOne(fd, JoinRel(rel, name), kDroppedFileMask, 0, WatchKind::kTrigger, -1, true,
                 /*dropped=*/true)) {
        drop_files_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
}

void InotifySource::OnDropEntry(int fd, const Watch& dir, const std::string& name, uint32_t mask) {
  if (name.empty() || name.find('/') != std::string::npos) return;
  const std::string rel = JoinRel(dir.path, name);
  if (mask & IN_ISDIR) {
    if (mask & (IN_CREATE | IN_MOVED_TO)) {
      AddDropTree(fd, rel,
                  options_.drop_depth - static_cast<int>(std::count(rel.begin(), rel.end(), '/')),
                  true);
    }
    return;
  }
  if (AddOne(fd, rel, kDroppedFileMask, 0, WatchKind::kTrigger, -1, true, /*dropped=*/true)) {
    drop_files_.fetch_add(1, std::memory_order_relaxed);
  }
}

int InotifySource::AddWatches(int fd) {
  const std::string& root = options_.workload_root;
  AddOne(fd, kLdCache, IN_OPEN, 0, WatchKind::kTrigger);
  AddOne(fd, "/etc", IN_CREATE | IN_MOVED_TO, 0, WatchKind::kRewatchDir);
  for (const std::string& dir : ExistingUnderRoot(root, DefaultBinDirs())) {
    AddOne(fd, dir, IN_OPEN, options_.exec_delay_ns, WatchKind::kTrigger);
  }
  for (const std::string& dir : ExistingUnderRoot(root, DefaultLibDirs())) {
    // A look is enough here: ld.so.cache, opened just before, already asked for a scan.
    if (AddOne(fd, dir, IN_OPEN, 0, WatchKind::kTrigger, -1, /*scan=*/false)) {
      lib_dirs_.fetch_add(1);
    }
  }
  for (const std::string& file : ExistingUnderRoot(root, options_.sensitive_patterns)) {
    AddOne(fd, file, kFileMask, 0, WatchKind::kTrigger, options_.sensitive_gap_ns);
  }
  drop_roots_ = ExistingUnderRoot(root, options_.drop_dirs);
  for (const std::string& dir : drop_roots_) {
    const int depth =
        options_.drop_depth - static_cast<int>(std::count(dir.begin(), dir.end(), '/'));
    AddDropTree(fd, dir, depth, /*files=*/false);
  }
  std::lock_guard<std::mutex> lock(watches_mu_);
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
  drop_dirs_.store(0);
  drop_files_.store(0);
  lib_dirs_.store(0);
  watches_failed_.store(0);
  if (AddWatches(fd_) <= 1) {  // only /etc, or nothing
    close(fd_);
    fd_ = -1;
    return MakeError("inotify: nothing to watch under " + options_.workload_root);
  }
  if (options_.look) {
    if (Status st = look_.Open(sink); !st.ok()) {
      close(fd_);
      fd_ = -1;
      return st;
    }
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
  look_.Close();
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
  slice_us_.store(prio.slice_ns / 1000);
  ScanCoalescer coalescer(options_.min_gap_ns);
  alignas(inotify_event) std::array<uint8_t, size_t{64} * 1024> buf;
  std::vector<InotifyRecord> records;
  std::array<pollfd, 2> fds = {{{fd_, POLLIN, 0}, {wake_.fd(), POLLIN, 0}}};
  auto emit = [&](int64_t now) {
    scans_.fetch_add(1, std::memory_order_relaxed);
    Observation obs;
    obs.kind = Observation::Kind::kScan;
    obs.method = "inotify";
    obs.kernel_mono_ns = now;
    sink->Push(std::move(obs));
  };
  int64_t look_wait_ns = -1;  // NewPidLook::CheckPending(): -1 nothing pending, 0 spin
  int64_t rt_recheck_ns = kRealtimeRecheckNs;
  while (true) {
    int64_t wait_ns = -1;
    if (int64_t due = coalescer.Deadline(); due >= 0) {
      wait_ns = std::max<int64_t>(due - options_.clock->MonoNs(), 0);
    }
    if (look_wait_ns == 0) {
      // A pending exec: re-read without sleeping, but let the exec'ing child run.
      // A SCHED_FIFO thread would starve it instead, so that one sleeps briefly.
      if (prio.realtime) {
        look_wait_ns = rt_recheck_ns;
        rt_recheck_ns = std::min<int64_t>(rt_recheck_ns * 2, kRealtimeRecheckMaxNs);
      } else {
        sched_yield();
      }
    }
    if (look_wait_ns >= 0 && (wait_ns < 0 || look_wait_ns < wait_ns)) wait_ns = look_wait_ns;
    timespec ts{wait_ns / 1'000'000'000, wait_ns % 1'000'000'000};
    int n = ppoll(fds.data(), 2, wait_ns < 0 ? nullptr : &ts, nullptr);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (fds[1].revents & POLLIN)) break;
    int64_t triggers = 0;
    int64_t first_ns = 0;
    bool scan_now = false;
    if (fds[0].revents & POLLIN) {
      while (true) {
        ssize_t got = read(fd_, buf.data(), buf.size());
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        records.clear();
        DecodeInotify(std::span<const uint8_t>(buf.data(), static_cast<size_t>(got)), &records);
        const int64_t now = options_.clock->MonoNs();
        for (const InotifyRecord& rec : records) {
          events_.fetch_add(1, std::memory_order_relaxed);
          int64_t delay = 0;
          int64_t gap = -1;
          bool scan = true;
          if (rec.mask & IN_Q_OVERFLOW) {
            overflows_.fetch_add(1, std::memory_order_relaxed);
          } else if (auto it = watches_.find(rec.wd); it != watches_.end()) {
            if (rec.mask & IN_IGNORED) {  // the file or directory is gone
              std::lock_guard<std::mutex> lock(watches_mu_);
              watches_.erase(it);
              watch_count_.store(static_cast<int64_t>(watches_.size()));
              continue;
            }
            if (it->second.kind == WatchKind::kRewatchDir) {
              if (rec.name == "ld.so.cache") AddOne(fd_, kLdCache, IN_OPEN, 0, WatchKind::kTrigger);
              continue;  // not a trigger by itself
            }
            if (it->second.kind == WatchKind::kDropDir) {
              const Watch dir = it->second;  // AddOne may rehash the map
              OnDropEntry(fd_, dir, rec.name, rec.mask);
              continue;  // the exec of what was dropped is the trigger
            }
            delay = it->second.delay_ns;
            gap = it->second.gap_ns;
            scan = it->second.scan;
            if (options_.look && it->second.dropped) look_.NoteDroppedOpen(it->second.path, now);
          } else {
            continue;  // a watch removed meanwhile
          }
          if (triggers++ == 0) first_ns = now;
          if (scan) scan_now |= coalescer.OnEvent(now, delay, gap);
        }
      }
    }
    // The look first: it races a process that may live 1 ms. The scan can wait.
    if (options_.look) {
      if (triggers > 0) {
        look_.Look(first_ns, triggers);
        rt_recheck_ns = kRealtimeRecheckNs;
      }
      look_wait_ns = look_.CheckPending();
    }
    const int64_t now = options_.clock->MonoNs();
    if (scan_now || coalescer.OnTimer(now)) emit(now);
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
  (*counters)["inotify_thread_slice_us"] += slice_us_.load();
  (*counters)["inotify_watches_failed"] += watches_failed_.load();
  (*counters)["inotify_drop_dirs"] += drop_dirs_.load();
  (*counters)["inotify_drop_files"] += drop_files_.load();
  if (options_.look) look_.AddCounters(counters);
}

std::string InotifySource::Describe() const {
  size_t bin_dirs = 0;
  size_t sensitive = 0;
  bool ld_cache = false;
  {
    std::lock_guard<std::mutex> lock(watches_mu_);
    for (const auto& [wd, w] : watches_) {
      if (w.kind != WatchKind::kTrigger) continue;
      if (w.path == kLdCache) {
        ld_cache = true;
      } else if (w.delay_ns == 0 && w.gap_ns < 0) {
        continue;  // a library directory (counted at start) or a dropped file
      } else if (w.delay_ns > 0) {
        ++bin_dirs;
      } else if (w.gap_ns >= 0) {
        ++sensitive;
      }
    }
  }
  std::ostringstream out;
  out << (ld_cache ? "ld.so.cache, " : "") << bin_dirs << " binary dirs, " << lib_dirs_.load()
      << " library dirs, " << sensitive << " sensitive files, drop trees";
  for (const std::string& d : drop_roots_) out << ' ' << d;
  out << " (" << drop_dirs_.load() << " dirs, " << drop_files_.load() << " files), "
      << watches_failed_.load() << " watches failed (limit " << options_.max_watches << ")"
      << (options_.look ? ", new-pid look on each open" : "");
  return out.str();
}

}  // namespace sandwatch::sensor
