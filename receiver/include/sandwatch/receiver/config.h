// sandwatch-receiver configuration. Every default below is the documented one
// (docs/receiver.md); main.cpp fills the struct from flags and the environment.
#pragma once

#include <cstdint>
#include <string>

#include "sandwatch/core/result.h"

namespace sandwatch::receiver {

struct ReceiverConfig {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free port
  std::string db = "./sandwatch.db";      // SQLite file, or ":memory:"
  std::string token;                      // when set, every POST needs "Bearer <token>"
  std::string sensor_tokens;              // per-sensor credentials file (credentials.h)
  std::string ui_token;                   // when set, every GET but /healthz and UI assets needs it
  int64_t retention_age_ns = 0;           // 0 keeps events forever
  int64_t retention_max_events = 0;       // 0 means no limit
  double retention_check_s = 30;          // how often retention runs
  bool fts = true;                        // FTS5 trigram index for the text filter (else LIKE)
  bool sync_full = true;                  // PRAGMA synchronous=FULL: a 202 means fsynced
  double silence_check_s = 0.5;           // how often sensor liveness is evaluated
  double default_heartbeat_interval_s = 15;  // used when a heartbeat carries no interval_s
  int max_stream_clients = 32;               // concurrent /api/stream clients
  int stream_queue = 1024;                   // per-client SSE queue; oldest dropped beyond
  int http_threads = 16;                     // workers running routes on complete requests
  // When > 0, sensor writes (POSTs) run on half of those workers, and they and the writer
  // thread at this nice value above the reads' (a lower CPU weight); 0 runs every request
  // in one pool at one priority.
  int bulk_nice = 0;
  bool server_timing = false;    // answer with Server-Timing: the worker's CPU time and CPU wait
  double header_timeout_s = 10;  // a request's head must arrive within this (from accept)
  double body_timeout_s = 30;    // its body within this after the head; also bounds answers
  double idle_timeout_s = 60;    // keep-alive connections idle longer are closed
  int max_connections = 2048;    // open connections in total; more get 503 and are closed
  int max_connections_per_peer = 256;  // open connections per client address
  std::string ready_file;              // written with "host:port" once listening
};

// "host:port" -> parts. Port 0 is allowed. IPv6 as "[::1]:8080".
Result<std::pair<std::string, int>> ParseListen(const std::string& listen);

// Checks values that CLI11 cannot (ranges, listen syntax). The error names the flag.
Status ValidateConfig(const ReceiverConfig& config);

// Runs the receiver until SIGINT/SIGTERM. Returns the process exit code.
int Run(const ReceiverConfig& config);

}  // namespace sandwatch::receiver
