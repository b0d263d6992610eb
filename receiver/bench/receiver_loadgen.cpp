// Load generator for sandwatch-receiver: starts the real binary on a free loopback
// port with a fresh SQLite file, then measures over real HTTP:
//   1. sustained ingestion, batches of 100, several keep-alive clients (202 = durable);
//   2. search by rule + 1 h time window over everything stored (p50/p95/p99);
//   3. text-filter search (p50/p95/p99);
//   4. the receiver's RSS (sampled from /proc) during all of it.
// Prints a Markdown table row set and a JSON line. Not a test: no pass/fail.
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/ids.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using sandwatch::FormatRfc3339;

const char* kRules[] = {"unexpected_shell",
                        "shadow_file_access",
                        "aws_credential_discovery",
                        "package_manager_execution",
                        "post_start_binary_execution",
                        "nc_execution",
                        "reverse_shell",
                        "suspicious_outbound_connection",
                        "suspicious_process_chain"};
const char* kCmds[] = {"cat /etc/shadow",
                       "bash -i",
                       "cat /root/.aws/credentials",
                       "apt-get install -y ncat",
                       "/tmp/payload --connect",
                       "nc -e /bin/sh 127.0.0.1 4444",
                       "bash -c exec 3<>/dev/tcp/127.0.0.1/4444",
                       "curl http://127.0.0.1:8081/x",
                       "python3 -c import pty;pty.spawn('/bin/sh')"};

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
};

int64_t ReadRssKb(pid_t pid, const char* key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::atoll(line.c_str() + std::strlen(key));
  }
  return 0;
}

// utime + stime of a process, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Events arrive roughly in time order, as from live sensors: event i of n is placed
// at i/n of the last 24 h, with up to 5 s of jitter.
std::string EventJson(std::mt19937_64& rng, int64_t now_ns, int64_t index, int64_t total,
                      uint64_t seq, int sensor) {
  int r = static_cast<int>(rng() % 9);
  constexpr int64_t kDay = 24LL * 3600 * 1'000'000'000;
  int64_t t = now_ns - kDay +
              static_cast<int64_t>(static_cast<double>(kDay) * static_cast<double>(index) /
                                   static_cast<double>(total)) -
              static_cast<int64_t>(rng() % 5'000'000'000ULL);
  std::string pod = "pod-" + std::to_string(rng() % 200);
  std::string s;
  s.reserve(700);
  s += R"({"schema":"sandwatch.event/v1","id":")";
  s += sandwatch::NewUuid();
  s += R"(","seq":)" + std::to_string(seq) + R"(,"time":")" + FormatRfc3339(t) + R"(","rule":")";
  s += kRules[r];
  s += R"(","priority":"Warning","output":")";
  s += kRules[r];
  s += " by " + std::string(kCmds[r]) + " in " + pod + " host-" + std::to_string(rng() % 5000);
  s += R"(","tags":["mitre_execution"],"sensor":{"id":"sensor-)" + std::to_string(sensor) +
       R"(","mode":"sidecar","capture":"poll","version":"0.1.0"},"k8s":{"pod":")" + pod +
       R"(","namespace":"bench"},"hostname":"node-1","process":{"pid":)" +
       std::to_string(rng() % 30000) + R"(,"ppid":1,"name":"sh","exe":"/bin/sh","cmdline":[")";
  s += kCmds[r];
  s += R"("],"uid":0,"cwd":"/"},"parent":{"pid":1,"name":"bash","cmdline":["bash"]}})";
  return s;
}

struct Latencies {
  std::vector<double> ms;
  double Pct(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    size_t i = static_cast<size_t>(p * static_cast<double>(ms.size() - 1) + 0.5);
    return ms[std::min(i, ms.size() - 1)];
  }
};

Latencies RunQueries(httplib::Client& c, int n, const std::function<std::string(int)>& path) {
  Latencies l;
  for (int i = 0; i < n; ++i) {
    std::string p = path(i);
    auto start = Clock::now();
    auto res = c.Get(p.c_str());
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!res || res->status != 200) {
      std::fprintf(stderr, "query failed: %s\n", p.c_str());
      continue;
    }
    l.ms.push_back(ms);
  }
  return l;
}

}  // namespace

int main(int argc, char** argv) {
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
  app.add_flag("--no-fts", o.no_fts, "start the receiver with --no-fts (LIKE text filter)");
  app.add_option("--db", o.db, "database file (default: a fresh temporary file)");
  app.add_flag("--keep-db", o.keep_db, "do not delete the database afterwards");
  app.add_option("--receiver-arg", o.receiver_args, "extra flag for the receiver (repeatable)");
  CLI11_PARSE(app, argc, argv);

  std::string dir =
      (std::filesystem::temp_directory_path() / ("sw-loadgen-" + std::to_string(getpid())))
          .string();
  std::filesystem::create_directories(dir);
  if (o.db.empty()) o.db = dir + "/events.db";
  std::string ready = dir + "/ready";
  std::vector<std::string> args = {o.receiver,     "--listen", "127.0.0.1:0", "--db", o.db,
                                   "--ready-file", ready,      "--log-level", "warn"};
  for (const auto& extra : o.receiver_args) args.push_back(extra);
  if (o.no_fts) args.push_back("--no-fts");
  std::vector<char*> argvv;
  for (auto& a : args) argvv.push_back(a.data());
  argvv.push_back(nullptr);
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
      peak_rss_kb = std::max<int64_t>(peak_rss_kb, ReadRssKb(pid, "VmRSS:"));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  // 1. Ingestion.
  const int64_t now_ns = sandwatch::SystemClock().WallNs();
  std::atomic<int64_t> next{0}, stored{0}, failed{0};
  auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int ci = 0; ci < o.clients; ++ci) {
    clients.emplace_back([&, ci] {
      httplib::Client c(host, port);
      c.set_tcp_nodelay(true);
      c.set_keep_alive(true);
      c.set_read_timeout(60, 0);
      std::mt19937_64 rng(static_cast<uint64_t>(ci) * 7919 + 1);
      uint64_t seq = 0;
      for (;;) {
        int64_t first = next.fetch_add(o.batch);
        if (first >= o.events) break;
        int64_t n = std::min<int64_t>(o.batch, o.events - first);
        std::string body = "[";
        for (int64_t i = 0; i < n; ++i) {
          if (i) body += ',';
          body += EventJson(rng, now_ns, first + i, o.events, ++seq, ci);
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
  double ingest_s = std::chrono::duration<double>(Clock::now() - start).count();
  double ingest_cpu_s = CpuSeconds(pid);
  int64_t rss_after_ingest = ReadRssKb(pid, "VmRSS:");

  httplib::Client c(host, port);
  c.set_tcp_nodelay(true);
  c.set_read_timeout(120, 0);
  // The text index is filled in the background; report how long it took to catch up.
  auto catch_up_start = Clock::now();
  for (;;) {
    auto m = c.Get("/metrics");
    if (!m || m->body.find("sandwatch_receiver_fts_backlog 0\n") != std::string::npos ||
        m->body.find("sandwatch_receiver_fts_backlog -") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  double catch_up_s = std::chrono::duration<double>(Clock::now() - catch_up_start).count();
  auto all = c.Get("/api/events?limit=1");
  int64_t count = all ? nlohmann::json::parse(all->body)["statistics"]["all"].get<int64_t>() : -1;

  // 2. rule + 1 h window, newest first, 100 per page.
  std::mt19937_64 rng(42);
  auto rule_time = RunQueries(c, o.queries, [&](int) {
    int64_t from =
        now_ns - static_cast<int64_t>(rng() % (23ULL * 3600)) * 1'000'000'000 - 3600'000'000'000;
    return std::string("/api/events?rule=") + kRules[rng() % 9] + "&since=" + FormatRfc3339(from) +
           "&until=" + FormatRfc3339(from + 3600'000'000'000) + "&limit=100";
  });
  auto rule_15m = RunQueries(c, o.queries, [&](int) {
    return std::string("/api/events?rule=") + kRules[rng() % 9] + "&since=15m&limit=100";
  });
  // 3. text filter: common, medium and rare terms.
  const char* terms[] = {"shadow", "credentials", "4444", "pod-17 ", "host-4321", "pty.spawn"};
  auto text = RunQueries(c, o.queries, [&](int i) {
    std::string t = terms[i % 6];
    std::string enc;
    for (char ch : t) enc += ch == ' ' ? std::string("%20") : std::string(1, ch);
    return "/api/events?filter=" + enc + "&limit=100";
  });
  auto text_rule = RunQueries(c, o.queries, [&](int i) {
    return std::string("/api/events?rule=") + kRules[i % 9] + "&since=2h&filter=host-12&limit=100";
  });
  sampling = false;
  sampler.join();
  int64_t hwm = ReadRssKb(pid, "VmHWM:");
  int64_t db_bytes = 0;
  for (const auto& f : {o.db, o.db + "-wal"}) {
    std::error_code ec;
    auto sz = std::filesystem::file_size(f, ec);
    if (!ec) db_bytes += static_cast<int64_t>(sz);
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!o.keep_db) std::filesystem::remove_all(dir);

  double rate = static_cast<double>(stored) / ingest_s;
  std::printf("\n| measure | value |\n|---|---|\n");
  std::printf("| text search mode | %s |\n", o.no_fts ? "scan (--no-fts)" : "FTS5 word index");
  std::printf(
      "| events ingested (batches of %d, %d clients) | %lld stored, %lld failed, %lld in store |\n",
      o.batch, o.clients, static_cast<long long>(stored.load()),
      static_cast<long long>(failed.load()), static_cast<long long>(count));
  std::printf("| sustained ingestion (durable, synchronous=FULL) | %.0f events/s (%.1f s) |\n",
              rate, ingest_s);
  std::printf("| receiver CPU during ingestion | %.1f s (%.0f us per event) |\n", ingest_cpu_s,
              ingest_cpu_s * 1e6 / static_cast<double>(std::max<int64_t>(1, stored.load())));
  std::printf("| text index catch-up after the last 202 | %.1f s |\n", catch_up_s);
  std::printf("| search rule + 1 h window, limit 100 (p50 / p95 / p99) | %.1f / %.1f / %.1f ms |\n",
              rule_time.Pct(0.5), rule_time.Pct(0.95), rule_time.Pct(0.99));
  std::printf("| search rule + since=15m (p50 / p95 / p99) | %.1f / %.1f / %.1f ms |\n",
              rule_15m.Pct(0.5), rule_15m.Pct(0.95), rule_15m.Pct(0.99));
  std::printf("| text filter, whole store (p50 / p95 / p99) | %.1f / %.1f / %.1f ms |\n",
              text.Pct(0.5), text.Pct(0.95), text.Pct(0.99));
  std::printf("| text filter + rule + since=2h (p50 / p95 / p99) | %.1f / %.1f / %.1f ms |\n",
              text_rule.Pct(0.5), text_rule.Pct(0.95), text_rule.Pct(0.99));
  std::printf("| receiver RSS: after ingest / peak sampled / VmHWM | %.0f / %.0f / %.0f MiB |\n",
              static_cast<double>(rss_after_ingest) / 1024, static_cast<double>(peak_rss_kb) / 1024,
              static_cast<double>(hwm) / 1024);
  std::printf("| database size (file + WAL) | %.0f MiB |\n",
              static_cast<double>(db_bytes) / 1048576);
  nlohmann::json j{{"fts", !o.no_fts},
                   {"events", stored.load()},
                   {"ingest_events_per_s", rate},
                   {"rule_time_p95_ms", rule_time.Pct(0.95)},
                   {"text_p95_ms", text.Pct(0.95)},
                   {"text_rule_p95_ms", text_rule.Pct(0.95)},
                   {"rss_hwm_mib", static_cast<double>(hwm) / 1024},
                   {"db_mib", static_cast<double>(db_bytes) / 1048576}};
  std::printf("\n%s\n", j.dump().c_str());
  return failed > 0 ? 1 : 0;
}
