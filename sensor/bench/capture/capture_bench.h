// capture_bench: every capture source against the same real workload in one run.
// Sources run side by side: netlink, fanotify, inotify (+ a ProcessScanner scan
// on each trigger, as the pipeline does) and poll (+ the same scanner). The
// workload: trials of a dropped static and a dropped dynamic binary living ~1,
// 10 and 100 ms, started by the non-shell spawner; 1 ms `cat /etc/shadow`
// trials; a full-speed /usr/bin/true storm (64 in flight) with forkstat listening
// too; and a storm of 5 ms processes for argv capture. Per-source CPU comes from
// each source's own thread CPU counters (scans included for inotify and poll).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::sensor::bench {

struct BenchConfig {
  int trials_short = 200;  // per lifetime of 1 ms and 10 ms
  int trials_long = 50;    // 100 ms
  int shadow_trials = 100;
  int storm = 5000;
  int argv_storm = 2000;
  int inflight = 64;
  double poll_interval_s = 2.0;
  bool forkstat = true;
  int scan_nice = 0;       // nice of the scan workers (the pipeline's thread)
  std::string json_out;    // write raw results here when set
  std::string update_doc;  // replace the generated block in this markdown file
  std::string source_dir = SANDWATCH_SOURCE_DIR;  // for the trial program's source
};

struct Cell {  // one source x one workload
  int trials = 0;
  int detected = 0;
  int argv = 0;  // detected with the full argv
  std::vector<double> latency_ms;
};

struct BenchResult {
  std::map<std::string, std::string> environment;
  std::vector<std::string> sources;
  // workload name -> source -> cell
  std::map<std::string, std::map<std::string, Cell>> cells;
  std::map<std::string, double> workload_lifetime_p50_ms;
  // storm
  int storm_spawned = 0;
  std::map<std::string, int> storm_seen;  // source (and "forkstat") -> exec events for our pids
  std::map<std::string, double> cpu_ms_per_1000_execs;
  std::map<std::string, int64_t> counters;
  std::string notes;
};

Result<BenchResult> RunBench(const BenchConfig& config);

// Markdown tables for docs/capture.md.
std::string RenderMarkdown(const BenchConfig& config, const BenchResult& result);
std::string RenderJson(const BenchResult& result);
// Replaces the text between "<!-- MARKER:begin -->" and "<!-- MARKER:end -->"
// in `path` (appends the block when absent).
Status UpdateDoc(const std::string& path, const std::string& block,
                 const std::string& marker = "capture_bench");

}  // namespace sandwatch::sensor::bench
