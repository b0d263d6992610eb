#include "sandwatch/attack_sim/interrupt.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace sandwatch::attacksim {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int /*sig*/) { g_interrupted.store(true); }

}  // namespace

void InstallInterruptHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool Interrupted() { return g_interrupted.load(); }

void SleepInterruptibly(double ms) {
  auto end =
      std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<int64_t>(ms * 1000));
  while (!Interrupted()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= end) return;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(end - now, std::chrono::milliseconds(100)));
  }
}

}  // namespace sandwatch::attacksim
