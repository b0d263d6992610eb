#include "inotify_look.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "early_read.h"
#include "sandwatch/core/clock.h"

namespace sandwatch::sensor {

namespace {

void StoreMax(std::atomic<int64_t>* slot, int64_t value) {
  int64_t cur = slot->load(std::memory_order_relaxed);
  while (value > cur && !slot->compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
}

}  // namespace

NewPidLook::NewPidLook(NewPidLookOptions options)
    : options_(std::move(options)), fs_(options_.proc_root) {}

Status NewPidLook::Open(ObservationSink* sink) {
  Close();
  std::array<char, PATH_MAX> real;
  root_real_ =
      realpath(options_.workload_root.c_str(), real.data()) ? real.data() : options_.workload_root;
  proc_fd_ = open(options_.proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc_fd_ < 0) return MakeError(ErrnoText("open " + options_.proc_root, errno), errno);
  auto pids = fs_.ListPids();
  if (!pids.ok()) {
    Close();
    return pids.error();
  }
  known_ = std::move(pids.value());
  last_pid_fd_ =
      open((options_.proc_root + "/sys/kernel/ns_last_pid").c_str(), O_RDONLY | O_CLOEXEC);
  last_pid_ = ReadLastPid();
  pending_.clear();
  forks_.clear();
  self_pid_ = static_cast<int>(getpid());
  sink_ = sink;
  return OkStatus();
}

void NewPidLook::Close() {
  if (proc_fd_ >= 0) close(proc_fd_);
  if (last_pid_fd_ >= 0) close(last_pid_fd_);
  proc_fd_ = last_pid_fd_ = -1;
}

int64_t NewPidLook::ReadLastPid() const {
  if (last_pid_fd_ < 0) return -1;
  std::array<char, 32> buf;
  ssize_t n = pread(last_pid_fd_, buf.data(), buf.size() - 1, 0);
  if (n <= 0) return -1;
  buf[n] = '\0';
  return std::strtoll(buf.data(), nullptr, 10);
}

void NewPidLook::Look(int64_t event_ns, int64_t triggers) {
  if (proc_fd_ < 0) return;
  if (triggers > 1) merged_.fetch_add(triggers - 1, std::memory_order_relaxed);
  const int64_t last_pid = ReadLastPid();
  if (last_pid >= 0 && last_pid == last_pid_ && forks_.empty()) {
    looks_skipped_.fetch_add(1, std::memory_order_relaxed);
    return;  // no process was created since the last look
  }
  looks_.fetch_add(1, std::memory_order_relaxed);
  auto listed = fs_.ListPids();
  if (!listed.ok()) return;
  std::vector<int> pids = std::move(listed.value());
  // A pid is handed out before its process shows in /proc: trust the value for
  // the next skip only when that process was in the list.
  last_pid_ =
      std::binary_search(pids.begin(), pids.end(), static_cast<int>(last_pid)) ? last_pid : -1;
  std::vector<int> fresh;
  std::set_difference(pids.begin(), pids.end(), known_.begin(), known_.end(),
                      std::back_inserter(fresh));
  known_ = std::move(pids);
  new_pids_.fetch_add(static_cast<int64_t>(fresh.size()), std::memory_order_relaxed);
  StoreMax(&new_pids_max_, static_cast<int64_t>(fresh.size()));
  for (int pid : fresh) {
    if (pid != self_pid_) NewPid(pid, event_ns);
  }
  // Forks seen earlier that have exec'd since: back to pending for the argv.
  const int64_t now = SystemClock().MonoNs();
  for (auto it = forks_.begin(); it != forks_.end();) {
    std::string exe = ReadExe(proc_fd_, it->first);
    if (exe.empty()) {
      it = forks_.erase(it);
    } else if (exe != it->second) {
      pending_[it->first] =
          Pending{it->second, now + options_.settle_ns, now + options_.spin_ns, event_ns};
      it = forks_.erase(it);
    } else {
      ++it;
    }
  }
}

void NewPidLook::NoteDroppedOpen(const std::string& path, int64_t mono_ns) {
  if (dropped_opens_.size() >= 16) dropped_opens_.erase(dropped_opens_.begin());
  dropped_opens_.emplace_back(path, mono_ns);
}

bool NewPidLook::ExeFromDroppedOpen(EarlyRead* er, int64_t now) const {
  constexpr int64_t kRecentNs = 1'000'000'000;
  if (er->name.empty()) return false;
  for (size_t i = dropped_opens_.size(); i-- > 0;) {  // newest first
    const auto& [path, opened_ns] = dropped_opens_[i];
    if (now - opened_ns > kRecentNs) break;
    std::string base = path.substr(path.rfind('/') + 1);
    if (base.size() > 15) base.resize(15);  // TASK_COMM_LEN - 1
    if (base == er->name) {
      er->exe = path;  // workload-relative already
      er->complete = false;
      return true;
    }
  }
  return false;
}

void NewPidLook::NewPid(int pid, int64_t event_ns) {
  EarlyRead er = ReadEarly(proc_fd_, pid);
  const int64_t now = SystemClock().MonoNs();
  if (er.exe.empty()) {
    if (ExeFromDroppedOpen(&er, now)) {  // a zombie already: what its comm names
      exe_from_event_.fetch_add(1, std::memory_order_relaxed);
      Emit(pid, std::move(er), event_ns, now);
      return;
    }
    gone_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::string parent_exe = er.ppid > 0 ? ReadExe(proc_fd_, er.ppid) : std::string();
  if (er.exe != parent_exe && !er.cmdline.empty()) {
    Emit(pid, std::move(er), event_ns, now);
    return;
  }
  Pending p{std::move(parent_exe), now + options_.settle_ns, now + options_.spin_ns, event_ns};
  if (!Check(pid, &p, now)) pending_.emplace(pid, std::move(p));
}

int64_t NewPidLook::CheckPending() {
  if (pending_.empty()) return -1;
  const int64_t now = SystemClock().MonoNs();
  bool spin = false;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (Check(it->first, &it->second, now)) {
      it = pending_.erase(it);
    } else {
      spin |= now < it->second.spin_until_ns;
      ++it;
    }
  }
  if (pending_.empty()) return -1;
  return spin ? 0 : options_.backoff_ns;
}

bool NewPidLook::Check(int pid, Pending* p, int64_t now) {
  std::string exe = ReadExe(proc_fd_, pid);
  if (exe.empty()) {
    EarlyRead er = ReadEarly(proc_fd_, pid);
    if (er.exe.empty() && ExeFromDroppedOpen(&er, now)) {
      exe_from_event_.fetch_add(1, std::memory_order_relaxed);
      Emit(pid, std::move(er), p->event_ns, now);
      return true;
    }
    gone_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  const bool late = now >= p->deadline_ns;
  if (exe != p->parent_exe) {
    EarlyRead er = ReadEarly(proc_fd_, pid);
    if (er.exe.empty()) {
      gone_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    if (er.cmdline.empty() && !late) return false;  // exec still copying argv
    Emit(pid, std::move(er), p->event_ns, now);
    return true;
  }
  if (!late) return false;
  forks_seen_.fetch_add(1, std::memory_order_relaxed);
  if (forks_.size() < options_.max_forks) forks_.emplace(pid, std::move(p->parent_exe));
  return true;
}

void NewPidLook::Emit(int pid, EarlyRead er, int64_t event_ns, int64_t now) {
  execs_.fetch_add(1, std::memory_order_relaxed);
  if (event_ns > 0 && now >= event_ns) {
    const int64_t us = (now - event_ns) / 1000;
    read_us_total_.fetch_add(us, std::memory_order_relaxed);
    StoreMax(&read_us_max_, us);
  }
  // Its descriptors too, before it can exit: a connection on stdio or a credential
  // file it opened is then attributed even when the pipeline finds it gone.
  if (!er.cmdline.empty()) {
    fds_read_.fetch_add(static_cast<int64_t>(ReadEarlyFds(proc_fd_, pid, &er)),
                        std::memory_order_relaxed);
  }
  er.exe = RelativeToRoot(root_real_, er.exe);
  Observation obs;
  obs.kind = Observation::Kind::kExec;
  obs.method = "inotify";
  obs.pid = pid;
  obs.ppid = er.ppid;
  obs.path = er.exe;
  obs.kernel_mono_ns = event_ns;
  obs.early = std::move(er);
  sink_->Push(std::move(obs));
}

void NewPidLook::AddCounters(std::map<std::string, int64_t>* counters) const {
  (*counters)["inotify_looks"] += looks_.load();
  (*counters)["inotify_triggers_merged"] += merged_.load();
  (*counters)["inotify_looks_skipped"] += looks_skipped_.load();
  (*counters)["inotify_look_new_pids"] += new_pids_.load();
  (*counters)["inotify_look_new_pids_max"] += new_pids_max_.load();
  (*counters)["inotify_look_execs"] += execs_.load();
  (*counters)["inotify_look_gone"] += gone_.load();
  (*counters)["inotify_look_exe_from_event"] += exe_from_event_.load();
  (*counters)["inotify_look_forks"] += forks_seen_.load();
  (*counters)["inotify_look_fds_read"] += fds_read_.load();
  (*counters)["inotify_event_to_read_us_total"] += read_us_total_.load();
  (*counters)["inotify_event_to_read_us_max"] += read_us_max_.load();
}

}  // namespace sandwatch::sensor
