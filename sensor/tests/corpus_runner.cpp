#include "corpus_runner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "free_port.h"
#include "sensor_process.h"

namespace sandwatch::sensor::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Accepts loopback connections and holds them, sending nothing, until destroyed. It
// runs in a child process: the test process writes to the session's stdin, and a
// network-holding writer there would make the session look like a networked relay.
class HoldingListener {
 public:
  HoldingListener() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      std::abort();
    }
    port_ = ntohs(addr.sin_port);
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<int> held;
      for (;;) {  // until SIGKILL
        int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) held.push_back(c);
      }
    }
    ::close(fd);
  }
  ~HoldingListener() { Kill(pid_); }
  int port() const { return port_; }

 private:
  int port_ = 0;
  pid_t pid_ = -1;
};

// The attacker's session: bash reading one script path per line, running each as
// its own job (process group) and reporting "pid N" and "rc N".
class Session {
 public:
  Session() {
    std::array<int, 2> in{};
    std::array<int, 2> out{};
    if (::pipe2(in.data(), O_CLOEXEC) != 0 || ::pipe2(out.data(), O_CLOEXEC) != 0) std::abort();
    const std::string loop =
        "set -m; while IFS= read -r f; do "
        "CASE_SCRIPT=$(<\"$f\") bash -c 'eval \"$CASE_SCRIPT\"' "
        "</dev/null >/dev/null 2>&1 & echo \"pid $!\"; wait \"$!\"; echo \"rc $?\"; "
        "done";
    pid_ = Spawn({"bash", "--norc", "--noprofile", "-c", loop}, in[0], out[1]);
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~Session() {
    ::close(to_);
    Reap(pid_);
    ::close(from_);
  }
  // Starts the script in `path`; the root pid of its job.
  int Start(const std::string& path) {
    std::string line = path + "\n";
    if (::write(to_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return -1;
    std::string got = ReadLine(-1);
    return got.rfind("pid ", 0) == 0 ? std::atoi(got.c_str() + 4) : -1;
  }
  // Waits for the job's end, killing its process group after `hold_s`.
  void Finish(int pid, double hold_s) {
    std::string got = ReadLine(static_cast<int>(hold_s * 1000));
    if (got.empty()) {
      ::kill(-pid, SIGKILL);
      ReadLine(-1);
    }
  }

 private:
  std::string ReadLine(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 60000 : timeout_ms);
    while (true) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return {};
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      std::array<char, 256> chunk;
      ssize_t n = ::read(from_, chunk.data(), chunk.size());
      if (n <= 0) return {};
      buf_.append(chunk.data(), static_cast<size_t>(n));
    }
  }
  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
  std::string buf_;
};

std::vector<std::string> StringList(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n) return out;
  for (const auto& x : n) out.push_back(x.as<std::string>());
  return out;
}

std::vector<int> ChainPids(const nlohmann::json& e) {
  std::vector<int> pids;
  if (e.contains("process")) pids.push_back(e["process"].value("pid", 0));
  if (e.contains("parent")) pids.push_back(e["parent"].value("pid", 0));
  if (e.contains("ancestors")) {
    for (const auto& a : e["ancestors"]) pids.push_back(a.value("pid", 0));
  }
  return pids;
}

}  // namespace

std::vector<CorpusCase> LoadCorpus(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& ent : fs::directory_iterator(dir)) {
    if (ent.path().extension() == ".yaml") files.push_back(ent.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<CorpusCase> out;
  for (const auto& f : files) {
    YAML::Node root = YAML::LoadFile(f);
    for (const auto& c : root["cases"]) {
      CorpusCase k;
      k.file = fs::path(f).filename().string();
      k.name = c["name"].as<std::string>();
      k.source = c["source"].as<std::string>();
      k.cls = c["class"].as<std::string>();
      k.script = c["script"].as<std::string>();
      k.expect = StringList(c["expect"]);
      k.short_signals = StringList(c["short_signals"]);
      if (c["hold_s"]) k.hold_s = c["hold_s"].as<double>();
      if (c["lives_s"]) k.lives_s = c["lives_s"].as<double>();
      if (c["note"]) k.note = c["note"].as<std::string>();
      out.push_back(std::move(k));
    }
  }
  return out;
}

std::vector<CaseRun> RunCorpus(const std::vector<CorpusCase>& cases,
                               const std::vector<std::string>& sensor_args,
                               std::vector<nlohmann::json>* unclaimed, std::string* capture_used) {
  std::string base = "/tmp/sw-corpus-" + std::to_string(::getpid());
  fs::remove_all(base);
  fs::create_directories(base + "/home/.aws");
  std::ofstream(base + "/home/.aws/credentials")
      << "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
         "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
  std::ofstream(base + "/home/.aws/config") << "[default]\nregion = us-east-1\n";
  HoldingListener listener;
  // The session (and so every case) gets these; it starts before the sensor.
  ::setenv("HOME", (base + "/home").c_str(), 1);
  ::setenv("PORT", std::to_string(listener.port()).c_str(), 1);
  ::setenv("PORT2", std::to_string(FreePort()).c_str(), 1);
  Session session;
  // Every case counts on its own: no deduplication across cases that share a shape.
  std::vector<std::string> args = sensor_args;
  args.insert(args.end(), {"--dedup-window", "0"});
  SensorProcess sensor(args);

  std::vector<CaseRun> runs(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string dir = base + "/case-" + std::to_string(i);
    fs::create_directories(dir);
    std::string path = base + "/case-" + std::to_string(i) + ".sh";
    std::ofstream(path) << "export CASE_DIR='" << dir << "'; cd \"$CASE_DIR\" || exit 97\n"
                        << cases[i].script << "\nwait\n";
    auto t0 = Clock::now();
    runs[i].root_pid = session.Start(path);
    if (runs[i].root_pid > 0) session.Finish(runs[i].root_pid, cases[i].hold_s);
    runs[i].duration_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("[corpus] %-44s %.2fs\n", cases[i].name.c_str(), runs[i].duration_s);
    std::fflush(stdout);
  }
  // Let the last polls and queued observations land, then read everything.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  sensor.Stop();
  for (auto& e : sensor.Events()) {
    if (capture_used->empty() && e.contains("sensor")) {
      *capture_used = e["sensor"].value("capture", "");
    }
    bool claimed = false;
    for (int pid : ChainPids(e)) {
      for (auto& r : runs) {
        if (pid > 0 && pid == r.root_pid) {
          r.fired.insert(e.value("rule", ""));
          r.events.push_back(e);
          claimed = true;
          break;
        }
      }
      if (claimed) break;
    }
    if (!claimed) unclaimed->push_back(e);
  }
  if (capture_used->empty()) {
    auto hbs = sensor.Heartbeats();
    if (!hbs.empty()) *capture_used = hbs.back()["sensor"].value("capture", "");
  }
  fs::remove_all(base);
  return runs;
}

std::string CorpusReport(const std::string& title, const std::vector<CorpusCase>& cases,
                         const std::vector<CaseRun>& runs) {
  std::map<std::string, std::pair<int, int>> per_signal;  // expected, caught
  std::ostringstream misses, noisy;
  int benign = 0, benign_alerts = 0, expected = 0, caught = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto& r = runs[i];
    if (c.expect.empty()) {
      ++benign;
      if (!r.fired.empty()) {
        ++benign_alerts;
        noisy << "| " << c.name << " | ";
        for (const auto& f : r.fired) noisy << f << " ";
        noisy << "|\n";
      }
      continue;
    }
    for (const auto& s : c.expect) {
      auto& ps = per_signal[s];
      ++ps.first;
      ++expected;
      if (r.fired.count(s)) {
        ++ps.second;
        ++caught;
      } else {
        std::array<char, 64> buf{};
        bool short_one = std::count(c.short_signals.begin(), c.short_signals.end(), s) > 0;
        std::snprintf(buf.data(), buf.size(), "%.1f s | %.2f s", short_one ? 0.0 : c.lives_s,
                      r.duration_s);
        misses << "| " << c.name << " | " << s << " | " << buf.data() << " | " << c.cls << " |\n";
      }
    }
  }
  std::ostringstream out;
  out << "#### " << title << "\n\n| signal | expected | caught | recall |\n|---|---|---|---|\n";
  for (const auto& [s, v] : per_signal) {
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%.0f %%", 100.0 * v.second / std::max(1, v.first));
    out << "| " << s << " | " << v.first << " | " << v.second << " | " << buf.data() << " |\n";
  }
  std::array<char, 64> total{};
  std::snprintf(total.data(), total.size(), "%.1f %%", 100.0 * caught / std::max(1, expected));
  out << "| **all** | " << expected << " | " << caught << " | " << total.data() << " |\n\n";
  out << "Benign look-alikes: " << benign << " cases, " << benign_alerts << " with an alert.\n\n";
  if (benign_alerts > 0) out << "| benign case | alerts |\n|---|---|\n" << noisy.str() << "\n";
  if (!misses.str().empty()) {
    out << "| missed case | signal | behaviour lives | case ran | class |\n|---|---|---|---|---|\n"
        << misses.str() << "\n";
  }
  return out.str();
}

}  // namespace sandwatch::sensor::testing
