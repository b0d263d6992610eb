#include "sandwatch/receiver/receiver.h"

#include <algorithm>
#include <csignal>
#include <fstream>
#include <thread>
#include <vector>

#include "context.h"
#include "sandwatch/core/log.h"
#include "sandwatch/core/procfs/proc_fs.h"

namespace sandwatch::receiver {

struct Receiver::Impl {
  Impl(const ReceiverConfig& config, const Clock& clock) : ctx(config, clock) {}
  Context ctx;
  std::unique_ptr<HttpServer> server;
  std::string host;
  int port = 0;
  std::mutex stop_mu;
  bool stopped = false;
};

Receiver::Receiver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Receiver::~Receiver() { Stop(); }

const std::string& Receiver::host() const { return impl_->host; }
int Receiver::port() const { return impl_->port; }

Result<std::unique_ptr<Receiver>> Receiver::Start(const ReceiverConfig& config) {
  return Start(config, SystemClock());
}

Result<std::unique_ptr<Receiver>> Receiver::Start(const ReceiverConfig& config,
                                                  const Clock& clock) {
  if (auto st = ValidateConfig(config); !st.ok()) return st.error();
  auto listen = ParseListen(config.listen);
  auto credentials = Credentials::Load(config.token, config.sensor_tokens);
  if (!credentials.ok()) return credentials.error();
  auto impl = std::make_unique<Impl>(config, clock);
  Context& ctx = impl->ctx;
  ctx.credentials = std::move(*credentials);
  StoreOptions store_options{config.db, config.fts, config.sync_full};
  store_options.background_nice = config.bulk_nice;
  auto store = Store::Open(store_options);
  if (!store.ok()) return store.error();
  ctx.store = std::move(*store);
  ctx.writer = std::make_unique<Writer>(*ctx.store, ctx.metrics, ctx.hub, ctx.config, clock);

  HttpLimits& limits = ctx.http_limits;
  limits.header_timeout_s = config.header_timeout_s;
  limits.body_timeout_s = config.body_timeout_s;
  limits.idle_timeout_s = config.idle_timeout_s;
  limits.max_connections = config.max_connections;
  limits.max_connections_per_peer = config.max_connections_per_peer;
  limits.workers = config.http_threads;
  if (config.bulk_nice > 0) {
    limits.bulk_workers = config.http_threads / 2;
    limits.workers = config.http_threads - limits.bulk_workers;
    limits.bulk_nice = config.bulk_nice;
  }
  limits.server_timing = config.server_timing;
  // Each connection is one fd: make room for the configured number, or say what fits.
  if (auto fds = procfs::RaiseFdSoftLimit(); fds.ok() && *fds < static_cast<uint64_t>(1 << 30)) {
    auto room = static_cast<int>(*fds) - 64;
    if (room < limits.max_connections) {
      SW_LOG(kWarn, "receiver", "--max-connections lowered to the open-file limit",
             {"max_connections", std::to_string(room)});
      limits.max_connections = std::max(room, 16);
    }
  }
  Context* raw = &ctx;
  impl->server = std::make_unique<HttpServer>(
      limits, [raw](const HttpRequest& req, HttpResponse& res) { Route(*raw, req, res); },
      [raw](const HttpRequest& req, HttpResponse& res) { return CheckHead(*raw, req, res); },
      SecurityHeaders(), &ctx.http, clock);
  auto port = impl->server->Listen(listen->first, listen->second);
  if (!port.ok()) {
    ctx.writer->Stop();
    return MakeError("--listen: cannot listen on " + config.listen + ": " + port.error().message +
                     " (address in use, or not a local address?)");
  }
  impl->host = listen->first;
  impl->port = *port;
  HttpServer* server = impl->server.get();
  // The notifier is set, and the loop's wake-up exists, before the writer (which publishes)
  // starts; requests arriving meanwhile wait in the writer's queue.
  ctx.hub.SetNotifier([server] { server->Wake(); });
  if (limits.bulk_workers > 0) {
    server->SetBulkRequests([](const HttpRequest& req) { return req.method == "POST"; });
  }
  server->Start();
  ctx.writer->Start();
  SW_LOG(kInfo, "receiver", "listening", {"addr", impl->host + ":" + std::to_string(impl->port)},
         {"db", config.db}, {"auth", ctx.credentials->Mode()},
         {"credentials", std::to_string(ctx.credentials->Count())},
         {"text_search", config.fts ? "fts5" : "like"});
  if (!config.ready_file.empty()) {
    std::ofstream(config.ready_file) << impl->host << ":" << impl->port << "\n";
  }
  return std::unique_ptr<Receiver>(new Receiver(std::move(impl)));
}

Status Receiver::ReloadCredentials() {
  Credentials& c = *impl_->ctx.credentials;
  if (c.tokens_file().empty()) {
    SW_LOG(kInfo, "receiver", "credentials reload: nothing to do (no --sensor-tokens)");
    return OkStatus();
  }
  Status st = c.Reload();
  impl_->ctx.metrics.CredentialsReloaded(st.ok());
  if (st.ok()) {
    SW_LOG(kInfo, "receiver", "credentials reloaded", {"file", c.tokens_file()},
           {"credentials", std::to_string(c.Count())});
  } else {
    SW_LOG(kWarn, "receiver", "credentials reload failed, keeping the previous ones",
           {"error", st.error().message}, {"credentials", std::to_string(c.Count())});
  }
  return st;
}

void Receiver::Stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->ctx.hub.Shutdown();  // open streams get their last chunk
  impl_->server->Stop();
  impl_->ctx.writer->Stop();
  SW_LOG(kInfo, "receiver", "stopped");
}

int Run(const ReceiverConfig& config) {
  // Block the signals before any thread starts, then wait for them here.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  auto r = Receiver::Start(config);
  if (!r.ok()) {
    SW_LOG(kError, "receiver", "cannot start", {"error", r.error().message});
    return 1;
  }
  int sig = 0;
  while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
    (void)(*r)->ReloadCredentials();  // logs the outcome itself
  }
  SW_LOG(kInfo, "receiver", "signal, shutting down", {"signal", std::to_string(sig)});
  (*r)->Stop();
  return 0;
}

}  // namespace sandwatch::receiver
