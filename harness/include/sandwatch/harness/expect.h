// The scenario's `expect:` matrix judged against a run's coverage: the run's
// finding (for blog-demo: in-guest sees the chain in both runtimes, the host view
// sees it in runc and nothing inside the VM). Nothing here is hard-coded: every
// row comes from the scenario file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/scenario.h"
#include "sandwatch/harness/scorer.h"

namespace sandwatch::harness {

// cells.json and summary.json "expect" rows: the keys are the field names, all required.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Expectation, runtime, observer, signals, detected)

struct FindingVerdict {
  bool applicable = false;  // the scenario has rows for runtimes that ran
  bool holds = false;       // applicable and every judged row holds
  std::string problems;     // "runc/in-guest missed shadow_file_access; ..."
  std::string not_judged;   // rows whose runtime did not run in this run
};

// Rows whose runtime is not among `cells` are not judged (listed in not_judged).
FindingVerdict JudgeExpectations(const std::vector<Expectation>& expect, const Score& score,
                                 const std::vector<CellOutcome>& cells);

// One line for reports: "holds", "does not hold - why", "not judged - why".
std::string DescribeExpectations(const std::vector<Expectation>& expect);

}  // namespace sandwatch::harness
