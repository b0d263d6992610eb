#include "metrics.h"

#include <array>
#include <cstdio>

namespace sandwatch::receiver {

std::string PromLabel(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void Metrics::Ingested(const std::string& source, const std::string& rule) {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_pair(source, rule);
  auto it = ingested_.find(key);
  if (it != ingested_.end()) {
    ++it->second;
  } else if (ingested_.size() < kMaxRuleLabels) {
    ingested_.emplace(std::move(key), 1);
  } else {
    ++ingested_[{source, "_other"}];
  }
}

void Metrics::Rejected(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++rejected_[reason];
}

void Metrics::RefusedFor(const std::string& sensor_id, int64_t when_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = refused_.find(sensor_id);
  if (it == refused_.end()) {
    it = refused_.size() < kMaxRefusedLabels ? refused_.emplace(sensor_id, Refusals{}).first
                                             : refused_.try_emplace("_other").first;
  }
  ++it->second.count;
  it->second.last_ns = when_ns;
}

std::map<std::string, Metrics::Refusals> Metrics::RefusedBySensor() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

void Metrics::IngestLatency(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  ++latency_buckets_[i];
  latency_sum_ += seconds;
  ++latency_count_;
}

std::string Metrics::Render(const MetricsSnapshot& snap) const {
  std::string out;
  auto line = [&](const std::string& s) {
    out += s;
    out += '\n';
  };
  auto num = [](double v) {
    std::array<char, 64> buf;
    std::snprintf(buf.data(), buf.size(), "%.9g", v);
    return std::string(buf.data());
  };
  const std::string prefix = "sandwatch_receiver_";
  auto header = [&](const char* name, const char* type, const char* help) {
    line("# HELP " + prefix + name + " " + help);
    line("# TYPE " + prefix + name + " " + type);
  };
  auto single = [&](const char* name, const char* type, const char* help, int64_t value) {
    header(name, type, help);
    line(prefix + name + " " + std::to_string(value));
  };
  std::lock_guard<std::mutex> lock(mu_);
  line("# HELP sandwatch_receiver_events_ingested_total Events stored, by source and rule.");
  line("# TYPE sandwatch_receiver_events_ingested_total counter");
  for (const auto& [k, v] : ingested_) {
    line("sandwatch_receiver_events_ingested_total{source=\"" + PromLabel(k.first) + "\",rule=\"" +
         PromLabel(k.second) + "\"} " + std::to_string(v));
  }
  single("duplicates_total", "counter", "Events not stored because their id was known.",
         duplicates_.load());
  line("# HELP sandwatch_receiver_rejected_total Requests refused, by reason.");
  line("# TYPE sandwatch_receiver_rejected_total counter");
  for (const char* r : {"unauthorized", "too_large", "malformed_json", "invalid_event",
                        "invalid_heartbeat", "invalid_falco", "forbidden", "store_error"}) {
    auto it = rejected_.find(r);
    line(std::string("sandwatch_receiver_rejected_total{reason=\"") + r + "\"} " +
         std::to_string(it == rejected_.end() ? 0 : it->second));
  }
  line(
      "# HELP sandwatch_receiver_refused_total Requests refused because the token does not "
      "cover the sensor.id they claim, by claimed id.");
  line("# TYPE sandwatch_receiver_refused_total counter");
  for (const auto& [id, r] : refused_) {
    line("sandwatch_receiver_refused_total{sensor=\"" + PromLabel(id) + "\"} " +
         std::to_string(r.count));
  }
  line("# HELP sandwatch_receiver_credentials_reloads_total --sensor-tokens re-reads, by result.");
  line("# TYPE sandwatch_receiver_credentials_reloads_total counter");
  line("sandwatch_receiver_credentials_reloads_total{result=\"ok\"} " +
       std::to_string(reloads_ok_.load()));
  line("sandwatch_receiver_credentials_reloads_total{result=\"error\"} " +
       std::to_string(reloads_failed_.load()));
  single("heartbeats_total", "counter", "Heartbeats stored.", heartbeats_.load());
  single("commits_total", "counter",
         "Transactions that stored events or heartbeats (requests waiting together share one).",
         commits_.load());
  single("sensor_silent_total", "counter", "sensor_silent events raised.", silent_raised_.load());
  line("# HELP sandwatch_receiver_sensors Known sensors by liveness status.");
  line("# TYPE sandwatch_receiver_sensors gauge");
  line("sandwatch_receiver_sensors{status=\"alive\"} " + std::to_string(snap.sensors_alive));
  line("sandwatch_receiver_sensors{status=\"silent\"} " + std::to_string(snap.sensors_silent));
  line("# HELP sandwatch_receiver_seq_gaps Sequence numbers never received, per sensor.");
  line("# TYPE sandwatch_receiver_seq_gaps gauge");
  for (const auto& [id, gaps] : snap.seq_gaps) {
    line("sandwatch_receiver_seq_gaps{sensor=\"" + PromLabel(id) + "\"} " + std::to_string(gaps));
  }
  single("events_stored", "gauge", "Events currently in the store.", snap.events_stored);
  single("retention_deleted_total", "counter", "Events removed by retention.",
         retention_deleted_.load());
  single("db_size_bytes", "gauge", "SQLite files (events and text index) plus their WALs.",
         snap.db_bytes);
  single("fts_backlog", "gauge", "Stored events not yet in the text index.", snap.fts_backlog);
  single("pod_index_backlog", "gauge", "Stored events not yet in the pod index.",
         snap.pod_index_backlog);
  header("fts_index_cpu_seconds_total", "counter",
         "CPU the indexing thread spent filling the text index.");
  line(prefix + "fts_index_cpu_seconds_total " +
       num(static_cast<double>(fts_cpu_us_.load()) / 1e6));
  single("stream_clients", "gauge", "Connected /api/stream clients.", snap.stream_clients);
  single("stream_dropped_total", "counter", "SSE messages dropped for slow clients.",
         snap.stream_dropped);
  line("# HELP sandwatch_receiver_ingest_latency_seconds Request receipt to durable commit.");
  line("# TYPE sandwatch_receiver_ingest_latency_seconds histogram");
  int64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += latency_buckets_[i];
    line("sandwatch_receiver_ingest_latency_seconds_bucket{le=\"" + num(kBuckets[i]) + "\"} " +
         std::to_string(cumulative));
  }
  cumulative += latency_buckets_[kBuckets.size()];
  line("sandwatch_receiver_ingest_latency_seconds_bucket{le=\"+Inf\"} " +
       std::to_string(cumulative));
  line("sandwatch_receiver_ingest_latency_seconds_sum " + num(latency_sum_));
  line("sandwatch_receiver_ingest_latency_seconds_count " + std::to_string(latency_count_));
  return out;
}

}  // namespace sandwatch::receiver
