// `harness run` and `harness report`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/run.h"

namespace sandwatch::harness {

void RegisterRunCommand(CLI::App& app) {
  auto opts = std::make_shared<RunOptions>();
  auto* sub = app.add_subcommand(
      "run",
      "Run a scenario: every cell of runtimes x speeds x variants x repetitions, each\n"
      "watched by the scenario's observers; then score and write results/RUN-ID/.\n"
      "Examples:\n"
      "  sandwatch-harness run scenarios/blog-demo.yaml\n"
      "  sandwatch-harness run scenarios/blog-demo.yaml --runtimes runc --out /tmp/r1\n"
      "  sandwatch-harness run scenarios/blog-demo.yaml --backend kube");
  sub->add_option("scenario", opts->scenario_path, "scenario YAML file")->required();
  sub->add_option("--backend", opts->backend, "local (this machine) or kube")
      ->capture_default_str();
  sub->add_option("--out", opts->out_dir, "results folder (default results/<scenario>-<time>)");
  sub->add_option("--bin-dir", opts->bin_dir,
                  "where sandwatch-sensor/-receiver/-attack-sim are (default: next to this "
                  "binary, or $SANDWATCH_BIN_DIR)");
  sub->add_option("--runtimes", opts->runtimes,
                  "only these runtimes of the scenario (runc, kata-qemu, host)")
      ->delimiter(',');
  sub->add_flag("--keep", opts->keep, "keep scratch files (bundles, VM logs) for debugging");
  sub->add_flag("--quiet", opts->quiet, "no progress lines");
  sub->callback([opts] {
    auto runner = MakeProcessRunner();
    auto out = RunScenario(*opts, DefaultBackends(), *runner);
    if (!out.ok()) {
      std::fprintf(stderr, "sandwatch-harness run: %s\n", out.error().message.c_str());
      int code = out.error().code;
      throw CLI::RuntimeError(code == 2 || code == 130 ? code : 1);
    }
    std::printf("%s\n%sresults: %s\n", out->table.c_str(), out->noise_line.c_str(),
                out->out_dir.c_str());
    if (!out->all_cells_ok) throw CLI::RuntimeError(1);
  });
}

void RegisterReportCommand(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto* sub = app.add_subcommand(
      "report",
      "Re-score and re-render a results folder from its stored data (events.jsonl,\n"
      "ground-truth.jsonl, cells.json): summary.json, report.md, report.html, charts.\n"
      "Example:\n"
      "  sandwatch-harness report results/blog-demo-20261128T101500Z");
  sub->add_option("dir", *dir, "results folder")->required()->check(CLI::ExistingDirectory);
  sub->callback([dir] {
    auto out = RerenderReport(*dir);
    if (!out.ok()) {
      std::fprintf(stderr, "sandwatch-harness report: %s\n", out.error().message.c_str());
      throw CLI::RuntimeError(1);
    }
    std::printf("%s\n%sresults: %s\n", out->table.c_str(), out->noise_line.c_str(),
                out->out_dir.c_str());
  });
}

}  // namespace sandwatch::harness
