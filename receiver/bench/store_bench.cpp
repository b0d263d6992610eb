// What the receiver's writer pays per stored event (Google Benchmark), on the real Store
// with a real SQLite file, in the same run:
//   - by commit size: 100 rows (one sender), 400 (four senders of 100, what group commit
//     reaches with synchronous senders) and 4,000;
//   - random UUID v4 ids (what sensors send) against ids in insertion order (a duplicate is
//     found through the (time, id hash) index, so the id's order should not matter);
//   - without one of the secondary indexes (dropped through a second connection; the time
//     index is not, as the duplicate lookup needs it, nor the pod index, filled later).
// Commits only: the deferred indexes (pods, text) are left to receiver_store_layers_bench.
// Each run fills a fresh store with 200,000 sensor-sized events; synchronous=NORMAL so
// that the figure is CPU, not fsync. cpu_us_per_event is the writer thread's CPU time.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <random>

#include "sandwatch/core/ids.h"
#include "sandwatch/receiver/store.h"

namespace sandwatch::receiver {
namespace {

constexpr int64_t kEvents = 200'000;
const std::array kRules{"shadow_file_access",
                        "unexpected_shell",
                        "nc_execution",
                        "aws_credential_discovery",
                        "package_manager_execution",
                        "post_start_binary_execution",
                        "reverse_shell",
                        "crypto_miner",
                        "write_below_etc"};
const std::array kIndexes{"", "events_rule_time", "events_source_time", "events_sensor_time"};

struct BenchDir {
  BenchDir() {
    std::string tmpl = "/tmp/sw-store-bench-XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~BenchDir() { std::filesystem::remove_all(path); }
  std::string path;
};

Event MakeEvent(std::mt19937_64& rng, int64_t i, bool ordered_ids) {
  Event e;
  if (ordered_ids) {
    std::array<char, 40> id{};
    std::snprintf(id.data(), id.size(), "00000000-0000-4000-8000-%012lld",
                  static_cast<long long>(i));
    e.id = id.data();
  } else {
    e.id = NewUuid();
  }
  e.seq = static_cast<uint64_t>(i / 4 + 1);
  e.time_ns = 1'900'000'000'000'000'000 + i * 86'400'000'000 / 100;
  e.rule = kRules[rng() % 9];
  e.output = "bash -i spawned by nginx (pid " + std::to_string(rng() % 99999) + ") in pod-" +
             std::to_string(rng() % 200) + ": interactive shell in a container";
  e.tags = {"mitre_execution", "container", "shell"};
  e.sensor = {"sensor-" + std::to_string(i % 4), "sidecar", "poll", "0.1.0"};
  e.pod = "pod-" + std::to_string(rng() % 200);
  e.ns = "kata-demo";
  e.hostname = "host-" + std::to_string(rng() % 5000);
  e.process = ProcessRef{
      static_cast<int>(rng() % 99999), 1, 0, "bash", "/usr/bin/bash", {"bash", "-i"}, 0, "/"};
  e.parent = AncestorRef{1, "nginx", {"nginx", "-g", "daemon off;"}};
  e.file_path = "/etc/shadow";
  return e;
}

// state.range(0): rows per commit; range(1): 1 = ids in insertion order; range(2): index
// dropped (position in kIndexes, 0 = none).
void BM_StoreInsert(benchmark::State& state) {
  const int64_t rows = state.range(0);
  const bool ordered = state.range(1) != 0;
  const char* dropped = kIndexes[state.range(2)];
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    state.PauseTiming();
    BenchDir dir;
    const std::string db = dir.path + "/events.db";
    auto store = std::move(Store::Open(StoreOptions{db, true, false}).value());
    if (*dropped) {
      sqlite3* other = nullptr;
      sqlite3_open(db.c_str(), &other);
      sqlite3_exec(other, (std::string("DROP INDEX ") + dropped).c_str(), nullptr, nullptr,
                   nullptr);
      sqlite3_close(other);
    }
    std::mt19937_64 rng(7);
    std::vector<WriteOp> ops(static_cast<size_t>(kEvents / rows));
    for (size_t k = 0; k < ops.size(); ++k) {
      for (int64_t r = 0; r < rows; ++r) {
        ops[k].events.push_back(
            Prepare(MakeEvent(rng, static_cast<int64_t>(k) * rows + r, ordered)));
      }
    }
    state.ResumeTiming();
    for (WriteOp& op : ops) {
      std::vector<WriteOp*> one{&op};
      if (!store->Apply(one).ok()) state.SkipWithError("commit failed");
    }
  }
  state.counters["events"] = static_cast<double>(kEvents);
  state.counters["cpu_us_per_event"] = benchmark::Counter(
      static_cast<double>(kEvents) * 1e-6,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_StoreInsert)
    ->ArgNames({"rows_per_commit", "ordered_ids", "dropped_index"})
    ->Args({100, 0, 0})
    ->Args({400, 0, 0})
    ->Args({4000, 0, 0})
    ->Args({400, 1, 0})
    ->Args({400, 0, 1})
    ->Args({400, 0, 2})
    ->Args({400, 0, 3})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sandwatch::receiver

BENCHMARK_MAIN();
