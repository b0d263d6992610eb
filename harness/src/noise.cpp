// Noise: every observer event attributed to attack step, benign step, harness
// machinery or background; noise[] and precision[] aggregated from that.
#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>

#include "sandwatch/core/signals.h"
#include "sandwatch/harness/scorer.h"
#include "sandwatch/harness/tune/stats.h"
#include "step_match.h"

namespace sandwatch::harness {

namespace {

constexpr size_t kTopExamples = 20;

// The harness's own processes, by program name (comm, 15 bytes) or path base name.
// runc's init shows up as "runc:[2:INIT]" (comm) or "runc init" (cmdline).
constexpr auto kMachinery = std::to_array<std::string_view>(
    {"sandwatch-sensor", "sandwatch-receiver", "sandwatch-harness", "runc", "qemu-system-x86_64",
     "containerd", "containerd-shim", "conmon", "containerd-shim-runc-v2",
     "containerd-shim-kata-v2", "kata-agent", "kubelet", "pause", "falco", "falcosidekick",
     "pod.sh", "guest-init.sh"});

bool IsMachineryName(std::string_view name) {
  // The base name (npos + 1 is 0: a name without a slash is its own base).
  if (name.substr(name.rfind('/') + 1).rfind("runc:[", 0) == 0) return true;
  return std::any_of(kMachinery.begin(), kMachinery.end(),
                     [name](std::string_view m) { return SameProgram(name, m); });
}

std::string MachineryIn(const Event& e) {
  std::string found;
  const auto check = [&found](const char* who, std::initializer_list<std::string> names) {
    for (const auto& n : names) {
      if (found.empty() && IsMachineryName(n)) found = who + n;
    }
  };
  const auto first = [](const std::vector<std::string>& argv) {
    return argv.empty() ? std::string() : argv[0];
  };
  if (e.process) {
    check("the process is ", {e.process->name, e.process->exe, first(e.process->cmdline)});
  }
  if (e.parent) check("its parent is ", {e.parent->name, first(e.parent->cmdline)});
  for (const auto& a : e.ancestors) check("an ancestor is ", {a.name, first(a.cmdline)});
  return found;
}

bool HasAttackSimLineage(const Event& e) {
  return (e.process && IsAttackSim(e.process->name, e.process->cmdline)) ||
         AnyAncestor(e, IsAttackSimRef);
}

// A match basis (one of Match's) by strength: name is the weakest, pid the strongest.
std::ptrdiff_t Rank(const std::string& basis) {
  static constexpr auto kWeakToStrong = std::to_array<std::string_view>(
      {"name", "cmdline-descendant", "cmdline", "pid-descendant", "pid"});
  return std::find(kWeakToStrong.begin(), kWeakToStrong.end(), basis) - kWeakToStrong.begin();
}

// Attack steps that expect nothing (the listener line) are not processes of the chain.
bool Attributable(const GroundTruthStep& s) {
  return s.status == "ran" && (s.kind == "benign" || !s.signals.empty() || !s.signal.empty());
}

Attribution Attribute(const CellOutcome* cell, const ObserverBinding& b, const Event& e,
                      const ScoreOptions& opts) {
  Attribution a;
  a.event_id = e.id;
  a.observer = b.observer;
  a.rule = e.rule;
  a.signal = SignalForRule(e.source, e.rule);
  if (a.signal.empty()) a.signal = e.rule;
  if (e.process) a.exe = !e.process->exe.empty() ? e.process->exe : e.process->name;
  const auto settle = [&a](Outcome outcome, std::string reason) {
    a.outcome = outcome;
    a.reason = std::move(reason);
    return a;
  };
  if (cell != nullptr) {
    a.cell = cell->cell.Id();
    a.runtime = cell->cell.runtime;
    const GroundTruthStep* best = nullptr;
    Match best_match;
    for (const auto& s : cell->ground_truth) {
      if (!Attributable(s)) continue;
      const Match m = MatchStep(b, s, *cell, e, opts);
      if (!m.ok) continue;
      // A stronger basis wins; on a tie the attack step does (it is what the rule is for).
      bool better =
          best == nullptr || Rank(m.basis) > Rank(best_match.basis) ||
          (Rank(m.basis) == Rank(best_match.basis) && best->kind == "benign" && s.kind != "benign");
      if (better) {
        best = &s;
        best_match = m;
      }
    }
    if (best != nullptr) {
      a.step = best->step;
      a.repeat = best->repeat;
      a.step_start_wall_ns = best->start_wall_ns;
      return settle(best->kind == "benign" ? Outcome::kBenign : Outcome::kAttack,
                    best->kind + " step " + best->step + " (matched by " + best_match.basis + ")");
    }
  }
  if (e.process && IsAttackSim(e.process->name, e.process->cmdline)) {
    // The lab's driver arriving in the pod, not a step.
    return settle(Outcome::kMachinery,
                  "harness machinery: attack-sim itself (the lab's driver of the steps)");
  }
  const bool ours = HasAttackSimLineage(e);
  if (const std::string m = ours ? "" : MachineryIn(e); !m.empty()) {
    return settle(Outcome::kMachinery, "harness machinery: " + m);
  }
  if (cell == nullptr) return settle(Outcome::kBackground, "outside every cell's window");
  return settle(Outcome::kBackground,
                ours ? "attack-sim lineage, but no step of this cell (another run on the machine, "
                       "or a helper of this one)"
                     : "no step of this cell: other activity this observer sees");
}

using ObsKey = std::pair<std::string, std::string>;  // runtime, observer
using StepKey = std::tuple<std::string, std::string, int, int64_t, std::string>;

// What one {runtime, observer} watched and raised.
struct Tally {
  double duration_s = 0;
  std::map<std::string, int> benign_steps;                      // signal -> steps
  std::set<StepKey> tp;                                         // attack steps alerted on
  std::map<std::string, std::set<StepKey>> fp;                  // signal -> benign steps
  std::map<std::string, int> background;                        // signal -> events
  std::map<std::pair<std::string, std::string>, int> examples;  // (rule, exe) -> events
  int machinery = 0;
};

// The owning (cell, binding) of an event: the cell whose window holds it, else any cell
// whose binding owns it (then outside every window: cell == nullptr).
std::pair<const CellOutcome*, const ObserverBinding*> Owner(const std::vector<CellOutcome>& cells,
                                                            const Event& e) {
  const ObserverBinding* any = nullptr;
  for (const auto& c : cells) {
    for (const auto& b : c.observers) {
      if (!b.available || !BindingOwns(b, e)) continue;
      if (e.time_ns >= c.start_wall_ns && e.time_ns <= c.end_wall_ns) return {&c, &b};
      if (any == nullptr) any = &b;
    }
  }
  return {nullptr, any};
}

}  // namespace

NoiseScore ScoreNoise(const std::vector<CellOutcome>& cells, const std::vector<Event>& events,
                      const ScoreOptions& opts) {
  NoiseScore out;
  std::vector<ObsKey> order;  // first seen first
  std::map<ObsKey, Tally> tally;
  for (const auto& c : cells) {
    for (const auto& b : c.observers) {
      if (!b.available) continue;
      ObsKey k{c.cell.runtime, b.observer};
      if (tally.count(k) == 0) order.push_back(k);
      Tally& t = tally[k];
      t.duration_s += static_cast<double>(c.end_wall_ns - c.start_wall_ns) / 1e9;
      for (const auto& s : c.ground_truth) {
        if (s.kind == "benign" && s.status == "ran") t.benign_steps[s.signal] += 1;
      }
    }
  }
  for (const auto& e : events) {
    auto [cell, binding] = Owner(cells, e);
    if (binding == nullptr) continue;  // no observer of this run reported it
    Attribution a = Attribute(cell, *binding, e, opts);
    if (cell != nullptr) {
      Tally& t = tally[{a.runtime, a.observer}];
      StepKey sk{a.cell, a.step, a.repeat, a.step_start_wall_ns, a.signal};
      switch (a.outcome) {
        case Outcome::kAttack:
          t.tp.insert(sk);
          break;
        case Outcome::kBenign:
          t.fp[a.signal].insert(sk);
          break;
        case Outcome::kMachinery:
          t.machinery += 1;
          break;
        case Outcome::kBackground:
          t.background[a.signal] += 1;
          t.examples[{a.rule, a.exe}] += 1;
          break;
      }
    }
    if (a.outcome == Outcome::kMachinery) out.machinery_excluded += 1;
    out.attributions.push_back(std::move(a));
  }
  for (const auto& k : order) {
    Tally& t = tally[k];
    std::vector<std::string> sigs(signals::kSeedSignals.begin(), signals::kSeedSignals.end());
    auto add = [&sigs](const std::string& s) {
      if (std::find(sigs.begin(), sigs.end(), s) == sigs.end()) sigs.push_back(s);
    };
    for (const auto& [s, n] : t.benign_steps) add(s);
    for (const auto& [s, set] : t.fp) add(s);
    for (const auto& [s, n] : t.background) add(s);
    PrecisionEntry p{.runtime = k.first, .observer = k.second, .duration_s = t.duration_s};
    for (const auto& s : sigs) {
      const NoiseEntry& n =
          out.noise.emplace_back(NoiseEntry{k.first, k.second, s, static_cast<int>(t.fp[s].size()),
                                            t.benign_steps[s], t.background[s], t.duration_s});
      p.benign_false_positives += n.false_positives;
      p.background_events += n.background_events;
    }
    p.true_positives = static_cast<int>(t.tp.size());
    p.false_positives = p.benign_false_positives + p.background_events;
    p.machinery_excluded = t.machinery;
    const int64_t raised = p.true_positives + p.false_positives;
    if (raised > 0) {
      tune::Proportion w = tune::Wilson(p.true_positives, raised);
      p.precision = w.p;
      p.ci95 = {w.lo, w.hi};
    }
    out.precision.push_back(p);
    std::vector<std::pair<std::pair<std::string, std::string>, int>> ex(t.examples.begin(),
                                                                        t.examples.end());
    std::stable_sort(ex.begin(), ex.end(),
                     [](const auto& x, const auto& y) { return x.second > y.second; });
    if (ex.size() > kTopExamples) ex.resize(kTopExamples);
    for (const auto& [re, count] : ex) {
      out.background_examples.push_back({k.first, k.second, re.first, re.second, count});
    }
  }
  return out;
}

}  // namespace sandwatch::harness
