// The load generator's searches: each kind's latencies at the client, and from the
// receiver's Server-Timing header (started with --server-timing) how much of each request
// its worker spent on a CPU and how long it waited for one.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace httplib {
class Client;
}

namespace sandwatch::loadgen {

struct Latencies {
  std::vector<double> ms;        // wall time at the client
  std::vector<double> cpu_ms;    // the worker's CPU time (Server-Timing "cpu"), or -1
  std::vector<double> wait_ms;   // the worker's wait for a CPU ("cpu-wait"), or -1
  std::vector<double> queue_ms;  // in the worker lane's queue, mostly a wake-up ("queue"), or -1
  // The p-th percentile of the wall time (0 when empty).
  double Pct(double p) const;
};

// Where the time of the slowest 5 % of queries (wall at or above the p95) went, averaged:
// in the lane's queue (a worker's wake-up), the worker on a CPU, the worker waiting for
// one, and the rest (HTTP loop, network, the client itself).
struct TailSplit {
  double wall_ms = 0, queue_ms = 0, cpu_ms = 0, wait_ms = 0, rest_ms = 0;
  int queries = 0;
};
TailSplit SplitTail(const Latencies& l);

// Common, medium and rare terms, one- and two-word ("%20" is a space).
inline constexpr std::array kTerms{"shadow",    "credentials", "4444",    "pod-17%20",
                                   "host-4321", "pty.spawn",   "nc%20-e", "bash%20-i"};

struct Searches {
  Latencies rule_time, rule_15m, text, text_rule, pod;
  std::vector<Latencies> text_by_term = std::vector<Latencies>(kTerms.size());
};

// `n` queries of each kind, one after the other, on one keep-alive connection.
Searches RunSearches(httplib::Client& c, int n, int64_t now_ns, uint64_t seed);

// Markdown rows: p50 / p95 / p99 of each kind, the text filter by term, and where the
// slowest 5 % of each kind spent their time.
void PrintSearches(const char* when, const Searches& s);

}  // namespace sandwatch::loadgen
