#include "sandwatch/sensor/startup_steps.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <map>

#include "sandwatch/core/ids.h"
#include "sandwatch/core/log.h"
#include "sandwatch/core/rules/loader.h"

namespace sandwatch::sensor {
namespace {

std::string Fixed(double v, const char* fmt = "%.3g") {
  std::array<char, 32> buf;
  std::snprintf(buf.data(), buf.size(), fmt, v);
  return buf.data();
}

std::string DefaultSensorId(const SensorConfig& c) {
  std::string base = c.pod_name.empty() ? Hostname() : c.pod_name;
  return base + "-" + NewUuid().substr(0, 8);
}

Status LoadRules(SensorRuntime& rt) {
  auto rules = rt.config.rules_file.empty() ? rules::DefaultRules()
                                            : rules::LoadRulesFile(rt.config.rules_file);
  if (!rules.ok()) return MakeError("--rules: " + rules.error().message);
  rt.rule_count = rules->EnabledCount();
  rt.engine =
      std::make_unique<rules::RuleEngine>(std::move(rules.value()), rt.config.expected_processes);
  return OkStatus();
}

Status ChooseTheWorkload(SensorRuntime& rt) {
  rt.fs = std::make_unique<procfs::ProcFs>(rt.config.proc_root);
  rt.self_pid = static_cast<int>(::getpid());
  if (auto pids = rt.fs->ListPids(); !pids.ok()) {
    return MakeError("--proc-root: cannot list " + rt.config.proc_root + ": " +
                     pids.error().message);
  }
  rt.workload = ChooseWorkload(*rt.fs, rt.self_pid, rt.config.workload_pid, rt.config.workload_root,
                               rt.config.mode);
  return OkStatus();
}

// State that survives a restart: first start or restart, and the original baseline.
Status OpenStateAndBaseline(SensorRuntime& rt) {
  StateOptions sopt = StateOptionsFrom(rt.config);
  sopt.clock = rt.clock;
  auto keeper = StateKeeper::Open(sopt);
  if (!keeper.ok()) return keeper.error();
  rt.keeper = std::move(keeper.value());
  const int64_t t0 = rt.clock->MonoNs();
  const std::string root = rt.workload.root;
  auto baseline = rt.keeper->LoadOrBuildBaseline(
      root, [&] { return procfs::Baseline::Build(root); }, &rt.baseline_how);
  rt.baseline_ms = static_cast<double>(rt.clock->MonoNs() - t0) / 1e6;
  if (baseline.ok()) {
    rt.baseline = std::move(baseline.value());
  } else {
    SW_LOG(kWarn, "sensor", "no start-up baseline; post_start_binary_execution is off",
           {"root", root}, {"error", baseline.error().message});
  }
  return OkStatus();
}

Status OpenOutput(SensorRuntime& rt) {
  auto output = MakeOutput(rt.config, rt.clock);
  if (!output.ok()) return output.error();
  rt.output = rt.keeper->WrapOutput(std::move(output.value()));
  return OkStatus();
}

Status BuildCapture(SensorRuntime& rt) {
  CaptureOptions copt;
  copt.clock = rt.clock;
  copt.capture = rt.config.capture;
  copt.mode = rt.config.mode;
  copt.poll_interval_s = rt.config.poll_interval_s;
  copt.proc_root = rt.config.proc_root;
  copt.workload_root = rt.workload.root;
  auto capture = MakeCaptureSources(copt);
  if (!capture.ok()) return MakeError("--capture: " + capture.error().message);
  rt.capture = std::move(capture.value());
  return OkStatus();
}

Status MakePublisher(SensorRuntime& rt) {
  SensorIdentity id;
  id.sensor =
      SensorInfo{rt.keeper->ResolveSensorId(rt.config.sensor_id, DefaultSensorId(rt.config)),
                 rt.config.mode, rt.capture.active, Version()};
  id.pod = rt.config.pod_name;
  id.ns = rt.config.pod_namespace;
  id.hostname = Hostname();
  rt.publisher = std::make_unique<Publisher>(std::move(id), rt.output.get(), rt.clock);
  rt.publisher->ContinueFrom(rt.keeper->continue_seq());
  return OkStatus();
}

// The pipeline and its start-up scan, which sets the processes running now apart.
Status StartPipeline(SensorRuntime& rt) {
  procfs::ScannerOptions sopt;
  sopt.ancestor_depth = 8;
  rt.scanner = std::make_unique<procfs::ProcessScanner>(*rt.fs, sopt);
  PipelineOptions popt;
  popt.self_pid = rt.self_pid;
  popt.workload_pid = rt.config.workload_pid;
  popt.scan_existing = rt.config.scan_existing;
  popt.dedup_window_ns = static_cast<int64_t>(rt.config.dedup_window_s * 1e9);
  popt.ledger = rt.keeper.get();
  rt.pipeline = std::make_unique<Pipeline>(popt, rt.scanner.get(), rt.engine.get(),
                                           rt.baseline ? &*rt.baseline : nullptr,
                                           rt.publisher.get(), rt.clock);
  Observation first;
  first.method = "poll";
  rt.pipeline->Process(first);
  rt.pipeline->Start();
  return OkStatus();
}

// A source that fails to start is logged and named in capture.failed; the others run.
Status StartCapture(SensorRuntime& rt) {
  std::vector<std::string> active;
  std::map<std::string, std::string> failed;
  for (auto& src : rt.capture.sources) {
    auto st = src->Start(rt.pipeline.get());
    if (!st.ok()) {
      SW_LOG(kError, "sensor", "capture source failed to start",
             {"source", std::string(src->Name())}, {"error", st.error().message});
      failed[std::string(src->Name())] = st.error().message;
      continue;
    }
    rt.started.push_back(src.get());
    active.emplace_back(src->Name());
  }
  rt.publisher->SetCapture(active, failed);
  return OkStatus();
}

void StopCapture(SensorRuntime& rt) {
  for (auto* src : rt.started) src->Stop();  // stopped sources still count in the last heartbeat
}

Status Announce(SensorRuntime& rt) {
  const SensorConfig& c = rt.config;
  std::string watching;
  for (auto* src : rt.started) {
    if (std::string d = src->Describe(); !d.empty()) {
      watching += std::string(src->Name()) + ": " + d;
    }
  }
  SW_LOG(kInfo, "sensor", "started", {"sensor_id", rt.publisher->identity().sensor.id},
         {"version", Version()}, {"mode", c.mode},
         {"capture", rt.publisher->identity().sensor.capture}, {"capture_why", rt.capture.why},
         {"vantage", rt.capture.vantage}, {"watching", watching},
         {"poll_interval_s", Fixed(c.poll_interval_s)}, {"output", EffectiveOutput(c)},
         {"format", c.format}, {"rules", c.rules_file.empty() ? "built-in" : c.rules_file},
         {"rules_enabled", std::to_string(rt.rule_count)},
         {"workload_pid", std::to_string(rt.workload.pid)}, {"workload_root", rt.workload.root},
         {"workload_why", rt.workload.why},
         {"baseline_files", rt.baseline ? std::to_string(rt.baseline->size()) : "none"},
         {"baseline_ms", Fixed(rt.baseline_ms, "%.0f")}, {"baseline_from", rt.baseline_how},
         {"start", StateKeeper::StartName(rt.keeper->start())}, {"start_why", rt.keeper->why()},
         {"pod", c.pod_name}, {"namespace", c.pod_namespace});
  return OkStatus();
}

StartupStep Step(std::string name, SensorRuntime* rt, Status (*run)(SensorRuntime&),
                 void (*teardown)(SensorRuntime&) = nullptr, int exit_code = 1) {
  StartupStep s;
  s.name = std::move(name);
  s.run = [rt, run] { return run(*rt); };
  if (teardown) s.teardown = [rt, teardown] { teardown(*rt); };
  s.exit_code = exit_code;
  return s;
}

}  // namespace

void SensorRuntime::Heartbeat() {
  std::map<std::string, int64_t> c;
  for (const char* k :
       {"scans", "processes_seen", "events_emitted", "events_suppressed", "events_dropped",
        "cmdline_unreadable", "netlink_overflows", "spool_bytes"}) {
    c[k] = 0;
  }
  if (pipeline) pipeline->AddCounters(&c);
  if (output) output->AddCounters(&c);
  for (auto* src : started) src->AddCounters(&c);
  c["baseline_files"] = baseline ? static_cast<int64_t>(baseline->size()) : 0;
  keeper->AddCounters(&c);
  keeper->NoteHeartbeat(publisher->last_seq());
  publisher->PublishHeartbeat(std::move(c), config.heartbeat_interval_s);
}

std::vector<StartupStep> SensorStartupSteps(SensorRuntime* rt) {
  std::vector<StartupStep> steps;
  steps.push_back(Step("rules", rt, LoadRules, nullptr, 2));
  steps.push_back(Step("workload", rt, ChooseTheWorkload));
  steps.push_back(Step("state", rt, OpenStateAndBaseline));
  steps.push_back(Step("output", rt, OpenOutput, [](SensorRuntime& r) {
    r.output->Close(r.clock->MonoNs() + 3'000'000'000);
  }));
  steps.push_back(Step("capture", rt, BuildCapture, nullptr, 2));
  steps.push_back(Step("publisher", rt, MakePublisher));
  // Torn down after the pipeline has drained and before the output closes, so the last
  // heartbeat and the saved state count every event the sensor published.
  steps.push_back(Step(
      "final_heartbeat", rt, [](SensorRuntime&) { return OkStatus(); },
      [](SensorRuntime& r) {
        if (!r.heartbeating) return;
        r.Heartbeat();
        r.keeper->SaveNow(r.publisher->last_seq());
      }));
  steps.push_back(
      Step("pipeline", rt, StartPipeline, [](SensorRuntime& r) { r.pipeline->Stop(); }));
  steps.push_back(Step("capture_start", rt, StartCapture, StopCapture));
  steps.push_back(Step("announce", rt, Announce));
  steps.push_back(Step("heartbeats", rt, [](SensorRuntime& r) {
    r.Heartbeat();
    r.heartbeating = true;
    return OkStatus();
  }));
  return steps;
}

}  // namespace sandwatch::sensor
