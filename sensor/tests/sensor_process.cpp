#include "sensor_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace sandwatch::sensor::testing {

std::string BinDir() {
  const char* d = std::getenv("SANDWATCH_BIN_DIR");
  if (d) return d;
  // <build>/tests/<this binary> -> <build>/bin
  std::array<char, 4096> buf{};
  ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  std::string self(buf.data(), n > 0 ? static_cast<size_t>(n) : 0);
  return self.substr(0, self.rfind('/')) + "/../bin";
}

bool Listening(int port) {
  std::array<char, 8> port_hex{};
  std::snprintf(port_hex.data(), port_hex.size(), ":%04X", port);
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  while (std::getline(tcp, line)) {
    if (line.find(std::string("0100007F") + port_hex.data() + " 00000000:0000 0A") !=
        std::string::npos) {
      return true;
    }
  }
  return false;
}

namespace {

pid_t SpawnTo(const std::vector<std::string>& argv, int stdin_fd, int out_fd, int err_fd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  }
  if (out_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  }
  if (err_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  } else {
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

}  // namespace

pid_t Spawn(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd) {
  return SpawnTo(argv, stdin_fd, stdout_fd, -1);
}

void Kill(pid_t pid, int sig) {
  if (pid <= 0) return;
  ::kill(pid, sig);
  Reap(pid);
}

int Reap(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

SensorProcess::SensorProcess(std::vector<std::string> extra_args, bool wait_ready) {
  static int counter = 0;
  std::string base =
      "/tmp/sw-sensor-it-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  out_ = base + ".jsonl";
  err_ = base + ".log";
  std::vector<std::string> argv = {BinDir() + "/sandwatch-sensor",
                                   "--poll-interval",
                                   "0.2",
                                   "--heartbeat-interval",
                                   "0.5",
                                   "--workload-pid",
                                   std::to_string(::getpid())};
  if (std::find(extra_args.begin(), extra_args.end(), "--output") == extra_args.end()) {
    argv.emplace_back("--output");
    argv.push_back("file:" + out_);
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  int err = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = SpawnTo(argv, -1, -1, err);
  ::close(err);
  if (wait_ready) {
    WaitFor([&] { return !Heartbeats().empty(); });
  }
}

SensorProcess::~SensorProcess() {
  if (pid_ > 0) Stop();
  std::remove(out_.c_str());
  std::remove(err_.c_str());
}

int SensorProcess::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int rc = Reap(pid_);
  pid_ = -1;
  return rc;
}

void SensorProcess::KillHard() {
  if (pid_ <= 0) return;
  Kill(pid_, SIGKILL);
  pid_ = -1;
}

std::vector<nlohmann::json> SensorProcess::Lines() const {
  std::vector<nlohmann::json> out;
  std::ifstream in(out_);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

std::vector<nlohmann::json> SensorProcess::Events(const std::string& rule) const {
  std::vector<nlohmann::json> out;
  for (auto& j : Lines()) {
    if (j.contains("rule") && (rule.empty() || j["rule"] == rule)) out.push_back(std::move(j));
  }
  return out;
}

std::vector<nlohmann::json> SensorProcess::Heartbeats() const {
  std::vector<nlohmann::json> out;
  for (auto& j : Lines()) {
    if (j.value("schema", "") == "sandwatch.heartbeat/v1") out.push_back(std::move(j));
  }
  return out;
}

bool SensorProcess::WaitFor(const std::function<bool()>& cond) const {
  for (int i = 0; i < 600; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

bool SensorProcess::WaitForEvent(const std::function<bool(const nlohmann::json&)>& pred) const {
  return WaitFor([&] {
    for (const auto& e : Events()) {
      if (pred(e)) return true;
    }
    return false;
  });
}

std::string SensorProcess::Stderr() const {
  std::ifstream in(err_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sandwatch::sensor::testing
