#include "sandwatch/harness/scorer.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "sandwatch/core/signals.h"
#include "sandwatch/harness/falco.h"
#include "step_match.h"

namespace sandwatch::harness {

namespace {

// After the last slash (npos + 1 is 0: a path without one is its own base).
std::string Base(std::string_view path) { return std::string(path.substr(path.rfind('/') + 1)); }

std::optional<double> Median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The event's process is the step's (rule 4 of scorer.h). Time is not checked here.
Match MatchIdentity(const ObserverBinding& b, const GroundTruthStep& s, const Event& e) {
  if (!e.process) return {};
  const ProcessRef& p = *e.process;
  const std::string argv0 = s.command.empty() ? "" : s.command[0];
  const bool named = SameProgram(p.name, argv0) || SameProgram(p.exe, argv0) ||
                     (!p.cmdline.empty() && SameProgram(p.cmdline[0], argv0));
  bool lineage = AnyAncestor(e, IsAttackSimRef);
  for (const auto& want : b.lineage) {
    lineage =
        lineage && AnyAncestor(e, [&](const AncestorRef& a) { return SameProgram(a.name, want); });
  }
  if (b.pids_comparable && s.pid > 0) {
    bool self = p.pid == s.pid &&
                (p.name.empty() || argv0.empty() || named ||
                 // a script: the kernel runs INTERPRETER SCRIPT ARGS...
                 (p.cmdline.size() > 1 && SameProgram(p.cmdline[1], argv0)) ||
                 // a wrapper that exec'd on (pyenv shims): same parent too
                 (s.ppid > 0 && (p.ppid == s.ppid || (e.parent && e.parent->pid == s.ppid))));
    bool child =
        p.ppid == s.pid || AnyAncestor(e, [&](const AncestorRef& a) { return a.pid == s.pid; });
    if (self) return {true, "pid"};
    if (child) return {true, "pid-descendant"};
  }
  bool cmd = !s.command.empty() && p.cmdline == s.command;
  bool parent_cmd = !s.command.empty() &&
                    AnyAncestor(e, [&](const AncestorRef& a) { return a.cmdline == s.command; });
  if (b.shared_vantage && !lineage) return {};
  if (cmd) return {true, "cmdline"};
  if (parent_cmd) return {true, "cmdline-descendant"};
  if (!b.shared_vantage && named) return {true, "name"};
  return {};
}

}  // namespace

// comm is the first 15 bytes of the program name.
bool SameProgram(std::string_view name_or_path, std::string_view argv0) {
  if (name_or_path.empty() || argv0.empty()) return false;
  std::string a = Base(name_or_path);
  std::string b = Base(argv0);
  if (a == b) return true;
  return a.size() == 15 && b.size() > 15 && b.compare(0, 15, a) == 0;
}

bool IsAttackSim(std::string_view name, const std::vector<std::string>& cmdline) {
  if (SameProgram(name, "sandwatch-attack-sim")) return true;
  return !cmdline.empty() && Base(cmdline[0]) == "sandwatch-attack-sim";
}

bool BindingOwns(const ObserverBinding& b, const Event& e) {
  if (e.source != b.source) return false;
  if (!b.pod.empty() && e.pod != b.pod) return false;
  if (!b.sensor_mode.empty() && e.sensor.mode != b.sensor_mode) return false;
  if (!b.container_id.empty() && FalcoField(e, "container.id") != b.container_id) return false;
  return true;
}

Match MatchStep(const ObserverBinding& b, const GroundTruthStep& s, const CellOutcome& cell,
                const Event& e, const ScoreOptions& opts) {
  const int64_t end = s.end_wall_ns > 0 ? s.end_wall_ns : cell.end_wall_ns;
  const bool in_window = e.time_ns >= s.start_wall_ns - static_cast<int64_t>(opts.slack_s * 1e9) &&
                         e.time_ns <= end + static_cast<int64_t>(opts.grace_s * 1e9);
  return in_window ? MatchIdentity(b, s, e) : Match{};
}

std::string SignalForRule(std::string_view source, std::string_view rule) {
  if (source != "falco") return std::string(rule);
  const auto& falco = FalcoRuleSignalMap();
  auto it = falco.find(rule);
  return it == falco.end() ? std::string() : it->second;
}

Score ScoreRun(const std::vector<CellOutcome>& cells, const std::vector<Event>& events,
               const ScoreOptions& opts) {
  Score score;
  for (const auto& cell : cells) {
    // Signals this cell expects, in ground-truth order, each with its steps.
    std::vector<std::string> order;
    std::map<std::string, std::vector<const GroundTruthStep*>> steps_for;
    for (const auto& s : cell.ground_truth) {
      if (s.status != "ran") continue;   // a skipped variant expects nothing
      if (s.kind == "benign") continue;  // expects silence: scored by ScoreNoise
      std::vector<std::string> sigs = s.signals;
      if (sigs.empty() && !s.signal.empty()) sigs.push_back(s.signal);
      for (const auto& sig : sigs) {
        if (steps_for[sig].empty()) order.push_back(sig);
        steps_for[sig].push_back(&s);
      }
    }
    for (const auto& b : cell.observers) {
      std::set<std::string> used;  // event ids that matched any step
      for (const auto& sig : order) {
        SignalResult r;
        r.cell_id = cell.cell.Id();
        r.runtime = cell.cell.runtime;
        r.speed = cell.cell.speed;
        r.variant = cell.cell.variant;
        r.repetition = cell.cell.repetition;
        r.observer = b.observer;
        r.signal = sig;
        r.observer_available = b.available;
        r.reason = b.reason;
        r.expected = ExpectedVisible(cell.cell.runtime, b.observer);
        const auto take_step = [&](const GroundTruthStep& s) {
          r.step = s.step;
          r.command = s.command;
          r.hold_ms = s.hold_ms;
          r.short_lived = s.hold_ms < opts.poll_interval_s * 1000;
        };
        take_step(*steps_for[sig].front());
        int64_t best_time = 0;
        for (const auto& e : events) {
          if (!b.available || !BindingOwns(b, e)) continue;
          if (SignalForRule(e.source, e.rule) != sig) continue;
          for (const GroundTruthStep* s : steps_for[sig]) {
            const Match m = MatchStep(b, *s, cell, e, opts);
            if (!m.ok) continue;
            used.insert(e.id);
            score.attributed[e.id] = cell.cell.Id() + " " + s->step;
            r.events += 1;
            double lat = static_cast<double>(e.time_ns - s->start_wall_ns) / 1e6;
            if (!r.detected || e.time_ns < best_time) {
              best_time = e.time_ns;
              r.detected = true;
              r.latency_ms = std::max(0.0, lat);
              r.basis = m.basis;
              r.first_event_id = e.id;
              take_step(*s);
            }
            break;
          }
        }
        if (!r.detected && r.expected && r.observer_available && r.short_lived) {
          score.short_lived_missed.push_back({r.cell_id, r.observer, sig, r.step, r.hold_ms});
        }
        score.results.push_back(std::move(r));
      }
      for (const auto& e : events) {
        if (!b.available || !BindingOwns(b, e) || used.count(e.id) != 0) continue;
        if (e.time_ns >= cell.start_wall_ns && e.time_ns <= cell.end_wall_ns) {
          score.unmatched_events += 1;
        }
      }
    }
  }
  // Aggregate over repetitions, keeping first-seen order.
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  std::map<Key, size_t> index;
  std::map<Key, std::vector<double>> lats;
  for (const auto& r : score.results) {
    Key k{r.runtime, r.speed, r.variant, r.observer, r.signal};
    auto it = index.find(k);
    if (it == index.end()) {
      it = index.emplace(k, score.coverage.size()).first;
      score.coverage.push_back({r.runtime, r.observer, r.signal, r.speed, r.variant, r.expected,
                                r.observer_available, 0, 0, false, std::nullopt});
    }
    CoverageEntry& c = score.coverage[it->second];
    c.cells += 1;
    if (r.detected) {
      c.cells_detected += 1;
      if (r.latency_ms) lats[k].push_back(*r.latency_ms);
    }
  }
  for (auto& [k, i] : index) {
    CoverageEntry& c = score.coverage[i];
    c.detected = c.cells > 0 && c.cells_detected == c.cells;
    c.latency_ms = Median(lats[k]);
  }
  score.noise = ScoreNoise(cells, events, opts);
  return score;
}

}  // namespace sandwatch::harness
