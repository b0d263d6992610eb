// `harness run` and `harness report`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "sandwatch/core/clock.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/kube/kube_dry_run.h"
#include "sandwatch/harness/run.h"

namespace sandwatch::harness {

namespace {

// --dry-run: the kube backend's cells, printed instead of run.
void DryRun(const RunOptions& opts) {
  if (opts.backend != "kube") FailCommand("run", "--dry-run needs --backend kube", 2);
  auto scenario = LoadRunScenario(opts);
  if (!scenario.ok()) FailCommand("run", scenario.error().message, 2);
  auto config = kube::KubeConfigFromEnv([](const char* n) { return std::getenv(n); });
  if (!config.ok()) FailCommand("run", config.error().message, 2);
  auto runner = MakeProcessRunner();
  auto listing = kube::KubeDryRun(*scenario, *config, *runner, "");
  if (!listing.ok()) FailCommand("run --dry-run", listing.error().message);
  std::fputs(listing->c_str(), stdout);
}

}  // namespace

void FailCommand(const char* command, const std::string& what, int code) {
  std::fprintf(stderr, "sandwatch-harness %s: %s\n", command, what.c_str());
  throw CLI::RuntimeError(code);
}

void AddRunFlags(CLI::App& sub, RunOptions& opts) {
  sub.add_option("--out", opts.out_dir, "results folder (default results/<scenario>-<time>)");
  sub.add_option("--bin-dir", opts.bin_dir,
                 "where sandwatch-sensor/-receiver/-attack-sim are (default: next to this "
                 "binary, or $SANDWATCH_BIN_DIR)");
  sub.add_option("--falco", opts.falco_path,
                 "the falco executable for the `falco` observer (default: the scenario's "
                 "falco.path, else falco in PATH); the harness starts and stops it");
  sub.add_flag("--keep", opts.keep, "keep scratch files (bundles, VM logs) for debugging");
}

void AddBackendFlags(CLI::App& sub, RunOptions& opts, const std::string& runtimes_help) {
  sub.add_option("--backend", opts.backend, "local (this machine) or kube")->capture_default_str();
  sub.add_option("--runtimes", opts.runtimes, runtimes_help)->delimiter(',');
}

void RegisterRunCommand(CLI::App& app) {
  auto opts = std::make_shared<RunOptions>();
  auto* sub = app.add_subcommand(
      "run", R"help(Run a scenario. kind: chain (the default): every cell of runtimes x speeds x
variants x repetitions, each watched by the scenario's observers; then score and
write results/RUN-ID/. kind: sweep: the poll-interval sweep (see `tune --help`).
Examples:
  sandwatch-harness run scenarios/blog-demo.yaml
  sandwatch-harness run scenarios/blog-demo.yaml --runtimes runc --out /tmp/r1
  sandwatch-harness run scenarios/blog-demo.yaml --backend kube
  sandwatch-harness run scenarios/blog-demo.yaml --backend kube --dry-run
  sandwatch-harness run scenarios/poll-sweep.yaml)help");
  sub->add_option("scenario", opts->scenario_path, "scenario YAML file")->required();
  AddBackendFlags(*sub, *opts, "only these runtimes of the scenario (runc, kata-qemu, host)");
  AddRunFlags(*sub, *opts);
  sub->add_flag("--falco-external", opts->falco_external,
                "do not start Falco: one already runs with http_output to this run's receiver "
                "(fix the port with SANDWATCH_LAB_RECEIVER_PORT)");
  sub->add_flag("--quiet", opts->quiet, "no progress lines");
  auto dry_run = std::make_shared<bool>(false);
  sub->add_flag("--dry-run", *dry_run,
                "with --backend kube: print each cell's manifest and kubectl steps, run nothing "
                "(no cluster needed; kubectl only renders the manifests)");
  sub->callback([opts, dry_run] {
    if (*dry_run) return DryRun(*opts);
    auto runner = MakeProcessRunner();
    auto out = RunScenario(*opts, DefaultBackends(), *runner, SystemClock());
    if (!out.ok()) {
      const int code = out.error().code;
      FailCommand("run", out.error().message, code == 2 || code == 130 ? code : 1);
    }
    std::fputs(out->terminal.c_str(), stdout);
    if (!out->all_cells_ok) throw CLI::RuntimeError(1);
  });
}

void RegisterReportCommand(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto* sub = app.add_subcommand(
      "report",
      "Re-score and re-render a results folder from its stored data (events.jsonl,\n"
      "ground-truth.jsonl, cells.json; a sweep's cells.jsonl): summary.json, report.md,\n"
      "report.html, charts.\n"
      "Examples:\n"
      "  sandwatch-harness report results/blog-demo-20261128T101500Z\n"
      "  sandwatch-harness report results/poll-sweep-2026-11-28");
  sub->add_option("dir", *dir, "results folder")->required()->check(CLI::ExistingDirectory);
  sub->callback([dir] {
    auto out = RerenderReport(*dir);
    if (!out.ok()) FailCommand("report", out.error().message);
    std::fputs(out->terminal.c_str(), stdout);
  });
}

}  // namespace sandwatch::harness
