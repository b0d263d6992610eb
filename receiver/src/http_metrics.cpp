// Prometheus text for the HTTP layer's limits, refusals and timeouts.
#include <array>
#include <cstdio>
#include <functional>
#include <string>

#include "http_server.h"

namespace sandwatch::receiver {

void HttpCounters::Lane::Add(int64_t run, int64_t wait, int64_t queued) {
  requests.fetch_add(1, std::memory_order_relaxed);
  queued_ns.fetch_add(queued, std::memory_order_relaxed);
  run_ns.fetch_add(run, std::memory_order_relaxed);
  wait_ns.fetch_add(wait, std::memory_order_relaxed);
  size_t b = 0;
  while (b < kWaitBuckets.size() && static_cast<double>(wait) / 1e9 > kWaitBuckets[b]) ++b;
  wait_buckets[b].fetch_add(1, std::memory_order_relaxed);
}

std::string RenderHttpMetrics(const HttpCounters& c, const HttpLimits& l) {
  std::string out;
  const std::string p = "sandwatch_receiver_";
  auto head = [&](const std::string& name, const char* type, const char* help) {
    out += "# HELP " + p + name + " " + help + "\n# TYPE " + p + name + " " + type + "\n";
  };
  auto value = [&](const std::string& name, const std::string& labels, double v) {
    std::array<char, 32> num;
    std::snprintf(num.data(), num.size(), "%.15g", v);
    out += p + name + labels + " " + num.data() + "\n";
  };
  head("http_connections", "gauge", "Open HTTP connections (streams included).");
  value("http_connections", "", static_cast<double>(c.open.load()));
  head("http_connections_accepted_total", "counter", "HTTP connections accepted.");
  value("http_connections_accepted_total", "", static_cast<double>(c.accepted.load()));
  head("http_requests_total", "counter", "HTTP requests whose headers were read.");
  value("http_requests_total", "", static_cast<double>(c.requests.load()));
  head("http_connections_refused_total", "counter",
       "Connections answered 503 and closed at once, by the limit they hit.");
  value("http_connections_refused_total", "{limit=\"max_connections\"}",
        static_cast<double>(c.refused_total_limit.load()));
  value("http_connections_refused_total", "{limit=\"max_connections_per_peer\"}",
        static_cast<double>(c.refused_per_peer.load()));
  head("http_timeouts_total", "counter", "Connections closed by a deadline, by phase.");
  value("http_timeouts_total", "{phase=\"header\"}", static_cast<double>(c.header_timeouts.load()));
  value("http_timeouts_total", "{phase=\"body\"}", static_cast<double>(c.body_timeouts.load()));
  value("http_timeouts_total", "{phase=\"idle\"}", static_cast<double>(c.idle_timeouts.load()));
  value("http_timeouts_total", "{phase=\"write\"}", static_cast<double>(c.write_timeouts.load()));
  head("http_bad_requests_total", "counter", "Requests whose head could not be parsed.");
  value("http_bad_requests_total", "", static_cast<double>(c.bad_requests.load()));
  head("http_rejected_before_body_total", "counter",
       "Requests answered after their headers without reading the body (token, size).");
  value("http_rejected_before_body_total", "", static_cast<double>(c.rejected_after_head.load()));
  head("stream_disconnected_total", "counter",
       "/api/stream clients closed because they stopped reading and their queue filled.");
  value("stream_disconnected_total", "", static_cast<double>(c.stream_disconnected.load()));
  const std::array<const char*, 2> lanes = {"{lane=\"interactive\"}", "{lane=\"bulk\"}"};
  auto per_lane = [&](const std::string& name, const char* type, const char* help,
                      const std::function<double(const HttpCounters::Lane&)>& get) {
    head(name, type, help);
    for (size_t i = 0; i < lanes.size(); ++i) value(name, lanes[i], get(c.lanes[i]));
  };
  per_lane("http_worker_requests_total", "counter",
           "Requests run by the workers, by lane (bulk: sensor writes at a lower CPU weight).",
           [](const auto& lane) { return static_cast<double>(lane.requests.load()); });
  per_lane("http_worker_cpu_seconds_total", "counter",
           "CPU time of the workers while running requests, by lane (schedstat).",
           [](const auto& lane) { return static_cast<double>(lane.run_ns.load()) / 1e9; });
  per_lane("http_worker_cpu_wait_seconds_total", "counter",
           "Time the workers were runnable but waiting for a CPU while running requests, by "
           "lane (schedstat run-queue delay).",
           [](const auto& lane) { return static_cast<double>(lane.wait_ns.load()) / 1e9; });
  per_lane("http_worker_queue_seconds_total", "counter",
           "Time requests spent in their lane's queue before a worker took them (with a "
           "worker idle: its wake-up), by lane.",
           [](const auto& lane) { return static_cast<double>(lane.queued_ns.load()) / 1e9; });
  head("http_worker_cpu_wait_seconds", "histogram",
       "Per request: how long its worker waited for a CPU, by lane.");
  for (size_t i = 0; i < lanes.size(); ++i) {
    const auto& lane = c.lanes[i];
    const std::string name = i == 0 ? "interactive" : "bulk";
    int64_t cumulative = 0;
    for (size_t b = 0; b <= HttpCounters::kWaitBuckets.size(); ++b) {
      cumulative += lane.wait_buckets[b].load();
      std::array<char, 32> le{};
      if (b < HttpCounters::kWaitBuckets.size()) {
        std::snprintf(le.data(), le.size(), "%g", HttpCounters::kWaitBuckets[b]);
      } else {
        std::snprintf(le.data(), le.size(), "+Inf");
      }
      value("http_worker_cpu_wait_seconds_bucket",
            "{lane=\"" + name + "\",le=\"" + le.data() + "\"}", static_cast<double>(cumulative));
    }
    value("http_worker_cpu_wait_seconds_sum", "{lane=\"" + name + "\"}",
          static_cast<double>(lane.wait_ns.load()) / 1e9);
    value("http_worker_cpu_wait_seconds_count", "{lane=\"" + name + "\"}",
          static_cast<double>(cumulative));
  }
  head("http_limit", "gauge", "Configured HTTP limits (seconds or counts).");
  value("http_limit", "{name=\"header_timeout_seconds\"}", l.header_timeout_s);
  value("http_limit", "{name=\"body_timeout_seconds\"}", l.body_timeout_s);
  value("http_limit", "{name=\"idle_timeout_seconds\"}", l.idle_timeout_s);
  value("http_limit", "{name=\"max_connections\"}", l.max_connections);
  value("http_limit", "{name=\"max_connections_per_peer\"}", l.max_connections_per_peer);
  value("http_limit", "{name=\"max_body_bytes\"}", static_cast<double>(l.max_body_bytes));
  value("http_limit", "{name=\"workers\"}", l.workers);
  value("http_limit", "{name=\"bulk_workers\"}", l.bulk_workers);
  value("http_limit", "{name=\"bulk_nice\"}", l.bulk_nice);
  return out;
}

}  // namespace sandwatch::receiver
