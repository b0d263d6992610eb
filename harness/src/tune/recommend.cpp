#include "sandwatch/harness/tune/recommend.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace sandwatch::harness::tune {
namespace {

constexpr double kEps = 1e-9;

std::vector<SweepCell> OfCapture(const std::vector<SweepCell>& cells, const std::string& cap) {
  std::vector<SweepCell> out;
  for (const auto& c : cells) {
    if (c.capture == cap && c.trials > 0) out.push_back(c);
  }
  return out;
}

std::vector<double> Intervals(const std::vector<SweepCell>& cells) {
  std::set<double> s;
  for (const auto& c : cells) s.insert(c.poll_interval_s);
  return {s.begin(), s.end()};
}

// Brackets x in the sorted, non-empty `xs`: indices (a, b) and the weight of b, linear
// in scale(x).
struct Bracket {
  size_t a = 0;
  size_t b = 0;
  double w = 0;
  // The indices an estimate rests on: a, and b when it carries weight.
  std::vector<size_t> Used() const {
    return b != a && w > kEps ? std::vector{a, b} : std::vector{a};
  }
};
double Log(double v) { return std::log(v); }
double Inverse(double v) { return 1.0 / v; }
Bracket Find(const std::vector<double>& xs, double x, double (*scale)(double)) {
  Bracket br;
  if (x <= xs.front()) return br;
  if (x >= xs.back()) {
    br.a = br.b = xs.size() - 1;
    return br;
  }
  size_t i = 0;
  while (i + 1 < xs.size() && xs[i + 1] < x) ++i;
  br.a = i;
  br.b = i + 1;
  br.w = (scale(x) - scale(xs[br.a])) / (scale(xs[br.b]) - scale(xs[br.a]));
  return br;
}

// at(i) for x, linear in scale(x) between the entries of `xs` that bracket it.
template <class At>
double Between(const std::vector<double>& xs, double x, double (*scale)(double), At at) {
  const Bracket br = Find(xs, x, scale);
  const double a = at(br.a);
  return a + (at(br.b) - a) * br.w;
}

std::vector<SweepCell> AtInterval(const std::vector<SweepCell>& poll, double p) {
  std::vector<SweepCell> out;
  for (const auto& c : poll) {
    if (std::fabs(c.poll_interval_s - p) < kEps) out.push_back(c);
  }
  std::sort(out.begin(), out.end(),
            [](const SweepCell& x, const SweepCell& y) { return x.lifetime_ms < y.lifetime_ms; });
  return out;
}

double ScanAt(const std::vector<SweepCell>& poll, double p) {
  const auto ps = Intervals(poll);
  return Between(ps, p, Log, [&](size_t i) {  // the median scan duration at ps[i]
    std::vector<double> s;
    for (const auto& c : AtInterval(poll, ps[i])) s.push_back(c.scan_s);
    return Percentile(s, 0.5);
  });
}

// Measured detection minus the model: the point estimate, or (lower) the Wilson lower
// bound, which makes the miss derived from it the interval's upper bound.
double Residual(const SweepCell& c, bool lower) {
  const Proportion rate = c.Rate();
  return (lower ? rate.lo : rate.p) -
         PollDetectProbability(static_cast<double>(c.lifetime_ms) / 1000.0, c.poll_interval_s,
                               c.scan_s);
}

// Residual at lifetime L among the cells of one interval, interpolated in log L.
double ResidualAt(const std::vector<SweepCell>& at, double lifetime_ms, bool lower) {
  std::vector<double> ls;
  std::vector<double> rs;
  for (const auto& c : at) {
    if (!ls.empty() && std::fabs(ls.back() - static_cast<double>(c.lifetime_ms)) < kEps) continue;
    ls.push_back(static_cast<double>(c.lifetime_ms));
    rs.push_back(Residual(c, lower));
  }
  return Between(ls, lifetime_ms, Log, [&rs](size_t i) { return rs[i]; });
}

// The measured cells an estimate at (L, P) rests on.
std::vector<SweepCell> BasisCells(const std::vector<SweepCell>& poll, double lifetime_ms,
                                  double p) {
  const auto ps = Intervals(poll);
  std::vector<SweepCell> out;
  for (size_t row : Find(ps, p, Log).Used()) {
    const auto at = AtInterval(poll, ps[row]);
    std::vector<double> ls;
    ls.reserve(at.size());
    for (const auto& c : at) ls.push_back(static_cast<double>(c.lifetime_ms));
    for (size_t col : Find(ls, lifetime_ms, Log).Used()) out.push_back(at[col]);
  }
  return out;
}

double FloorSignificant(double x, int digits) {
  if (x <= 0) return x;
  const double mag = std::pow(10.0, std::floor(std::log10(x)) - (digits - 1));
  return std::floor(x / mag + 1e-9) * mag;
}

// The event-driven sources, the easiest to deploy first, and what each needs.
const std::vector<std::pair<std::string, std::string>> kEventSources = {
    {"inotify", "needs only read access to the workload's root, so it runs in a pod sidecar"},
    {"fanotify", "needs CAP_SYS_ADMIN (a privileged sidecar or the guest's init namespace)"},
    {"netlink",
     "needs node mode: the initial PID namespace and CAP_NET_ADMIN, never a pod sidecar"}};

size_t Deployability(const std::string& capture) {
  size_t i = 0;
  while (i < kEventSources.size() && kEventSources[i].first != capture) ++i;
  return i;
}

std::string Needs(const std::string& capture) {
  const size_t i = Deployability(capture);
  return i < kEventSources.size() ? kEventSources[i].second : "see docs/capture.md";
}

// The upper end of the Wilson 95 % interval of a cell's measured miss rate.
double MissUpper(const SweepCell& c) { return 1.0 - c.Rate().lo; }

std::string BasisText(const std::vector<SweepCell>& basis) {
  std::string s;
  for (const auto& c : basis) s += (s.empty() ? "" : ", ") + c.Label();
  return s;
}

double EstimateDetection(const std::vector<SweepCell>& cells, double lifetime_ms, double interval_s,
                         bool lower) {
  const auto poll = OfCapture(cells, "poll");
  if (poll.empty()) return PollDetectProbability(lifetime_ms / 1000.0, interval_s, 0);
  const auto ps = Intervals(poll);
  const Bracket br = Find(ps, interval_s, Log);
  const double ra = ResidualAt(AtInterval(poll, ps[br.a]), lifetime_ms, lower);
  const double rb = ResidualAt(AtInterval(poll, ps[br.b]), lifetime_ms, lower);
  const double model =
      PollDetectProbability(lifetime_ms / 1000.0, interval_s, ScanAt(poll, interval_s));
  return std::clamp(model + ra + (rb - ra) * br.w, 0.0, 1.0);
}

}  // namespace

double EstimatePollDetection(const std::vector<SweepCell>& cells, double lifetime_ms,
                             double interval_s) {
  return EstimateDetection(cells, lifetime_ms, interval_s, false);
}

double EstimatePollCpu(const std::vector<SweepCell>& cells, double interval_s) {
  const auto poll = OfCapture(cells, "poll");
  if (poll.empty()) return 0;
  const auto ps = Intervals(poll);
  return Between(ps, interval_s, Inverse, [&](size_t i) {  // linear in 1/P
    double sum = 0;
    const auto at = AtInterval(poll, ps[i]);
    for (const auto& c : at) sum += c.CpuFraction();
    return sum / static_cast<double>(at.size());
  });
}

Result<Recommendation> Recommend(const std::vector<SweepCell>& cells, const TuneQuery& q,
                                 const std::string& folder) {
  if (!(q.target_miss >= 0 && q.target_miss < 1)) {
    return MakeError("--target-miss must be in [0, 1)");
  }
  if (!(q.min_lifetime_ms > 0) || !std::isfinite(q.min_lifetime_ms)) {
    return MakeError("--min-lifetime-ms must be positive");
  }
  if (!(q.cpu_budget > 0) || !std::isfinite(q.cpu_budget)) {
    return MakeError("--cpu-budget must be positive");
  }
  std::vector<SweepCell> usable;
  for (const auto& c : PrimaryCells(cells)) {
    if (c.trials > 0) usable.push_back(c);
  }
  if (usable.empty()) return MakeError("no measured sweep cells in " + folder);

  Recommendation r;
  r.query = q;
  r.folder = folder;
  const double L = q.min_lifetime_ms;
  const std::string ask = Percent(q.target_miss) + " miss for processes living " + Compact(L) +
                          " ms" + " or longer within " + Percent(q.cpu_budget) + " of a core";
  // At interval p: the miss, its upper bound (the estimate built on each cell's Wilson
  // lower bound of detection, exactly 1 - Wilson lo at a measured cell; a miss target is
  // met only when this is at or below it) and the sensor's CPU.
  const auto miss_at = [&](double p) { return 1.0 - EstimatePollDetection(usable, L, p); };
  const auto miss_hi_at = [&](double p) { return 1.0 - EstimateDetection(usable, L, p, true); };
  const auto cpu_at = [&](double p) { return EstimatePollCpu(usable, p); };
  const auto poll = OfCapture(usable, "poll");
  if (poll.empty()) {
    r.polling_verdict = "the sweep has no poll cells";
  } else {
    const auto ps = Intervals(poll);
    std::vector<double> cand(ps.begin(), ps.end());
    constexpr int kSteps = 400;
    for (int i = 0; i <= kSteps; ++i) {
      cand.push_back(ps.front() *
                     std::pow(ps.back() / ps.front(), i / static_cast<double>(kSteps)));
    }
    std::sort(cand.rbegin(), cand.rend());
    std::optional<double> best;
    std::optional<double> miss_ok_max;  // the largest P meeting the miss target alone
    double best_miss = 2;
    double best_miss_p = 0;
    for (double p : cand) {
      const double miss = miss_at(p);
      if (miss < best_miss - kEps) {
        best_miss = miss;
        best_miss_p = p;
      }
      // The target is met only when the interval's upper bound meets it, not the point.
      if (miss_hi_at(p) > q.target_miss + kEps) continue;
      if (!miss_ok_max) miss_ok_max = p;
      if (cpu_at(p) <= q.cpu_budget + kEps) {
        best = p;
        break;
      }
    }
    // The answer, or else the interval that misses least.
    double p = best ? *best : best_miss_p;
    const double nice = FloorSignificant(p, 2);
    if (best && nice >= ps.front() - kEps && miss_hi_at(nice) <= q.target_miss + kEps &&
        cpu_at(nice) <= q.cpu_budget + kEps) {
      p = nice;
    }
    r.expected_miss = miss_at(p);
    r.miss_upper = miss_hi_at(p);
    r.basis = BasisCells(poll, L, p);
    if (best) {
      r.met = true;
      r.poll_interval_s = p;
      r.capture = "poll";
      r.cpu_fraction = cpu_at(p);
      r.interpolated =
          std::none_of(ps.begin(), ps.end(), [&](double m) { return std::fabs(m - p) < kEps; });
      r.polling_verdict =
          "POLL_INTERVAL=" + FormatSeconds(p) + " s is the largest interval that meets it";
      r.sentence =
          "Use POLL_INTERVAL=" + FormatSeconds(p) + " (capture poll) for a " + ask +
          ": expected miss " + Percent(r.expected_miss) + " (95% upper bound " +
          Percent(r.miss_upper) + "), sensor CPU " + Percent(r.cpu_fraction) + " of a core" +
          (r.interpolated ? " (the model fills in between measured cells " : " (measured cells ") +
          BasisText(r.basis) + "; " + folder + ").";
      return r;
    }
    if (!miss_ok_max) {
      r.polling_verdict = "even at P=" + FormatSeconds(p) + " s polling misses " +
                          Percent(r.expected_miss) + " (95% upper bound " + Percent(r.miss_upper) +
                          ")";
    } else {
      r.polling_verdict = "it meets the miss target only at P <= " + FormatSeconds(*miss_ok_max) +
                          " s, where the sensor costs " + Percent(cpu_at(*miss_ok_max)) +
                          " of a core";
    }
  }

  // Event-driven sources, from measured cells only: the row at the longest measured
  // lifetime not above L (shorter processes are harder to catch, so that is conservative).
  std::map<std::string, std::vector<SweepCell>> by_capture;
  for (const auto& c : usable) {
    if (c.capture != "poll") by_capture[c.capture].push_back(c);
  }
  std::optional<SweepCell> pick;
  std::vector<std::string> others;
  for (const auto& [cap, cs] : by_capture) {
    std::set<int64_t> lifetimes;
    for (const auto& c : cs) lifetimes.insert(c.lifetime_ms);
    int64_t row = *lifetimes.begin();
    for (int64_t l : lifetimes) {
      if (static_cast<double>(l) <= L + kEps) row = l;
    }
    std::optional<SweepCell> best_cell;
    for (const auto& c : cs) {
      if (c.lifetime_ms != row || MissUpper(c) > q.target_miss + kEps ||
          c.CpuFraction() > q.cpu_budget + kEps)
        continue;
      if (!best_cell || c.poll_interval_s > best_cell->poll_interval_s + kEps ||
          (std::fabs(c.poll_interval_s - best_cell->poll_interval_s) < kEps &&
           c.Miss() < best_cell->Miss())) {
        best_cell = c;
      }
    }
    if (!best_cell) continue;
    if (!pick) {
      pick = best_cell;
      continue;
    }
    if (Deployability(cap) < Deployability(pick->capture)) std::swap(*pick, *best_cell);
    others.push_back(best_cell->capture + " (miss " + Percent(best_cell->Miss()) + ")");
  }
  const std::string head = "Polling cannot meet a " + ask + ": " + r.polling_verdict + ".";
  if (!pick) {
    r.sentence = head + " No measured capture source meets it either" +
                 (by_capture.empty() ? " (the sweep has no event-driven cells)" : "") +
                 "; relax the target or the budget.";
    return r;
  }
  r.met = true;
  r.capture = pick->capture;
  r.safety_net_poll_interval_s = pick->poll_interval_s;
  r.expected_miss = pick->Miss();
  r.miss_upper = MissUpper(*pick);
  r.cpu_fraction = pick->CpuFraction();
  r.basis.push_back(*pick);
  r.sentence = head + " Use --capture " + pick->capture + ": measured miss " +
               Percent(pick->Miss()) + " (" + std::to_string(pick->trials - pick->detected) + "/" +
               std::to_string(pick->trials) + ", 95% upper bound " + Percent(MissUpper(*pick)) +
               ") at " + std::to_string(pick->lifetime_ms) +
               " ms with POLL_INTERVAL=" + FormatSeconds(pick->poll_interval_s) +
               " as the safety net, sensor CPU " + Percent(pick->CpuFraction()) +
               " of a core; it " + Needs(pick->capture) + ".";
  if (!others.empty()) r.sentence += " Also meets it: " + Join(others, ", ") + ".";
  return r;
}

nlohmann::json RecommendationToJson(const Recommendation& r) {
  nlohmann::json basis_cells = nlohmann::json::array();
  for (const auto& c : r.basis) basis_cells.push_back(CellToSummaryEntry(c));
  const auto or_null = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  return {
      {"poll_interval_s", or_null(r.poll_interval_s)},
      {"capture", or_null(r.capture)},
      {"expected_miss", r.expected_miss},
      {"miss_upper_95", r.miss_upper},
      {"cpu_fraction", r.cpu_fraction},
      {"met", r.met},
      {"interpolated", r.interpolated},
      {"safety_net_poll_interval_s", or_null(r.safety_net_poll_interval_s)},
      {"query",
       {{"target_miss", r.query.target_miss},
        {"min_lifetime_ms", r.query.min_lifetime_ms},
        {"cpu_budget", r.query.cpu_budget}}},
      {"polling", r.polling_verdict},
      {"basis", {{"folder", r.folder}, {"cells", basis_cells}}},
      {"sentence", r.sentence},
  };
}

}  // namespace sandwatch::harness::tune
