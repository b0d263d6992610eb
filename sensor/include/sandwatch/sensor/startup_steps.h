// The sensor's start-up steps (see startup_sequence.h for how they run and tear down).
//
//   step            run                                        teardown
//   rules           load RULES_FILE or the built-in rules      -
//   workload        list PROC_ROOT, choose the workload root   -
//   state           open STATE_DIR, restore/build baseline     -
//   output          open stdout / file / http (+ state wrap)   flush and close (HTTP: 3 s)
//   capture         build the --capture sources (not started)  -
//   publisher       sensor identity, continue the seq          -
//   pipeline        start-up scan, start the worker            drain and join the worker
//   capture_start   start each source (a failure is logged)    stop the started sources
//   announce        the one "started" log line                 -
//   heartbeats      the first heartbeat                        final heartbeat, save state
//
// So the teardown order is always: sources stop, the pipeline drains, a final heartbeat
// goes out, the state is saved, the output flushes.
// Exit status when a step fails: 2 for a bad rules file or --capture value, else 1.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/procfs/baseline.h"
#include "sandwatch/core/procfs/process_scanner.h"
#include "sandwatch/core/rules/engine.h"
#include "sandwatch/sensor/capture_factory.h"
#include "sandwatch/sensor/config.h"
#include "sandwatch/sensor/output.h"
#include "sandwatch/sensor/pipeline.h"
#include "sandwatch/sensor/publisher.h"
#include "sandwatch/sensor/sensor.h"
#include "sandwatch/sensor/startup_sequence.h"
#include "sandwatch/sensor/state_keeper.h"

namespace sandwatch::sensor {

// What the start-up steps build. Members are destroyed in reverse order of declaration,
// after the teardowns ran. `clock` must outlive this.
struct SensorRuntime {
  SensorRuntime(SensorConfig cfg, const Clock* clk) : config(std::move(cfg)), clock(clk) {}

  const SensorConfig config;
  const Clock* clock;

  std::unique_ptr<rules::RuleEngine> engine;  // rules
  size_t rule_count = 0;
  std::unique_ptr<procfs::ProcFs> fs;  // workload
  int self_pid = 0;
  WorkloadChoice workload;
  std::unique_ptr<StateKeeper> keeper;  // state
  std::optional<procfs::Baseline> baseline;
  std::string baseline_how;
  double baseline_ms = 0;
  std::unique_ptr<Output> output;                   // output
  std::unique_ptr<Publisher> publisher;             // publisher
  std::unique_ptr<procfs::ProcessScanner> scanner;  // pipeline
  std::unique_ptr<Pipeline> pipeline;
  // Built by the capture step, but declared after the pipeline so that the sources (their
  // sink is the pipeline) are destroyed first.
  CaptureSelection capture;
  std::vector<CaptureSource*> started;  // capture_start
  bool heartbeating = false;            // heartbeats: the final one is sent at teardown

  // Publishes a heartbeat with every part's counters (needs the publisher step).
  void Heartbeat();
};

// The steps above, bound to `rt` (which must outlive them).
std::vector<StartupStep> SensorStartupSteps(SensorRuntime* rt);

}  // namespace sandwatch::sensor
