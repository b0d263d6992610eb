#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "loadgen.h"
#include "loadgen_probe.h"
#include "sandwatch/core/clock.h"

namespace sandwatch::loadgen {

// Ingestion rate, health and a sensor's batch with and without hostile clients held open.
int RunHostile(const std::string& host, int port, pid_t pid, const Options& o) {
  using sandwatch::loadgen::RoundTrip;
  const int64_t now_ns = sandwatch::SystemClock().WallNs();
  auto probe = [&](int seq_base, double* health_ms, double* batch_ms) {
    int fd = sandwatch::loadgen::ConnectFrom("127.0.0.3", port);
    std::mt19937_64 rng(static_cast<uint64_t>(seq_base));
    std::string body = "[";
    for (int i = 0; i < 100; ++i) {
      body += (i ? "," : "") + EventJson(rng, now_ns, i, 100,
                                         static_cast<uint64_t>(seq_base) + static_cast<uint64_t>(i),
                                         99);
    }
    body += "]";
    int h = RoundTrip(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", health_ms);
    int b = RoundTrip(fd, sandwatch::loadgen::PostRequest(body), batch_ms);
    close(fd);
    return h == 200 && b == 202;
  };
  double h0 = 0, b0 = 0, h1 = 0, b1 = 0;
  bool ok0 = probe(1, &h0, &b0);
  Ingested before =
      RunIngest(host, port, o, 0, o.hostile_events, 2 * o.hostile_events, now_ns, 0, nullptr);
  int64_t rss_before = sandwatch::loadgen::ReadStatusKb(pid, "VmRSS:");
  sandwatch::loadgen::HostileClients hostile("127.0.0.2", port, o.hostile);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  httplib::Client c(host, port);
  // Stream clients are counted by the receiver: an unread stream has data waiting either way.
  int slow = hostile.OpenSlowHeads(), idle = hostile.OpenIdle();
  auto streams = static_cast<int>(Metric(c, "sandwatch_receiver_stream_clients"));
  int64_t rss_held = sandwatch::loadgen::ReadStatusKb(pid, "VmRSS:");
  bool ok1 = probe(1000, &h1, &b1);
  Ingested under = RunIngest(host, port, o, o.hostile_events, o.hostile_events,
                             2 * o.hostile_events, now_ns, 10, nullptr);
  int64_t rss_under = sandwatch::loadgen::ReadStatusKb(pid, "VmRSS:");
  int still_slow = hostile.OpenSlowHeads(), still_idle = hostile.OpenIdle();
  auto still_streams = static_cast<int>(Metric(c, "sandwatch_receiver_stream_clients"));
  std::printf("\n| %d hostile connections of each kind from 127.0.0.2 | value |\n|---|---|\n",
              o.hostile);
  std::printf(
      "| held open by the receiver: slow heads / idle keep-alive / streams not read | "
      "%d / %d / %d (the rest refused) |\n",
      slow, idle, streams);
  std::printf(
      "| still open after the ingestion under attack: slow heads / idle / streams | "
      "%d / %d / %d (%.0f streams dropped for not reading) |\n",
      still_slow, still_idle, still_streams,
      Metric(c, "sandwatch_receiver_stream_disconnected_total"));
  std::printf(
      "| refused: per-peer limit / total limit / stream limit | %.0f / %.0f / %.0f |\n",
      Metric(
          c,
          "sandwatch_receiver_http_connections_refused_total{limit=\"max_connections_per_peer\"}"),
      Metric(c, "sandwatch_receiver_http_connections_refused_total{limit=\"max_connections\"}"),
      Metric(c, "sandwatch_receiver_stream_refused_total"));
  std::printf("| /healthz from 127.0.0.3: before / under attack | %.1f / %.1f ms (%s) |\n", h0, h1,
              ok0 && ok1 ? "answered" : "FAILED");
  std::printf(
      "| a sensor's 100-event batch stored (202): before / under attack | %.1f / %.1f ms |\n", b0,
      b1);
  std::printf(
      "| ingestion of %lld events, %d clients: before / under attack | %.0f / %.0f events/s "
      "(%.0f %%) |\n",
      static_cast<long long>(o.hostile_events), o.clients, before.Rate(), under.Rate(),
      100.0 * under.Rate() / std::max(1.0, before.Rate()));
  std::printf(
      "| receiver RSS: before / connections held / after the ingestion under attack | "
      "%.1f / %.1f / %.1f MiB |\n",
      static_cast<double>(rss_before) / 1024, static_cast<double>(rss_held) / 1024,
      static_cast<double>(rss_under) / 1024);
  nlohmann::json j{{"hostile", o.hostile},
                   {"held", {slow, idle, streams}},
                   {"healthz_ms", {h0, h1}},
                   {"batch_ms", {b0, b1}},
                   {"rate", {before.Rate(), under.Rate()}},
                   {"rss_kib", {rss_before, rss_held, rss_under}}};
  std::printf("\n%s\n", j.dump().c_str());
  return ok0 && ok1 && before.failed == 0 && under.failed == 0 ? 0 : 1;
}

}  // namespace sandwatch::loadgen
