// short_spawn: starts one binary many times, directly (posix_spawn, no shell),
// with N children in flight, and prints one JSON line per run. The workload of
// the short-lived process benchmarks and of the unprivileged-sidecar test.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "spawner.h"

namespace {

constexpr const char* kHelp =
    "short_spawn: start a binary many times, directly (posix_spawn, no shell, no helper\n"
    "exec between runs), and print one JSON line per run.\n"
    "\n"
    "usage: short_spawn [--runs N] [--inflight N] [--gap-us N] -- PATH [ARG...]\n"
    "  --runs N       how many times to run PATH [300]\n"
    "  --inflight N   at most N runs alive at once [8]\n"
    "  --gap-us N     pause N microseconds after each start [0]\n"
    "\n"
    "PATH is executed as given (no PATH search). Output, one line per run:\n"
    "  {\"pid\":123,\"start_mono_ns\":...,\"reap_mono_ns\":...,\"exit\":0}\n"
    "example: short_spawn --runs 300 --inflight 8 -- /tmp/drop/one_ms_static 1000\n";

bool ParseInt(const char* text, int min, int* out) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < min || v > 1'000'000) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  sandwatch::sensor::testing::SpawnPlan plan;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (arg == "--version") {
      std::puts("short_spawn 0.1.0");
      return 0;
    }
    if (arg == "--") {
      ++i;
      break;
    }
    int* target = arg == "--runs"       ? &plan.runs
                  : arg == "--inflight" ? &plan.inflight
                  : arg == "--gap-us"   ? &plan.gap_us
                                        : nullptr;
    if (target == nullptr || i + 1 >= argc ||
        !ParseInt(argv[i + 1], arg == "--gap-us" ? 0 : 1, target)) {
      std::fprintf(stderr, "short_spawn: bad or incomplete option '%s' (see --help)\n", argv[i]);
      return 2;
    }
    i += 1;  // past the value just parsed
  }
  for (; i < argc; ++i) plan.argv.emplace_back(argv[i]);
  if (plan.argv.empty() || plan.argv[0].empty() || plan.argv[0][0] != '/') {
    std::fprintf(stderr, "short_spawn: give an absolute PATH after -- (see --help)\n");
    return 2;
  }
  auto runs = sandwatch::sensor::testing::RunSpawnPlan(plan);
  int failed = 0;
  for (const auto& r : runs) {
    const int code = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
    if (code != 0) ++failed;
    std::printf("{\"pid\":%d,\"start_mono_ns\":%lld,\"reap_mono_ns\":%lld,\"exit\":%d}\n", r.pid,
                static_cast<long long>(r.start_mono_ns), static_cast<long long>(r.reap_mono_ns),
                code);
  }
  std::fflush(stdout);
  if (static_cast<int>(runs.size()) != plan.runs || failed > 0) {
    std::fprintf(stderr, "short_spawn: %zu of %d runs started, %d did not exit 0\n", runs.size(),
                 plan.runs, failed);
    return 1;
  }
  return 0;
}
