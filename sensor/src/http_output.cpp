#include "sandwatch/sensor/http_output.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"

namespace sandwatch::sensor {

Result<ReceiverUrl> SplitReceiverUrl(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return MakeError("RECEIVER_URL: expected http://host/events");
  auto path_start = url.find('/', scheme_end + 3);
  ReceiverUrl r;
  r.base = url.substr(0, path_start);
  r.events_path = path_start == std::string::npos ? "/events" : url.substr(path_start);
  if (r.base.size() <= scheme_end + 3) return MakeError("RECEIVER_URL: missing host");
  auto slash = r.events_path.rfind('/');
  r.heartbeat_path = r.events_path.substr(0, slash) + "/heartbeat";
  return r;
}

HttpOutput::HttpOutput(HttpOptions options, std::unique_ptr<Transport> transport,
                       std::unique_ptr<EventQueue> queue)
    : options_(std::move(options)), transport_(std::move(transport)), queue_(std::move(queue)) {
  thread_ = std::thread([this] { Loop(); });
}

HttpOutput::~HttpOutput() { HttpOutput::Close(options_.clock->MonoNs()); }

void HttpOutput::Emit(const Event& e) {
  std::string record = FormatEvent(e, options_.format);
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t before = queue_->Dropped();
  if (!queue_->Append(record)) {
    uint64_t dropped = queue_->Dropped();
    if (before == 0 || dropped % 100 == 0) {
      SW_LOG(kWarn, "http", "queue full, event dropped", {"seq", std::to_string(e.seq)},
             {"events_dropped", std::to_string(dropped)},
             {"pending_bytes", std::to_string(queue_->PendingBytes())});
    }
  }
  cv_.notify_all();
}

void HttpOutput::EmitHeartbeat(const Heartbeat& h) {
  if (options_.format == OutputFormat::kFalco) return;  // Falcosidekick has no heartbeat
  std::string body =
      HeartbeatToJson(h).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard<std::mutex> lock(mu_);
  heartbeat_ = std::move(body);
  cv_.notify_all();
}

void HttpOutput::Close(int64_t deadline_mono_ns) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    deadline_ns_ = deadline_mono_ns;
    next_try_ns_ = 0;  // one more try now, whatever the backoff said
  }
  cv_.notify_all();
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_->PendingRecords() > 0) {
    SW_LOG(kWarn, "http", "undelivered events at shutdown",
           {"pending", std::to_string(queue_->PendingRecords())},
           {"kept_in_spool", dynamic_cast<Spool*>(queue_.get()) ? "true" : "false"});
  }
}

bool HttpOutput::SendBatch(std::unique_lock<std::mutex>* lock) {
  bool falco = options_.format == OutputFormat::kFalco;
  size_t max_records = falco || single_left_ > 0 ? 1 : options_.batch_size;
  auto records = queue_->Peek(max_records, options_.batch_bytes);
  if (records.empty()) return false;
  std::string body;
  if (falco) {
    body = records[0];
  } else {
    body = "[";
    for (size_t i = 0; i < records.size(); ++i) {
      if (i) body += ',';
      body += records[i];
    }
    body += ']';
  }
  lock->unlock();
  auto status = transport_->Post(options_.events_path, body);
  lock->lock();
  int code = status.ok() ? *status : 0;
  if (code >= 200 && code < 300) {
    auto st = queue_->Commit(records.size());
    if (!st.ok()) SW_LOG(kError, "http", "spool commit failed", {"error", st.error().message});
    delivered_ += records.size();
    if (single_left_ > 0) --single_left_;
    failures_ = 0;
    next_try_ns_ = 0;
    return true;
  }
  bool retry = code == 0 || code >= 500 || code == 408 || code == 429 || code == 401 || code == 403;
  if (!retry && records.size() > 1) {
    // One bad event must not cost the whole batch: resend these one at a time.
    single_left_ = records.size();
    return true;
  }
  if (!retry) {
    if (single_left_ > 0) --single_left_;
    SW_LOG(kError, "http", "receiver rejected a batch; dropped", {"status", std::to_string(code)},
           {"events", std::to_string(records.size())});
    (void)queue_->Commit(records.size());
    rejected_ += records.size();
    return true;
  }
  ++post_failures_;
  ++failures_;
  double cap = std::min(options_.backoff_max_s,
                        options_.backoff_initial_s * std::pow(2.0, std::min(failures_ - 1, 20)));
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  double delay = cap * jitter(rng_);
  next_try_ns_ = options_.clock->MonoNs() + static_cast<int64_t>(delay * 1e9);
  if (failures_ == 1 || failures_ % 10 == 0) {
    SW_LOG(kWarn, "http", "delivery failed; will retry",
           {"error", status.ok() ? "HTTP " + std::to_string(code) : status.error().message},
           {"attempt", std::to_string(failures_)}, {"retry_in_s", std::to_string(delay)},
           {"pending", std::to_string(queue_->PendingRecords())});
  }
  return false;
}

void HttpOutput::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    int64_t now = options_.clock->MonoNs();
    if (heartbeat_) {
      std::string hb = std::move(*heartbeat_);
      heartbeat_.reset();
      lock.unlock();
      auto st = transport_->Post(options_.heartbeat_path, hb);
      lock.lock();
      if (st.ok() && *st >= 200 && *st < 300) ++heartbeats_sent_;
      continue;
    }
    bool pending = queue_->PendingRecords() > 0;
    if (stopping_ && (!pending || now >= deadline_ns_)) return;
    if (pending && now >= next_try_ns_) {
      bool moved = SendBatch(&lock);
      if (!moved && stopping_) return;  // receiver down at shutdown: keep the rest
      continue;
    }
    if (pending) {
      int64_t until = stopping_ ? std::min(next_try_ns_, deadline_ns_) : next_try_ns_;
      cv_.wait_for(lock, std::chrono::nanoseconds(std::max<int64_t>(until - now, 1000000)));
    } else {
      cv_.wait(lock);
    }
  }
}

void HttpOutput::AddCounters(std::map<std::string, int64_t>* c) const {
  std::lock_guard<std::mutex> lock(mu_);
  (*c)["events_dropped"] += static_cast<int64_t>(queue_->Dropped() + rejected_);
  (*c)["events_rejected"] = static_cast<int64_t>(rejected_);
  (*c)["events_delivered"] = static_cast<int64_t>(delivered_);
  (*c)["events_pending"] = static_cast<int64_t>(queue_->PendingRecords());
  (*c)["spool_bytes"] = static_cast<int64_t>(queue_->PendingBytes());
  (*c)["http_failures"] = static_cast<int64_t>(post_failures_);
  (*c)["heartbeats_sent"] = static_cast<int64_t>(heartbeats_sent_);
}

}  // namespace sandwatch::sensor
