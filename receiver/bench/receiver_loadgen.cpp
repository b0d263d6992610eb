// Load generator for sandwatch-receiver: starts the real binary on a free loopback
// port with a fresh SQLite file, then measures over real HTTP:
//   1. sustained ingestion, batches of 100, several keep-alive clients (202 = durable),
//      and where the receiver's CPU went (per thread, text index apart);
//   2. search by rule + time window, pod and text filter (p50/p95/p99), idle and while
//      more events are being ingested; 3. the receiver's RSS (from /proc) throughout.
// With --hostile N: what N slow heads, N idle keep-alive connections and N unread streams
// (from 127.0.0.2) cost health checks and ingestion. Prints Markdown and a JSON line.
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loadgen.h"
#include "loadgen_probe.h"
#include "loadgen_search.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/ids.h"

extern char** environ;
namespace sandwatch::loadgen {

using Clock = std::chrono::steady_clock;
using sandwatch::FormatRfc3339;

// Posts events [first, first + count) of a `total`-event timeline from o.clients keep-alive
// clients (sensor ids offset by `sensor_base`); stops early once *stop is set.
Ingested RunIngest(const std::string& host, int port, const Options& o, int64_t first,
                   int64_t count, int64_t total, int64_t now_ns, int sensor_base,
                   const std::atomic<bool>* stop) {
  std::atomic<int64_t> next{first}, stored{0}, failed{0};
  const int64_t end = first + count;
  auto start = Clock::now();
  std::vector<std::thread> clients;
  clients.reserve(static_cast<size_t>(o.clients));
  for (int ci = 0; ci < o.clients; ++ci) {
    clients.emplace_back([&, ci] {
      httplib::Client c(host, port);
      c.set_tcp_nodelay(true);
      c.set_keep_alive(true);
      c.set_read_timeout(60, 0);
      std::mt19937_64 rng(static_cast<uint64_t>(sensor_base + ci) * 7919 + 1);
      uint64_t seq = 0;
      while (!(stop && *stop)) {
        int64_t at = next.fetch_add(o.batch);
        if (at >= end) break;
        int64_t n = std::min<int64_t>(o.batch, end - at);
        std::string body = "[";
        for (int64_t i = 0; i < n; ++i) {
          if (i) body += ',';
          body += EventJson(rng, now_ns, at + i, total, ++seq, sensor_base + ci);
        }
        body += "]";
        auto res = c.Post("/events", body, "application/json");
        if (!res || res->status != 202) {
          failed += n;
          continue;
        }
        stored += nlohmann::json::parse(res->body)["accepted"].get<int64_t>();
      }
    });
  }
  for (auto& t : clients) t.join();
  return {stored, failed, std::chrono::duration<double>(Clock::now() - start).count()};
}

double Metric(httplib::Client& c, const std::string& series) {
  auto m = c.Get("/metrics");
  if (!m) return -1;
  std::istringstream in(m->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::atof(line.c_str() + series.size() + 1);
  }
  return -1;
}

}  // namespace sandwatch::loadgen

int main(int argc, char** argv) {      // NOLINT(bugprone-exception-escape): bench, fails loudly
  using namespace sandwatch::loadgen;  // NOLINT
  Options o;
  std::filesystem::path self = std::filesystem::canonical("/proc/self/exe");
  o.receiver = (self.parent_path().parent_path() / "bin" / "sandwatch-receiver").string();
  CLI::App app{"receiver_loadgen: ingestion, search and RSS figures for sandwatch-receiver"};
  app.add_option("--receiver", o.receiver, "sandwatch-receiver binary")->capture_default_str();
  app.add_option("--events", o.events, "events to ingest")->capture_default_str();
  app.add_option("--batch", o.batch, "events per POST")->capture_default_str();
  app.add_option("--clients", o.clients, "concurrent keep-alive HTTP clients")
      ->capture_default_str();
  app.add_option("--queries", o.queries, "queries per search kind")->capture_default_str();
  app.add_option(
      "--during-events", o.during_events,
      "events placed in time after the first --events, sent while the searches run again "
      "(default: --events / 5); if the searches outlast them, more follow, timed now, up "
      "to --events more");
  app.add_flag("--no-fts", o.no_fts, "start the receiver with --no-fts (LIKE text filter)");
  app.add_option("--db", o.db, "database file (default: a fresh temporary file)");
  app.add_flag("--keep-db", o.keep_db, "do not delete the database afterwards");
  app.add_option("--receiver-arg", o.receiver_args, "extra flag for the receiver (repeatable)");
  app.add_option("--hostile", o.hostile,
                 "instead: hold N slow heads, N idle keep-alive connections and N unread "
                 "streams (from 127.0.0.2) and compare health, a batch and ingestion");
  app.add_option("--hostile-events", o.hostile_events,
                 "events ingested before and again under the hostile connections")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (o.during_events <= 0) o.during_events = std::max<int64_t>(o.events / 5, o.batch);
  std::string dir =
      (std::filesystem::temp_directory_path() / ("sw-loadgen-" + std::to_string(getpid())))
          .string();
  std::filesystem::create_directories(dir);
  if (o.db.empty()) o.db = dir + "/events.db";
  std::string ready = dir + "/ready";
  std::vector<std::string> args = {o.receiver, "--listen",       "127.0.0.1:0", "--db",
                                   o.db,       "--ready-file",   ready,         "--log-level",
                                   "warn",     "--server-timing"};
  for (const auto& extra : o.receiver_args) args.push_back(extra);
  if (o.no_fts) args.emplace_back("--no-fts");
  std::vector<char*> argvv(args.size() + 1, nullptr);
  std::transform(args.begin(), args.end(), argvv.begin(), [](std::string& a) { return a.data(); });
  pid_t pid = -1;
  if (posix_spawn(&pid, argvv[0], nullptr, nullptr, argvv.data(), environ) != 0) {
    std::fprintf(stderr, "cannot start %s\n", o.receiver.c_str());
    return 1;
  }
  std::string addr;
  for (int i = 0; i < 3000 && addr.find(':') == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::ifstream in(ready);
    std::getline(in, addr);
  }
  if (addr.find(':') == std::string::npos) {
    std::fprintf(stderr, "receiver did not start\n");
    kill(pid, SIGKILL);
    return 1;
  }
  std::string host = addr.substr(0, addr.find(':'));
  int port = std::stoi(addr.substr(addr.find(':') + 1));

  std::atomic<bool> sampling{true};
  std::atomic<int64_t> peak_rss_kb{0};
  std::thread sampler([&] {
    while (sampling) {
      peak_rss_kb = std::max<int64_t>(peak_rss_kb, sandwatch::loadgen::ReadStatusKb(pid, "VmRSS:"));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  if (o.hostile > 0) {
    int rc = RunHostile(host, port, pid, o);
    sampling = false;
    sampler.join();
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    if (!o.keep_db) std::filesystem::remove_all(dir);
    return rc;
  }

  // 1. Ingestion, then where the receiver's CPU went.
  const int64_t now_ns = sandwatch::SystemClock().WallNs();
  const int64_t total = o.events + o.during_events;
  const double senders_cpu0 = sandwatch::loadgen::CpuSeconds(getpid());
  const auto writer0 = sandwatch::loadgen::ThreadSchedTimes(pid, "sw-writer");
  Ingested fill = RunIngest(host, port, o, 0, o.events, total, now_ns, 0, nullptr);
  const auto writer1 = sandwatch::loadgen::ThreadSchedTimes(pid, "sw-writer");
  double ingest_cpu_s = sandwatch::loadgen::CpuSeconds(pid);
  const double senders_cpu_s = sandwatch::loadgen::CpuSeconds(getpid()) - senders_cpu0;
  int64_t rss_after_ingest = sandwatch::loadgen::ReadStatusKb(pid, "VmRSS:");
  httplib::Client c(host, port);
  c.set_tcp_nodelay(true);
  c.set_read_timeout(120, 0);
  // The text index is filled in the background; report how long it took to catch up.
  auto catch_up_start = Clock::now();
  while (Metric(c, "sandwatch_receiver_fts_backlog") > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  double catch_up_s = std::chrono::duration<double>(Clock::now() - catch_up_start).count();
  auto threads = sandwatch::loadgen::ThreadCpuSeconds(pid);
  double fts_cpu = Metric(c, "sandwatch_receiver_fts_index_cpu_seconds_total");
  const double commits = Metric(c, "sandwatch_receiver_commits_total");  // -1: not counted
  auto all = c.Get("/api/events?limit=1");
  int64_t count = all ? nlohmann::json::parse(all->body)["statistics"]["all"].get<int64_t>() : -1;

  // 2. Searches with the receiver idle, then while more events arrive.
  Searches idle = RunSearches(c, o.queries, now_ns, 42);
  std::atomic<bool> searches_done{false};
  Ingested during;
  std::thread feeder([&] {
    during = RunIngest(host, port, o, o.events, o.events, total, now_ns, 100, &searches_done);
  });
  constexpr std::chrono::milliseconds kLoadStart{500};
  std::this_thread::sleep_for(kLoadStart);  // let the load start
  const auto searches_start = Clock::now();
  Searches busy = RunSearches(c, o.queries, now_ns, 43);
  const double searches_s = std::chrono::duration<double>(Clock::now() - searches_start).count();
  searches_done = true;
  feeder.join();
  // The feeder stops at --events more: when that came first, the last searches ran idle.
  const double fed_s =
      std::min(searches_s,
               std::max(0.0, during.seconds - std::chrono::duration<double>(kLoadStart).count()));
  sampling = false;
  sampler.join();
  int64_t hwm = sandwatch::loadgen::ReadStatusKb(pid, "VmHWM:");
  int64_t db_bytes = 0;
  for (const auto& f : {o.db, o.db + "-wal", o.db + "-text", o.db + "-text-wal"}) {
    std::error_code ec;
    auto sz = std::filesystem::file_size(f, ec);
    if (!ec) db_bytes += static_cast<int64_t>(sz);
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  if (!o.keep_db) std::filesystem::remove_all(dir);

  const double per_event = 1e6 / static_cast<double>(std::max<int64_t>(1, fill.stored));
  std::printf("\n| measure | value |\n|---|---|\n");
  std::printf("| text search mode | %s |\n", o.no_fts ? "scan (--no-fts)" : "FTS5 word index");
  std::printf(
      "| events ingested (batches of %d, %d clients) | %lld stored, %lld failed, %lld in "
      "store |\n",
      o.batch, o.clients, static_cast<long long>(fill.stored), static_cast<long long>(fill.failed),
      static_cast<long long>(count));
  std::printf("| sustained ingestion (durable) | %.0f events/s (%.1f s) |\n", fill.Rate(),
              fill.seconds);
  std::printf(
      "| receiver CPU during ingestion; senders' (this process) | %.1f s (%.0f us); "
      "%.1f s (%.1f us) per event |\n",
      ingest_cpu_s, ingest_cpu_s * per_event, senders_cpu_s, senders_cpu_s * per_event);
  std::printf("| text index catch-up after the last 202 | %.1f s |\n", catch_up_s);
  if (commits > 0) {
    std::printf("| events per commit (requests waiting together share one) | %.0f |\n",
                static_cast<double>(fill.stored) / commits);
  }
  std::string split;
  // The text index has a thread of its own (sw-indexer; sw-text-index before it also filled
  // the pod index); older receivers filled it on the writer's.
  std::string indexer = "sw-writer";
  for (const char* name : {"sw-indexer", "sw-text-index"}) {
    if (threads.count(name) > 0) indexer = name;
  }
  for (const auto& [name, secs] : threads) {
    double v = name == indexer ? secs - fts_cpu : secs;
    if (v * per_event < 0.05) continue;
    std::array<char, 96> part{};
    std::snprintf(part.data(), part.size(), "%s%s %.1f", split.empty() ? "" : ", ", name.c_str(),
                  v * per_event);
    split += part.data();
  }
  std::printf("| CPU per event by thread, fill + catch-up (us) | %s, text index %.1f |\n",
              split.c_str(), fts_cpu * per_event);
  // The single writer thread bounds ingestion: what its wall time was made of.
  const double span = std::max(fill.seconds, 1e-9);
  const double on_cpu = (writer1.cpu_s - writer0.cpu_s) / span;
  const double waiting = (writer1.wait_s - writer0.wait_s) / span;
  if (writer1.cpu_s > 0) {
    std::printf(
        "| writer thread's wall time during ingestion: on a CPU / runnable, waiting for a CPU / "
        "neither (fsync, waiting for requests) | %.0f %% / %.0f %% / %.0f %% |\n",
        100 * on_cpu, 100 * waiting, 100 * std::max(0.0, 1 - on_cpu - waiting));
  }
  PrintSearches("idle", idle);
  std::printf(
      "| ingestion during the searches | %.0f events/s (%lld events) for %.1f of the %.1f s "
      "of searches%s |\n",
      during.Rate(), static_cast<long long>(during.stored), fed_s, searches_s,
      fed_s < searches_s - 0.1 ? ": the feeder ran out, the rest ran idle" : "");
  PrintSearches("during ingestion", busy);
  std::printf("| receiver RSS: after ingest / peak sampled / VmHWM | %.0f / %.0f / %.0f MiB |\n",
              static_cast<double>(rss_after_ingest) / 1024, static_cast<double>(peak_rss_kb) / 1024,
              static_cast<double>(hwm) / 1024);
  std::printf("| database size (events and text index files + WALs) | %.0f MiB |\n",
              static_cast<double>(db_bytes) / 1048576);
  nlohmann::json j{{"fts", !o.no_fts},
                   {"events", fill.stored},
                   {"ingest_events_per_s", fill.Rate()},
                   {"catch_up_s", catch_up_s},
                   {"sender_us_per_event", senders_cpu_s * per_event},
                   {"rule_time_p95_ms", {idle.rule_time.Pct(0.95), busy.rule_time.Pct(0.95)}},
                   {"pod_p95_ms", {idle.pod.Pct(0.95), busy.pod.Pct(0.95)}},
                   {"text_p95_ms", {idle.text.Pct(0.95), busy.text.Pct(0.95)}},
                   {"text_rule_p95_ms", {idle.text_rule.Pct(0.95), busy.text_rule.Pct(0.95)}},
                   {"rss_hwm_mib", static_cast<double>(hwm) / 1024},
                   {"writer_on_cpu_share", on_cpu},
                   {"searches_fed_share", fed_s / std::max(searches_s, 1e-9)},
                   {"writer_cpu_wait_share", waiting},
                   {"db_mib", static_cast<double>(db_bytes) / 1048576}};
  std::printf("\n%s\n", j.dump().c_str());
  return fill.failed + during.failed > 0 ? 1 : 0;
}
