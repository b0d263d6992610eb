#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "sandwatch/sensor/sensor.h"
#include "sandwatch/sensor/startup_steps.h"

namespace sandwatch::sensor {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<pthread_t> g_main_thread{};

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

// Signals are taken synchronously by the main thread; every thread started later
// inherits the mask, so a SIGTERM during start-up waits for the heartbeat loop.
void BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// Heartbeats every heartbeat_interval_s until SIGTERM/SIGINT or RequestStop().
void HeartbeatUntilStopped(SensorRuntime& rt) {
  const Clock& clock = *rt.clock;
  const auto hb_ns = static_cast<int64_t>(rt.config.heartbeat_interval_s * 1e9);
  int64_t next_hb = clock.MonoNs() + hb_ns;
  while (!WaitForStop(std::max<int64_t>(next_hb - clock.MonoNs(), 0))) {
    if (clock.MonoNs() >= next_hb) {
      rt.Heartbeat();
      next_hb += hb_ns;
      if (next_hb < clock.MonoNs()) next_hb = clock.MonoNs() + hb_ns;
    }
  }
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
  BlockStopSignals();

  SensorRuntime rt(config, &SystemClock());
  StartupSequence startup(SensorStartupSteps(&rt));
  if (auto st = startup.RunAll(); !st.ok()) {
    std::fprintf(stderr, "sandwatch-sensor: %s\n", st.error().message.c_str());
    return startup.exit_code();
  }
  HeartbeatUntilStopped(rt);
  startup.TearDown();  // sources, pipeline, final heartbeat and state, output
  SW_LOG(kInfo, "sensor", "stopped", {"last_seq", std::to_string(rt.publisher->last_seq())});
  return 0;
}

}  // namespace sandwatch::sensor
