#include "sandwatch/receiver/config.h"

#include <charconv>

namespace sandwatch::receiver {

Result<std::pair<std::string, int>> ParseListen(const std::string& listen) {
  std::string host;
  std::string port_text;
  if (!listen.empty() && listen[0] == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return MakeError("--listen: expected [IPv6]:PORT, as in [::1]:8080");
    }
    host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos)
      return MakeError("--listen: expected HOST:PORT, as in 127.0.0.1:8080");
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  if (host.empty())
    return MakeError("--listen: the host is empty (use 0.0.0.0 for every interface)");
  int port = -1;
  auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || port < 0 ||
      port > 65535) {
    return MakeError("--listen: the port must be a number from 0 to 65535");
  }
  return std::make_pair(host, port);
}

Status ValidateConfig(const ReceiverConfig& c) {
  if (auto l = ParseListen(c.listen); !l.ok()) return l.error();
  if (c.db.empty()) return MakeError("--db: must not be empty");
  if (c.retention_age_ns < 0) return MakeError("--retention-age: must not be negative");
  if (c.retention_max_events < 0) return MakeError("--retention-max-events: must not be negative");
  if (!(c.retention_check_s > 0)) return MakeError("--retention-check: must be positive");
  if (!(c.silence_check_s > 0)) return MakeError("--silence-check: must be positive");
  if (!(c.default_heartbeat_interval_s > 0)) {
    return MakeError("--default-heartbeat-interval: must be positive");
  }
  if (c.max_stream_clients < 1) return MakeError("--max-stream-clients: must be at least 1");
  if (c.stream_queue < 1) return MakeError("--stream-queue: must be at least 1");
  if (c.http_threads < 2 || c.http_threads > 1024) {
    return MakeError("--http-threads: must be from 2 to 1024");
  }
  if (c.bulk_nice < 0 || c.bulk_nice > 19) {
    return MakeError("--bulk-nice: must be from 0 (off) to 19");
  }
  if (!(c.header_timeout_s > 0)) return MakeError("--header-timeout: must be positive");
  if (!(c.body_timeout_s > 0)) return MakeError("--body-timeout: must be positive");
  if (!(c.idle_timeout_s > 0)) return MakeError("--idle-timeout: must be positive");
  if (c.max_connections < 1) return MakeError("--max-connections: must be at least 1");
  if (c.max_connections_per_peer < 1) {
    return MakeError("--max-connections-per-peer: must be at least 1");
  }
  if (c.max_stream_clients >= c.max_connections) {
    return MakeError("--max-stream-clients: must be below --max-connections");
  }
  return OkStatus();
}

}  // namespace sandwatch::receiver
