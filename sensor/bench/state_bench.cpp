// What the restart state costs (Google Benchmark): saving state.v1 for N known
// processes, the seq.v1 write ahead of each event, and restoring the saved baseline of
// this machine's root compared with building it afresh, in the same run.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>

#include "sandwatch/sensor/state_codec.h"
#include "sandwatch/sensor/state_file.h"
#include "sandwatch/sensor/state_keeper.h"

namespace sandwatch::sensor {
namespace {

struct BenchDir {
  BenchDir() {
    std::string tmpl = "/tmp/sw-state-bench-XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~BenchDir() { std::filesystem::remove_all(path); }
  std::string path;
};

std::unique_ptr<StateKeeper> KeeperWith(const std::string& dir, int processes) {
  StateOptions o;
  o.dir = dir;
  o.key = "bench-key";
  auto k = std::move(StateKeeper::Open(o).value());
  (void)k->ResolveSensorId("", "bench-sensor");
  for (int pid = 1; pid <= processes; ++pid) {
    ProcessInfo p;
    p.key = {pid, static_cast<uint64_t>(pid) * 3};
    p.exe = "/usr/bin/sleep";
    p.name = "sleep";
    k->Seen(p);
  }
  k->ScanDone();
  return k;
}

void BM_StateSave(benchmark::State& state) {
  BenchDir dir;
  auto k = KeeperWith(dir.path, static_cast<int>(state.range(0)));
  for ([[maybe_unused]] auto _ : state) k->SaveNow(0);
  std::map<std::string, int64_t> c;
  k->AddCounters(&c);
  state.counters["state_bytes"] = static_cast<double>(c["state_bytes"]);
  state.counters["bytes_per_process"] =
      static_cast<double>(c["state_bytes"]) / static_cast<double>(state.range(0));
}
BENCHMARK(BM_StateSave)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_SeqWriteAhead(benchmark::State& state) {
  BenchDir dir;
  auto k = KeeperWith(dir.path, 10);
  uint64_t seq = 0;
  for ([[maybe_unused]] auto _ : state) k->RecordSeq(++seq);
}
BENCHMARK(BM_SeqWriteAhead)->Unit(benchmark::kMicrosecond);

void BM_BaselineBuildRoot(benchmark::State& state) {
  for ([[maybe_unused]] auto _ : state) {
    auto b = procfs::Baseline::Build("/");
    benchmark::DoNotOptimize(b);
    state.counters["files"] = static_cast<double>(b.ok() ? b->size() : 0);
  }
}
BENCHMARK(BM_BaselineBuildRoot)->Unit(benchmark::kMillisecond);

void BM_BaselineRestoreRoot(benchmark::State& state) {
  BenchDir dir;
  {
    StateOptions o;
    o.dir = dir.path;
    std::string how;
    auto k = std::move(StateKeeper::Open(o).value());
    (void)k->LoadOrBuildBaseline(
        "/", [] { return procfs::Baseline::Build("/"); }, &how);
  }
  for ([[maybe_unused]] auto _ : state) {
    StateOptions o;
    o.dir = dir.path;
    auto k = std::move(StateKeeper::Open(o).value());
    std::string how;
    auto b = k->LoadOrBuildBaseline(
        "/", []() -> Result<procfs::Baseline> { return MakeError("not restored"); }, &how);
    if (!b.ok()) state.SkipWithError("the saved baseline was not restored");
    benchmark::DoNotOptimize(b);
  }
  state.counters["file_bytes"] =
      static_cast<double>(std::filesystem::file_size(dir.path + "/baseline.v1"));
}
BENCHMARK(BM_BaselineRestoreRoot)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sandwatch::sensor

BENCHMARK_MAIN();
