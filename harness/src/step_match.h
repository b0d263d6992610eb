// Matching one observer event to one ground-truth step (shared by the coverage
// scorer and the noise attribution). Internal to sandwatch_harness.
#pragma once

#include <algorithm>
#include <string>

#include "sandwatch/core/event.h"
#include "sandwatch/core/ground_truth.h"
#include "sandwatch/harness/backend.h"

namespace sandwatch::harness {

// The event belongs to the observer's binding (source, pod, sensor mode).
bool BindingOwns(const ObserverBinding& b, const Event& e);

struct Match {
  bool ok = false;
  std::string basis;  // pid | pid-descendant | cmdline | cmdline-descendant | name
};

struct ScoreOptions;
// The event is the step's (rules 3 and 4 of scorer.h): it falls in the step's window (from
// its start less the slack to its end, or the cell's end for a step still running, plus the
// grace) and its process is the step's.
Match MatchStep(const ObserverBinding& b, const GroundTruthStep& s, const CellOutcome& cell,
                const Event& e, const ScoreOptions& opts);

// A process name or path is attack-sim (comm is the first 15 bytes).
bool IsAttackSim(std::string_view name, const std::vector<std::string>& cmdline);
// pred holds for the event's parent or one of its ancestors.
template <class Pred>
bool AnyAncestor(const Event& e, Pred pred) {
  return (e.parent && pred(*e.parent)) || std::any_of(e.ancestors.begin(), e.ancestors.end(), pred);
}
inline bool IsAttackSimRef(const AncestorRef& a) { return IsAttackSim(a.name, a.cmdline); }

// Same program: base names equal, or a 15-byte comm that is the prefix of argv0's base.
bool SameProgram(std::string_view name_or_path, std::string_view argv0);

}  // namespace sandwatch::harness
