#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/core/log.h"
#include "sandwatch/core/procfs/baseline.h"
#include "sandwatch/core/procfs/process_scanner.h"
#include "sandwatch/core/rules/loader.h"
#include "sandwatch/sensor/capture_factory.h"
#include "sandwatch/sensor/output.h"
#include "sandwatch/sensor/pipeline.h"
#include "sandwatch/sensor/publisher.h"
#include "sandwatch/sensor/sensor.h"
#include "sandwatch/sensor/state_keeper.h"

namespace sandwatch::sensor {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<pthread_t> g_main_thread{};

std::string Fixed(double v, const char* fmt = "%.3g") {
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string DefaultSensorId(const SensorConfig& c) {
  std::string base = c.pod_name.empty() ? Hostname() : c.pod_name;
  return base + "-" + NewUuid().substr(0, 8);
}

// Waits up to `ns` for SIGTERM/SIGINT (blocked in every thread); true when asked to stop.
bool WaitForStop(int64_t ns) {
  if (g_stop.load()) return true;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);  // RequestStop
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  int sig = sigtimedwait(&set, nullptr, &ts);
  if (sig == SIGTERM || sig == SIGINT) {
    SW_LOG(kInfo, "sensor", "signal received; shutting down",
           {"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"});
    g_stop = true;
  }
  return g_stop.load();
}

}  // namespace

void RequestStop() {
  g_stop = true;
  pthread_kill(g_main_thread.load(), SIGUSR1);
}

int Run(const SensorConfig& config) {
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(config.log_level, &level);
  SetLogLevel(level);
  g_stop = false;
  g_main_thread = pthread_self();
  // Signals are taken synchronously by the main thread; every thread started below
  // inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // 1. Rules.
  auto rules =
      config.rules_file.empty() ? rules::DefaultRules() : rules::LoadRulesFile(config.rules_file);
  if (!rules.ok()) {
    std::fprintf(stderr, "sandwatch-sensor: --rules: %s\n", rules.error().message.c_str());
    return 2;
  }
  size_t rule_count = rules->EnabledCount();
  rules::RuleEngine engine(std::move(rules.value()), config.expected_processes);

  // 2. Workload and baseline.
  procfs::ProcFs fs(config.proc_root);
  int self_pid = static_cast<int>(::getpid());
  if (auto pids = fs.ListPids(); !pids.ok()) {
    std::fprintf(stderr, "sandwatch-sensor: --proc-root: cannot list %s: %s\n",
                 config.proc_root.c_str(), pids.error().message.c_str());
    return 1;
  }
  WorkloadChoice workload =
      ChooseWorkload(fs, self_pid, config.workload_pid, config.workload_root, config.mode);
  // State that survives a restart: first start or restart, and the original baseline.
  auto keeper = StateKeeper::Open(StateOptionsFrom(config));
  if (!keeper.ok()) {
    std::fprintf(stderr, "sandwatch-sensor: %s\n", keeper.error().message.c_str());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  std::string baseline_how;
  auto baseline = (*keeper)->LoadOrBuildBaseline(
      workload.root, [&] { return procfs::Baseline::Build(workload.root); }, &baseline_how);
  double baseline_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const procfs::Baseline* baseline_ptr = nullptr;
  if (baseline.ok()) {
    baseline_ptr = &baseline.value();
  } else {
    SW_LOG(kWarn, "sensor", "no start-up baseline; post_start_binary_execution is off",
           {"root", workload.root}, {"error", baseline.error().message});
  }

  // 3. Output and identity.
  auto output = MakeOutput(config);
  if (!output.ok()) {
    std::fprintf(stderr, "sandwatch-sensor: %s\n", output.error().message.c_str());
    return 1;
  }
  output = (*keeper)->WrapOutput(std::move(output.value()));
  CaptureOptions copt;
  copt.capture = config.capture;
  copt.mode = config.mode;
  copt.poll_interval_s = config.poll_interval_s;
  copt.proc_root = config.proc_root;
  copt.workload_root = workload.root;
  auto capture = MakeCaptureSources(copt);
  if (!capture.ok()) {
    std::fprintf(stderr, "sandwatch-sensor: --capture: %s\n", capture.error().message.c_str());
    return 2;
  }
  SensorIdentity id;
  id.sensor = SensorInfo{(*keeper)->ResolveSensorId(config.sensor_id, DefaultSensorId(config)),
                         config.mode, capture->active, Version()};
  id.pod = config.pod_name;
  id.ns = config.pod_namespace;
  id.hostname = Hostname();
  Publisher publisher(id, output->get(), &SystemClock());
  publisher.ContinueFrom((*keeper)->continue_seq());

  // 4. Pipeline and the start-up scan.
  procfs::ScannerOptions sopt;
  sopt.ancestor_depth = 8;
  procfs::ProcessScanner scanner(fs, sopt);
  PipelineOptions popt;
  popt.self_pid = self_pid;
  popt.workload_pid = config.workload_pid;
  popt.scan_existing = config.scan_existing;
  popt.dedup_window_ns = static_cast<int64_t>(config.dedup_window_s * 1e9);
  popt.ledger = keeper->get();
  Pipeline pipeline(popt, &scanner, &engine, baseline_ptr, &publisher, &SystemClock());
  Observation first;
  first.method = "poll";
  pipeline.Process(first);
  pipeline.Start();

  // 5. Capture sources.
  std::vector<CaptureSource*> started;
  std::vector<std::string> active;
  std::map<std::string, std::string> failed;
  for (auto& src : capture->sources) {
    auto st = src->Start(&pipeline);
    if (!st.ok()) {
      SW_LOG(kError, "sensor", "capture source failed to start",
             {"source", std::string(src->Name())}, {"error", st.error().message});
      failed[std::string(src->Name())] = st.error().message;
      continue;
    }
    started.push_back(src.get());
    active.emplace_back(src->Name());
  }
  publisher.SetCapture(active, failed);
  std::string watching;
  for (auto* src : started) {
    if (std::string d = src->Describe(); !d.empty())
      watching += std::string(src->Name()) + ": " + d;
  }
  SW_LOG(kInfo, "sensor", "started", {"sensor_id", id.sensor.id}, {"version", Version()},
         {"mode", config.mode}, {"capture", publisher.identity().sensor.capture},
         {"capture_why", capture->why}, {"vantage", capture->vantage}, {"watching", watching},
         {"poll_interval_s", Fixed(config.poll_interval_s)}, {"output", EffectiveOutput(config)},
         {"format", config.format},
         {"rules", config.rules_file.empty() ? "built-in" : config.rules_file},
         {"rules_enabled", std::to_string(rule_count)},
         {"workload_pid", std::to_string(workload.pid)}, {"workload_root", workload.root},
         {"workload_why", workload.why},
         {"baseline_files", baseline_ptr ? std::to_string(baseline_ptr->size()) : "none"},
         {"baseline_ms", Fixed(baseline_ms, "%.0f")}, {"baseline_from", baseline_how},
         {"start", StateKeeper::StartName((*keeper)->start())}, {"start_why", (*keeper)->why()},
         {"pod", config.pod_name}, {"namespace", config.pod_namespace});

  // 6. Heartbeats until SIGTERM/SIGINT.
  auto heartbeat = [&] {
    std::map<std::string, int64_t> c;
    for (const char* k :
         {"scans", "processes_seen", "events_emitted", "events_suppressed", "events_dropped",
          "cmdline_unreadable", "netlink_overflows", "spool_bytes"}) {
      c[k] = 0;
    }
    pipeline.AddCounters(&c);
    (*output)->AddCounters(&c);
    for (auto* src : started) src->AddCounters(&c);
    c["baseline_files"] = baseline_ptr ? static_cast<int64_t>(baseline_ptr->size()) : 0;
    (*keeper)->AddCounters(&c);
    (*keeper)->NoteHeartbeat(publisher.last_seq());
    publisher.PublishHeartbeat(std::move(c), config.heartbeat_interval_s);
  };
  const auto hb_ns = static_cast<int64_t>(config.heartbeat_interval_s * 1e9);
  int64_t next_hb = SystemClock().MonoNs() + hb_ns;
  heartbeat();
  while (!WaitForStop(std::max<int64_t>(next_hb - SystemClock().MonoNs(), 0))) {
    if (SystemClock().MonoNs() >= next_hb) {
      heartbeat();
      next_hb += hb_ns;
      if (next_hb < SystemClock().MonoNs()) next_hb = SystemClock().MonoNs() + hb_ns;
    }
  }

  // 7. Teardown, always in this order.
  for (auto* src : started) src->Stop();
  pipeline.Stop();
  heartbeat();
  (*keeper)->SaveNow(publisher.last_seq());
  (*output)->Close(SystemClock().MonoNs() + 3'000'000'000);
  SW_LOG(kInfo, "sensor", "stopped", {"last_seq", std::to_string(publisher.last_seq())});
  return 0;
}

}  // namespace sandwatch::sensor
