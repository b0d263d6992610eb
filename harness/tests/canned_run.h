// Hand-made cells, steps, observers and events for the scorer, noise and report tests.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sandwatch/core/event.h"
#include "sandwatch/core/ground_truth.h"
#include "sandwatch/harness/backend.h"

namespace sandwatch::harness::canned {

inline constexpr int64_t kT0 = 1'000'000'000'000;  // every canned cell starts here (wall ns)
inline constexpr int64_t kSec = 1'000'000'000;

// A runc cell (speed blog, variant default) from kT0, len_s seconds long.
inline CellOutcome Cell(int64_t len_s) {
  CellOutcome c;
  c.cell.runtime = "runc";
  c.cell.speed = "blog";
  c.cell.variant = "default";
  c.start_wall_ns = kT0;
  c.end_wall_ns = kT0 + len_s * kSec;
  return c;
}

// An attack step of one signal: `cmd` as `pid`, from kT0 + start_s for len_s seconds.
inline GroundTruthStep Step(std::string step, const std::string& signal,
                            std::vector<std::string> cmd, int pid, int64_t start_s, int64_t len_s) {
  GroundTruthStep s;
  s.step = std::move(step);
  s.signal = signal;
  s.signals = {signal};
  s.command = std::move(cmd);
  s.pid = pid;
  s.start_wall_ns = kT0 + start_s * kSec;
  s.end_wall_ns = s.start_wall_ns + len_s * kSec;
  return s;
}

// The in-guest sensor of `pod`, sharing the workload's PID namespace.
inline ObserverBinding InGuest(std::string pod) {
  ObserverBinding b;
  b.observer = "in-guest";
  b.pod = std::move(pod);
  b.pids_comparable = true;
  return b;
}

// Falco as an observer (source falco, pids in the workload's namespace); absent: not installed.
inline ObserverBinding Falco(bool available = true) {
  ObserverBinding b;
  b.observer = "falco";
  b.source = "falco";
  b.available = available;
  b.pids_comparable = true;
  if (!available) b.reason = "Falco is not installed";
  return b;
}

// An event of `rule` from `pod` at time_ns: process `cmd` (name = argv[0]) as `pid`.
inline Event ProcessEvent(std::string id, std::string rule, std::string pod, int64_t time_ns,
                          int pid, std::vector<std::string> cmd) {
  Event e;
  e.id = std::move(id);
  e.rule = std::move(rule);
  e.pod = std::move(pod);
  e.time_ns = time_ns;
  ProcessRef p;
  p.pid = pid;
  p.name = cmd.empty() ? "" : cmd[0];
  p.cmdline = std::move(cmd);
  e.process = p;
  return e;
}

}  // namespace sandwatch::harness::canned
