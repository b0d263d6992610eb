// Real Falco as an observer: how the harness starts it, how its alerts are read,
// mapped to the six signals and accounted for. Pure functions except FalcoService.
//
// Every alert in Falco's own file output ends in exactly one place (FalcoAccount):
// attributed to a ground-truth step, counted as noise (in a cell, not the chain), or
// unattributable, with the reason. None is dropped silently.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/event.h"
#include "sandwatch/core/result.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/report/doc.h"

namespace sandwatch::harness {

class ProcessHandle;
struct Score;

// Falco writes its alerts here (file_output) and its log and per-rule counts beside it.
inline constexpr std::string_view kFalcoEventsFile = "falco-events.jsonl";
inline constexpr std::string_view kFalcoLogFile = "falco.log";
inline constexpr std::string_view kFalcoCountsFile = "falco-rule-counts.json";
inline constexpr std::string_view kFalcoAlertsFile = "falco-alerts.json";

// The harness's readiness probe's command line: a 0-byte read of /etc/shadow ("Read
// sensitive file untrusted"), repeated until its alert arrives in Falco's file output.
inline constexpr std::string_view kFalcoProbeCmdline = "head -c 0 /etc/shadow";

// Falco's flags for a run: modern eBPF, json_output, rule_matching all, http_output to
// `http_url` (the receiver's Falco endpoint, e.g. http://127.0.0.1:PORT/falco/TOKEN),
// file_output to `events_file`, append_output of the fields the scorer needs (the pid in
// the workload's namespace and on the host, the parent, ancestors, the executable and the
// container id), no web server, no stdout/syslog alert output. `exe` is argv[0].
std::vector<std::string> FalcoArgs(const std::string& exe, const std::string& http_url,
                                   const std::string& events_file);

// Falco rule -> signal (SignalForRule reads it): the six signals (and reverse_shell) for
// rules of the stable and incubating rulesets. A rule not in it has no sandwatch equivalent.
const std::map<std::string, std::string, std::less<>>& FalcoRuleSignalMap();

// "Triggered rules by rule name:" lines of Falco's exit summary -> rule -> count.
std::map<std::string, long> ParseFalcoRuleCounts(std::string_view text);

// "falco-rules-3.2.0" for a known stable rules file (sha256), else "unknown (sha256 ...)".
std::string FalcoRulesRelease(const std::string& sha256_of_stable_rules);

// Rewrites a Falco event into the scorer's shape: process.pid/ppid become the pids in
// the workload's own PID namespace (proc.vpid, proc.pvpid), ancestors get proc.aname[N]
// names (their pids are host pids, so they are left 0), exe = proc.exepath. Events of
// other sources are returned unchanged.
Event FalcoEventForScoring(Event e);
std::vector<Event> EventsForScoring(const std::vector<Event>& events);

// A field of a Falco event's output_fields ("container.id": the first 12 hex digits of a
// runc container's id); "" when absent.
std::string FalcoField(const Event& e, const std::string& key);
// A pid field ("proc.pid", "proc.vpid"); none when absent or not a pid.
std::optional<int> FalcoPid(const Event& e, const std::string& key);

// One alert of Falco's file output and where it ended.
struct FalcoAlertAccount {
  std::string time;
  std::string rule;
  std::string outcome;    // attributed | noise | unattributable
  std::string cell;       // the cell it fell in, when any
  std::string step;       // attributed: the ground-truth step
  std::string signal;     // the sandwatch signal its rule maps to (may be empty)
  bool credited = false;  // attributed and it credited the step's signal
  std::string reason;     // why: how it was attributed, or why not
  int pid = 0;            // proc.pid (host)
  std::string cmdline;
};

// Accounts for every line of Falco's file output (`file_lines`: one JSON alert a line).
// `received` are the events the receiver stored (source falco among them).
std::vector<FalcoAlertAccount> AccountFalcoAlerts(const std::vector<std::string>& file_lines,
                                                  const std::vector<CellOutcome>& cells,
                                                  const std::vector<Event>& received,
                                                  const Score& score);
nlohmann::json FalcoAccountsJson(const std::vector<FalcoAlertAccount>& accounts);

// Report sections read from the results folder `dir`: the observer cost table
// (observer-cost.json) and, when Falco ran, where each alert of falco-events.jsonl ended
// (also written to falco-alerts.json). Empty when there is nothing to say.
struct RunRecord;
report::Doc FalcoAndCostSections(const std::string& dir, const RunRecord& run, const Score& score);

// The harness-managed Falco of a run. Start() waits until Falco is ready (its log says
// it opened the syscall source) or fails with the log's tail; Stop() sends SIGTERM and
// writes the per-rule counts it printed on exit.
class FalcoService {
 public:
  FalcoService() = default;
  ~FalcoService();
  FalcoService(const FalcoService&) = delete;
  FalcoService& operator=(const FalcoService&) = delete;

  Status Start(CommandRunner& runner, const std::string& exe, const std::string& http_url,
               const std::string& out_dir, double timeout_s);
  void Stop();
  bool Running() const;  // started and not yet exited
  int Pid() const;

 private:
  std::unique_ptr<ProcessHandle> proc_;
  std::string out_dir_;
};

}  // namespace sandwatch::harness
