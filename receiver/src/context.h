// Shared state of one running receiver, used by the HTTP routes (internal).
#pragma once

#include <memory>

#include "metrics.h"
#include "sandwatch/receiver/config.h"
#include "sandwatch/receiver/credentials.h"
#include "sandwatch/receiver/store.h"
#include "stream_hub.h"
#include "writer.h"

namespace httplib {
class Server;
}

namespace sandwatch::receiver {

struct Context {
  explicit Context(ReceiverConfig c)
      : config(std::move(c)),
        hub(static_cast<size_t>(config.max_stream_clients),
            static_cast<size_t>(config.stream_queue)) {}
  ReceiverConfig config;
  std::unique_ptr<Credentials> credentials;
  std::unique_ptr<Store> store;
  Metrics metrics;
  StreamHub hub;
  std::unique_ptr<Writer> writer;
};

// Registers every endpoint, the error handler and the security headers.
void InstallRoutes(httplib::Server& server, Context& ctx);

}  // namespace sandwatch::receiver
