#include "sandwatch/receiver/receiver.h"

#include <httplib.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "context.h"
#include "sandwatch/core/log.h"

namespace sandwatch::receiver {

struct Receiver::Impl {
  explicit Impl(const ReceiverConfig& config) : ctx(config) {}
  Context ctx;
  httplib::Server server;
  std::thread server_thread;
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
  if (auto st = ValidateConfig(config); !st.ok()) return st.error();
  auto listen = ParseListen(config.listen);
  auto credentials = Credentials::Load(config.token, config.sensor_tokens);
  if (!credentials.ok()) return credentials.error();
  auto impl = std::make_unique<Impl>(config);
  Context& ctx = impl->ctx;
  ctx.credentials = std::move(*credentials);
  auto store = Store::Open(StoreOptions{config.db, config.fts, config.sync_full});
  if (!store.ok()) return store.error();
  ctx.store = std::move(*store);
  ctx.writer = std::make_unique<Writer>(*ctx.store, ctx.metrics, ctx.hub, ctx.config);
  ctx.writer->Start();

  httplib::Server& svr = impl->server;
  const size_t threads = static_cast<size_t>(config.http_threads);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which would let a second receiver bind the
  // same port silently; keep only SO_REUSEADDR.
  svr.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  svr.set_payload_max_length(1 << 20);
  svr.set_keep_alive_max_count(100000);
  svr.set_read_timeout(10, 0);
  svr.set_write_timeout(10, 0);
  InstallRoutes(svr, ctx);

  impl->host = listen->first;
  if (listen->second == 0) {
    impl->port = svr.bind_to_any_port(impl->host);
  } else {
    impl->port = svr.bind_to_port(impl->host, listen->second) ? listen->second : -1;
  }
  if (impl->port <= 0) {
    ctx.writer->Stop();
    return MakeError("--listen: cannot listen on " + config.listen +
                     " (address in use, or not a local address?)");
  }
  httplib::Server* raw = &svr;
  impl->server_thread = std::thread([raw] { raw->listen_after_bind(); });
  for (int i = 0; i < 2000 && !svr.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!svr.is_running()) {
    svr.stop();
    impl->server_thread.join();
    ctx.writer->Stop();
    return MakeError("the HTTP server did not start");
  }
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
  impl_->ctx.hub.Shutdown();  // SSE providers return within their wait
  impl_->server.stop();
  if (impl_->server_thread.joinable()) impl_->server_thread.join();
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
