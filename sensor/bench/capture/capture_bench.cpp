#include "capture_bench.h"

#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "../../tests/capture/capture_test_support.h"
#include "../../tests/capture/short/spawner.h"
#include "bench_sinks.h"
#include "fanotify_source.h"
#include "inotify_source.h"
#include "netlink_source.h"
#include "poll_source.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/procfs/parsers.h"
#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/core/procfs/usage.h"

namespace sandwatch::sensor::bench {

namespace {

using testing::Spawn;
using testing::WaitExit;

struct Spawned {
  int pid = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::vector<std::string> argv;
};

int64_t Mono() { return SystemClock().MonoNs(); }

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// One trial through the non-shell spawner: fork + execv, nothing else runs
// between trials (no shell, no helper that would open files and give inotify a
// free trigger while the trial is alive).
Spawned RunOne(const std::vector<std::string>& argv) {
  Spawned s;
  s.argv = argv;
  testing::SpawnPlan plan{argv, 1, 1, 0};
  auto runs = testing::RunSpawnPlan(plan);
  if (runs.empty()) return s;
  s.pid = runs[0].pid;
  s.start_ns = runs[0].start_mono_ns;
  s.end_ns = runs[0].reap_mono_ns;
  return s;
}

// Builds the 1 ms trial program twice, static and dynamic, into a directory
// made after the sources started (a dropped binary, as an attacker's would be).
Result<std::pair<std::string, std::string>> BuildTrials(const std::string& source_dir) {
  std::string tmpl = "/tmp/capture-bench-drop.XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return MakeError("mkdtemp failed");
  const std::string dir = tmpl.data();
  const std::string src = source_dir + "/sensor/tests/capture/short/one_ms.c";
  const std::string st = dir + "/trial-static", dyn = dir + "/trial-dynamic";
  if (std::system(("gcc -O2 -static -o " + st + " " + src).c_str()) != 0) {
    return MakeError("gcc -static " + src + " failed (libc6-dev installed?)");
  }
  if (std::system(("gcc -O2 -o " + dyn + " " + src).c_str()) != 0) {
    return MakeError("gcc " + src + " failed");
  }
  return std::make_pair(st, dyn);
}

// Runs `n` copies of argv with `inflight` at once; returns the pids.
std::vector<int> Storm(const std::vector<std::string>& argv, int n, int inflight) {
  std::vector<int> pids;
  std::set<int> running;
  int started = 0;
  while (started < n || !running.empty()) {
    while (started < n && static_cast<int>(running.size()) < inflight) {
      int pid = Spawn(argv);
      ++started;
      if (pid > 0) {
        running.insert(pid);
        pids.push_back(pid);
      }
    }
    int status = 0;
    int pid = waitpid(-1, &status, 0);
    if (pid > 0)
      running.erase(pid);
    else if (running.empty())
      break;
  }
  return pids;
}

// Trial scoring against an event source: first observation of `kind` for the pid
// inside the trial's window.
void ScoreEvents(const std::vector<Observation>& obs, Observation::Kind kind,
                 const std::string& path, const std::vector<Spawned>& trials, Cell* cell) {
  std::unordered_multimap<int, const Observation*> by_pid;
  for (const auto& o : obs) {
    if (o.kind == kind && (path.empty() || o.path == path)) by_pid.emplace(o.pid, &o);
  }
  for (const Spawned& t : trials) {
    ++cell->trials;
    const Observation* best = nullptr;
    auto [lo, hi] = by_pid.equal_range(t.pid);
    for (auto it = lo; it != hi; ++it) {
      const Observation* o = it->second;
      if (o->kernel_mono_ns < t.start_ns || o->kernel_mono_ns > t.end_ns + 2'000'000'000) continue;
      if (!best || o->kernel_mono_ns < best->kernel_mono_ns) best = o;
    }
    if (!best) continue;
    ++cell->detected;
    if (best->early && best->early->cmdline == t.argv) ++cell->argv;
    cell->latency_ms.push_back(static_cast<double>(best->kernel_mono_ns - t.start_ns) / 1e6);
  }
}

void ScoreScans(const std::vector<Sighting>& seen, const std::vector<Spawned>& trials, Cell* cell,
                int* shadow_fd) {
  std::unordered_multimap<int, const Sighting*> by_pid;
  for (const auto& s : seen) by_pid.emplace(s.pid, &s);
  for (const Spawned& t : trials) {
    ++cell->trials;
    const Sighting* best = nullptr;
    auto [lo, hi] = by_pid.equal_range(t.pid);
    for (auto it = lo; it != hi; ++it) {
      const Sighting* s = it->second;
      if (s->mono_ns < t.start_ns || s->mono_ns > t.end_ns + 1'000'000'000) continue;
      if (!best || s->mono_ns < best->mono_ns) best = s;
    }
    if (!best) continue;
    ++cell->detected;
    if (best->cmdline == t.argv) ++cell->argv;
    if (shadow_fd && best->shadow_fd) ++*shadow_fd;
    cell->latency_ms.push_back(static_cast<double>(best->mono_ns - t.start_ns) / 1e6);
  }
}

// utime + stime of `pid` in clock ticks; 0 when it cannot be read.
int64_t ProcCpuTicks(int pid) {
  auto text = procfs::ProcFs().ReadPidFile(pid, "stat");
  if (!text.ok()) return 0;
  auto ticks = procfs::ParseStatCpuTicks(*text);
  return ticks.ok() ? static_cast<int64_t>(*ticks) : 0;
}

std::string LoadAvg() { return procfs::LoadAveragesText(procfs::ProcFs("/proc")); }

double MedianLifetime(const std::vector<Spawned>& trials) {
  std::vector<double> v;
  v.reserve(trials.size());
  for (const auto& t : trials) v.push_back(static_cast<double>(t.end_ns - t.start_ns) / 1e6);
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Rig {
  explicit Rig(int scan_nice) : inotify_sink(scan_nice), poll_sink(scan_nice) {}
  EventSink netlink_sink, fanotify_sink;
  ScanSink inotify_sink, poll_sink;
  std::unique_ptr<NetlinkSource> netlink;
  std::unique_ptr<FanotifySource> fanotify;
  std::unique_ptr<InotifySource> inotify;
  std::unique_ptr<PollSource> poll;

  std::map<std::string, int64_t> Counters() const {
    std::map<std::string, int64_t> c;
    netlink->AddCounters(&c);
    fanotify->AddCounters(&c);
    inotify->AddCounters(&c);
    poll->AddCounters(&c);
    // The scans a trigger causes are part of its cost.
    c["inotify_cpu_us"] += inotify_sink.cpu_ns() / 1000;
    c["poll_cpu_us"] += poll_sink.cpu_ns() / 1000;
    c["inotify_pipeline_scans"] = inotify_sink.scans();
    c["poll_pipeline_scans"] = poll_sink.scans();
    return c;
  }
};

}  // namespace

Result<BenchResult> RunBench(const BenchConfig& config) {
  if (geteuid() != 0) return MakeError("capture_bench needs root (netlink, fanotify)");
  BenchResult r;
  r.sources = {"netlink", "fanotify", "inotify", "poll"};
  utsname u{};
  uname(&u);
  r.environment["kernel"] = u.release;
  r.environment["cpus"] = std::to_string(std::thread::hardware_concurrency());
  r.environment["poll_interval_s"] = std::to_string(config.poll_interval_s);
  r.environment["loadavg_start"] = LoadAvg();
  r.environment["scan_nice"] = std::to_string(config.scan_nice);

  Rig rig(config.scan_nice);
  rig.netlink = std::make_unique<NetlinkSource>(NetlinkOptions{});
  rig.fanotify = std::make_unique<FanotifySource>(FanotifyOptions{});
  rig.inotify = std::make_unique<InotifySource>(InotifyOptions{});
  rig.poll = std::make_unique<PollSource>(config.poll_interval_s);
  if (Status s = rig.netlink->Start(&rig.netlink_sink); !s.ok()) return s.error();
  if (Status s = rig.fanotify->Start(&rig.fanotify_sink); !s.ok()) return s.error();
  if (Status s = rig.inotify->Start(&rig.inotify_sink); !s.ok()) return s.error();
  if (Status s = rig.poll->Start(&rig.poll_sink); !s.ok()) return s.error();
  SleepMs(300);

  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> gap(20, 80);
  auto score_all = [&](const std::string& workload, const std::vector<Spawned>& trials,
                       Observation::Kind fan_kind, const std::string& fan_path) {
    SleepMs(1000);  // stragglers: fanotify settle, netlink backlog
    ScoreEvents(rig.netlink_sink.Snapshot(), Observation::Kind::kExec, "", trials,
                &r.cells[workload]["netlink"]);
    ScoreEvents(rig.fanotify_sink.Snapshot(), fan_kind, fan_path, trials,
                &r.cells[workload]["fanotify"]);
    int fd_inotify = 0, fd_poll = 0;
    ScoreScans(rig.inotify_sink.Snapshot(), trials, &r.cells[workload]["inotify"], &fd_inotify);
    ScoreScans(rig.poll_sink.Snapshot(), trials, &r.cells[workload]["poll"], &fd_poll);
    r.workload_lifetime_p50_ms[workload] = MedianLifetime(trials);
    if (fan_kind == Observation::Kind::kFileOpen) {
      r.counters["shadow_fd_seen_by_inotify_scan"] = fd_inotify;
      r.counters["shadow_fd_seen_by_poll_scan"] = fd_poll;
    }
  };

  // Lifetime trials: a dropped static and a dropped dynamic binary living ~1,
  // 10, 100 ms, each started directly by the spawner (no shell between trials).
  auto trial_bins = BuildTrials(config.source_dir);
  if (!trial_bins.ok()) return trial_bins.error();
  for (auto [label, arg, n] :
       {std::tuple<const char*, const char*, int>{"1ms", "1000", config.trials_short},
        {"10ms", "10000", config.trials_short},
        {"100ms", "100000", config.trials_long}}) {
    for (const auto& [kind, bin] :
         {std::pair{"static", trial_bins->first}, std::pair{"dynamic", trial_bins->second}}) {
      std::vector<Spawned> trials;
      for (int i = 0; i < n; ++i) {
        trials.push_back(RunOne({bin, arg}));
        SleepMs(gap(rng));
      }
      score_all(std::string(kind) + " " + label, trials, Observation::Kind::kExec, "");
    }
  }
  std::system(("rm -rf " + trial_bins->first.substr(0, trial_bins->first.rfind('/'))).c_str());

  // Shadow trials: `cat /etc/shadow`, about 1 ms (dynamic, from /usr/bin).
  {
    std::vector<Spawned> trials;
    for (int i = 0; i < config.shadow_trials; ++i) {
      trials.push_back(RunOne({"/usr/bin/cat", "/etc/shadow"}));
      SleepMs(gap(rng));
    }
    score_all("cat /etc/shadow", trials, Observation::Kind::kFileOpen, "/etc/shadow");
  }

  // Storm: /usr/bin/true at full speed, 64 in flight, forkstat listening too.
  {
    std::string fs_out = "/tmp/capture_bench_forkstat." + std::to_string(getpid());
    int fs_pid = -1;
    if (config.forkstat && access("/usr/bin/forkstat", X_OK) == 0) {
      fs_pid = fork();
      if (fs_pid == 0) {
        FILE* f = freopen(fs_out.c_str(), "w", stdout);
        (void)f;
        execl("/usr/bin/forkstat", "forkstat", "-e", "exec", "-l", static_cast<char*>(nullptr));
        _exit(127);
      }
      SleepMs(500);
    }
    const int64_t fs_ticks0 = fs_pid > 0 ? ProcCpuTicks(fs_pid) : 0;
    auto before = rig.Counters();
    const int64_t t0 = Mono();
    std::vector<int> pids = Storm({"/usr/bin/true"}, config.storm, config.inflight);
    const int64_t t1 = Mono();
    SleepMs(1500);
    auto after = rig.Counters();
    r.storm_spawned = static_cast<int>(pids.size());
    r.counters["storm_wall_ms"] = (t1 - t0) / 1'000'000;
    std::set<int> ours(pids.begin(), pids.end());
    auto count_events = [&](const std::vector<Observation>& obs) {
      std::set<int> seen;
      for (const auto& o : obs) {
        if (o.kind == Observation::Kind::kExec && o.kernel_mono_ns >= t0 && ours.count(o.pid)) {
          seen.insert(o.pid);
        }
      }
      return static_cast<int>(seen.size());
    };
    auto count_scans = [&](const std::vector<Sighting>& all) {
      std::set<int> seen;
      for (const auto& s : all) {
        if (s.mono_ns >= t0 && ours.count(s.pid)) seen.insert(s.pid);
      }
      return static_cast<int>(seen.size());
    };
    r.storm_seen["netlink"] = count_events(rig.netlink_sink.Snapshot());
    r.storm_seen["fanotify"] = count_events(rig.fanotify_sink.Snapshot());
    r.storm_seen["inotify"] = count_scans(rig.inotify_sink.Snapshot());
    r.storm_seen["poll"] = count_scans(rig.poll_sink.Snapshot());
    const double k = static_cast<double>(pids.size()) / 1000.0;
    for (const std::string& s : r.sources) {
      double us = static_cast<double>(after[s + "_cpu_us"] - before[s + "_cpu_us"]);
      r.cpu_ms_per_1000_execs[s] = us / 1000.0 / k;
    }
    r.counters["netlink_overflows_in_storm"] =
        after["netlink_overflows"] - before["netlink_overflows"];
    r.counters["inotify_events_in_storm"] = after["inotify_events"] - before["inotify_events"];
    r.counters["inotify_scans_in_storm"] =
        after["inotify_scans_triggered"] - before["inotify_scans_triggered"];
    if (fs_pid > 0) {
      const int64_t ticks = ProcCpuTicks(fs_pid) - fs_ticks0;
      r.cpu_ms_per_1000_execs["forkstat"] =
          static_cast<double>(ticks) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK)) / k;
      kill(fs_pid, SIGINT);
      waitpid(fs_pid, nullptr, 0);
      std::ifstream in(fs_out);
      std::set<int> seen;
      std::string line;
      while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string time, event, pid;
        if (ls >> time >> event >> pid && event == "exec") {
          int p = std::atoi(pid.c_str());
          if (ours.count(p)) seen.insert(p);
        }
      }
      r.storm_seen["forkstat"] = static_cast<int>(seen.size());
      unlink(fs_out.c_str());
    }
  }

  // argv storm: 5 ms processes, 64 in flight. A second netlink source at the
  // default priority runs beside the default one, to show what the priority buys.
  {
    EventSink plain_sink;
    NetlinkOptions plain_opts;
    plain_opts.priority = {0, false};
    NetlinkSource plain(plain_opts);
    const bool have_plain = plain.Start(&plain_sink).ok();
    SleepMs(200);
    const int64_t t0 = Mono();
    std::vector<int> pids = Storm({"/usr/bin/sleep", "0.005"}, config.argv_storm, config.inflight);
    SleepMs(1500);
    plain.Stop();
    std::set<int> ours(pids.begin(), pids.end());
    const std::vector<std::string> argv = {"/usr/bin/sleep", "0.005"};
    for (const char* name : {"netlink", "fanotify", "netlink (default priority)"}) {
      const std::string n = name;
      if (n == "netlink (default priority)" && !have_plain) continue;
      const EventSink& sink = n == "netlink"    ? rig.netlink_sink
                              : n == "fanotify" ? rig.fanotify_sink
                                                : plain_sink;
      Cell& cell = r.cells["storm 5ms x64"][name];
      std::set<int> seen, with_argv;
      for (const auto& o : sink.Snapshot()) {
        if (o.kind != Observation::Kind::kExec || o.kernel_mono_ns < t0 || !ours.count(o.pid))
          continue;
        seen.insert(o.pid);
        if (o.early && o.early->cmdline == argv) with_argv.insert(o.pid);
      }
      cell.trials = static_cast<int>(pids.size());
      cell.detected = static_cast<int>(seen.size());
      cell.argv = static_cast<int>(with_argv.size());
    }
  }

  r.environment["loadavg_end"] = LoadAvg();
  auto final_counters = rig.Counters();
  for (const auto& [k, v] : final_counters) r.counters[k] = v;
  rig.netlink->Stop();
  rig.fanotify->Stop();
  rig.inotify->Stop();
  rig.poll->Stop();
  return r;
}

}  // namespace sandwatch::sensor::bench
