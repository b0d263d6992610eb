// `sandwatch-harness run SCENARIO --backend kube --dry-run`: what a run would do on the
// cluster, without one. The real kube backend runs every cell against a runner that
// prints each kubectl command instead of running it (and answers as a healthy cluster
// would, with placeholders such as ATTACKER_POD_IP), so the steps printed are exactly the
// backend's. Only `kubectl kustomize`, which needs no cluster, really runs, so each
// cell's manifest is the one the run would apply.
#pragma once

#include <string>

#include "sandwatch/core/result.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/kube/kube_config.h"
#include "sandwatch/harness/scenario.h"

namespace sandwatch::harness::kube {

// Returns the whole listing: per cell a "# cell ..." header, each command as "$ ...", the
// manifest applied after "$ kubectl ... apply -f - <<'EOF'", then the environment facts
// the run would record. `kustomize_runner` runs `kubectl kustomize` (tests inject one);
// `source_dir` "" means ResolveSourceDir().
Result<std::string> KubeDryRun(const Scenario& scenario, const KubeConfig& config,
                               CommandRunner& kustomize_runner, const std::string& source_dir);

}  // namespace sandwatch::harness::kube
