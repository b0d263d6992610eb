#include "fanotify_source.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "early_read.h"
#include "fanotify_decode.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "self_facts.h"
#include "watch_paths.h"

namespace sandwatch::sensor {

namespace {

constexpr size_t kMaxQueue = 65536;
constexpr int64_t kInterpWindowNs = 200'000'000;
constexpr int64_t kRemarkNs = 2'000'000'000;  // how often new credential files are marked

Result<int> InitFanotify() {
  int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
                         O_RDONLY | O_LARGEFILE | O_CLOEXEC);
  if (fd < 0) return MakeError(ErrnoText("fanotify_init", errno), errno);
  return fd;
}

// FAN_OPEN_EXEC for the whole filesystem holding `path`; a mount mark when the
// filesystem refuses a superblock mark.
Status MarkExecFs(int fan_fd, const std::string& path) {
  if (fanotify_mark(fan_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC, AT_FDCWD,
                    path.c_str()) == 0) {
    return OkStatus();
  }
  int fs_err = errno;
  if (fanotify_mark(fan_fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_EXEC, AT_FDCWD, path.c_str()) ==
      0) {
    return OkStatus();
  }
  return MakeError(ErrnoText("fanotify_mark(FAN_MARK_FILESYSTEM, " + path + ")", fs_err), fs_err);
}

std::string FdPath(int fd) {
  std::array<char, 64> link;
  snprintf(link.data(), link.size(), "/proc/self/fd/%d", fd);
  std::array<char, PATH_MAX> buf;
  ssize_t n = readlink(link.data(), buf.data(), buf.size());
  if (n <= 0) return {};
  return {buf.data(), static_cast<size_t>(n)};
}

}  // namespace

FanotifySource::FanotifySource(FanotifyOptions options) : options_(std::move(options)) {
  if (options_.sensitive_patterns.empty()) options_.sensitive_patterns = DefaultSensitivePatterns();
}

Status FanotifySource::AddMarks(int fan_fd, int perm_fd, std::vector<std::string>* marked) const {
  const std::string& root = options_.workload_root;
  if (options_.exec_events) {
    Status st = MarkExecFs(fan_fd, root);
    if (!st.ok()) return st;
    // Binary and drop directories on other filesystems (a tmpfs /tmp, /dev/shm).
    for (const auto* list : {&DefaultBinDirs(), &DefaultDropDirs()}) {
      for (const std::string& dir : ExistingUnderRoot(root, *list)) {
        (void)MarkExecFs(fan_fd, UnderRoot(root, dir));
      }
    }
  }
  if (options_.file_events) {
    AddFileMarks(fan_fd, perm_fd, marked);
    if (marked->empty() && !options_.exec_events) {
      return MakeError("fanotify: none of the sensitive files exist under " + root);
    }
  }
  return OkStatus();
}

void FanotifySource::AddFileMarks(int fan_fd, int perm_fd, std::vector<std::string>* marked) const {
  const std::string& root = options_.workload_root;
  // A permission event holds the opener inside open() until we answer, so its
  // cmdline is read even when it lives 1 ms; plain FAN_OPEN when unavailable.
  const int fd = perm_fd >= 0 ? perm_fd : fan_fd;
  const uint64_t mask = perm_fd >= 0 ? FAN_OPEN_PERM : FAN_OPEN;
  std::vector<std::string> dirs;
  for (const std::string& p : options_.sensitive_patterns) {
    // Credential directories (~/.aws, ~/.kube): a file created in them later is
    // reported at once. Not the home itself, nor /etc (every open there would wake us).
    auto slash = p.rfind('/');
    if (p.rfind("~/.", 0) == 0 && slash != std::string::npos && slash > 2) {
      dirs.push_back(p.substr(0, slash));
    }
  }
  for (const std::string& dir : ExistingUnderRoot(root, dirs, homes_)) {
    (void)fanotify_mark(fd, FAN_MARK_ADD, mask | FAN_EVENT_ON_CHILD, AT_FDCWD,
                        UnderRoot(root, dir).c_str());
  }
  for (const std::string& file : ExistingUnderRoot(root, options_.sensitive_patterns, homes_)) {
    if (std::find(marked->begin(), marked->end(), file) != marked->end()) continue;
    if (fanotify_mark(fd, FAN_MARK_ADD, mask, AT_FDCWD, UnderRoot(root, file).c_str()) == 0) {
      marked->push_back(file);
    }
  }
}

Status FanotifySource::Probe() const {
  SelfFacts facts = ReadSelfFacts();
  if (!facts.HasCap(kCapSysAdmin)) return MakeError("fanotify refused: CAP_SYS_ADMIN is missing");
  auto fd = InitFanotify();
  if (!fd.ok()) return MakeError("fanotify refused: " + fd.error().message, fd.error().code);
  std::vector<std::string> marked;
  Status st = AddMarks(*fd, -1, &marked);
  close(*fd);
  if (!st.ok()) return MakeError("fanotify refused: " + st.error().message, st.error().code);
  return OkStatus();
}

Status FanotifySource::Start(ObservationSink* sink) {
  if (reader_.joinable()) return MakeError("fanotify source already started");
  if (!wake_.ok()) return MakeError("eventfd failed");
  std::array<char, PATH_MAX> real;
  root_real_ =
      realpath(options_.workload_root.c_str(), real.data()) ? real.data() : options_.workload_root;
  proc_fd_ = open(options_.proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc_fd_ < 0) return MakeError(ErrnoText("open " + options_.proc_root, errno), errno);
  auto fd = InitFanotify();
  if (!fd.ok()) {
    close(proc_fd_);
    proc_fd_ = -1;
    return fd.error();
  }
  fan_fd_ = *fd;
  if (options_.file_events && options_.file_perm) {
    perm_fd_ = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
                             O_RDONLY | O_LARGEFILE | O_CLOEXEC);
  }
  file_perm_active_.store(perm_fd_ >= 0);
  homes_ = WorkloadHomes(procfs::ProcFs(options_.proc_root));
  marked_files_.clear();
  Status st = AddMarks(fan_fd_, perm_fd_, &marked_files_);
  if (!st.ok()) {
    Stop();
    return st;
  }
  const int workers = options_.early_read_workers < 1 ? 1 : options_.early_read_workers;
  recent_exec_.assign(static_cast<size_t>(workers), {});
  workers_ = std::make_unique<ShardedWorkers>(workers, options_.priority,
                                              kMaxQueue / static_cast<size_t>(workers));
  workers_->Start();
  wake_.Drain();
  reader_ = std::thread([this, sink] { ReaderLoop(sink); });
  return OkStatus();
}

void FanotifySource::Stop() {
  if (reader_.joinable()) {
    wake_.Signal();
    reader_.join();
  }
  if (workers_) {
    workers_->Stop();
    worker_cpu_ns_.store(workers_->cpu_ns());
    workers_.reset();
  }
  if (fan_fd_ >= 0) close(fan_fd_);
  if (perm_fd_ >= 0) close(perm_fd_);  // the kernel allows anything still pending
  if (proc_fd_ >= 0) close(proc_fd_);
  fan_fd_ = perm_fd_ = proc_fd_ = -1;
}

void FanotifySource::ReaderLoop(ObservationSink* sink) {
  const ThreadPriority prio =
      RaiseThreadPriority(options_.priority.nice, options_.priority.realtime);
  nice_.store(prio.nice);
  rt_.store(prio.realtime);
  std::array<pollfd, 3> fds = {
      {{wake_.fd(), POLLIN, 0}, {fan_fd_, POLLIN, 0}, {perm_fd_, POLLIN, 0}}};
  const nfds_t nfds = perm_fd_ >= 0 ? 3 : 2;
  int64_t next_remark = options_.clock->MonoNs() + kRemarkNs;
  while (true) {
    int n = poll(fds.data(), nfds, static_cast<int>(kRemarkNs / 1000000));
    if (options_.file_events && options_.clock->MonoNs() >= next_remark) {
      // Credential files and directories created after start (a home made later).
      AddFileMarks(fan_fd_, perm_fd_, &marked_files_);
      next_remark = options_.clock->MonoNs() + kRemarkNs;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (fds[0].revents & POLLIN)) break;
    if (nfds == 3 && (fds[2].revents & POLLIN)) Drain(perm_fd_, true, sink);
    if (fds[1].revents & POLLIN) Drain(fan_fd_, false, sink);
    reader_cpu_ns_.store(ThreadCpuNs(), std::memory_order_relaxed);
    worker_cpu_ns_.store(workers_->cpu_ns(), std::memory_order_relaxed);
  }
}

void FanotifySource::Drain(int fd, bool perm, ObservationSink* sink) {
  alignas(fanotify_event_metadata) std::array<uint8_t, size_t{16} * 1024> buf;
  std::vector<FanEvent> events;
  const int self = getpid();
  while (true) {
    ssize_t got = read(fd, buf.data(), buf.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    events.clear();
    DecodeFanotify(std::span<const uint8_t>(buf.data(), static_cast<size_t>(got)), &events);
    const int64_t now = options_.clock->MonoNs();
    for (const FanEvent& ev : events) {
      events_.fetch_add(1, std::memory_order_relaxed);
      if (ev.overflow()) {
        overflows_.fetch_add(1, std::memory_order_relaxed);
        Observation scan;
        scan.method = "fanotify";
        scan.kernel_mono_ns = now;
        sink->Push(std::move(scan));
        continue;
      }
      if (ev.pid == 0 || ev.pid == self) {  // outside our PID namespace, or us
        if (ev.pid == 0) foreign_.fetch_add(1, std::memory_order_relaxed);
        Release(fd, perm, ev.fd);
        continue;
      }
      std::string raw = ev.fd >= 0 ? FdPath(ev.fd) : std::string();
      if (ev.exec()) {
        Release(fd, perm, ev.fd);
        PendingExec item{ev.pid, std::move(raw), now};
        if (!workers_->Submit(ev.pid, [this, item, sink] { HandleExec(item, sink); })) {
          queue_drops_.fetch_add(1, std::memory_order_relaxed);
        }
        continue;
      }
      file_opens_.fetch_add(1, std::memory_order_relaxed);
      Observation obs;
      obs.kind = Observation::Kind::kFileOpen;
      obs.method = "fanotify";
      obs.pid = ev.pid;
      obs.path = RelativeToRoot(root_real_, raw);
      obs.kernel_mono_ns = now;
      if (options_.early_read) {
        EarlyRead er = ReadEarly(proc_fd_, ev.pid);  // the opener waits in open() when perm
        if (!er.complete) early_failures_.fetch_add(1, std::memory_order_relaxed);
        er.exe = RelativeToRoot(root_real_, er.exe);
        obs.ppid = er.ppid;
        obs.early = std::move(er);
      }
      Release(fd, perm, ev.fd);
      sink->Push(std::move(obs));
    }
    reader_cpu_ns_.store(ThreadCpuNs(), std::memory_order_relaxed);
  }
}

void FanotifySource::Release(int group_fd, bool perm, int event_fd) {
  if (event_fd < 0) return;
  if (perm) {
    fanotify_response resp{};
    resp.fd = event_fd;
    resp.response = FAN_ALLOW;
    ssize_t n = write(group_fd, &resp, sizeof(resp));
    (void)n;
  }
  close(event_fd);
}

void FanotifySource::HandleExec(const PendingExec& item, ObservationSink* sink) {
  // The kernel opens the ELF interpreter for exec right after the binary: the
  // same exec, not a new one (unless someone runs ld.so directly).
  auto& recent_map = recent_exec_[static_cast<size_t>(item.pid) % recent_exec_.size()];
  auto recent = recent_map.find(item.pid);
  if (IsElfInterpreterPath(item.raw_path) && recent != recent_map.end() &&
      item.mono_ns - recent->second < kInterpWindowNs) {
    interp_merged_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (recent_map.size() > 4096) recent_map.clear();
  recent_map[item.pid] = item.mono_ns;
  execs_.fetch_add(1, std::memory_order_relaxed);

  Observation obs;
  obs.kind = Observation::Kind::kExec;
  obs.method = "fanotify";
  obs.pid = item.pid;
  obs.path = RelativeToRoot(root_real_, item.raw_path);
  obs.kernel_mono_ns = item.mono_ns;
  if (options_.early_read) {
    EarlyRead er = SettleAndRead(item);
    if (!er.complete) early_failures_.fetch_add(1, std::memory_order_relaxed);
    er.exe = RelativeToRoot(root_real_, er.exe);
    obs.ppid = er.ppid;
    obs.early = std::move(er);
  }
  sink->Push(std::move(obs));
}

EarlyRead FanotifySource::SettleAndRead(const PendingExec& item) const {
  // FAN_OPEN_EXEC fires when the binary is opened, before the new image exists.
  // Wait until /proc/PID/exe shows the opened file (or anything other than the
  // old image: a script's exe is its interpreter) AND the new argv is in place
  // (the kernel swaps exe before it copies the arguments), or the deadline.
  const int64_t deadline = options_.clock->MonoNs() + int64_t{options_.exec_settle_us} * 1000;
  const std::string first = ReadExe(proc_fd_, item.pid);
  std::string exe = first;
  useconds_t backoff = 10;
  while (true) {
    if (exe.empty()) return ReadEarly(proc_fd_, item.pid);  // gone
    const bool switched = exe == item.raw_path || exe != first;
    const bool late = options_.clock->MonoNs() >= deadline;
    if (switched || late) {
      EarlyRead er = ReadEarly(proc_fd_, item.pid);
      if (late || !er.cmdline.empty() || er.exe.empty()) return er;
    }
    usleep(backoff);
    if (backoff < 200) backoff *= 2;
    exe = ReadExe(proc_fd_, item.pid);
  }
}

void FanotifySource::AddCounters(std::map<std::string, int64_t>* counters) const {
  (*counters)["fanotify_events"] += events_.load();
  (*counters)["fanotify_execs"] += execs_.load();
  (*counters)["fanotify_file_opens"] += file_opens_.load();
  (*counters)["fanotify_overflows"] += overflows_.load();
  (*counters)["fanotify_foreign"] += foreign_.load();
  (*counters)["fanotify_interp_merged"] += interp_merged_.load();
  (*counters)["fanotify_queue_drops"] += queue_drops_.load();
  (*counters)["fanotify_early_read_failures"] += early_failures_.load();
  (*counters)["fanotify_thread_nice"] += nice_.load();
  (*counters)["fanotify_thread_rt"] += rt_.load() ? 1 : 0;
  (*counters)["fanotify_file_perm"] += file_perm_active_.load() ? 1 : 0;
  (*counters)["fanotify_cpu_us"] += (reader_cpu_ns_.load() + worker_cpu_ns_.load()) / 1000;
}

}  // namespace sandwatch::sensor
