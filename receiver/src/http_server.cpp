#include "http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "http_loop.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "sandwatch/core/procfs/thread_sched.h"

namespace sandwatch::receiver {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int kStreamSndBuf = 128 * 1024;

int64_t Ns(double s) { return static_cast<int64_t>(s * 1e9); }

}  // namespace

void HttpServer::Loop::Pump(HttpConn& c) {
  StreamHub::Client& client = *c.stream->client;
  if (c.out_off < c.out.size()) {
    // The client has not taken the last chunk; once its queue overflows, it is dropped.
    if (StreamHub::Overflowed(client)) {
      ++counters->stream_disconnected;
      Close(c);
    }
    return;
  }
  bool closed = false;
  std::string text = c.stream->hub->Wait(client, std::chrono::milliseconds(0), &closed);
  if (text.empty() && !closed &&
      clock->MonoNs() - c.last_stream_write > Ns(limits.stream_keepalive_s)) {
    text = ": keepalive\n\n";
  }
  if (!text.empty()) c.out = Chunk(text);
  if (closed) {
    c.out += Chunk("");
    c.close_after_write = true;
  }
  if (c.out.empty()) return;
  if (!Flush(c)) return;
  if (closed && c.out.empty()) Close(c);
}

void HttpServer::Loop::FinishJobs() {
  std::deque<HttpDone> ready;
  {
    std::lock_guard<std::mutex> lock(mu);
    ready.swap(done);
  }
  for (auto& d : ready) {
    auto it = conns.find(d.fd);
    if (it == conns.end() || it->second->id != d.id) continue;
    HttpConn& c = *it->second;
    c.out = std::move(d.bytes);
    c.out_off = 0;
    c.close_after_write = !d.keep_alive;
    c.deadline = clock->MonoNs() + Ns(limits.body_timeout_s);
    if (d.stream) {
      c.state = ConnState::kStream;
      c.stream = std::move(d.stream);
      c.in.clear();
      stream_fds.insert(c.fd);
      // A fixed send buffer: a client that stops reading holds at most this much kernel
      // memory (plus its queue) before it is dropped; loopback would grow it to megabytes.
      int sndbuf = kStreamSndBuf;
      setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    } else {
      c.state = ConnState::kWrite;
    }
    Flush(c);
  }
}

void HttpServer::Loop::Sweep(int64_t now) {
  std::vector<int> expired;
  std::vector<int> streams;
  for (auto& [fd, c] : conns) {
    if (c->state == ConnState::kStream) {
      streams.push_back(fd);
    } else if (c->state != ConnState::kBusy && now > c->deadline) {
      expired.push_back(fd);
    }
  }
  for (int fd : expired) {
    HttpConn& c = *conns[fd];
    switch (c.state) {
      case ConnState::kIdle:
        ++counters->idle_timeouts;
        break;
      case ConnState::kHead:
        ++counters->header_timeouts;
        break;
      case ConnState::kBody:
        ++counters->body_timeouts;
        break;
      default:
        ++counters->write_timeouts;
        break;
    }
    Close(c);
  }
  PumpStreams(streams);
  if (listen_paused_until && now > listen_paused_until) {
    listen_paused_until = 0;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
  }
}

void HttpServer::Loop::PumpStreams(const std::vector<int>& fds) {
  for (int fd : fds) {
    auto it = conns.find(fd);
    if (it != conns.end() && it->second->state == ConnState::kStream) Pump(*it->second);
  }
}

std::vector<int> HttpServer::Loop::StreamFds() const {
  return {stream_fds.begin(), stream_fds.end()};
}

void HttpServer::Loop::Run() {
  std::array<epoll_event, 256> events;
  int64_t last_sweep = clock->MonoNs();
  while (!stopping) {
    int n = epoll_wait(epoll_fd, events.data(), 256, 100);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      uint32_t ev = events[i].events;
      if (fd == listen_fd) {
        Accept();
        continue;
      }
      if (fd == wake_fd) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = read(wake_fd, &v, sizeof v);
        FinishJobs();
        PumpStreams(StreamFds());
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      HttpConn& c = *it->second;
      if ((ev & (EPOLLERR | EPOLLHUP)) && c.state != ConnState::kWrite) {
        Close(c);
        continue;
      }
      if (ev & EPOLLOUT) {
        if (!Flush(c)) continue;
        if (c.state == ConnState::kStream) Pump(c);
        continue;
      }
      if (ev & (EPOLLIN | EPOLLRDHUP)) {
        if (!ReadSome(c)) continue;
        if (c.state == ConnState::kIdle || c.state == ConnState::kHead ||
            c.state == ConnState::kBody) {
          Advance(c);
        }
      }
    }
    int64_t now = clock->MonoNs();
    if (now - last_sweep >= kSec / 10) {
      Sweep(now);
      last_sweep = now;
    }
  }
}

void HttpServer::Loop::Enqueue(HttpJob job) {
  const size_t lane = limits.bulk_workers > 0 && is_bulk && is_bulk(job.req) ? 1 : 0;
  job.queued_ns = clock->MonoNs();
  {
    std::lock_guard<std::mutex> lock(mu);
    lanes[lane].jobs.push_back(std::move(job));
  }
  lanes[lane].cv.notify_one();
}

void HttpServer::Loop::Work(size_t lane_index) {
  Lane& lane = lanes[lane_index];
  if (lane_index == 1 && limits.bulk_nice > 0) {
    if (auto st = procfs::RaiseThreadNice(0, limits.bulk_nice); !st.ok()) {
      SW_LOG(kWarn, "http", "bulk worker keeps the normal priority", {"error", st.error().message});
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    ++workers_ready;
  }
  workers_ready_cv.notify_all();
  const procfs::ThreadSchedClock sched;
  for (;;) {
    HttpJob job;
    {
      std::unique_lock<std::mutex> lock(mu);
      lane.cv.wait(lock, [&] { return stopping || !lane.jobs.empty(); });
      if (lane.jobs.empty()) return;
      job = std::move(lane.jobs.front());
      lane.jobs.pop_front();
    }
    // Queued: from the hand-over to a worker taking it; with a worker idle, that is the
    // worker's wake-up, mostly a wait for a CPU too.
    const int64_t queued = clock->MonoNs() - job.queued_ns;
    const auto start = sched.Read();
    HttpResponse res;
    try {
      handler(job.req, res);
    } catch (const std::exception& e) {
      SW_LOG(kError, "http", "handler failed", {"path", job.req.path}, {"error", e.what()});
      res = HttpResponse{};
      res.status = 500;
      res.set_content(R"({"error":"internal error"})", "application/json");
    }
    if (const auto ready = sched.Read(); start && ready) {
      const int64_t run = ready->run_ns - start->run_ns;
      const int64_t wait = ready->wait_ns - start->wait_ns;
      counters->lanes[lane_index].Add(run, wait, queued);
      if (limits.server_timing) {
        std::array<char, 128> value{};
        std::snprintf(value.data(), value.size(), "queue;dur=%.3f, cpu;dur=%.3f, cpu-wait;dur=%.3f",
                      static_cast<double>(queued) / 1e6, static_cast<double>(run) / 1e6,
                      static_cast<double>(wait) / 1e6);
        res.set_header("Server-Timing", value.data());
      }
    }
    bool keep = job.req.keep_alive && !res.close && !stopping;
    if (job.req.method == "HEAD") res.stream.reset();
    std::string bytes = SerializeResponse(res, keep || res.stream, default_headers);
    if (job.req.method == "HEAD") bytes.resize(bytes.size() - res.body.size());  // head only
    HttpDone d{job.fd, job.id, std::move(bytes), keep, std::move(res.stream)};
    {
      std::lock_guard<std::mutex> lock(mu);
      done.push_back(std::move(d));
    }
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = write(wake_fd, &one, sizeof one);
  }
}

HttpServer::HttpServer(HttpLimits limits, Handler handler, HeadCheck head_check,
                       std::vector<std::pair<std::string, std::string>> default_headers,
                       HttpCounters* counters, const Clock& clock)
    : loop_(std::make_unique<Loop>()) {
  loop_->clock = &clock;
  loop_->limits = limits;
  loop_->handler = std::move(handler);
  loop_->head_check = std::move(head_check);
  loop_->default_headers = std::move(default_headers);
  loop_->counters = counters;
}

HttpServer::~HttpServer() {
  Stop();
  for (int fd : {loop_->listen_fd, loop_->epoll_fd, loop_->wake_fd}) {
    if (fd >= 0) close(fd);
  }
}

Result<int> HttpServer::Listen(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) {
    return MakeError("cannot resolve " + host);
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int yes = 1;
  // SO_REUSEADDR only: SO_REUSEPORT would let a second receiver bind the same port.
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  bool ok = fd >= 0 && bind(fd, res->ai_addr, res->ai_addrlen) == 0 && listen(fd, 4096) == 0;
  freeaddrinfo(res);
  if (!ok) {
    std::string why = std::strerror(errno);
    if (fd >= 0) close(fd);
    return MakeError(why);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  loop_->listen_fd = fd;
  return bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

void HttpServer::SetBulkRequests(std::function<bool(const HttpRequest&)> is_bulk) {
  loop_->is_bulk = std::move(is_bulk);
}

void HttpServer::Start() {
  Loop& l = *loop_;
  l.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  l.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  for (int fd : {l.listen_fd, l.wake_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(l.epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }
  l.started = true;
  for (int i = 0; i < l.limits.workers + l.limits.bulk_workers; ++i) {
    const bool bulk = i >= l.limits.workers;
    l.workers.emplace_back([&l, bulk] { l.Work(bulk ? 1 : 0); });
    pthread_setname_np(l.workers.back().native_handle(), bulk ? "sw-http-bulk" : "sw-http-worker");
  }
  {
    std::unique_lock<std::mutex> lock(l.mu);
    l.workers_ready_cv.wait(lock,
                            [&] { return l.workers_ready == static_cast<int>(l.workers.size()); });
  }
  l.thread = std::thread([&l] { l.Run(); });
  pthread_setname_np(l.thread.native_handle(), "sw-http-loop");
}

void HttpServer::Wake() {
  if (loop_->wake_fd < 0) return;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t r = write(loop_->wake_fd, &one, sizeof one);
}

void HttpServer::Stop() {
  Loop& l = *loop_;
  if (!l.started || l.stopping.exchange(true)) return;
  Wake();
  if (l.thread.joinable()) l.thread.join();
  {
    std::lock_guard<std::mutex> lock(l.mu);  // a worker between its check and its wait
  }
  for (auto& lane : l.lanes) lane.cv.notify_all();
  for (auto& w : l.workers) w.join();
  std::vector<int> fds;
  for (const auto& [fd, c] : l.conns) fds.push_back(fd);
  for (int fd : fds) l.Close(*l.conns[fd]);
}

}  // namespace sandwatch::receiver
