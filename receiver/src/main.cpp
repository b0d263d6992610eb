// sandwatch-receiver: flag parsing only; the work is in Run(config).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "sandwatch/core/cli.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/core/log.h"
#include "sandwatch/receiver/config.h"
#include "sandwatch/receiver/credentials.h"

namespace {

constexpr const char* kFooter = R"HELP(
Endpoints:
  POST /events       sandwatch event or array of events -> 202 {"accepted":n,"duplicates":d}
  POST /heartbeat    sandwatch heartbeat -> 202
  POST /falco, POST /  Falco json_output alert or Falcosidekick webhook payload -> 202
  GET  /api/events   ?rule=&priority=&source=&pod=&namespace=&sensor=&hostname=&tags=
                     &since=15m|2h|RFC3339&until=&filter=TEXT&page=1&limit=100
  GET  /api/sensors  GET /api/stream (SSE)  GET /metrics  GET /healthz  GET / (web UI)

Examples:
  sandwatch-receiver                                    # 127.0.0.1:8080, ./sandwatch.db
  sandwatch-receiver --listen 0.0.0.0:8080 --db /var/lib/sandwatch/events.db \
      --token "$(cat /run/secrets/receiver-token)" --retention-age 7d
  RECEIVER_TOKEN=s3cret sandwatch-receiver --db :memory:
  # a sensor:   RECEIVER_URL=http://HOST:8080/events RECEIVER_TOKEN=s3cret sandwatch-sensor
  # Falco (falco.yaml):     json_output: true
  #                         http_output: {enabled: true, url: "http://HOST:8080/falco"}
  # Falcosidekick (helm):   --set falcosidekick.config.webhook.address=http://HOST:8080/
  #   (with --token, add --set falcosidekick.config.webhook.customHeaders="Authorization:Bearer s3cret")

Per-sensor credentials (one sensor cannot speak for another; re-read on SIGHUP):
  cat > sensor-tokens <<EOF
  sensor-a     $(openssl rand -hex 32)
  kata-app-*   $(openssl rand -hex 32)       # every sensor id starting with kata-app-
  @falco       $(openssl rand -hex 32)       # Falco and Falcosidekick
  EOF
  sandwatch-receiver --sensor-tokens sensor-tokens ...
  kill -HUP $(pidof sandwatch-receiver)        # after editing the file
  # a sensor reads its token from a file:  RECEIVER_TOKEN_FILE=/run/secrets/token
  # Falco's http_output cannot send headers: url: "http://HOST:8080/falco/FALCO_TOKEN"
  #   (the token is then in falco.yaml; Falcosidekick sends it as a header instead)
  curl -s 'http://127.0.0.1:8080/api/events?rule=shadow_file_access&since=15m'

Docs: docs/receiver.md)HELP";

// "0" or "" disables; otherwise a duration such as 7d, 12h, 90m.
bool ParseAge(const std::string& text, int64_t* out) {
  if (text.empty() || text == "0") {
    *out = 0;
    return true;
  }
  auto d = sandwatch::ParseDuration(text);
  if (!d.ok()) return false;
  *out = *d;
  return true;
}

}  // namespace

int main(int argc, char** argv) try {
  using sandwatch::receiver::ReceiverConfig;
  ReceiverConfig config;
  CLI::App app{
      "sandwatch-receiver: stores sandwatch sensor events and Falco/Falcosidekick "
      "alerts in SQLite, serves a search API, a live stream and a web UI."};
  app.footer(kFooter);
  sandwatch::AddVersionFlag(app, "sandwatch-receiver");
  std::string retention_age = "0", log_level = "info";
  bool no_fts = false, sync_normal = false;
  app.add_option("--listen", config.listen, "HOST:PORT to listen on (port 0 picks a free one)")
      ->capture_default_str();
  app.add_option("--db", config.db,
                 "SQLite database file, or :memory:; the word and pod indexes are kept beside it "
                 "in PATH-text (derived: delete it and it is rebuilt)")
      ->capture_default_str();
  app.add_option("--token", config.token, "bearer token every POST must carry (env RECEIVER_TOKEN)")
      ->envname("RECEIVER_TOKEN");
  app.add_option("--sensor-tokens", config.sensor_tokens,
                 "per-sensor credentials file, lines \"SENSOR_ID TOKEN\" ('*' suffix = prefix, "
                 "@falco = Falco); re-read on SIGHUP")
      ->check(CLI::ExistingFile);
  app.add_option("--ui-token", config.ui_token,
                 "bearer token for GET (API, stream, metrics); the UI takes it as #token=...")
      ->envname("RECEIVER_UI_TOKEN");
  app.add_option("--retention-age", retention_age,
                 "delete events older than this (7d, 12h); 0 keeps them")
      ->capture_default_str();
  app.add_option("--retention-max-events", config.retention_max_events,
                 "keep at most this many events, oldest deleted first; 0 = no limit")
      ->capture_default_str();
  app.add_option("--retention-check", config.retention_check_s, "seconds between retention runs")
      ->capture_default_str();
  app.add_flag(
      "--no-fts", no_fts,
      "text filter by a scan instead of the FTS5 word index (cheaper ingest, slow filter on "
      "big stores); drops the word index from PATH-text, rebuilt at the next start without "
      "the flag");
  app.add_flag("--sync-normal", sync_normal,
               "PRAGMA synchronous=NORMAL: survives a crash of the receiver but not of the "
               "machine; the default FULL fsyncs each commit");
  app.add_option("--default-heartbeat-interval", config.default_heartbeat_interval_s,
                 "seconds assumed when a heartbeat carries no interval_s")
      ->capture_default_str();
  app.add_option("--silence-check", config.silence_check_s, "seconds between liveness checks")
      ->capture_default_str();
  app.add_option("--max-stream-clients", config.max_stream_clients,
                 "concurrent /api/stream clients")
      ->capture_default_str();
  app.add_option("--stream-queue", config.stream_queue,
                 "messages queued per stream client before the oldest are dropped")
      ->capture_default_str();
  app.add_option("--http-threads", config.http_threads,
                 "worker threads running requests (connections and streams hold none)")
      ->capture_default_str();
  app.add_option("--bulk-nice", config.bulk_nice,
                 "run sensor writes (POSTs: half of --http-threads) and the SQLite writer at "
                 "this nice value above searches and the UI, so that a search waits less for a "
                 "CPU while ingestion runs (ingestion then yields to other processes too); 0 "
                 "runs every request in one pool at one priority")
      ->capture_default_str();
  app.add_flag("--server-timing", config.server_timing,
               "add a Server-Timing header to every answer: time queued for a worker, its CPU "
               "time and the time it waited for a CPU (for load tests; it tells clients how busy "
               "the host is)");
  app.add_option("--header-timeout", config.header_timeout_s,
                 "seconds a client has to send a request's headers (from connect, or from the "
                 "first byte on a kept-alive connection)")
      ->capture_default_str();
  app.add_option("--body-timeout", config.body_timeout_s,
                 "seconds a client has to send the body after the headers (also bounds how long "
                 "an answer may take to be read)")
      ->capture_default_str();
  app.add_option("--idle-timeout", config.idle_timeout_s,
                 "seconds a kept-alive connection may sit idle between requests")
      ->capture_default_str();
  app.add_option("--max-connections", config.max_connections,
                 "open connections in total; more are answered 503 and closed at once")
      ->capture_default_str();
  app.add_option("--max-connections-per-peer", config.max_connections_per_peer,
                 "open connections per client address; more are answered 503 and closed")
      ->capture_default_str();
  app.add_option("--ready-file", config.ready_file,
                 "write the bound HOST:PORT here once listening (for scripts using port 0)");
  app.add_option("--log-level", log_level, "debug, info, warn, error or off")
      ->capture_default_str();
  if (auto code =
          sandwatch::ParseCommandLine(app, argc, argv, "sandwatch-receiver", " (see --help)")) {
    return *code;
  }
  if (!ParseAge(retention_age, &config.retention_age_ns)) {
    std::fprintf(stderr,
                 "sandwatch-receiver: --retention-age: expected a duration like 7d or 12h\n");
    return 2;
  }
  sandwatch::LogLevel level;
  if (!sandwatch::ParseLogLevel(log_level, &level)) {
    std::fprintf(stderr,
                 "sandwatch-receiver: --log-level: expected debug, info, warn, error or off\n");
    return 2;
  }
  sandwatch::SetLogLevel(level);
  config.fts = !no_fts;
  config.sync_full = !sync_normal;
  if (auto st = sandwatch::receiver::ValidateConfig(config); !st.ok()) {
    std::fprintf(stderr, "sandwatch-receiver: %s\n", st.error().message.c_str());
    return 2;
  }
  if (auto c = sandwatch::receiver::Credentials::Load(config.token, config.sensor_tokens);
      !c.ok()) {
    std::fprintf(stderr, "sandwatch-receiver: %s\n", c.error().message.c_str());
    return 2;
  }
  return sandwatch::receiver::Run(config);
} catch (const std::exception& e) {
  std::fprintf(stderr, "sandwatch-receiver: fatal: %s\n", e.what());
  return 1;
}
