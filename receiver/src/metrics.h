// Prometheus counters for the receiver. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace sandwatch::receiver {

// Gauges read from the store when /metrics is scraped.
struct MetricsSnapshot {
  int64_t sensors_alive = 0;
  int64_t sensors_silent = 0;
  std::map<std::string, int64_t> seq_gaps;  // per sensor id
  int64_t db_bytes = 0;
  int64_t events_stored = 0;
  int64_t stream_clients = 0;
  int64_t stream_dropped = 0;
  int64_t fts_backlog = 0;
  int64_t pod_index_backlog = 0;
};

class Metrics {
 public:
  void Ingested(const std::string& source, const std::string& rule);
  void Duplicates(int64_t n) { duplicates_ += n; }
  void Rejected(const std::string& reason);
  // A request refused because its token does not cover this sensor.id (attacker-written:
  // at most kMaxRefusedLabels distinct ids are kept, the rest count as "_other").
  void RefusedFor(const std::string& sensor_id, int64_t when_ns);
  struct Refusals {
    int64_t count = 0;
    int64_t last_ns = 0;
  };
  std::map<std::string, Refusals> RefusedBySensor() const;
  void CredentialsReloaded(bool ok) { ++(ok ? reloads_ok_ : reloads_failed_); }
  void Heartbeat() { ++heartbeats_; }
  void Committed() { ++commits_; }
  void SilentRaised() { ++silent_raised_; }
  void RetentionDeleted(int64_t n) { retention_deleted_ += n; }
  // CPU seconds the writer spent filling the text index.
  void FtsCpu(double seconds) { fts_cpu_us_ += static_cast<int64_t>(seconds * 1e6); }
  // Seconds from request receipt to durable commit.
  void IngestLatency(double seconds);

  std::string Render(const MetricsSnapshot& snap) const;

 private:
  static constexpr size_t kMaxRuleLabels = 500;  // rule names are attacker-controlled
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  static constexpr size_t kMaxRefusedLabels = 200;
  mutable std::mutex mu_;
  std::map<std::string, Refusals> refused_;
  std::map<std::pair<std::string, std::string>, int64_t> ingested_;
  std::map<std::string, int64_t> rejected_;
  std::array<int64_t, kBuckets.size() + 1> latency_buckets_{};
  double latency_sum_ = 0;
  int64_t latency_count_ = 0;
  std::atomic<int64_t> duplicates_{0};
  std::atomic<int64_t> heartbeats_{0};
  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> silent_raised_{0};
  std::atomic<int64_t> retention_deleted_{0};
  std::atomic<int64_t> fts_cpu_us_{0};
  std::atomic<int64_t> reloads_ok_{0};
  std::atomic<int64_t> reloads_failed_{0};
};

// Escapes a Prometheus label value (backslash, quote, newline).
std::string PromLabel(const std::string& v);

}  // namespace sandwatch::receiver
