// A sensor killed and restarted: what happened while it was down is still caught when
// it keeps its state (STATE_DIR), and the documented first-start behaviour holds when
// the state is gone. The real sensor binary, real processes, loopback only.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "sandwatch/sensor/state_file.h"
#include "sensor_process.h"

namespace sandwatch::sensor::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool IsPid(const json& e, pid_t pid) { return e["process"]["pid"] == pid; }

// An established loopback connection whose local end is `port` (the listener's side).
bool Connected(int port) {
  std::array<char, 24> local{};
  std::snprintf(local.data(), local.size(), "0100007F:%04X ", port);
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  while (std::getline(tcp, line)) {
    size_t at = line.find(local.data());
    if (at != std::string::npos && line.compare(at + 14 + 14, 3, "01 ") == 0) return true;
  }
  return false;
}

// Polls (bounded) until `pid` runs `exe` and, when given, holds `open_path` open, so the
// restarted sensor's first scan sees the finished picture.
bool WaitUntilRunning(pid_t pid, const std::string& exe, const std::string& open_path = "") {
  const std::string proc = "/proc/" + std::to_string(pid);
  for (int i = 0; i < 600; ++i) {
    std::error_code ec;
    bool ready = fs::read_symlink(proc + "/exe", ec).string() == exe;
    if (ready && !open_path.empty()) {
      ready = false;
      for (const auto& fd : fs::directory_iterator(proc + "/fd", ec)) {
        ready |= fs::read_symlink(fd.path(), ec).string() == open_path;
      }
    }
    if (ready) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string TempDir(const char* what) {
  std::string tmpl = std::string("/tmp/sw-restart-") + what + "-XXXXXX";
  return ::mkdtemp(tmpl.data());
}

std::vector<std::string> SensorArgs(const std::string& state_dir) {
  return {"--capture", "poll", "--workload-root", "/", "--state-dir", state_dir};
}

// What the attacker starts while the sensor is down: a binary copied into a directory
// the baseline covers and run as a long-lived process, `tail -f /etc/shadow`, and
// `ncat --exec /bin/sh` to a loopback listener.
class WhileDown {
 public:
  WhileDown() : dropped_path_("/usr/local/bin/sw-restart-dropped-" + std::to_string(::getpid())) {}
  ~WhileDown() {
    for (pid_t p : {dropped, tail, client, listener}) Kill(p);
    ::close(keep_[0]);
    ::close(keep_[1]);
    fs::remove(dropped_path_);
  }
  static std::string SkipReason() {
    if (::access("/usr/local/bin", W_OK) != 0) return "/usr/local/bin is not writable";
    if (std::system("command -v ncat >/dev/null 2>&1") != 0) return "ncat not installed";
    return "";
  }
  void Start() {
    fs::copy_file("/usr/bin/sleep", dropped_path_, fs::copy_options::overwrite_existing);
    fs::permissions(dropped_path_, fs::perms::owner_all);
    dropped = Spawn({dropped_path_, "120"});
    tail = Spawn({"tail", "-f", "/etc/shadow"});
    int port = FreePort();
    ASSERT_EQ(::pipe(keep_.data()), 0);  // the listener's stdin stays open
    listener = Spawn({"ncat", "-l", "127.0.0.1", std::to_string(port)}, keep_[0]);
    for (int i = 0; i < 600 && !Listening(port); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(Listening(port));
    client = Spawn({"ncat", "--exec", "/bin/sh", "127.0.0.1", std::to_string(port)});
    for (int i = 0; i < 600 && !Connected(port); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(Connected(port));
    ASSERT_GT(dropped, 0);
    ASSERT_GT(tail, 0);
    ASSERT_GT(client, 0);
    ASSERT_TRUE(WaitUntilRunning(dropped, dropped_path_));
    ASSERT_TRUE(WaitUntilRunning(tail, fs::canonical("/usr/bin/tail").string(), "/etc/shadow"));
    ASSERT_TRUE(WaitUntilRunning(client, fs::canonical("/usr/bin/ncat").string()));
  }
  const std::string& dropped_path() const { return dropped_path_; }

  pid_t dropped = -1, tail = -1, listener = -1, client = -1;

 private:
  std::string dropped_path_;
  std::array<int, 2> keep_ = {-1, -1};
};

TEST(SensorRestart, WhatStartedWhileItWasDownIsCaughtAfterARestart) {
  if (auto why = WhileDown::SkipReason(); !why.empty()) GTEST_SKIP() << why;
  std::string state_dir = TempDir("state");
  WhileDown attack;
  uint64_t last_seq_before = 0;
  std::string id_before;
  pid_t reported_before = -1;
  {
    SensorProcess first(SensorArgs(state_dir));
    EXPECT_NE(first.Stderr().find("start=first"), std::string::npos) << first.Stderr();
    // Reported before the kill, so known: not reported a second time after the restart.
    reported_before = Spawn({"tail", "-f", "/etc/shadow"});
    ASSERT_TRUE(first.WaitForEvent([&](const json& e) {
      return e["rule"] == "shadow_file_access" && IsPid(e, reported_before);
    })) << first.Stderr();
    // Wait until the state that knows it is saved (at most once a second).
    int saves_then = first.Heartbeats().back()["counters"]["state_saves"].get<int>();
    ASSERT_TRUE(first.WaitFor([&] {
      return first.Heartbeats().back()["counters"]["state_saves"].get<int>() >= saves_then + 2;
    }));
    for (const auto& e : first.Events())
      last_seq_before = std::max<uint64_t>(last_seq_before, e["seq"]);
    id_before = first.Heartbeats().back()["sensor"]["id"];
    first.KillHard();
  }
  attack.Start();
  if (HasFatalFailure()) return;

  SensorProcess second(SensorArgs(state_dir));
  auto found = [&](const char* rule, pid_t pid) {
    return second.WaitForEvent([&](const json& e) { return e["rule"] == rule && IsPid(e, pid); });
  };
  EXPECT_TRUE(found("post_start_binary_execution", attack.dropped)) << second.Stderr();
  EXPECT_TRUE(found("shadow_file_access", attack.tail)) << second.Stderr();
  EXPECT_TRUE(found("nc_execution", attack.client)) << second.Stderr();
  for (pid_t pid : {attack.dropped, attack.tail, attack.client}) {
    for (const auto& e : second.Events()) {
      if (!IsPid(e, pid)) continue;
      ASSERT_TRUE(e.contains("fields")) << e.dump();
      EXPECT_EQ(e["fields"]["found_after_restart"], "true") << e.dump();
      EXPECT_GT(std::stod(e["fields"]["gap_s"].get<std::string>()), 0.0) << e.dump();
    }
  }
  // Found by the restarted sensor's first scan: written before its first heartbeat.
  auto lines = second.Lines();
  size_t first_heartbeat = lines.size();
  for (size_t i = 0; i < lines.size() && first_heartbeat == lines.size(); ++i) {
    if (lines[i].value("schema", "") == "sandwatch.heartbeat/v1") first_heartbeat = i;
  }
  for (pid_t pid : {attack.dropped, attack.tail, attack.client}) {
    bool early = false;
    for (size_t i = 0; i < first_heartbeat; ++i)
      early |= lines[i].contains("rule") && IsPid(lines[i], pid);
    EXPECT_TRUE(early) << "pid " << pid << " not reported by the first scan";
  }
  for (const auto& e : second.Events()) EXPECT_FALSE(IsPid(e, reported_before)) << e.dump();
  std::string log = second.Stderr();
  EXPECT_NE(log.find("start=restart "), std::string::npos) << log;
  EXPECT_NE(log.find("baseline_from=\"restored"), std::string::npos) << log;
  // Same sensor, sequence continued: the receiver sees no false gap.
  auto events = second.Events();
  ASSERT_FALSE(events.empty());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["sensor"]["id"], id_before);
    EXPECT_EQ(events[i]["seq"], last_seq_before + 1 + i);
  }
  Kill(reported_before);
  EXPECT_EQ(second.Stop(), 0) << second.Stderr();
  EXPECT_GE(second.Heartbeats().back()["counters"]["found_after_restart"].get<int>(), 3);
  fs::remove_all(state_dir);
}

TEST(SensorRestart, WithTheStateGoneTheRestartIsAFirstStart) {
  if (auto why = WhileDown::SkipReason(); !why.empty()) GTEST_SKIP() << why;
  std::string state_dir = TempDir("gone");
  WhileDown attack;
  {
    SensorProcess first(SensorArgs(state_dir));
    first.KillHard();
  }
  attack.Start();
  if (HasFatalFailure()) return;
  fs::remove_all(state_dir);

  SensorProcess second(SensorArgs(state_dir));
  // Documented: with no state, processes running at start are the start-up state.
  ASSERT_TRUE(second.WaitFor([&] { return second.Heartbeats().size() >= 4; }));
  for (const auto& e : second.Events()) {
    for (pid_t pid : {attack.dropped, attack.tail, attack.client, attack.listener}) {
      EXPECT_FALSE(IsPid(e, pid)) << e.dump();
    }
  }
  std::string log = second.Stderr();
  EXPECT_NE(log.find("start=first"), std::string::npos) << log;
  EXPECT_NE(log.find("no state in " + state_dir), std::string::npos) << log;
  EXPECT_EQ(second.Stop(), 0) << second.Stderr();
  fs::remove_all(state_dir);
}

std::string PrintConfig(const std::string& state_dir) {
  std::string cmd = BinDir() + "/sandwatch-sensor --state-dir " + state_dir + " --print-config";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

TEST(SensorRestart, PrintConfigSaysFirstStartOrRestartAndWhy) {
  std::string dir = TempDir("print");
  auto first = json::parse(PrintConfig(dir));
  EXPECT_EQ(first["state"]["dir"], dir);
  EXPECT_EQ(first["state"]["start"], "first");
  {
    SensorProcess sensor({"--state-dir", dir});
    EXPECT_EQ(sensor.Stop(), 0);
  }
  auto restart = json::parse(PrintConfig(dir));
  EXPECT_EQ(restart["state"]["start"], "restart") << restart.dump();
  // A corrupt state file is reported (and only set aside by a real start).
  ASSERT_TRUE(state::WriteFileAtomic(dir, "state.v1", "sandwatch.sensor-state/v1\n\x01\x02").ok());
  auto lost = json::parse(PrintConfig(dir));
  EXPECT_EQ(lost["state"]["start"], "restart_state_lost") << lost.dump();
  EXPECT_NE(lost["state"]["why"].get<std::string>().find("state.v1"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir + "/state.v1"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sandwatch::sensor::testing
