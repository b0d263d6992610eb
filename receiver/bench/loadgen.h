// Shared parts of the receiver load generator (receiver_loadgen.cpp): options, the
// event generator and the ingestion clients, used by the normal and the hostile runs.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace httplib {
class Client;
}

namespace sandwatch::loadgen {

struct Options {
  std::string receiver;
  int64_t events = 1'000'000;
  int batch = 100;
  int clients = 4;
  int queries = 200;
  bool no_fts = false;
  std::string db;
  bool keep_db = false;
  std::vector<std::string> receiver_args;
  int64_t during_events =
      0;            // events placed after `events`, sent during the searches (default events / 5)
  int hostile = 0;  // hostile connections of each kind (0: normal run)
  int64_t hostile_events = 20000;
};

struct Ingested {
  int64_t stored = 0;
  int64_t failed = 0;
  double seconds = 0;
  double Rate() const { return seconds > 0 ? static_cast<double>(stored) / seconds : 0; }
};

// The nine rule names the events use (queries pick from them too).
extern const std::array<const char*, 9> kRules;

// One sensor-sized event (about 700 bytes of JSON); event i of n is placed at i/n of the
// last 24 h, with up to 5 s of jitter.
std::string EventJson(std::mt19937_64& rng, int64_t now_ns, int64_t index, int64_t total,
                      uint64_t seq, int sensor);

// Posts events [first, first + count) of a `total`-event timeline from o.clients keep-alive
// clients (sensor ids offset by `sensor_base`); stops early once *stop is set.
Ingested RunIngest(const std::string& host, int port, const Options& o, int64_t first,
                   int64_t count, int64_t total, int64_t now_ns, int sensor_base,
                   const std::atomic<bool>* stop);

// The value of one /metrics series (name with labels), or -1.
double Metric(httplib::Client& c, const std::string& series);

// Ingestion rate, health and a sensor's batch with and without hostile clients held open.
int RunHostile(const std::string& host, int port, pid_t pid, const Options& o);

}  // namespace sandwatch::loadgen
