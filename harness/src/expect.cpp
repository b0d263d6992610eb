#include "sandwatch/harness/expect.h"

#include <algorithm>
#include <set>

#include "sandwatch/core/signals.h"
#include "sandwatch/harness/format.h"

namespace sandwatch::harness {

namespace {
bool IsSeedSet(const std::vector<std::string>& sigs) {
  return std::is_permutation(sigs.begin(), sigs.end(), signals::kSeedSignals.begin(),
                             signals::kSeedSignals.end());
}
}  // namespace

FindingVerdict JudgeExpectations(const std::vector<Expectation>& expect, const Score& score,
                                 const std::vector<CellOutcome>& cells) {
  FindingVerdict v;
  std::set<std::string> ran;
  for (const auto& c : cells) ran.insert(c.cell.runtime);
  int judged = 0;
  for (const auto& row : expect) {
    const std::string who = row.runtime + "/" + row.observer;
    if (ran.count(row.runtime) == 0) {
      v.not_judged +=
          (v.not_judged.empty() ? "" : "; ") + who + " (" + row.runtime + " did not run)";
      continue;
    }
    ++judged;
    bool any_row = false;
    for (const auto& c : score.coverage) {
      any_row = any_row || (c.runtime == row.runtime && c.observer == row.observer);
    }
    if (!any_row) {
      v.problems += "no " + who + " cell ran; ";
      continue;
    }
    for (const auto& sig : row.signals) {
      bool seen_row = false, all = true, some = false, absent = false;
      for (const auto& c : score.coverage) {
        if (c.runtime != row.runtime || c.observer != row.observer || c.signal != sig) continue;
        seen_row = true;
        absent = absent || !c.available;
        all = all && c.detected;
        some = some || c.cells_detected > 0;
      }
      if (row.detected && absent) {
        v.problems += who + " was absent for " + sig + "; ";
      } else if (row.detected && (!seen_row || !all)) {
        v.problems += who + " missed " + sig + "; ";
      } else if (!row.detected && some) {
        v.problems += who + " saw " + sig + "; ";
      }
    }
  }
  v.applicable = judged > 0;
  v.holds = v.applicable && v.problems.empty();
  return v;
}

std::string DescribeExpectations(const std::vector<Expectation>& expect) {
  std::string out;
  for (const auto& row : expect) {
    out += (out.empty() ? "" : "; ") + row.runtime + "/" + row.observer +
           (row.detected ? " sees " : " sees none of ") +
           (IsSeedSet(row.signals) ? std::string("the six signals") : Join(row.signals, ","));
  }
  return out;
}

}  // namespace sandwatch::harness
