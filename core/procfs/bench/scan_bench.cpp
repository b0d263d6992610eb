// procfs_bench: what a /proc scan costs, against python3-psutil in the same run.
//
//   BM_IncrementalScan/N     Scan() with N idle `sleep` children alive, all known
//                            (defaults: young re-reads done, fd_refresh_budget = 2)
//   BM_IncrementalScanPaced/N  same, 50 ms between scans like a sensor polling every
//                            0.05 s (CPU per scan only; the pauses cost none)
//   BM_IncrementalScanNoFdRefresh/N  same, fd re-reads off: pid list + liveness/exec
//                            check only (what psutil's incremental loop does too)
//   BM_FirstScan/N           a fresh scanner's first Scan(): every process enriched
//   BM_EnrichOne/0|1         full enrichment of one process (1: with a TCP socket)
//   BM_HostScan              Scan() of this machine's /proc as it is, with its churn and
//                            its real fds and sockets (what a node-mode sensor does):
//                            per scan, the changes, fd re-reads and socket tables read
//   BM_ReadFloor/N           the floor under any incremental scan: one getdents pass and
//                            one pread of an already-open /proc/PID/comm per pid
//   BM_TrackedMemory/N       heap the scanner holds after its scans settle, with N idle
//                            children alive: bytes_per_process = heap bytes / tracked
//                            (glibc mallinfo2, deterministic; held comm fds are kernel
//                            memory and not in it)
//   BM_Psutil*               scripts/psutil_scan.py over the same live process set;
//                            cpu_ratio = psutil CPU per scan / sandwatch CPU per scan
// Benchmarks are registered per size (100, 1000, 5000) so that each psutil run follows
// the sandwatch runs on the same live process set, under the same machine load.
//
// CPU time is the process's (user + system), which is what the targets are about;
// the wall time column is reported alongside. Run:
//   <build>/bench/procfs_bench --benchmark_counters_tabular=true
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sandwatch/core/procfs/process_scanner.h"
#include "sleeper_pool.h"

namespace sandwatch::procfs::bench {
namespace {

SleeperPool& Pool() {
  static SleeperPool pool;
  return pool;
}

// Sandwatch CPU microseconds per operation, by benchmark key, for the ratios.
std::map<std::string, double>& Measured() {
  static std::map<std::string, double> m;
  return m;
}

double ProcessCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

std::string PsutilScript() {
  const char* src = std::getenv("SANDWATCH_SOURCE_DIR");
  return src != nullptr ? std::string(src) + "/scripts/psutil_scan.py"
                        : std::string(SANDWATCH_PSUTIL_SCRIPT);
}

bool Prepare(benchmark::State& state, size_t n) {
  if (!Pool().Resize(n)) {
    state.SkipWithError("could not spawn enough sleep processes");
    return false;
  }
  return true;
}

// Scans until the young-process rescans have settled, so the timed scans are steady-state.
void WarmUp(ProcessScanner* scanner, const ScannerOptions& options) {
  for (int i = 0; i <= options.young_rescans + 1; ++i) (void)scanner->Scan();
}

// One scan per benchmark iteration, `pace_ms` of sleep between scans; adds the changes
// seen to `*changes`. CPU microseconds per scan, or nothing when a scan failed (the
// benchmark is then marked skipped).
std::optional<double> ScanEachIteration(benchmark::State& state, ProcessScanner* scanner,
                                        size_t* changes, int pace_ms = 0) {
  const double cpu0 = ProcessCpuUs();
  for ([[maybe_unused]] auto _ : state) {
    auto r = scanner->Scan();
    if (!r.ok()) {
      state.SkipWithError(r.error().message.c_str());
      return std::nullopt;
    }
    *changes += r->changes.size();
    benchmark::DoNotOptimize(r);
    if (pace_ms > 0) usleep(static_cast<useconds_t>(pace_ms) * 1000);
  }
  return (ProcessCpuUs() - cpu0) / static_cast<double>(state.iterations());
}

// `pace_ms` > 0: sleep that long between scans, as the sensor does between polls, so each
// scan starts with caches other work has cooled (the sleep costs no CPU).
void RunScans(benchmark::State& state, const std::string& key, ScannerOptions options,
              int pace_ms = 0) {
  if (!Prepare(state, static_cast<size_t>(state.range(0)))) return;
  ProcessScanner scanner(ProcFs(), options);
  WarmUp(&scanner, options);
  size_t changes = 0;
  auto cpu = ScanEachIteration(state, &scanner, &changes, pace_ms);
  if (!cpu) return;
  const double cpu_per = *cpu;
  Measured()[key + "/" + std::to_string(state.range(0))] = cpu_per;
  state.counters["procs"] = static_cast<double>(scanner.size());
  state.counters["changes"] =
      benchmark::Counter(static_cast<double>(changes), benchmark::Counter::kAvgIterations);
  state.counters["cpu_us"] = cpu_per;
}

void BM_IncrementalScan(benchmark::State& state) { RunScans(state, "incremental", {}); }

void BM_IncrementalScanPaced(benchmark::State& state) { RunScans(state, "paced", {}, 50); }

void BM_IncrementalScanNoFdRefresh(benchmark::State& state) {
  ScannerOptions o;
  o.young_rescans = 0;
  o.fd_refresh_budget = 0;
  RunScans(state, "check_only", o);
}

void BM_FirstScan(benchmark::State& state) {
  if (!Prepare(state, static_cast<size_t>(state.range(0)))) return;
  size_t procs = 0;
  const double cpu0 = ProcessCpuUs();
  for ([[maybe_unused]] auto _ : state) {
    ProcessScanner scanner{ProcFs()};
    auto r = scanner.Scan();
    if (!r.ok()) {
      state.SkipWithError(r.error().message.c_str());
      return;
    }
    procs = scanner.size();
    benchmark::DoNotOptimize(r);
  }
  const double cpu_per = (ProcessCpuUs() - cpu0) / static_cast<double>(state.iterations());
  Measured()["full/" + std::to_string(state.range(0))] = cpu_per;
  state.counters["procs"] = static_cast<double>(procs);
  state.counters["cpu_us"] = cpu_per;
}

void BM_HostScan(benchmark::State& state) {
  if (!Prepare(state, 0)) return;
  ProcessScanner scanner{ProcFs()};
  WarmUp(&scanner, ScannerOptions{});
  const ScanCounters c0 = scanner.counters();
  size_t changes = 0;
  auto cpu = ScanEachIteration(state, &scanner, &changes);
  if (!cpu) return;
  const ScanCounters c1 = scanner.counters();
  const auto n = static_cast<double>(state.iterations());
  const double cpu_per = *cpu;
  state.counters["procs"] = static_cast<double>(scanner.size());
  state.counters["cpu_us"] = cpu_per;
  state.counters["scan_cpu_us"] =
      static_cast<double>(c1.total_scan_cpu_ns - c0.total_scan_cpu_ns) / 1e3 / n;
  state.counters["changes"] = static_cast<double>(changes) / n;
  state.counters["new_procs"] = static_cast<double>(c1.processes_seen - c0.processes_seen) / n;
  state.counters["fd_rereads"] = static_cast<double>(c1.fd_refreshes - c0.fd_refreshes) / n;
  state.counters["net_tables"] = static_cast<double>(c1.net_table_reads - c0.net_table_reads) / n;
}

void BM_ReadFloor(benchmark::State& state) {
  if (!Prepare(state, static_cast<size_t>(state.range(0)))) return;
  ProcFs fs;
  std::vector<int> fds;
  if (auto pids = fs.ListPids(); pids.ok()) {
    for (int pid : *pids) {
      if (auto fd = fs.OpenPidFile(pid, "comm"); fd.ok()) fds.push_back(*fd);
    }
  }
  std::string buf;
  const double cpu0 = ProcessCpuUs();
  for ([[maybe_unused]] auto _ : state) {
    auto pids = fs.ListPids();
    benchmark::DoNotOptimize(pids);
    for (int fd : fds) (void)ProcFs::PreadInto(fd, &buf);
  }
  const double cpu_per = (ProcessCpuUs() - cpu0) / static_cast<double>(state.iterations());
  for (int fd : fds) close(fd);
  Measured()["floor/" + std::to_string(state.range(0))] = cpu_per;
  state.counters["procs"] = static_cast<double>(fds.size());
  state.counters["cpu_us"] = cpu_per;
  auto co = Measured().find("check_only/" + std::to_string(state.range(0)));
  if (co != Measured().end() && cpu_per > 0)
    state.counters["scan_over_floor"] = co->second / cpu_per;
}

size_t HeapInUse() { return mallinfo2().uordblks; }

void BM_TrackedMemory(benchmark::State& state) {
  if (!Prepare(state, static_cast<size_t>(state.range(0)))) return;
  double bytes = 0;
  size_t procs = 0;
  for ([[maybe_unused]] auto _ : state) {
    malloc_trim(0);
    const size_t heap0 = HeapInUse();
    auto scanner = std::make_unique<ProcessScanner>(ProcFs());
    for (int i = 0; i <= ScannerOptions{}.young_rescans + 1; ++i) (void)scanner->Scan();
    bytes = static_cast<double>(HeapInUse()) - static_cast<double>(heap0);
    procs = scanner->size();
    benchmark::DoNotOptimize(scanner);
  }
  state.counters["procs"] = static_cast<double>(procs);
  state.counters["heap_kib"] = bytes / 1024;
  state.counters["bytes_per_process"] = procs > 0 ? bytes / static_cast<double>(procs) : 0;
}

// Subject: a child that holds a loopback TCP connection (range 1) or only /dev/null
// stdio (range 0).
void BM_EnrichOne(benchmark::State& state) {
  if (!Prepare(state, 0)) return;
  const bool with_socket = state.range(0) == 1;
  int listener = -1;
  int conn = -1;
  pid_t pid = -1;
  std::string cmd = "exec sleep 100000";
  if (with_socket) {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(listener, 1) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      state.SkipWithError("cannot listen on loopback");
      close(listener);
      return;
    }
    cmd = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(ntohs(a.sin_port)) +
          " 4</etc/passwd; exec sleep 100000";
  }
  // bash -c keeps the pid; the final exec makes it an idle sleep holding the fds.
  pid = SpawnShell(cmd);
  if (with_socket) conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  WaitUntilExe(pid, "/usr/bin/sleep");
  ProcessScanner scanner{ProcFs()};
  size_t sockets = 0;
  const double cpu0 = ProcessCpuUs();
  for ([[maybe_unused]] auto _ : state) {
    auto info = scanner.EnrichOne(pid);
    if (!info.ok()) {
      state.SkipWithError("subject vanished");
      break;
    }
    sockets = info->sockets.size();
    benchmark::DoNotOptimize(info);
  }
  const double cpu_per = (ProcessCpuUs() - cpu0) / static_cast<double>(state.iterations());
  Measured()["one/" + std::to_string(state.range(0))] = cpu_per;
  state.counters["sockets"] = static_cast<double>(sockets);
  state.counters["cpu_us"] = cpu_per;
  // psutil on the same subject, in the same run.
  auto out = RunAndCapture({"/usr/bin/python3", PsutilScript(), "--mode", "one", "--pid",
                            std::to_string(pid), "--scans", "300"});
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (!j.is_discarded()) {
    state.counters["psutil_cpu_us"] = j.value("cpu_us_per_scan", 0.0);
    state.counters["cpu_ratio"] = j.value("cpu_us_per_scan", 0.0) / cpu_per;
  }
  KillAndReap(pid);
  if (conn >= 0) close(conn);
  if (listener >= 0) close(listener);
}

void RunPsutil(benchmark::State& state, const std::string& mode, const std::string& ours) {
  const auto n = static_cast<size_t>(state.range(0));
  if (!Prepare(state, n)) return;
  const std::string scans = n >= 5000 ? "3" : (n >= 1000 ? "10" : "30");
  nlohmann::json j;
  for ([[maybe_unused]] auto _ : state) {
    auto out = RunAndCapture({"/usr/bin/python3", PsutilScript(), "--mode", mode, "--scans",
                              mode == "full" ? "3" : scans});
    j = nlohmann::json::parse(out, nullptr, false);
  }
  if (j.is_discarded() || !j.is_object()) {
    state.SkipWithError("psutil_scan.py failed (is python3-psutil installed?)");
    return;
  }
  const double cpu = j.value("cpu_us_per_scan", 0.0);
  state.counters["procs"] = j.value("processes", 0);
  state.counters["psutil_cpu_us"] = cpu;
  state.counters["psutil_wall_us"] = j.value("wall_us_per_scan", 0.0);
  auto it = Measured().find(ours + "/" + std::to_string(n));
  if (it != Measured().end() && it->second > 0) state.counters["cpu_ratio"] = cpu / it->second;
  if (mode == "incremental") {
    auto co = Measured().find("check_only/" + std::to_string(n));
    if (co != Measured().end() && co->second > 0) {
      state.counters["cpu_ratio_no_refresh"] = cpu / co->second;
    }
  }
}

void BM_PsutilIncrementalScan(benchmark::State& state) {
  RunPsutil(state, "incremental", "incremental");
}
void BM_PsutilFullScan(benchmark::State& state) { RunPsutil(state, "full", "full"); }

void Register() {
  benchmark::RegisterBenchmark("BM_EnrichOne", BM_EnrichOne)
      ->Arg(0)
      ->Arg(1)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_HostScan", BM_HostScan)
      ->Iterations(200)
      ->Unit(benchmark::kMicrosecond);
  // Per process count, in this order; `iterations` 0 lets the library choose.
  auto add = [](const char* name, void (*fn)(benchmark::State&), int n, int iterations = 0,
                benchmark::TimeUnit unit = benchmark::kMicrosecond) {
    auto* b = benchmark::RegisterBenchmark(name, fn)->Arg(n)->Unit(unit);
    if (iterations > 0) b->Iterations(iterations);
  };
  for (int n : {100, 1000, 5000}) {
    add("BM_IncrementalScan", BM_IncrementalScan, n);
    add("BM_IncrementalScanPaced", BM_IncrementalScanPaced, n, 100);
    add("BM_IncrementalScanNoFdRefresh", BM_IncrementalScanNoFdRefresh, n);
    add("BM_ReadFloor", BM_ReadFloor, n);
    add("BM_PsutilIncrementalScan", BM_PsutilIncrementalScan, n, 1);
    add("BM_TrackedMemory", BM_TrackedMemory, n, 1, benchmark::kMillisecond);
    add("BM_FirstScan", BM_FirstScan, n);
    add("BM_PsutilFullScan", BM_PsutilFullScan, n, 1);
  }
}

}  // namespace
}  // namespace sandwatch::procfs::bench

int main(int argc, char** argv) {
  sandwatch::procfs::bench::Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  sandwatch::procfs::bench::Pool().Resize(0);
  benchmark::Shutdown();
  return 0;
}
