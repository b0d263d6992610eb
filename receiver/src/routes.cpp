// HTTP endpoints: one Route() for every request, and the checks made right after headers.

#include <cctype>
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
constexpr int64_t kMaxBodyBytes = 1 << 20;

void JsonError(HttpResponse& res, int status, const std::string& msg) {
  res.status = status;
  res.set_content(json{{"error", msg}}.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

bool RequireGet(Context& ctx, const HttpRequest& req, HttpResponse& res) {
  if (ReadAllowed(ctx.config, req)) return true;
  res.set_header("WWW-Authenticate", "Bearer");
  JsonError(res, 401, "missing or wrong bearer token (--ui-token)");
  return false;
}

enum class Kind { kEvents, kHeartbeat, kFalco };

// 403 and the refusal counted when the grant does not cover `sensor_id` (event `index`, or
// the heartbeat when index < 0). Nothing of the request is stored.
bool RefuseUncovered(Context& ctx, const Grant& grant, const std::string& sensor_id, long index,
                     HttpResponse& res) {
  if (grant.Covers(sensor_id)) return false;
  std::string shown = sensor_id.substr(0, 128);
  ctx.metrics.Rejected("forbidden");
  ctx.metrics.RefusedFor(shown, ctx.clock.WallNs());
  std::string where = index < 0 ? "the heartbeat's" : "[" + std::to_string(index) + "]";
  JsonError(res, 403,
            where + " sensor.id \"" + shown +
                "\" is not covered by this token; nothing of the request was stored");
  return true;
}

void Ingest(Context& ctx, Kind kind, const HttpRequest& req, HttpResponse& res) {
  const int64_t start = ctx.clock.MonoNs();
  const Endpoint endpoint = kind == Kind::kFalco ? Endpoint::kFalco : Endpoint::kSensor;
  const Grant grant = IngestGrant(*ctx.credentials, req);
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
  op.received_ns = ctx.clock.WallNs();
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
  ctx.metrics.IngestLatency(static_cast<double>(ctx.clock.MonoNs() - start) / 1e9);
  res.status = 202;
  if (kind == Kind::kHeartbeat) {
    res.set_content(R"({"status":"stored"})", kJson);
  } else {
    res.set_content("{\"accepted\":" + std::to_string(op.accepted) +
                        ",\"duplicates\":" + std::to_string(op.duplicates) + "}",
                    kJson);
  }
}

Result<EventQuery> QueryFrom(const Context& ctx, const HttpRequest& req) {
  return ParseEventQuery(
      [&](const std::string& name) -> std::optional<std::string> {
        if (!req.has_param(name.c_str())) return std::nullopt;
        return req.get_param_value(name.c_str());
      },
      ctx.clock.WallNs());
}

void SearchEvents(Context& ctx, const HttpRequest& req, HttpResponse& res) {
  if (!RequireGet(ctx, req, res)) return;
  auto q = QueryFrom(ctx, req);
  if (!q.ok()) return JsonError(res, 400, q.error().message);
  auto r = ctx.store->Query(*q);
  if (!r.ok()) return JsonError(res, 500, r.error().message);
  std::string body = "{\"results\":[";
  for (size_t i = 0; i < r->rows.size(); ++i) {
    if (i) body += ',';
    body += r->rows[i].second;
  }
  body += R"(],"statistics":{"returned":)" + std::to_string(r->rows.size()) + R"(,"all":)" +
          std::to_string(r->all) + R"(,"all_capped":)" + (r->all_capped ? "true" : "false") + "}}";
  res.set_header("Cache-Control", "no-store");
  res.set_content(body, kJson);
}

// UI helper: {"bucket_s":60,"buckets":[{"t":RFC3339,"counts":{"rule":n}}]}
void Timeline(Context& ctx, const HttpRequest& req, HttpResponse& res) {
  if (!RequireGet(ctx, req, res)) return;
  auto q = QueryFrom(ctx, req);
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

void Facets(Context& ctx, const HttpRequest& req, HttpResponse& res) {
  if (!RequireGet(ctx, req, res)) return;
  auto f = ctx.store->Facets(200);
  if (!f.ok()) return JsonError(res, 500, f.error().message);
  json out = json::object();
  for (auto& [name, values] : *f) out[name + "s"] = values;
  res.set_header("Cache-Control", "no-store");
  res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

void Stream(Context& ctx, const HttpRequest& req, HttpResponse& res) {
  if (!RequireGet(ctx, req, res)) return;
  auto client = ctx.hub.Subscribe();
  if (!client) {
    res.close = true;
    return JsonError(res, 503, "too many /api/stream clients (--max-stream-clients)");
  }
  std::string first = "retry: 2000\n: connected\n\n";
  std::string last = req.get_header_value("Last-Event-ID");
  if (last.empty() && req.has_param("last_event_id")) last = req.get_param_value("last_event_id");
  if (!last.empty()) {
    int64_t after = std::atoll(last.c_str());
    if (auto rows = ctx.store->After(after, 1000); rows.ok()) {
      for (const auto& [rowid, text] : rows->rows) first += SseMessage(rowid, text);
    }
  }
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  res.set_content(std::move(first), "text/event-stream");
  res.stream = std::make_shared<StreamSubscription>(&ctx.hub, std::move(client));
}

void ServeMetrics(Context& ctx, const HttpRequest& req, HttpResponse& res) {
  if (!RequireGet(ctx, req, res)) return;
  MetricsSnapshot snap;
  if (auto sensors = ctx.store->Sensors(); sensors.ok()) {
    int64_t now = ctx.clock.WallNs();
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
  snap.pod_index_backlog = ctx.store->PodBacklog();
  std::string text = ctx.metrics.Render(snap);
  text +=
      "# HELP sandwatch_receiver_stream_refused_total /api/stream clients answered 503 "
      "(--max-stream-clients).\n# TYPE sandwatch_receiver_stream_refused_total counter\n"
      "sandwatch_receiver_stream_refused_total " +
      std::to_string(ctx.hub.refused_total()) + "\n";
  text += RenderHttpMetrics(ctx.http, ctx.http_limits);
  res.set_content(std::move(text), "text/plain; version=0.0.4; charset=utf-8");
}

bool IsUiAssetPath(const std::string& path) {
  if (path == "/") return true;
  size_t dot = path.rfind('.');
  if (path.size() < 2 || path.find('/', 1) != std::string::npos || dot == std::string::npos) {
    return false;
  }
  for (size_t i = 1; i < dot; ++i) {
    char ch = path[i];
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-') return false;
  }
  std::string ext = path.substr(dot + 1);
  return ext == "html" || ext == "js" || ext == "css" || ext == "svg";
}

bool IsFalcoPath(const std::string& p) {
  return p == "/falco" || p == "/" || p == "/api/v1/" || p == "/api/v1" ||
         !FalcoPathToken(p).empty();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> SecurityHeaders() {
  return {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
  };
}

bool CheckHead(Context& ctx, const HttpRequest& req, HttpResponse& res) {
  // Only the ingest endpoints need a credential; any other POST is answered 404 by Route().
  const bool ingest = req.path == "/events" || req.path == "/heartbeat" || IsFalcoPath(req.path);
  if (req.method == "POST" && ingest && !IngestGrant(*ctx.credentials, req).Authenticated()) {
    ctx.metrics.Rejected("unauthorized");
    res.set_header("WWW-Authenticate", "Bearer");
    JsonError(res, 401, "missing or wrong bearer token");
    return true;
  }
  if (req.content_length > kMaxBodyBytes) {
    ctx.metrics.Rejected("too_large");
    JsonError(res, 413, "request body larger than 1 MiB");
    return true;
  }
  return false;
}

void Route(Context& ctx, const HttpRequest& req, HttpResponse& res) {
  const std::string& p = req.path;
  if (req.method == "POST") {
    if (p == "/events") return Ingest(ctx, Kind::kEvents, req, res);
    if (p == "/heartbeat") return Ingest(ctx, Kind::kHeartbeat, req, res);
    if (IsFalcoPath(p)) return Ingest(ctx, Kind::kFalco, req, res);
    return JsonError(res, 404, "no such endpoint");
  }
  if (req.method != "GET" && req.method != "HEAD") return JsonError(res, 404, "no such endpoint");
  if (p == "/api/events" || p == "/api/v1/events/search") return SearchEvents(ctx, req, res);
  if (p == "/api/sensors") {
    if (!RequireGet(ctx, req, res)) return;
    auto sensors = ctx.store->Sensors();
    if (!sensors.ok()) return JsonError(res, 500, sensors.error().message);
    res.set_header("Cache-Control", "no-store");
    res.set_content(
        SensorsJson(*sensors, ctx.clock.WallNs(), ctx.config.default_heartbeat_interval_s,
                    ctx.metrics.RefusedBySensor()),
        kJson);
    return;
  }
  if (p == "/api/timeline") return Timeline(ctx, req, res);
  if (p == "/api/facets") return Facets(ctx, req, res);
  if (p == "/api/stream") return Stream(ctx, req, res);
  if (p == "/metrics") return ServeMetrics(ctx, req, res);
  if (p == "/healthz") return res.set_content("ok", "text/plain");
  if (IsUiAssetPath(p)) {
    const UiAsset* a = FindUiAsset(p);
    if (!a) return JsonError(res, 404, "no such asset");
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(reinterpret_cast<const char*>(a->data), a->size), a->content_type);
    return;
  }
  JsonError(res, 404, "no such endpoint");
}

}  // namespace sandwatch::receiver
