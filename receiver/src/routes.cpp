// HTTP endpoints. httplib is included only here and in receiver.cpp.
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "context.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "sandwatch/receiver/ingest.h"
#include "sensors_view.h"
#include "ui_assets.h"

namespace sandwatch::receiver {
namespace {

using nlohmann::json;

constexpr const char* kJson = "application/json";

void JsonError(httplib::Response& res, int status, const std::string& msg) {
  res.status = status;
  res.set_content(json{{"error", msg}}.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

bool BearerMatches(const httplib::Request& req, const std::string& token) {
  const std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (auth.size() <= kPrefix.size() || auth.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  return SameSecret(auth.substr(kPrefix.size()), token);
}

bool GetAllowed(const Context& ctx, const httplib::Request& req) {
  const auto& ui = ctx.config.ui_token;
  if (ui.empty()) return true;
  if (BearerMatches(req, ui)) return true;
  if (!ctx.config.token.empty() && BearerMatches(req, ctx.config.token)) return true;
  // EventSource cannot send headers, so the UI passes ?token= on its requests.
  return req.has_param("token") && SameSecret(req.get_param_value("token"), ui);
}

bool RequireGet(Context& ctx, const httplib::Request& req, httplib::Response& res) {
  if (GetAllowed(ctx, req)) return true;
  res.set_header("WWW-Authenticate", "Bearer");
  JsonError(res, 401, "missing or wrong bearer token (--ui-token)");
  return false;
}

enum class Kind { kEvents, kHeartbeat, kFalco };

// 403 and the refusal counted when the grant does not cover `sensor_id` (event `index`, or
// the heartbeat when index < 0). Nothing of the request is stored.
bool RefuseUncovered(Context& ctx, const Grant& grant, const std::string& sensor_id, long index,
                     httplib::Response& res) {
  if (grant.Covers(sensor_id)) return false;
  std::string shown = sensor_id.substr(0, 128);
  ctx.metrics.Rejected("forbidden");
  ctx.metrics.RefusedFor(shown, SystemClock().WallNs());
  std::string where = index < 0 ? "the heartbeat's" : "[" + std::to_string(index) + "]";
  JsonError(res, 403,
            where + " sensor.id \"" + shown +
                "\" is not covered by this token; nothing of the request was stored");
  return true;
}

void Ingest(Context& ctx, Kind kind, const httplib::Request& req, httplib::Response& res) {
  const int64_t start = SystemClock().MonoNs();
  const Endpoint endpoint = kind == Kind::kFalco ? Endpoint::kFalco : Endpoint::kSensor;
  // Falco's http_output cannot send headers: /falco/TOKEN carries the token in the path.
  const std::string path_token = req.matches.size() > 1 ? req.matches[1].str() : "";
  const Grant grant =
      ctx.credentials->Identify(PresentedToken(req.get_header_value("Authorization"), path_token));
  if (!grant.Authenticated()) {
    ctx.metrics.Rejected("unauthorized");
    res.set_header("WWW-Authenticate", "Bearer");
    JsonError(res, 401, "missing or wrong bearer token");
    return;
  }
  if (!grant.MayUse(endpoint)) {
    ctx.metrics.Rejected("forbidden");
    JsonError(res, 403,
              endpoint == Endpoint::kFalco
                  ? "this token is a sensor credential, not the Falco one (@falco)"
                  : "this token is the Falco credential; sensors need their own");
    return;
  }
  WriteOp op;
  op.received_ns = SystemClock().WallNs();
  Status parsed = OkStatus();
  const char* reason = "invalid_event";
  if (kind == Kind::kHeartbeat) {
    reason = "invalid_heartbeat";
    auto hb = ParseHeartbeatBody(req.body);
    if (hb.ok()) {
      if (RefuseUncovered(ctx, grant, hb->sensor.id, -1, res)) return;
      op.heartbeat = std::move(*hb);
    } else {
      parsed = hb.error();
    }
  } else {
    auto events = kind == Kind::kEvents ? ParseEventsBody(req.body)
                                        : ParseFalcoBody(req.body, op.received_ns);
    if (kind == Kind::kFalco) reason = "invalid_falco";
    if (events.ok() && endpoint == Endpoint::kSensor) {
      // A sensor only ever sends its own events: one foreign event refuses the batch.
      for (size_t i = 0; i < events->size(); ++i) {
        const std::string& id = (*events)[i].sensor.id;
        if (RefuseUncovered(ctx, grant, id, static_cast<long>(i), res)) return;
      }
    }
    if (events.ok()) {
      op.events.reserve(events->size());
      for (auto& e : *events) op.events.push_back(Prepare(std::move(e)));
    } else {
      parsed = events.error();
    }
  }
  if (!parsed.ok()) {
    const std::string& msg = parsed.error().message;
    bool malformed = msg.rfind("malformed JSON", 0) == 0 || msg.rfind("JSON nested", 0) == 0;
    ctx.metrics.Rejected(malformed ? "malformed_json" : reason);
    JsonError(res, 400, msg);
    return;
  }
  if (Status st = ctx.writer->Submit(&op); !st.ok()) {
    ctx.metrics.Rejected("store_error");
    JsonError(res, 503, "not stored: " + st.error().message);
    return;
  }
  ctx.metrics.IngestLatency(static_cast<double>(SystemClock().MonoNs() - start) / 1e9);
  res.status = 202;
  if (kind == Kind::kHeartbeat) {
    res.set_content(R"({"status":"stored"})", kJson);
  } else {
    res.set_content("{\"accepted\":" + std::to_string(op.accepted) +
                        ",\"duplicates\":" + std::to_string(op.duplicates) + "}",
                    kJson);
  }
}

Result<EventQuery> QueryFrom(const httplib::Request& req) {
  return ParseEventQuery(
      [&](const std::string& name) -> std::optional<std::string> {
        if (!req.has_param(name.c_str())) return std::nullopt;
        return req.get_param_value(name.c_str());
      },
      SystemClock().WallNs());
}

void SearchEvents(Context& ctx, const httplib::Request& req, httplib::Response& res) {
  if (!RequireGet(ctx, req, res)) return;
  auto q = QueryFrom(req);
  if (!q.ok()) return JsonError(res, 400, q.error().message);
  auto r = ctx.store->Query(*q);
  if (!r.ok()) return JsonError(res, 500, r.error().message);
  std::string body = "{\"results\":[";
  for (size_t i = 0; i < r->rows.size(); ++i) {
    if (i) body += ',';
    body += r->rows[i].second;
  }
  body += "],\"statistics\":{\"returned\":" + std::to_string(r->rows.size()) +
          ",\"all\":" + std::to_string(r->all) + "}}";
  res.set_header("Cache-Control", "no-store");
  res.set_content(body, kJson);
}

// UI helper: {"bucket_s":60,"buckets":[{"t":RFC3339,"counts":{"rule":n}}]}
void Timeline(Context& ctx, const httplib::Request& req, httplib::Response& res) {
  if (!RequireGet(ctx, req, res)) return;
  auto q = QueryFrom(req);
  if (!q.ok()) return JsonError(res, 400, q.error().message);
  int64_t bucket_s = 60;
  if (req.has_param("bucket")) {
    auto d = ParseDuration(req.get_param_value("bucket"));
    if (!d.ok() || *d < 1'000'000'000 || *d > 86400LL * 1'000'000'000) {
      return JsonError(res, 400, "bucket: expected a duration from 1s to 1d, like 60s or 5m");
    }
    bucket_s = *d / 1'000'000'000;
  }
  auto rows = ctx.store->Timeline(*q, bucket_s * 1'000'000'000);
  if (!rows.ok()) return JsonError(res, 500, rows.error().message);
  json buckets = json::array();
  int64_t current = -1;
  for (const auto& r : *rows) {
    if (r.bucket_ns != current) {
      buckets.push_back({{"t", FormatRfc3339(r.bucket_ns)}, {"counts", json::object()}});
      current = r.bucket_ns;
    }
    buckets.back()["counts"][r.rule] = r.count;
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(json{{"bucket_s", bucket_s}, {"buckets", std::move(buckets)}}.dump(
                      -1, ' ', false, json::error_handler_t::replace),
                  kJson);
}

void Facets(Context& ctx, const httplib::Request& req, httplib::Response& res) {
  if (!RequireGet(ctx, req, res)) return;
  auto f = ctx.store->Facets(200);
  if (!f.ok()) return JsonError(res, 500, f.error().message);
  json out = json::object();
  for (auto& [name, values] : *f) out[name + "s"] = values;
  res.set_header("Cache-Control", "no-store");
  res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

struct StreamState {
  std::shared_ptr<StreamHub::Client> client;
  std::string backlog;  // replay for Last-Event-ID, sent first
  int64_t last_write_mono = 0;
};

void Stream(Context& ctx, const httplib::Request& req, httplib::Response& res) {
  if (!RequireGet(ctx, req, res)) return;
  auto state = std::make_shared<StreamState>();
  state->client = ctx.hub.Subscribe();
  if (!state->client) return JsonError(res, 503, "too many /api/stream clients");
  state->backlog = "retry: 2000\n: connected\n\n";
  std::string last = req.get_header_value("Last-Event-ID");
  if (last.empty() && req.has_param("last_event_id")) last = req.get_param_value("last_event_id");
  if (!last.empty()) {
    int64_t after = std::atoll(last.c_str());
    if (auto rows = ctx.store->After(after, 1000); rows.ok()) {
      for (const auto& [rowid, text] : rows->rows) state->backlog += SseMessage(rowid, text);
    }
  }
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  StreamHub* hub = &ctx.hub;
  res.set_chunked_content_provider(
      "text/event-stream",
      [hub, state](size_t /*offset*/, httplib::DataSink& sink) {
        std::string out;
        out.swap(state->backlog);
        bool closed = false;
        if (out.empty()) out = hub->Wait(*state->client, std::chrono::milliseconds(500), &closed);
        int64_t now = SystemClock().MonoNs();
        if (out.empty() && now - state->last_write_mono > 5'000'000'000) out = ": keepalive\n\n";
        if (!out.empty()) {
          if (!sink.write(out.data(), out.size())) return false;  // client went away
          state->last_write_mono = now;
        }
        if (closed) sink.done();
        return true;
      },
      [hub, state](bool /*success*/) { hub->Unsubscribe(state->client); });
}

void ServeMetrics(Context& ctx, const httplib::Request& req, httplib::Response& res) {
  if (!RequireGet(ctx, req, res)) return;
  MetricsSnapshot snap;
  if (auto sensors = ctx.store->Sensors(); sensors.ok()) {
    int64_t now = SystemClock().WallNs();
    for (const auto& s : *sensors) {
      bool silent = IsSilent(s, now, ctx.config.default_heartbeat_interval_s);
      (silent ? snap.sensors_silent : snap.sensors_alive)++;
      snap.seq_gaps[s.id] = SeqGaps(s);
    }
  }
  snap.db_bytes = ctx.store->SizeBytes();
  snap.events_stored = ctx.store->CountEvents().value_or(0);
  snap.stream_clients = static_cast<int64_t>(ctx.hub.clients());
  snap.stream_dropped = ctx.hub.dropped_total();
  snap.fts_backlog = ctx.store->FtsBacklog();
  res.set_content(ctx.metrics.Render(snap), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

void InstallRoutes(httplib::Server& svr, Context& ctx) {
  svr.set_default_headers({
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
  });
  svr.set_error_handler([&ctx](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) {
      ctx.metrics.Rejected("too_large");
      JsonError(res, 413, "request body larger than 1 MiB");
    } else if (res.status == 404) {
      JsonError(res, 404, "no such endpoint");
    } else {
      JsonError(res, res.status, "HTTP error " + std::to_string(res.status));
    }
  });
  svr.Post("/events", [&ctx](const auto& req, auto& res) { Ingest(ctx, Kind::kEvents, req, res); });
  svr.Post("/heartbeat",
           [&ctx](const auto& req, auto& res) { Ingest(ctx, Kind::kHeartbeat, req, res); });
  for (const char* path : {"/falco", "/falco/([A-Za-z0-9._~-]+)", "/", "/api/v1/", "/api/v1"}) {
    svr.Post(path, [&ctx](const auto& req, auto& res) { Ingest(ctx, Kind::kFalco, req, res); });
  }
  for (const char* path : {"/api/events", "/api/v1/events/search"}) {
    svr.Get(path, [&ctx](const auto& req, auto& res) { SearchEvents(ctx, req, res); });
  }
  svr.Get("/api/sensors", [&ctx](const auto& req, auto& res) {
    if (!RequireGet(ctx, req, res)) return;
    auto sensors = ctx.store->Sensors();
    if (!sensors.ok()) return JsonError(res, 500, sensors.error().message);
    res.set_header("Cache-Control", "no-store");
    res.set_content(
        SensorsJson(*sensors, SystemClock().WallNs(), ctx.config.default_heartbeat_interval_s,
                    ctx.metrics.RefusedBySensor()),
        kJson);
  });
  svr.Get("/api/timeline", [&ctx](const auto& req, auto& res) { Timeline(ctx, req, res); });
  svr.Get("/api/facets", [&ctx](const auto& req, auto& res) { Facets(ctx, req, res); });
  svr.Get("/api/stream", [&ctx](const auto& req, auto& res) { Stream(ctx, req, res); });
  svr.Get("/metrics", [&ctx](const auto& req, auto& res) { ServeMetrics(ctx, req, res); });
  svr.Get("/healthz", [](const auto&, auto& res) { res.set_content("ok", "text/plain"); });
  svr.Get(R"(/|/[A-Za-z0-9_-]+\.(html|js|css|svg))", [](const auto& req, auto& res) {
    const UiAsset* a = FindUiAsset(req.path);
    if (!a) return JsonError(res, 404, "no such asset");
    res.set_header("Cache-Control", "no-cache");
    res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->content_type);
  });
}

}  // namespace sandwatch::receiver
