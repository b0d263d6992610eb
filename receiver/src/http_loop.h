// The HTTP server's event loop state (internal to http_server.cpp and
// http_connection.cpp): connections, the worker queue and finished answers.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "http_server.h"
#include "stream_hub.h"

namespace sandwatch::receiver {

// kDrain: the last answer is sent and the write side shut; what the client still sends
// (the rest of a refused body) is read and discarded for a moment, so that the client
// reads the answer instead of a reset.
enum class ConnState { kIdle, kHead, kBody, kBusy, kWrite, kStream, kDrain };

struct HttpConn {
  uint64_t id = 0;
  int fd = -1;
  std::string peer;
  ConnState state = ConnState::kHead;
  int64_t deadline = 0;
  std::string in;
  std::string out;
  size_t out_off = 0;
  bool close_after_write = false;
  size_t drained = 0;
  HttpRequest req;
  std::shared_ptr<StreamSubscription> stream;
  int64_t last_stream_write = 0;
  uint32_t interest = 0;
  bool in_epoll = false;
};

struct HttpJob {
  int fd;
  uint64_t id;
  HttpRequest req;
  int64_t queued_ns = 0;  // monotonic time the request was handed to its lane
};

struct HttpDone {
  int fd;
  uint64_t id;
  std::string bytes;
  bool keep_alive;
  std::shared_ptr<StreamSubscription> stream;
};

struct HttpServer::Loop {
  HttpLimits limits;
  Handler handler;
  HeadCheck head_check;
  std::vector<std::pair<std::string, std::string>> default_headers;
  HttpCounters* counters;
  const Clock* clock = nullptr;

  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::thread thread;
  std::vector<std::thread> workers;
  std::atomic<bool> stopping{false};
  bool started = false;

  std::unordered_map<int, std::unique_ptr<HttpConn>> conns;  // loop thread only
  std::unordered_map<std::string, int> per_peer;             // loop thread only
  std::unordered_set<int> stream_fds;                        // loop thread only
  uint64_t next_id = 1;
  int64_t listen_paused_until = 0;

  // A worker lane: its queue and the workers that wait on it. Lane 0 runs interactive
  // requests, lane 1 (when limits.bulk_workers > 0) the requests is_bulk selects.
  struct Lane {
    std::condition_variable cv;
    std::deque<HttpJob> jobs;
  };
  std::function<bool(const HttpRequest&)> is_bulk;
  std::mutex mu;  // guards the lanes' jobs, done, workers_ready
  std::array<Lane, 2> lanes;
  std::deque<HttpDone> done;
  // Workers that have set their priority; Start() returns once all have.
  int workers_ready = 0;
  std::condition_variable workers_ready_cv;

  void SetInterest(HttpConn& c, uint32_t events);
  void Close(HttpConn& c);
  void Accept();
  // Answers from the loop itself (errors, early refusals); the connection closes after.
  void Respond(HttpConn& c, const HttpResponse& res);
  void RespondError(HttpConn& c, int status, const std::string& msg);
  // Moves a reading connection forward as far as its buffered bytes allow.
  void Advance(HttpConn& c);
  // Reads what is there; false when the connection was closed.
  bool ReadSome(HttpConn& c);
  // Writes pending output; false when the connection was closed.
  bool Flush(HttpConn& c);
  // Moves queued messages of one stream connection into its socket.
  void Pump(HttpConn& c);
  void FinishJobs();
  void Sweep(int64_t now);
  void PumpStreams(const std::vector<int>& fds);
  std::vector<int> StreamFds() const;
  void Run();
  // Adds the job to its lane's queue and wakes one of its workers.
  void Enqueue(HttpJob job);
  void Work(size_t lane);
};

}  // namespace sandwatch::receiver
