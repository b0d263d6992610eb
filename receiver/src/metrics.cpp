#include "metrics.h"

#include <cstdio>

namespace sandwatch::receiver {

std::string PromLabel(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
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
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return std::string(buf);
  };
  std::lock_guard<std::mutex> lock(mu_);
  line("# HELP sandwatch_receiver_events_ingested_total Events stored, by source and rule.");
  line("# TYPE sandwatch_receiver_events_ingested_total counter");
  for (const auto& [k, v] : ingested_) {
    line("sandwatch_receiver_events_ingested_total{source=\"" + PromLabel(k.first) +
         "\",rule=\"" + PromLabel(k.second) + "\"} " + std::to_string(v));
  }
  line("# HELP sandwatch_receiver_duplicates_total Events not stored because their id was known.");
  line("# TYPE sandwatch_receiver_duplicates_total counter");
  line("sandwatch_receiver_duplicates_total " + std::to_string(duplicates_.load()));
  line("# HELP sandwatch_receiver_rejected_total Requests refused, by reason.");
  line("# TYPE sandwatch_receiver_rejected_total counter");
  for (const char* r : {"unauthorized", "too_large", "malformed_json", "invalid_event",
                        "invalid_heartbeat", "invalid_falco", "store_error"}) {
    auto it = rejected_.find(r);
    line(std::string("sandwatch_receiver_rejected_total{reason=\"") + r + "\"} " +
         std::to_string(it == rejected_.end() ? 0 : it->second));
  }
  line("# HELP sandwatch_receiver_heartbeats_total Heartbeats stored.");
  line("# TYPE sandwatch_receiver_heartbeats_total counter");
  line("sandwatch_receiver_heartbeats_total " + std::to_string(heartbeats_.load()));
  line("# HELP sandwatch_receiver_sensor_silent_total sensor_silent events raised.");
  line("# TYPE sandwatch_receiver_sensor_silent_total counter");
  line("sandwatch_receiver_sensor_silent_total " + std::to_string(silent_raised_.load()));
  line("# HELP sandwatch_receiver_sensors Known sensors by liveness status.");
  line("# TYPE sandwatch_receiver_sensors gauge");
  line("sandwatch_receiver_sensors{status=\"alive\"} " + std::to_string(snap.sensors_alive));
  line("sandwatch_receiver_sensors{status=\"silent\"} " + std::to_string(snap.sensors_silent));
  line("# HELP sandwatch_receiver_seq_gaps Sequence numbers never received, per sensor.");
  line("# TYPE sandwatch_receiver_seq_gaps gauge");
  for (const auto& [id, gaps] : snap.seq_gaps) {
    line("sandwatch_receiver_seq_gaps{sensor=\"" + PromLabel(id) + "\"} " + std::to_string(gaps));
  }
  line("# HELP sandwatch_receiver_events_stored Events currently in the store.");
  line("# TYPE sandwatch_receiver_events_stored gauge");
  line("sandwatch_receiver_events_stored " + std::to_string(snap.events_stored));
  line("# HELP sandwatch_receiver_retention_deleted_total Events removed by retention.");
  line("# TYPE sandwatch_receiver_retention_deleted_total counter");
  line("sandwatch_receiver_retention_deleted_total " + std::to_string(retention_deleted_.load()));
  line("# HELP sandwatch_receiver_db_size_bytes SQLite file plus WAL size.");
  line("# TYPE sandwatch_receiver_db_size_bytes gauge");
  line("sandwatch_receiver_db_size_bytes " + std::to_string(snap.db_bytes));
  line("# HELP sandwatch_receiver_fts_backlog Stored events not yet in the text index.");
  line("# TYPE sandwatch_receiver_fts_backlog gauge");
  line("sandwatch_receiver_fts_backlog " + std::to_string(snap.fts_backlog));
  line("# HELP sandwatch_receiver_stream_clients Connected /api/stream clients.");
  line("# TYPE sandwatch_receiver_stream_clients gauge");
  line("sandwatch_receiver_stream_clients " + std::to_string(snap.stream_clients));
  line("# HELP sandwatch_receiver_stream_dropped_total SSE messages dropped for slow clients.");
  line("# TYPE sandwatch_receiver_stream_dropped_total counter");
  line("sandwatch_receiver_stream_dropped_total " + std::to_string(snap.stream_dropped));
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
