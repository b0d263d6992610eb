// The load generator's searches (see loadgen_search.h).
#include "loadgen_search.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>

#include "loadgen.h"
#include "sandwatch/core/clock.h"

namespace sandwatch::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

// The "dur" of metric `name` in a Server-Timing value ("queue;dur=0.1, cpu;dur=1.2,
// cpu-wait;dur=0.3"), or -1.
double TimingOf(const std::string& header, const std::string& name) {
  size_t at = 0;
  while (at < header.size()) {
    size_t end = header.find(',', at);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(at, end - at);
    part.erase(0, part.find_first_not_of(' '));
    const std::string head = name + ";dur=";
    if (part.rfind(head, 0) == 0) return std::atof(part.c_str() + head.size());
    at = end + 1;
  }
  return -1;
}

// Query i's latency also goes to (*per_kind)[i % per_kind->size()] when given.
Latencies RunQueries(httplib::Client& c, int n, const std::function<std::string(int)>& path,
                     std::vector<Latencies>* per_kind = nullptr) {
  Latencies l;
  for (int i = 0; i < n; ++i) {
    std::string p = path(i);
    auto start = Clock::now();
    auto res = c.Get(p.c_str());
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!res || res->status != 200) {
      std::fprintf(stderr, "query failed: %s\n", p.c_str());
      continue;
    }
    const std::string timing = res->get_header_value("Server-Timing");
    for (Latencies* into :
         {&l, per_kind ? &(*per_kind)[static_cast<size_t>(i) % per_kind->size()] : nullptr}) {
      if (!into) continue;
      into->ms.push_back(ms);
      into->cpu_ms.push_back(TimingOf(timing, "cpu"));
      into->wait_ms.push_back(TimingOf(timing, "cpu-wait"));
      into->queue_ms.push_back(TimingOf(timing, "queue"));
    }
  }
  return l;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

double Latencies::Pct(double p) const {
  if (ms.empty()) return 0;
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  auto i = static_cast<size_t>(std::lround(p * static_cast<double>(sorted.size() - 1)));
  return sorted[std::min(i, sorted.size() - 1)];
}

TailSplit SplitTail(const Latencies& l) {
  TailSplit t;
  const double p95 = l.Pct(0.95);
  for (size_t i = 0; i < l.ms.size(); ++i) {
    if (l.ms[i] < p95 || l.cpu_ms[i] < 0 || l.wait_ms[i] < 0 || l.queue_ms[i] < 0) continue;
    t.wall_ms += l.ms[i];
    t.queue_ms += l.queue_ms[i];
    t.cpu_ms += l.cpu_ms[i];
    t.wait_ms += l.wait_ms[i];
    ++t.queries;
  }
  if (t.queries == 0) return t;
  const double n = t.queries;
  t.wall_ms /= n;
  t.queue_ms /= n;
  t.cpu_ms /= n;
  t.wait_ms /= n;
  t.rest_ms = t.wall_ms - t.queue_ms - t.cpu_ms - t.wait_ms;
  return t;
}

Searches RunSearches(httplib::Client& c, int n, int64_t now_ns, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Searches s;
  s.rule_time = RunQueries(c, n, [&](int) {
    int64_t from =
        now_ns - static_cast<int64_t>(rng() % (23ULL * 3600)) * 1'000'000'000 - 3600'000'000'000;
    return std::string("/api/events?rule=") + kRules[rng() % 9] + "&since=" + FormatRfc3339(from) +
           "&until=" + FormatRfc3339(from + 3600'000'000'000) + "&limit=100";
  });
  s.rule_15m = RunQueries(c, n, [&](int) {
    return std::string("/api/events?rule=") + kRules[rng() % 9] + "&since=15m&limit=100";
  });
  s.pod = RunQueries(c, n, [&](int) {  // one pod of 200, whole store: a page and an exact count
    return "/api/events?pod=pod-" + std::to_string(rng() % 200) + "&limit=100";
  });
  s.text = RunQueries(
      c, n,
      [&](int i) {
        return std::string("/api/events?filter=") + kTerms[static_cast<size_t>(i) % kTerms.size()] +
               "&limit=100";
      },
      &s.text_by_term);
  s.text_rule = RunQueries(c, n, [&](int i) {
    return std::string("/api/events?rule=") + kRules[i % 9] + "&since=2h&filter=host-12&limit=100";
  });
  return s;
}

void PrintSearches(const char* when, const Searches& s) {
  const std::array<std::pair<const char*, const Latencies*>, 5> kinds = {{
      {"rule + 1 h window", &s.rule_time},
      {"rule + since=15m", &s.rule_15m},
      {"pod, whole store", &s.pod},
      {"text filter, whole store", &s.text},
      {"text + rule + since=2h", &s.text_rule},
  }};
  for (const auto& [name, l] : kinds) {
    std::printf("| %s: %s (p50 / p95 / p99) | %.1f / %.1f / %.1f ms |\n", when, name, l->Pct(0.5),
                l->Pct(0.95), l->Pct(0.99));
  }
  std::string terms;
  for (size_t t = 0; t < kTerms.size(); ++t) {
    std::string shown = kTerms[t];
    for (size_t at; (at = shown.find("%20")) != std::string::npos;) shown.replace(at, 3, " ");
    const Latencies& l = s.text_by_term[t];
    std::array<char, 128> part{};
    std::snprintf(part.data(), part.size(), "%s`%s` %.1f / %.1f (%.1f)", t ? ", " : "",
                  shown.c_str(), l.Pct(0.5), l.Pct(0.95), Median(l.cpu_ms));
    terms += part.data();
  }
  std::printf("| %s: text filter by term (p50 / p95 ms, worker CPU p50 ms) | %s |\n", when,
              terms.c_str());
  for (const auto& [name, l] : kinds) {
    TailSplit t = SplitTail(*l);
    if (t.queries == 0) continue;  // the receiver sent no Server-Timing
    std::printf(
        "| %s: %s, slowest 5 %% (%d), mean wall = queue (wake-up) + worker CPU + worker CPU "
        "wait + rest | %.1f = %.1f + %.1f + %.1f + %.1f ms |\n",
        when, name, t.queries, t.wall_ms, t.queue_ms, t.cpu_ms, t.wait_ms, t.rest_ms);
  }
}

}  // namespace sandwatch::loadgen
