// `run --chain benign`: benign steps at a steady rate for a set time (a soak), one
// ground-truth line (kind "benign") per step.
#include <array>
#include <cstdio>

#include "sandwatch/attack_sim/benign.h"
#include "sandwatch/attack_sim/interrupt.h"
#include "sandwatch/attack_sim/run.h"
#include "sandwatch/attack_sim/truth_sink.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"

namespace sandwatch::attacksim {

namespace {
constexpr const char* kComponent = "attack-sim";
}

void EmitBenign(TruthSink* sink, const GroundTruthStep& g, bool* failed) {
  if (!sink->Write(g)) *failed = true;
  SW_LOG(kInfo, kComponent, "benign step", {"step", g.step}, {"status", g.status},
         {"pid", std::to_string(g.pid)}, {"exit", std::to_string(g.exit_code)}, {"note", g.note});
}

int RunBenignSoak(const ChainConfig& cfg, TruthSink* sink, const Clock& clock) {
  BenignPlayer player(cfg.run_id, cfg.speed, cfg.drop_dir, clock);
  if (auto st = player.Prepare(); !st.ok()) {
    SW_LOG(kError, kComponent, "benign steps cannot start", {"error", st.error().message});
    return 1;
  }
  const int64_t t0 = clock.MonoNs();
  const double period_ms = 60'000.0 / cfg.benign_rate_per_min;
  const auto duration_ns = static_cast<int64_t>(cfg.benign_duration_s * 1e9);
  const size_t per_round = BenignSteps().size();
  bool failed = false;
  int n = 0;
  while (!Interrupted() && clock.MonoNs() - t0 < duration_ns) {
    EmitBenign(sink, player.RunNext(static_cast<int>(n / per_round)), &failed);
    ++n;
    // Start times stay on the grid (t0 + n * period) however long a step took.
    const double next_ms = n * period_ms - static_cast<double>(clock.MonoNs() - t0) / 1e6;
    const double left_ms = static_cast<double>(duration_ns - (clock.MonoNs() - t0)) / 1e6;
    if (next_ms >= left_ms) break;
    SleepInterruptibly(next_ms);
  }
  player.Cleanup();
  std::array<char, 32> secs{};
  std::snprintf(secs.data(), secs.size(), "%.1f", static_cast<double>(clock.MonoNs() - t0) / 1e9);
  SW_LOG(kInfo, kComponent, "benign soak done", {"steps", std::to_string(n)},
         {"seconds", secs.data()});
  if (Interrupted()) return 130;
  return failed ? 1 : 0;
}

}  // namespace sandwatch::attacksim
