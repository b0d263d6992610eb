// The receiver's HTTP/1.1 server: one epoll thread owns every connection (accept, reading
// heads and bodies, writing answers, server-sent event streams) and a small worker pool
// runs the routes on complete requests. A slow or idle client costs a buffer and an
// entry in the loop, never a thread. Limits (see docs/receiver.md):
//   - header deadline from accept (or from the first byte of a keep-alive request),
//   - body deadline from the end of the head, bodies over max_body_bytes refused (413),
//   - idle keep-alive deadline between requests,
//   - max connections in total and per peer address: over either, the connection gets a
//     503 and is closed at once, never queued.
// Each refusal and timeout is counted in HttpCounters (rendered in /metrics).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http_message.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/result.h"

namespace sandwatch::receiver {

struct HttpLimits {
  double header_timeout_s = 10;
  double body_timeout_s = 30;
  double idle_timeout_s = 60;
  int max_connections = 2048;
  int max_connections_per_peer = 256;
  int workers = 16;      // workers of the interactive lane (every request without a bulk lane)
  int bulk_workers = 0;  // workers of the bulk lane (see SetBulkRequests); 0: no bulk lane
  int bulk_nice = 0;     // nice value added to the bulk lane's workers
  bool server_timing = false;  // answer with a Server-Timing header: queue, CPU and CPU wait
  size_t max_head_bytes = size_t{16} * 1024;
  int64_t max_body_bytes = 1 << 20;
  double stream_keepalive_s = 5;
};

// Thread-safe counters, updated by the server, read by /metrics.
struct HttpCounters {
  std::atomic<int64_t> open{0};
  std::atomic<int64_t> accepted{0};
  std::atomic<int64_t> refused_total_limit{0};
  std::atomic<int64_t> refused_per_peer{0};
  std::atomic<int64_t> header_timeouts{0};
  std::atomic<int64_t> body_timeouts{0};
  std::atomic<int64_t> idle_timeouts{0};
  std::atomic<int64_t> write_timeouts{0};
  std::atomic<int64_t> bad_requests{0};
  std::atomic<int64_t> rejected_after_head{0};
  std::atomic<int64_t> stream_disconnected{0};
  std::atomic<int64_t> requests{0};
  // Per worker lane (0 interactive, 1 bulk): requests run; time in the lane's queue
  // (with a worker idle, its wake-up); and from the worker thread's schedstat, between
  // taking the request and its answer being ready, CPU time and run-queue wait (runnable,
  // waiting for a CPU), with a histogram of that wait per request.
  static constexpr std::array<double, 10> kWaitBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                          0.025,  0.05,  0.1,    0.25,  1.0};
  struct Lane {
    std::atomic<int64_t> requests{0};
    std::atomic<int64_t> run_ns{0};
    std::atomic<int64_t> wait_ns{0};
    std::atomic<int64_t> queued_ns{0};
    std::array<std::atomic<int64_t>, kWaitBuckets.size() + 1> wait_buckets{};
    void Add(int64_t run, int64_t wait, int64_t queued);
  };
  std::array<Lane, 2> lanes;
};

// Prometheus text for the counters and the configured limits.
std::string RenderHttpMetrics(const HttpCounters& counters, const HttpLimits& limits);

class HttpServer {
 public:
  // Runs on a worker thread with the complete request.
  using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;
  // Runs on the loop thread once the head is read, before any of the body. Return true
  // (with `res` filled) to answer now and close without reading the body. Must be cheap.
  using HeadCheck = std::function<bool(const HttpRequest&, HttpResponse&)>;

  // `clock` (its monotonic time) sets every deadline; it must outlive the server.
  HttpServer(HttpLimits limits, Handler handler, HeadCheck head_check,
             std::vector<std::pair<std::string, std::string>> default_headers,
             HttpCounters* counters, const Clock& clock);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; port 0 picks a free port. Returns the bound port.
  Result<int> Listen(const std::string& host, int port);
  // Requests for which `is_bulk` is true (sensor writes) go to the bulk lane, its own
  // limits.bulk_workers workers at nice +limits.bulk_nice, so that they take CPU from
  // interactive reads only when those leave it. Call before Start().
  void SetBulkRequests(std::function<bool(const HttpRequest&)> is_bulk);
  // Starts the loop and the workers.
  void Start();
  // Closes every connection (streams included) and joins every thread. Idempotent.
  void Stop();
  // Wakes the loop so it moves queued stream messages; thread-safe, cheap.
  void Wake();

  struct Loop;

 private:
  std::unique_ptr<Loop> loop_;
};

}  // namespace sandwatch::receiver
