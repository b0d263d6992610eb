#include "stream_hub.h"

#include <algorithm>

namespace sandwatch::receiver {

std::string SseMessage(int64_t rowid, const std::string& json) {
  std::string m;
  m.reserve(json.size() + 32);
  m += "id: ";
  m += std::to_string(rowid);
  m += "\ndata: ";
  m += json;
  m += "\n\n";
  return m;
}

std::shared_ptr<StreamHub::Client> StreamHub::Subscribe() {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_ || clients_.size() >= max_clients_) {
    ++refused_total_;
    return nullptr;
  }
  auto c = std::make_shared<Client>();
  clients_.push_back(c);
  return c;
}

void StreamHub::Unsubscribe(const std::shared_ptr<Client>& c) {
  std::lock_guard<std::mutex> lock(mu_);
  clients_.erase(std::remove(clients_.begin(), clients_.end(), c), clients_.end());
}

void StreamHub::Publish(const std::vector<std::pair<int64_t, const std::string*>>& events) {
  if (events.empty()) return;
  std::vector<std::shared_ptr<Client>> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    targets = clients_;
  }
  if (targets.empty()) return;
  std::vector<std::string> messages;
  messages.reserve(events.size());
  for (const auto& [rowid, json] : events) messages.push_back(SseMessage(rowid, *json));
  int64_t dropped = 0;
  for (const auto& c : targets) {
    {
      std::lock_guard<std::mutex> lock(c->mu);
      for (const auto& m : messages) {
        if (c->queue.size() >= queue_limit_) {
          c->queue.pop_front();
          ++c->dropped;
          ++dropped;
        }
        c->queue.push_back(m);
      }
    }
    c->cv.notify_one();
  }
  if (dropped) {
    std::lock_guard<std::mutex> lock(mu_);
    dropped_total_ += dropped;
  }
  if (notify_) notify_();
}

bool StreamHub::Overflowed(Client& c) {
  std::lock_guard<std::mutex> lock(c.mu);
  return c.dropped != c.dropped_reported;
}

std::string StreamHub::Wait(Client& c, std::chrono::milliseconds timeout, bool* closed) {
  std::unique_lock<std::mutex> lock(c.mu);
  c.cv.wait_for(lock, timeout, [&] { return c.closed || !c.queue.empty(); });
  *closed = c.closed;
  std::string out;
  if (c.dropped != c.dropped_reported) {
    out += "event: dropped\ndata: {\"dropped\":" + std::to_string(c.dropped - c.dropped_reported) +
           "}\n\n";
    c.dropped_reported = c.dropped;
  }
  while (!c.queue.empty()) {
    out += c.queue.front();
    c.queue.pop_front();
  }
  return out;
}

void StreamHub::Shutdown() {
  std::vector<std::shared_ptr<Client>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    all = clients_;
  }
  for (const auto& c : all) {
    {
      std::lock_guard<std::mutex> lock(c->mu);
      c->closed = true;
    }
    c->cv.notify_all();
  }
  if (notify_) notify_();
}

size_t StreamHub::clients() const {
  std::lock_guard<std::mutex> lock(mu_);
  return clients_.size();
}

int64_t StreamHub::refused_total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_total_;
}

int64_t StreamHub::dropped_total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_total_;
}

}  // namespace sandwatch::receiver
