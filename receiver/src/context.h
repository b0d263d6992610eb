// Shared state of one running receiver, used by the HTTP routes (internal).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http_message.h"
#include "http_server.h"
#include "metrics.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/receiver/config.h"
#include "sandwatch/receiver/credentials.h"
#include "sandwatch/receiver/store.h"
#include "stream_hub.h"
#include "writer.h"

namespace sandwatch::receiver {

struct Context {
  Context(ReceiverConfig c, const Clock& time_source)
      : config(std::move(c)),
        clock(time_source),
        hub(static_cast<size_t>(config.max_stream_clients),
            static_cast<size_t>(config.stream_queue)) {}
  ReceiverConfig config;
  const Clock& clock;  // every time the receiver reads (received_ns, deadlines, silence)
  std::unique_ptr<Credentials> credentials;
  std::unique_ptr<Store> store;
  Metrics metrics;
  StreamHub hub;
  std::unique_ptr<Writer> writer;
  HttpCounters http;
  HttpLimits http_limits;
};

// Answers one complete request (every endpoint). Runs on an HTTP worker.
void Route(Context& ctx, const HttpRequest& req, HttpResponse& res);

// Right after a request's headers: true (and `res` filled) when it is refused before its
// body is read: a POST without the right token (401), a body over 1 MiB (413).
bool CheckHead(Context& ctx, const HttpRequest& req, HttpResponse& res);

// Headers sent with every answer (CSP, nosniff, ...).
std::vector<std::pair<std::string, std::string>> SecurityHeaders();

}  // namespace sandwatch::receiver
