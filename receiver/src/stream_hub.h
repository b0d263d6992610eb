// Fan-out of stored events to /api/stream (SSE) clients. Each client has a bounded
// queue; when a slow client's queue is full the oldest message is dropped and counted,
// and the client is told how many it missed. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sandwatch::receiver {

class StreamHub {
 public:
  struct Client {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> queue;
    int64_t dropped = 0;
    int64_t dropped_reported = 0;
    bool closed = false;
  };

  StreamHub(size_t max_clients, size_t queue_limit)
      : max_clients_(max_clients), queue_limit_(queue_limit) {}

  // nullptr when max_clients are already connected or the hub is shut down.
  std::shared_ptr<Client> Subscribe();
  void Unsubscribe(const std::shared_ptr<Client>& c);
  // One SSE message per (rowid, json) pair.
  void Publish(const std::vector<std::pair<int64_t, const std::string*>>& events);
  // Waits up to `timeout` for messages and returns them as SSE text ("" if none).
  // Returns nullopt-like "closed" via *closed when the hub shut down.
  std::string Wait(Client& c, std::chrono::milliseconds timeout, bool* closed);
  // Called after each Publish and on Shutdown (the HTTP loop's wake-up); set before use.
  void SetNotifier(std::function<void()> notify) { notify_ = std::move(notify); }
  // True when messages were dropped from `c`'s full queue since it last took them.
  static bool Overflowed(Client& c);
  void Shutdown();

  size_t clients() const;
  int64_t dropped_total() const;
  int64_t refused_total() const;  // Subscribe() calls turned away by the client limit

 private:
  const size_t max_clients_;
  const size_t queue_limit_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Client>> clients_;
  int64_t dropped_total_ = 0;
  int64_t refused_total_ = 0;
  bool shutdown_ = false;
  std::function<void()> notify_;
};

// One /api/stream connection's place in the hub; unsubscribes when the connection ends.
struct StreamSubscription {
  StreamSubscription(StreamHub* h, std::shared_ptr<StreamHub::Client> c)
      : hub(h), client(std::move(c)) {}
  ~StreamSubscription() { hub->Unsubscribe(client); }
  StreamSubscription(const StreamSubscription&) = delete;
  StreamSubscription& operator=(const StreamSubscription&) = delete;
  StreamHub* hub;
  std::shared_ptr<StreamHub::Client> client;
};

// "id: N\ndata: JSON\n\n" (JSON is single-line).
std::string SseMessage(int64_t rowid, const std::string& json);

}  // namespace sandwatch::receiver
