// HTTP output: batches events to RECEIVER_URL and heartbeats to the sibling
// /heartbeat URL, through an EventQueue (Spool when SPOOL_DIR is set, memory
// otherwise), retrying with exponential backoff and jitter.
//
// Close(deadline): keeps sending until the queue is empty or the deadline passes,
// retrying failed POSTs every shutdown_retry_s, and no POST outlasts the deadline;
// what is left stays in the spool (SPOOL_DIR) or is lost, and is logged.
// Delivery: in queue (= seq) order. A batch is removed from the queue only after a
// 2xx. Connection errors, 5xx, 408 and 429 are retried; 401/403 are retried too (and
// logged), since dropping would lose data; other 4xx mean the batch itself is bad:
// its events are resent one at a time, and only the ones rejected alone are dropped
// and counted in events_rejected and events_dropped.
// Threads: one sender thread; Emit/EmitHeartbeat only queue and return.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "sandwatch/core/clock.h"
#include "sandwatch/sensor/output.h"
#include "sandwatch/sensor/spool.h"

namespace sandwatch::sensor {

class Transport {
 public:
  virtual ~Transport() = default;
  // POSTs a JSON body to `path`; the HTTP status, or an Error when no answer came.
  virtual Result<int> Post(const std::string& path, const std::string& body) = 0;
  // From now on no Post waits past this CLOCK_MONOTONIC time (the output's close
  // deadline): it fails with a timeout instead.
  virtual void LimitTo(int64_t /*deadline_mono_ns*/) {}
};

// Plain HTTP/1.1 client for "http://host[:port]" (keep-alive, TCP_NODELAY, 3 s
// connect and 10 s I/O timeouts). Error for https:// (see plain_http_transport.cpp).
Result<std::unique_ptr<Transport>> MakeHttpTransport(const std::string& scheme_host_port,
                                                     const std::string& bearer_token);

struct ReceiverUrl {
  std::string base;            // "http://host:port"
  std::string events_path;     // "/events"
  std::string heartbeat_path;  // "/heartbeat" (sibling of the events path)
};
// Splits RECEIVER_URL. "http://h/x/events" -> base "http://h", "/x/events", "/x/heartbeat".
Result<ReceiverUrl> SplitReceiverUrl(const std::string& url);

struct HttpOptions {
  const Clock* clock = &SystemClock();  // retry and close deadlines; must outlive the output
  std::string events_path = "/events";
  std::string heartbeat_path = "/heartbeat";
  OutputFormat format = OutputFormat::kSandwatch;  // falco: one event per POST, no heartbeats
  size_t batch_size = 100;
  size_t batch_bytes = size_t{512} * 1024;
  double backoff_initial_s = 0.25;
  double backoff_max_s = 30;
  // After Close(): a failed POST is retried this often until the close deadline (the
  // backoff above could outlast it), so a receiver that answers again in time still
  // gets every event.
  double shutdown_retry_s = 0.2;
};

class HttpOutput : public Output {
 public:
  HttpOutput(HttpOptions options, std::unique_ptr<Transport> transport,
             std::unique_ptr<EventQueue> queue);
  ~HttpOutput() override;

  std::string_view Name() const override { return "http"; }
  void Emit(const Event& e) override;
  void EmitHeartbeat(const Heartbeat& h) override;
  void Close(int64_t deadline_mono_ns) override;
  void AddCounters(std::map<std::string, int64_t>* counters) const override;

 private:
  void Loop();
  // Sends one batch; true when the queue moved (delivered or rejected).
  bool SendBatch(std::unique_lock<std::mutex>* lock);

  HttpOptions options_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<EventQueue> queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> heartbeat_;  // latest, not yet sent
  bool stopping_ = false;
  int64_t deadline_ns_ = 0;
  int failures_ = 0;         // consecutive
  size_t single_left_ = 0;   // after a rejected batch: records to send one by one
  int64_t next_try_ns_ = 0;  // monotonic
  uint64_t delivered_ = 0;
  uint64_t rejected_ = 0;
  uint64_t post_failures_ = 0;
  uint64_t heartbeats_sent_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
  std::thread thread_;
};

}  // namespace sandwatch::sensor
