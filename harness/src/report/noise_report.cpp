// The noise half of the reports: the noise and precision sections, summary.json's
// noise[]/precision[] and attribution.jsonl. Every attacker-written field (rule, exe) is
// escaped when rendered.
#include "sandwatch/harness/format.h"
#include "sandwatch/harness/results.h"

namespace sandwatch::harness {

using nlohmann::json;

namespace {

int OutsideCells(const Score& score) {
  int n = 0;
  for (const auto& a : score.noise.attributions) n += a.cell.empty() ? 1 : 0;
  return n;
}

}  // namespace

int BenignSteps(const Score& score, const PrecisionEntry& p) {
  int n = 0;
  for (const auto& e : score.noise.noise) {
    if (e.runtime == p.runtime && e.observer == p.observer) n += e.benign_steps;
  }
  return n;
}

double BackgroundPerHour(const PrecisionEntry& p) {
  return p.duration_s > 0 ? p.background_events * 3600.0 / p.duration_s : 0;
}

std::string PrecisionText(const PrecisionEntry& p) {
  if (!p.precision) return "nothing raised";
  return Fixed(*p.precision, 2) + " [" + Fixed(p.ci95[0], 2) + ", " + Fixed(p.ci95[1], 2) + "]";
}

std::string NoiseLine(const Score& score) {
  std::string out = "noise:";
  if (score.noise.precision.empty()) return out + " no observer reported";
  for (const auto& p : score.noise.precision) {
    out += " " + p.runtime + "/" + p.observer + " " + std::to_string(p.benign_false_positives) +
           " false positive(s) on " + std::to_string(BenignSteps(score, p)) + " benign step(s), " +
           std::to_string(p.background_events) + " background alert(s) (" +
           Fixed(BackgroundPerHour(p), 0) + "/h), precision " + PrecisionText(p) + ";";
  }
  out.back() = '\n';
  return out + "(" + std::to_string(score.noise.machinery_excluded) +
         " alert(s) on the harness's own machinery excluded)\n";
}

report::Doc NoiseDoc(const Score& score) {
  const NoiseScore& n = score.noise;
  report::Doc d;
  d.Heading(2, "Noise: what each observer raised that was not an attack");
  d.Para(
      "Every event is attributed to an attack step (true positive), a benign step (false "
      "positive on a look-alike), the harness's own machinery (excluded) or background "
      "(everything else). Precision = true positives / (true positives + false positives + "
      "background), with its Wilson 95 % interval. Every event's attribution is in "
      "attribution.jsonl.");
  std::vector<report::Row> rows;
  for (const auto& p : n.precision) {
    rows.push_back({p.runtime, p.observer, std::to_string(p.true_positives),
                    std::to_string(p.benign_false_positives), std::to_string(BenignSteps(score, p)),
                    std::to_string(p.background_events), Fixed(BackgroundPerHour(p), 1),
                    std::to_string(p.machinery_excluded), PrecisionText(p),
                    Fixed(p.duration_s, 0)});
  }
  d.Table({"runtime", "observer", "true positives", "false positives (benign)", "benign steps",
           "background", "background per hour", "machinery excluded", "precision [95 % CI]",
           "watched s"},
          std::move(rows));
  rows.clear();
  for (const auto& e : n.noise) {
    if (e.false_positives == 0 && e.benign_steps == 0 && e.background_events == 0) continue;
    rows.push_back({e.runtime, e.observer, e.signal, std::to_string(e.false_positives),
                    std::to_string(e.benign_steps), std::to_string(e.background_events)});
  }
  d.Heading(3, "Per signal");
  d.Table({"runtime", "observer", "signal", "false positives", "benign steps resembling it",
           "background"},
          std::move(rows));
  d.Heading(3, "False positives on benign steps");
  std::vector<report::Text> fps;
  int benign = 0;  // the first 200 are listed
  for (const auto& a : n.attributions) {
    if (a.outcome != Outcome::kBenign || ++benign > 200) continue;
    fps.push_back({a.cell + " " + a.observer + ": " + a.rule + " on ", report::Code(a.exe),
                   " - " + a.reason});
  }
  if (benign > 200) {
    fps.emplace_back("... " + std::to_string(benign - 200) + " more in attribution.jsonl");
  }
  fps.empty() ? d.Para("None.") : d.List(std::move(fps));
  d.Heading(3, "Background: the most frequent (rule, program) pairs");
  rows.clear();
  for (const auto& x : n.background_examples) {
    rows.push_back({x.runtime, x.observer, x.rule, x.exe, std::to_string(x.count)});
  }
  rows.empty() ? d.Para("None.")
               : d.Table({"runtime", "observer", "rule", "program", "alerts"}, std::move(rows));
  d.Para(std::to_string(OutsideCells(score)) +
         " event(s) fell outside every cell's window (attributed in attribution.jsonl, not "
         "counted above).");
  return d;
}

// summary.json keys are the field names.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(NoiseEntry, runtime, observer, signal, false_positives,
                                   benign_steps, background_events, duration_s)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BackgroundExample, runtime, observer, rule, exe, count)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PrecisionEntry, runtime, observer, true_positives,
                                   false_positives, benign_false_positives, background_events,
                                   machinery_excluded, precision, ci95, duration_s)
// attribution.jsonl: the outcome by its name.
NLOHMANN_JSON_SERIALIZE_ENUM(Outcome, {{Outcome::kAttack, "attack"},
                                       {Outcome::kBenign, "benign"},
                                       {Outcome::kMachinery, "machinery"},
                                       {Outcome::kBackground, "background"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Attribution, event_id, cell, runtime, observer, rule, signal,
                                   exe, outcome, step, repeat, reason)

json NoiseSummaryJson(const Score& score) {
  return json{{"noise", score.noise.noise},
              {"precision", score.noise.precision},
              {"background_examples", score.noise.background_examples},
              {"machinery_excluded", score.noise.machinery_excluded},
              {"events_outside_cells", OutsideCells(score)}};
}

std::string AttributionJsonl(const Score& score) {
  std::string out;
  for (const auto& a : score.noise.attributions) {
    out += json(a).dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  }
  return out;
}

bool RanLocalStandIn(const RunRecord& run) {
  if (run.backend != "local") return false;
  for (const auto& c : run.cells) {
    if (c.cell.runtime == "kata-qemu" && !c.ground_truth.empty()) return true;
  }
  return false;
}

}  // namespace sandwatch::harness
