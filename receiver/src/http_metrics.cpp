// Prometheus text for the HTTP layer's limits, refusals and timeouts.
#include <array>
#include <cstdio>
#include <string>

#include "http_server.h"

namespace sandwatch::receiver {

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
  head("http_limit", "gauge", "Configured HTTP limits (seconds or counts).");
  value("http_limit", "{name=\"header_timeout_seconds\"}", l.header_timeout_s);
  value("http_limit", "{name=\"body_timeout_seconds\"}", l.body_timeout_s);
  value("http_limit", "{name=\"idle_timeout_seconds\"}", l.idle_timeout_s);
  value("http_limit", "{name=\"max_connections\"}", l.max_connections);
  value("http_limit", "{name=\"max_connections_per_peer\"}", l.max_connections_per_peer);
  value("http_limit", "{name=\"max_body_bytes\"}", static_cast<double>(l.max_body_bytes));
  value("http_limit", "{name=\"workers\"}", l.workers);
  return out;
}

}  // namespace sandwatch::receiver
