// Where every alert of Falco's own file output ended: attributed to a step, noise, or
// unattributable with the reason.
#include "../step_match.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/harness/falco.h"
#include "sandwatch/harness/scorer.h"

namespace sandwatch::harness {

namespace {

using nlohmann::json;

// An alert as a Falco event in the scorer's shape: output_fields as text (as the receiver
// stores them), pids in the workload's namespace, parent and ancestor names.
Event AlertEvent(const json& alert, const std::string& rule) {
  Event e;
  e.source = "falco";
  e.rule = rule;
  e.process = ProcessRef{};
  if (const json fields = alert.value("output_fields", json::object()); fields.is_object()) {
    for (const auto& [key, v] : fields.items()) {
      if (!v.is_null()) e.fields[key] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  return FalcoEventForScoring(std::move(e));
}

// The received event for an alert of the file output: same rule and same time.
const Event* Received(const std::vector<Event>& received, const std::string& rule, int64_t t) {
  for (const auto& e : received) {
    if (e.source == "falco" && e.rule == rule && e.time_ns == t) return &e;
  }
  return nullptr;
}

// Records where the alert ended and why.
void Settle(FalcoAlertAccount& a, const char* outcome, std::string reason) {
  a.outcome = outcome;
  a.reason = std::move(reason);
}

void Classify(FalcoAlertAccount& a, const Event& e, int64_t t,
              const std::vector<CellOutcome>& cells, const Event* got, const Score& score) {
  const CellOutcome* cell = nullptr;
  for (const auto& c : cells) {
    if (t >= c.start_wall_ns && t <= c.end_wall_ns) cell = &c;
  }
  if (cell == nullptr) {
    return Settle(a, "unattributable",
                  a.cmdline == kFalcoProbeCmdline
                      ? "the harness's readiness probe, before the first cell (harness machinery)"
                      : "outside every cell's window (before, between or after the cells)");
  }
  a.cell = cell->cell.Id();
  if (got == nullptr) {
    return Settle(a, "unattributable",
                  "never reached the receiver (http_output), so it could not be scored");
  }
  if (auto it = score.attributed.find(got->id); it != score.attributed.end()) {
    a.step = it->second.substr(it->second.find(' ') + 1);
    a.credited = true;
    return Settle(a, "attributed", "credited " + a.signal + " to step " + a.step);
  }
  const auto b = std::find_if(cell->observers.begin(), cell->observers.end(),
                              [](const ObserverBinding& o) { return o.observer == "falco"; });
  const std::string container = FalcoField(e, "container.id");
  if (b != cell->observers.end() && !b->container_id.empty()) {
    if (container != b->container_id) {
      return Settle(a, "noise",
                    container == "host" || container.empty()
                        ? "a host process during the cell (background)"
                        : "another container (" + container + ") during the cell (background)");
    }
    const int vpid = e.process->pid, pvpid = e.process->ppid;
    for (const auto& s : cell->ground_truth) {
      if (s.pid <= 0 || (s.pid != vpid && s.pid != pvpid)) continue;
      a.step = s.step;
      return Settle(
          a, "attributed",
          std::string(s.pid == vpid ? "the step's process" : "a child of the step") + ", but " +
              (a.signal.empty() ? "the rule maps to no sandwatch signal"
                                : "its signal " + a.signal + " is not what this step raises") +
              " (not credited)");
    }
    return Settle(a, "noise",
                  "in the workload's container, but no chain step's process (e.g. the runtime's "
                  "exec, the shell's own start-up)");
  }
  Settle(a, "noise",
         AnyAncestor(e, IsAttackSimRef)
             ? "under an attack-sim, but not a step of this cell's chain (another run on the "
               "machine, or a rule of no step's signal)"
             : "not the chain's process (background during the cell)");
}

}  // namespace

std::vector<FalcoAlertAccount> AccountFalcoAlerts(const std::vector<std::string>& file_lines,
                                                  const std::vector<CellOutcome>& cells,
                                                  const std::vector<Event>& received,
                                                  const Score& score) {
  std::vector<FalcoAlertAccount> out;
  for (const auto& line : file_lines) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    FalcoAlertAccount& a = out.emplace_back();
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      Settle(a, "unattributable",
             "not a JSON alert (Falco's file output line could not be parsed)");
      a.cmdline = line.substr(0, 200);
      continue;
    }
    // Another type where a string belongs reads as absent (json::value would throw).
    const auto text = [&j](const char* key) {
      auto it = j.find(key);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    a.time = text("time");
    a.rule = text("rule");
    a.signal = SignalForRule("falco", a.rule);
    const Event e = AlertEvent(j, a.rule);
    a.pid = FalcoPid(e, "proc.pid").value_or(0);
    a.cmdline = FalcoField(e, "proc.cmdline");
    auto t = ParseRfc3339(a.time);
    if (!t.ok()) {
      Settle(a, "unattributable", "no valid time in the alert");
      continue;
    }
    Classify(a, e, *t, cells, Received(received, a.rule, *t), score);
  }
  return out;
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FalcoAlertAccount, time, rule, outcome, cell, step, signal,
                                   credited, reason, pid, cmdline)

json FalcoAccountsJson(const std::vector<FalcoAlertAccount>& accounts) {
  std::map<std::string, int> totals = {{"attributed", 0}, {"noise", 0}, {"unattributable", 0}};
  for (const auto& a : accounts) totals[a.outcome] += 1;
  return {
      {"alerts", static_cast<int>(accounts.size())}, {"totals", totals}, {"accounts", accounts}};
}

}  // namespace sandwatch::harness
