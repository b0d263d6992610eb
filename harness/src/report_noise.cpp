// The noise half of the reports: the blog table's noise rows, the noise and
// precision sections, the noise chart, summary.json's noise[]/precision[] and
// attribution.jsonl. Every attacker-written field (rule, exe) is escaped.
#include <algorithm>
#include <cstdio>

#include "sandwatch/harness/results.h"

namespace sandwatch::harness {

using nlohmann::json;

namespace {

std::string Fmt(double v, int prec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

double PerHour(int events, double seconds) { return seconds > 0 ? events * 3600.0 / seconds : 0; }

int BenignSteps(const Score& score, const std::string& rt, const std::string& obs) {
  int n = 0;
  for (const auto& e : score.noise.noise) {
    if (e.runtime == rt && e.observer == obs) n += e.benign_steps;
  }
  return n;
}

std::string PrecisionText(const PrecisionEntry& p) {
  if (!p.precision) return "nothing raised";
  return Fmt(*p.precision, 2) + " [" + Fmt(p.ci95_lo, 2) + ", " + Fmt(p.ci95_hi, 2) + "]";
}

int OutsideCells(const Score& score) {
  int n = 0;
  for (const auto& a : score.noise.attributions) n += a.cell_id.empty() ? 1 : 0;
  return n;
}

}  // namespace

const PrecisionEntry* FindPrecision(const Score& score, const std::string& runtime,
                                    const std::string& observer) {
  for (const auto& p : score.noise.precision) {
    if (p.runtime == runtime && p.observer == observer) return &p;
  }
  return nullptr;
}

std::string NoiseCellText(const Score& score, const std::string& rt, const std::string& obs) {
  const PrecisionEntry* p = FindPrecision(score, rt, obs);
  if (p == nullptr) return "absent";
  return std::to_string(p->benign_false_positives) + " FP/" +
         std::to_string(BenignSteps(score, rt, obs)) + " benign; " +
         std::to_string(p->background_events) + " bg (" +
         Fmt(PerHour(p->background_events, p->duration_s), 0) + "/h)";
}

std::string PrecisionCellText(const Score& score, const std::string& rt, const std::string& obs) {
  const PrecisionEntry* p = FindPrecision(score, rt, obs);
  return p == nullptr ? "absent" : PrecisionText(*p);
}

std::string NoiseLine(const Score& score) {
  std::string out = "noise:";
  if (score.noise.precision.empty()) return out + " no observer reported";
  for (const auto& p : score.noise.precision) {
    out += " " + p.runtime + "/" + p.observer + " " + std::to_string(p.benign_false_positives) +
           " false positive(s) on " + std::to_string(BenignSteps(score, p.runtime, p.observer)) +
           " benign step(s), " + std::to_string(p.background_events) + " background alert(s) (" +
           Fmt(PerHour(p.background_events, p.duration_s), 0) + "/h), precision " +
           PrecisionText(p) + ";";
  }
  out.back() = '\n';
  return out + "(" + std::to_string(score.noise.machinery_excluded) +
         " alert(s) on the harness's own machinery excluded)\n";
}

std::string NoiseMarkdown(const Score& score) {
  const NoiseScore& n = score.noise;
  std::string md = "## Noise: what each observer raised that was not an attack\n\n";
  md +=
      "Every event is attributed to an attack step (true positive), a benign step (false "
      "positive on a look-alike), the harness's own machinery (excluded) or background "
      "(everything else). Precision = true positives / (true positives + false positives + "
      "background), with its Wilson 95 % interval. Every event's attribution is in "
      "attribution.jsonl.\n\n";
  md +=
      "| runtime | observer | true positives | false positives (benign) | benign steps | "
      "background | background per hour | machinery excluded | precision [95 % CI] | watched "
      "s |\n|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& p : n.precision) {
    md += "| " + EscapeMarkdown(p.runtime) + " | " + EscapeMarkdown(p.observer) + " | " +
          std::to_string(p.true_positives) + " | " + std::to_string(p.benign_false_positives) +
          " | " + std::to_string(BenignSteps(score, p.runtime, p.observer)) + " | " +
          std::to_string(p.background_events) + " | " +
          Fmt(PerHour(p.background_events, p.duration_s), 1) + " | " +
          std::to_string(p.machinery_excluded) + " | " + PrecisionText(p) + " | " +
          Fmt(p.duration_s, 0) + " |\n";
  }
  md +=
      "\n### Per signal\n\n| runtime | observer | signal | false positives | benign steps "
      "resembling it | background |\n|---|---|---|---|---|---|\n";
  for (const auto& e : n.noise) {
    if (e.false_positives == 0 && e.benign_steps == 0 && e.background_events == 0) continue;
    md += "| " + EscapeMarkdown(e.runtime) + " | " + EscapeMarkdown(e.observer) + " | " +
          EscapeMarkdown(e.signal) + " | " + std::to_string(e.false_positives) + " | " +
          std::to_string(e.benign_steps) + " | " + std::to_string(e.background_events) + " |\n";
  }
  md += "\n### False positives on benign steps\n\n";
  int fps = 0;
  for (const auto& a : n.attributions) {
    if (a.outcome != Outcome::kBenign) continue;
    if (++fps > 200) continue;
    md += "- " + EscapeMarkdown(a.cell_id) + " " + EscapeMarkdown(a.observer) + ": " +
          EscapeMarkdown(a.rule) + " on `" + EscapeMarkdown(a.exe) + "` - " +
          EscapeMarkdown(a.reason) + "\n";
  }
  if (fps == 0) md += "None.\n";
  if (fps > 200) md += "- ... " + std::to_string(fps - 200) + " more in attribution.jsonl\n";
  md += "\n### Background: the most frequent (rule, program) pairs\n\n";
  if (n.background_examples.empty()) md += "None.\n";
  if (!n.background_examples.empty()) {
    md += "| runtime | observer | rule | program | alerts |\n|---|---|---|---|---|\n";
  }
  for (const auto& x : n.background_examples) {
    md += "| " + EscapeMarkdown(x.runtime) + " | " + EscapeMarkdown(x.observer) + " | " +
          EscapeMarkdown(x.rule) + " | " + EscapeMarkdown(x.exe) + " | " + std::to_string(x.count) +
          " |\n";
  }
  md += "\n" + std::to_string(OutsideCells(score)) +
        " event(s) fell outside every cell's window (attributed in attribution.jsonl, not "
        "counted above).\n\n";
  return md;
}

std::string NoiseHtml(const Score& score) {
  const NoiseScore& n = score.noise;
  std::string h = "<h2>Noise: what each observer raised that was not an attack</h2>\n";
  h += "<table><tr><th>runtime</th><th>observer</th><th>true positives</th><th>false "
       "positives (benign)</th><th>benign steps</th><th>background</th><th>per hour</th>"
       "<th>machinery excluded</th><th>precision [95 % CI]</th></tr>\n";
  for (const auto& p : n.precision) {
    h += "<tr><td>" + EscapeHtml(p.runtime) + "</td><td>" + EscapeHtml(p.observer) + "</td><td>" +
         std::to_string(p.true_positives) + "</td><td>" + std::to_string(p.benign_false_positives) +
         "</td><td>" + std::to_string(BenignSteps(score, p.runtime, p.observer)) + "</td><td>" +
         std::to_string(p.background_events) + "</td><td>" +
         Fmt(PerHour(p.background_events, p.duration_s), 1) + "</td><td>" +
         std::to_string(p.machinery_excluded) + "</td><td>" + EscapeHtml(PrecisionText(p)) +
         "</td></tr>\n";
  }
  h += "</table>\n<h3>Background: the most frequent (rule, program) pairs</h3><table><tr>"
       "<th>runtime</th><th>observer</th><th>rule</th><th>program</th><th>alerts</th></tr>\n";
  for (const auto& x : n.background_examples) {
    h += "<tr><td>" + EscapeHtml(x.runtime) + "</td><td>" + EscapeHtml(x.observer) + "</td><td>" +
         EscapeHtml(x.rule) + "</td><td><code>" + EscapeHtml(x.exe) + "</code></td><td>" +
         std::to_string(x.count) + "</td></tr>\n";
  }
  h += "</table>\n<h3>False positives on benign steps</h3><ul>\n";
  int fps = 0;
  for (const auto& a : n.attributions) {
    if (a.outcome != Outcome::kBenign || ++fps > 200) continue;
    h += "<li>" +
         EscapeHtml(a.cell_id + " " + a.observer + ": " + a.rule + " on " + a.exe + " - " +
                    a.reason) +
         "</li>\n";
  }
  if (fps == 0) h += "<li>none</li>\n";
  h += "</ul>\n<p>" + std::to_string(OutsideCells(score)) +
       " event(s) fell outside every cell's window; every event's attribution is in "
       "attribution.jsonl.</p>\n";
  return h;
}

std::string NoiseSvg(const Score& score) {
  const auto& ps = score.noise.precision;
  const int left = 200, top = 60, bh = 16, gap = 14, plot = 260;
  const int row_h = 2 * bh + gap;
  int height = top + static_cast<int>(ps.size()) * row_h + 40;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  std::to_string(left + 2 * plot + 160) + "\" height=\"" + std::to_string(height) +
                  "\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n"
                  "<title>Noise per observer</title>\n<text x=\"10\" y=\"20\" font-size=\"15\" "
                  "font-weight=\"bold\">Noise: false positives on benign steps and background "
                  "alerts per hour</text>\n";
  s += "<text x=\"" + std::to_string(left) + "\" y=\"45\">false positives / benign steps</text>\n";
  s += "<text x=\"" + std::to_string(left + plot + 60) +
       "\" y=\"45\">background alerts per hour</text>\n";
  if (ps.empty()) return s + "<text x=\"10\" y=\"70\">no observer reported</text>\n</svg>\n";
  double max_fp = 1, max_bg = 1;
  for (const auto& p : ps) {
    max_fp = std::max<double>(
        max_fp, std::max(p.benign_false_positives, BenignSteps(score, p.runtime, p.observer)));
    max_bg = std::max(max_bg, PerHour(p.background_events, p.duration_s));
  }
  for (size_t i = 0; i < ps.size(); ++i) {
    const auto& p = ps[i];
    int y = top + static_cast<int>(i) * row_h;
    int steps = BenignSteps(score, p.runtime, p.observer);
    double bg = PerHour(p.background_events, p.duration_s);
    int w_steps = static_cast<int>(steps / max_fp * plot);
    int w_fp = std::max(p.benign_false_positives > 0 ? 2 : 0,
                        static_cast<int>(p.benign_false_positives / max_fp * plot));
    int w_bg = std::max(bg > 0 ? 2 : 0, static_cast<int>(bg / max_bg * plot));
    int x2 = left + plot + 60;
    s += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + std::to_string(y + 13) +
         "\" text-anchor=\"end\">" + EscapeHtml(p.runtime + " / " + p.observer) + "</text>\n";
    s += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + std::to_string(y + bh + 12) +
         "\" text-anchor=\"end\" fill=\"#555\">precision " + EscapeHtml(PrecisionText(p)) +
         "</text>\n";
    s += "<rect x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
         std::to_string(w_steps) + "\" height=\"" + std::to_string(bh) + "\" fill=\"#dddddd\"/>\n";
    s += "<rect x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
         std::to_string(w_fp) + "\" height=\"" + std::to_string(bh) + "\" fill=\"#d9534f\"/>\n";
    s += "<text x=\"" + std::to_string(left + std::max(w_steps, w_fp) + 4) + "\" y=\"" +
         std::to_string(y + 13) + "\">" + std::to_string(p.benign_false_positives) + "/" +
         std::to_string(steps) + "</text>\n";
    s += "<rect x=\"" + std::to_string(x2) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
         std::to_string(w_bg) + "\" height=\"" + std::to_string(bh) + "\" fill=\"#f0ad4e\"/>\n";
    s += "<text x=\"" + std::to_string(x2 + w_bg + 4) + "\" y=\"" + std::to_string(y + 13) + "\">" +
         Fmt(bg, 0) + "/h (" + std::to_string(p.background_events) + ")</text>\n";
  }
  s += "<text x=\"10\" y=\"" + std::to_string(height - 12) +
       "\">red: false positives; grey: benign steps played; orange: background alerts (harness "
       "machinery excluded)</text>\n</svg>\n";
  return s;
}

json NoiseSummaryJson(const Score& score) {
  json noise = json::array(), precision = json::array(), examples = json::array();
  for (const auto& e : score.noise.noise) {
    noise.push_back({{"runtime", e.runtime},
                     {"observer", e.observer},
                     {"signal", e.signal},
                     {"false_positives", e.false_positives},
                     {"benign_steps", e.benign_steps},
                     {"background_events", e.background_events},
                     {"duration_s", e.duration_s}});
  }
  for (const auto& p : score.noise.precision) {
    precision.push_back({{"runtime", p.runtime},
                         {"observer", p.observer},
                         {"true_positives", p.true_positives},
                         {"false_positives", p.false_positives},
                         {"benign_false_positives", p.benign_false_positives},
                         {"background_events", p.background_events},
                         {"machinery_excluded", p.machinery_excluded},
                         {"precision", p.precision ? json(*p.precision) : json(nullptr)},
                         {"ci95", {p.ci95_lo, p.ci95_hi}},
                         {"duration_s", p.duration_s}});
  }
  for (const auto& x : score.noise.background_examples) {
    examples.push_back({{"runtime", x.runtime},
                        {"observer", x.observer},
                        {"rule", x.rule},
                        {"exe", x.exe},
                        {"count", x.count}});
  }
  return json{{"noise", noise},
              {"precision", precision},
              {"background_examples", examples},
              {"machinery_excluded", score.noise.machinery_excluded},
              {"events_outside_cells", OutsideCells(score)}};
}

std::string AttributionJsonl(const Score& score) {
  std::string out;
  for (const auto& a : score.noise.attributions) {
    out += json{{"event_id", a.event_id}, {"cell", a.cell_id},
                {"runtime", a.runtime},   {"observer", a.observer},
                {"rule", a.rule},         {"signal", a.signal},
                {"exe", a.exe},           {"outcome", OutcomeName(a.outcome)},
                {"step", a.step},         {"repeat", a.repeat},
                {"reason", a.reason}}
               .dump(-1, ' ', false, json::error_handler_t::replace) +
           "\n";
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
