// capture_bench: measures every capture source against the same real workload in
// one run and writes the report block of docs/capture.md. Needs root.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>

#include "capture_bench.h"
#include "sidecar_bench.h"

int main(int argc, char** argv) try {
  using namespace sandwatch::sensor::bench;
  BenchConfig c;
  CLI::App app{
      "capture_bench: detection rate, latency and CPU of the netlink, fanotify, inotify and poll "
      "capture sources, side by side on the same processes (needs root).\n\n"
      "Examples:\n"
      "  capture_bench                                  # full run, markdown on stdout\n"
      "  capture_bench --update-doc docs/capture.md     # refresh the generated block\n"
      "  capture_bench --trials 50 --storm 1000 --json out.json   # a quick run\n"
      "  capture_bench --sidecar --update-doc docs/capture.md     # the sidecar comparison\n\n"
      "--sidecar runs the sensor itself in a private PID namespace, with a pod's default\n"
      "capabilities and privileged, against 1 ms runs of a dropped static and dynamic binary,\n"
      "beside pspy (../shared/peers/pspy), and refreshes the sidecar_bench block."};
  bool sidecar = false;
  app.add_flag("--sidecar", sidecar, "run the end-to-end sidecar comparison instead");
  app.set_version_flag("--version", "capture_bench 0.1.0");
  app.add_option("--trials", c.trials_short, "trials per 1 ms and 10 ms lifetime")
      ->check(CLI::Range(1, 100000));
  app.add_option("--trials-long", c.trials_long, "trials of 100 ms processes")
      ->check(CLI::Range(1, 100000));
  app.add_option("--shadow-trials", c.shadow_trials, "trials of cat /etc/shadow")
      ->check(CLI::Range(1, 100000));
  app.add_option("--storm", c.storm, "execs in the full-speed storm")->check(CLI::Range(1, 30000));
  app.add_option("--argv-storm", c.argv_storm, "5 ms processes in the argv storm")
      ->check(CLI::Range(1, 30000));
  app.add_option("--inflight", c.inflight, "processes in flight during storms")
      ->check(CLI::Range(1, 1024));
  app.add_option("--poll-interval", c.poll_interval_s, "poll source interval, seconds")
      ->check(CLI::Range(0.01, 60.0));
  app.add_flag("!--no-forkstat", c.forkstat, "do not run forkstat on the storm");
  app.add_option("--scan-nice", c.scan_nice,
                 "nice of the scan workers standing in for the pipeline [0]")
      ->check(CLI::Range(-20, 19));
  app.add_option("--json", c.json_out, "also write raw results as JSON to this file");
  app.add_option("--update-doc", c.update_doc, "replace the generated block in this markdown file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "capture_bench: " << e.what() << "\n";
    return 2;
  }
  if (sidecar) {
    SidecarBenchConfig sc;
    sc.source_dir = c.source_dir;
    sc.bin_dir = SANDWATCH_BIN_DIR;
    auto md = RunSidecarBench(sc);
    if (!md.ok()) {
      std::cerr << "capture_bench: " << md.error().message << "\n";
      return 1;
    }
    std::cout << *md;
    if (!c.update_doc.empty()) {
      if (auto st = UpdateDoc(c.update_doc, *md, "sidecar_bench"); !st.ok()) {
        std::cerr << "capture_bench: " << st.error().message << "\n";
        return 1;
      }
    }
    return 0;
  }
  auto result = RunBench(c);
  if (!result.ok()) {
    std::cerr << "capture_bench: " << result.error().message << "\n";
    return 1;
  }
  std::string md = RenderMarkdown(c, *result);
  std::cout << md;
  if (!c.json_out.empty()) std::ofstream(c.json_out) << RenderJson(*result) << "\n";
  if (!c.update_doc.empty()) {
    auto st = UpdateDoc(c.update_doc, md);
    if (!st.ok()) {
      std::cerr << "capture_bench: " << st.error().message << "\n";
      return 1;
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "capture_bench: " << e.what() << "\n";
  return 1;
}
