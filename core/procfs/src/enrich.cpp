// ProcessScanner: reading one process in full (enrichment), its fds and ancestors.
#include <algorithm>
#include <array>
#include <span>

#include "net_cache.h"
#include "sandwatch/core/procfs/parsers.h"
#include "sandwatch/core/procfs/process_scanner.h"

namespace sandwatch::procfs {
namespace {

bool SameFd(const FdInfo& a, const FdInfo& b) {
  return a.kind == b.kind && a.inode == b.inode && a.path == b.path;
}

// Widens `keep` (bytes kept per arg) to what an event cut to `cap` shows of `argv`, plus
// one byte of each arg it cuts and one arg more than it shows: cutting the kept argv to
// `cap` again gives the same argv and still reports the cut.
void WidenKeep(const std::vector<std::string>& argv, const ArgvCap& cap,
               std::vector<size_t>* keep) {
  const size_t n = std::min(argv.size(), cap.args + 1);
  if (keep->size() < n) keep->resize(n, 0);
  size_t shown_total = 0;
  for (size_t i = 0; i < n && i < cap.args; ++i) {
    const size_t room = cap.total_bytes - std::min(cap.total_bytes, shown_total);
    const size_t shown = std::min({argv[i].size(), cap.arg_bytes, room});
    const size_t kept = std::min({argv[i].size(), cap.arg_bytes + 1, room + 1});
    (*keep)[i] = std::max((*keep)[i], kept);
    shown_total += shown;
  }
}

// `argv` cut to what events cut to any of `caps` need (see WidenKeep).
std::vector<std::string> KeptArgv(const std::vector<std::string>& argv,
                                  std::span<const ArgvCap> caps) {
  std::vector<size_t> keep;
  for (const ArgvCap& cap : caps) WidenKeep(argv, cap, &keep);
  std::vector<std::string> out;
  out.reserve(keep.size());
  for (size_t i = 0; i < keep.size(); ++i) out.emplace_back(argv[i], 0, keep[i]);
  return out;
}

// Sockets that never appear in /proc/net/{tcp,tcp6,udp,udp6}: looking them up there
// would read the tables for nothing. Unknown protocol: looked up.
bool NeverInTcpUdpTables(const PidDir& dir, int fd) {
  auto proto = dir.SocketProtocol(fd);
  if (!proto.ok()) return false;
  return proto->starts_with("UNIX") || proto->starts_with("NETLINK");
}

}  // namespace

const SocketInfo* FindNetworkSocket(const ProcessInfo& process, uint64_t inode) {
  for (const auto& s : process.sockets) {
    if (s.inode == inode) return &s;
  }
  return nullptr;
}

ProcessInfo ProcessScanner::Enrich(const PidDir& dir, const StatFields& stat, NetTables* net,
                                   bool* gone) {
  const int pid = dir.pid();
  ProcessInfo info;
  info.key = {pid, stat.start_ticks};
  info.ppid = stat.ppid;
  info.name = stat.comm;
  info.start_time_ns = stat.start_ticks * static_cast<uint64_t>(ns_per_tick_);
  info.kernel_thread = stat.IsKernelThread();
  info.first_seen_mono_ns = clock_->MonoNs();
  *gone = false;
  if (info.kernel_thread) return info;

  auto note = [&](const Error& e) {
    if (IsGone(e)) {
      *gone = true;
    } else {
      ++counters_.read_errors;
    }
  };

  // cmdline first: it is what a short-lived process loses first and rules need most.
  auto cmdline = dir.ReadFile("cmdline", 256u << 10);
  if (cmdline.ok()) info.cmdline = ParseCmdline(*cmdline);
  bool cmdline_gone = !cmdline.ok() && IsGone(cmdline.error());
  if (!cmdline.ok()) note(cmdline.error());
  if (cmdline.ok() && info.cmdline.empty()) {
    // Empty argv: a zombie, or a process that exited between stat and cmdline.
    auto again = dir.ReadFile("stat", 4096);
    auto parsed = again.ok() ? ParseStat(*again) : Result<StatFields>(MakeError("gone"));
    if (!parsed.ok() || parsed->state == 'Z' || parsed->start_ticks != stat.start_ticks) {
      cmdline_gone = true;
      *gone = true;
    }
  }
  if (cmdline_gone) ++counters_.cmdline_unreadable;

  if (auto status = dir.ReadFile("status", 64u << 10); status.ok()) {
    if (auto parsed = ParseStatus(*status); parsed.ok()) info.uid = parsed->uid;
  } else {
    note(status.error());
  }

  // One open: the path and the identity describe the same image even when the
  // process execs again meanwhile (env, nice, exec "$@" entrypoints).
  if (auto exe = dir.ReadExe(); exe.ok()) {
    ExeLink link = ParseExeLink(exe->link);
    info.exe = std::move(link.path);
    info.exe_deleted = link.deleted;
    info.exe_memfd = link.memfd;
    if (exe->stat) {
      info.exe_dev = exe->stat->dev;
      info.exe_inode = exe->stat->inode;
      info.exe_size = exe->stat->size;
      info.exe_mtime_ns = exe->stat->mtime_ns;
      info.exe_ctime_ns = exe->stat->ctime_ns;
    }
  } else {
    note(exe.error());
  }

  if (auto cwd = dir.ReadLink("cwd"); cwd.ok()) {
    info.cwd = ParseExeLink(*cwd).path;
  } else {
    note(cwd.error());
  }

  if (options_.read_fds && !ReadFds(dir, &info, net, false)) *gone = true;
  FillAncestors(&info);
  info.partial = *gone;
  if (*gone) ++counters_.partial;
  return info;
}

bool ProcessScanner::ReadFds(const PidDir& dir, ProcessInfo* info, NetTables* net,
                             bool retry_unresolved) {
  const int pid = dir.pid();
  auto fds = dir.ListFds(options_.max_fds);
  if (!fds.ok()) {
    if (IsGone(fds.error())) return false;
    ++counters_.read_errors;  // EACCES: another user's process without CAP_SYS_PTRACE
    return true;
  }
  // Socket inodes already looked up (resolved or not: unix sockets never resolve)
  // are not looked up again, so re-reading fds of a process holding the same sockets
  // never costs a /proc/net read (about 1.4 ms for tcp+tcp6 on the lab machine).
  std::vector<uint64_t> looked_up;
  for (const auto& f : info->fds) {
    if (f.kind == FdKind::kSocket) looked_up.push_back(f.inode);
  }
  std::sort(looked_up.begin(), looked_up.end());
  std::vector<SocketInfo> kept;
  std::vector<uint64_t> fresh;
  info->fds.clear();
  std::string name;
  for (int fd : *fds) {
    name = "fd/" + std::to_string(fd);
    auto link = dir.ReadLink(name);
    if (!link.ok()) continue;  // closed between listing and readlink
    FdInfo fi = ParseFdLink(fd, *link);
    if (fi.kind == FdKind::kSocket) {
      const SocketInfo* known = FindNetworkSocket(*info, fi.inode);
      if (known != nullptr) {
        kept.push_back(*known);
      } else if ((retry_unresolved ||
                  !std::binary_search(looked_up.begin(), looked_up.end(), fi.inode)) &&
                 !NeverInTcpUdpTables(dir, fd)) {
        fresh.push_back(fi.inode);
      }
    }
    info->fds.push_back(std::move(fi));
  }
  std::vector<SocketInfo> resolved = net->Resolve(pid, fresh);
  kept.insert(kept.end(), resolved.begin(), resolved.end());
  info->sockets = std::move(kept);
  return true;
}

void ProcessScanner::FillAncestors(ProcessInfo* info) {
  info->ancestors.clear();
  int ppid = info->ppid;
  uint64_t child_ticks = info->key.start_ticks;
  const std::array<ArgvCap, 2> both_caps = {options_.parent_event_argv,
                                            options_.ancestor_event_argv};
  for (int depth = 0; depth < options_.ancestor_depth && ppid > 0; ++depth) {
    AncestorRef ref;
    ref.pid = ppid;
    int next = 0;
    // The parent is shown both as the event's parent and as its first ancestor.
    const std::span<const ArgvCap> caps = depth == 0 ? std::span<const ArgvCap>(both_caps)
                                                     : std::span<const ArgvCap>(both_caps).last(1);
    auto it = table_.find(ppid);
    // A parent is never younger than its child; a younger entry is a reused pid.
    if (it != table_.end() && it->second.info.key.start_ticks <= child_ticks) {
      const ProcessInfo& p = it->second.info;
      ref.name = p.name;
      ref.cmdline = KeptArgv(p.cmdline, caps);
      next = p.ppid;
      child_ticks = p.key.start_ticks;
    } else {
      auto text = fs_.ReadPidFile(ppid, "stat", 4096);
      auto st = text.ok() ? ParseStat(*text) : Result<StatFields>(MakeError("gone"));
      if (!st.ok()) break;
      ref.name = st->comm;
      if (auto cl = fs_.ReadPidFile(ppid, "cmdline", 64u << 10); cl.ok()) {
        ref.cmdline = KeptArgv(ParseCmdline(*cl), caps);
      }
      next = st->ppid;
      child_ticks = st->start_ticks;
    }
    info->ancestors.push_back(std::move(ref));
    if (next == ppid) break;
    ppid = next;
  }
}

bool ProcessScanner::RefreshEntry(Entry* entry, NetTables* net, ProcessChange* change,
                                  bool retry_unresolved) {
  ++counters_.fd_refreshes;
  ProcessInfo& info = entry->info;
  // Open the pid and make sure it is still the same process before reading its fds.
  auto dir = fs_.OpenPid(info.key.pid);
  if (!dir.ok()) return false;
  auto stat = dir->ReadFile("stat", 4096);
  auto key = stat.ok() ? ParseStatKey(*stat) : Result<StatKey>(stat.error());
  if (!key.ok() || key->start_ticks != info.key.start_ticks) return false;
  std::vector<FdInfo> old_fds = info.fds;
  std::vector<SocketInfo> old_sockets = info.sockets;
  if (!ReadFds(*dir, &info, net, retry_unresolved)) return false;
  change->kind = ChangeKind::kFdsChanged;
  change->new_fds.clear();
  change->new_sockets.clear();
  for (const auto& fd : info.fds) {
    bool known =
        std::any_of(old_fds.begin(), old_fds.end(), [&](const FdInfo& o) { return SameFd(o, fd); });
    if (!known) change->new_fds.push_back(fd);
  }
  for (const auto& s : info.sockets) {
    bool known = std::any_of(old_sockets.begin(), old_sockets.end(), [&](const SocketInfo& o) {
      return o.inode == s.inode && o.remote == s.remote && o.state == s.state;
    });
    if (!known) change->new_sockets.push_back(s);
  }
  bool changed = !change->new_fds.empty() || !change->new_sockets.empty();
  if (changed) change->info = info;
  return changed;
}

}  // namespace sandwatch::procfs
