// The real sandwatch-sensor binary against real processes on this machine.
// Every test watches only its own process tree (--workload-pid), polls every 0.2 s
// and asserts on the events the binary writes. Network traffic stays on loopback.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <thread>

#include "sensor_process.h"

namespace sandwatch::sensor::testing {
namespace {

using nlohmann::json;

bool IsPid(const json& e, pid_t pid) { return e["process"]["pid"] == pid; }

void ExpectCleanShutdown(SensorProcess& sensor) {
  EXPECT_EQ(sensor.Stop(), 0) << sensor.Stderr();
  auto hbs = sensor.Heartbeats();
  ASSERT_FALSE(hbs.empty());
  // seq 1..N with no gaps, and the final heartbeat knows the last one.
  auto events = sensor.Events();
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]["seq"], i + 1);
  EXPECT_EQ(hbs.back()["last_seq"], events.size());
}

class CaptureModes : public ::testing::TestWithParam<std::string> {};

TEST_P(CaptureModes, HeldTailOfShadow) {
  SensorProcess sensor({"--capture", GetParam()});
  pid_t tail = Spawn({"tail", "-f", "/etc/shadow"});
  ASSERT_GT(tail, 0);
  bool seen = sensor.WaitForEvent(
      [&](const json& e) { return e["rule"] == "shadow_file_access" && IsPid(e, tail); });
  Kill(tail);
  ASSERT_TRUE(seen) << sensor.Stderr();
  auto ev = sensor.Events("shadow_file_access");
  const json& e = ev.back();
  EXPECT_EQ(e["process"]["name"], "tail");
  // Caught through the open fd (file.path), or, when an exec event enriched tail before
  // it opened the file, through its cmdline.
  if (e.contains("file")) {
    EXPECT_EQ(e["file"]["path"], "/etc/shadow");
  } else {
    EXPECT_EQ(e["process"]["cmdline"].back(), "/etc/shadow");
  }
  EXPECT_EQ(e["schema"], "sandwatch.event/v1");
  ASSERT_TRUE(e.contains("detection"));
  EXPECT_TRUE(e["detection"].contains("lag_ms"));
  EXPECT_NE(sensor.Stderr().find("msg=started"), std::string::npos);
  ExpectCleanShutdown(sensor);
}

INSTANTIATE_TEST_SUITE_P(Sensor, CaptureModes, ::testing::Values("poll", "auto"));

TEST(SensorIntegration, FindLoopGivesOneEventThenSuppressedCounts) {
  SensorProcess sensor({"--capture", "poll"});
  pid_t loop = Spawn({"sh", "-c",
                      "while true; do find /usr/share /etc -path '*/.aws/credentials' "
                      "2>/dev/null; sleep 0.2; done"});
  ASSERT_GT(loop, 0);
  bool suppressed = sensor.WaitFor([&] {
    auto hbs = sensor.Heartbeats();
    return !hbs.empty() && hbs.back()["counters"]["events_suppressed"].get<int>() >= 3;
  });
  Kill(loop);
  ASSERT_TRUE(suppressed) << sensor.Stderr();
  int finds = 0;
  for (const auto& e : sensor.Events("aws_credential_discovery")) {
    if (e["process"]["name"] == "find") ++finds;
  }
  EXPECT_EQ(finds, 1);
  // The shell itself was started by a non-shell (this test): an unexpected shell.
  EXPECT_TRUE(sensor.WaitForEvent(
      [&](const json& e) { return e["rule"] == "unexpected_shell" && IsPid(e, loop); }));
  ExpectCleanShutdown(sensor);
}

TEST(SensorIntegration, OfflineDpkgInstallIsAPackageManagerRun) {
  if (::geteuid() != 0) GTEST_SKIP() << "dpkg -i needs root";
  std::string deb;
  if (std::filesystem::exists("/var/cache/sandwatch/debs")) {
    for (const auto& f : std::filesystem::directory_iterator("/var/cache/sandwatch/debs")) {
      if (f.path().filename().string().rfind("ncat_", 0) == 0) deb = f.path();
    }
  }
  if (deb.empty()) GTEST_SKIP() << "no cached ncat .deb (run scripts/install-deps)";
  bool was_installed = std::system(
                           "dpkg-query -W -f='${Status}' ncat 2>/dev/null | "
                           "grep -q 'install ok installed'") == 0;
  SensorProcess sensor({"--capture", "poll"});
  // Other tests on this machine may hold dpkg's lock for a while: retry until it runs.
  int rc = -1;
  for (int attempt = 0; attempt < 120 && rc != 0; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::seconds(1));
    pid_t dpkg = Spawn({"dpkg", "-i", deb});
    ASSERT_GT(dpkg, 0);
    rc = Reap(dpkg);
  }
  EXPECT_EQ(rc, 0);
  bool seen = sensor.WaitForEvent([&](const json& e) {
    return e["rule"] == "package_manager_execution" && e["process"]["name"] == "dpkg" &&
           e["process"]["cmdline"].back() == deb;
  });
  if (!was_installed) std::system("dpkg -r ncat >/dev/null 2>&1");
  ASSERT_TRUE(seen) << sensor.Stderr();
  ExpectCleanShutdown(sensor);
}

TEST(SensorIntegration, BinaryCopiedInAfterStartIsNotInTheBaseline) {
  SensorProcess sensor({"--capture", "poll", "--workload-root", "/"});
  std::string path = "/tmp/sw-dropped-" + std::to_string(::getpid());
  std::filesystem::copy_file("/usr/bin/sleep", path,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  pid_t dropped = Spawn({path, "30"});
  bool seen = sensor.WaitForEvent([&](const json& e) {
    return e["rule"] == "post_start_binary_execution" && IsPid(e, dropped);
  });
  // The stock binary, which was there at start-up, is not reported.
  pid_t stock = Spawn({"/usr/bin/sleep", "30"});
  sensor.WaitFor([&] {
    auto hbs = sensor.Heartbeats();
    return hbs.size() >= 4;
  });
  Kill(dropped);
  Kill(stock);
  std::filesystem::remove(path);
  ASSERT_TRUE(seen) << sensor.Stderr();
  EXPECT_EQ(sensor.Events("post_start_binary_execution").back()["process"]["exe"], path);
  for (const auto& e : sensor.Events("post_start_binary_execution")) EXPECT_FALSE(IsPid(e, stock));
  ExpectCleanShutdown(sensor);
}

TEST(SensorIntegration, NcatExecToALoopbackListener) {
  if (std::system("command -v ncat >/dev/null 2>&1") != 0) GTEST_SKIP() << "ncat not installed";
  SensorProcess sensor({"--capture", "poll"});
  int port = FreePort();
  std::array<int, 2> keep{};
  ASSERT_EQ(::pipe(keep.data()), 0);  // the listener's stdin stays open while the test runs
  pid_t listener = Spawn({"ncat", "-l", "127.0.0.1", std::to_string(port)}, keep[0]);
  ASSERT_TRUE(sensor.WaitFor([&] { return Listening(port); }));
  pid_t client = Spawn({"ncat", "--exec", "/bin/sh", "127.0.0.1", std::to_string(port)});
  bool nc = sensor.WaitForEvent(
      [&](const json& e) { return e["rule"] == "nc_execution" && IsPid(e, client); });
  bool rs = sensor.WaitForEvent([&](const json& e) {
    return e["rule"] == "reverse_shell" && e.contains("parent") && e["parent"]["pid"] == client;
  });
  Kill(client);
  Kill(listener);
  ::close(keep[0]);
  ::close(keep[1]);
  ASSERT_TRUE(nc) << sensor.Stderr();
  ASSERT_TRUE(rs) << sensor.Stderr();
  auto ev = sensor.Events("reverse_shell").back();
  EXPECT_EQ(ev["process"]["name"], "sh");
  EXPECT_EQ(ev["connection"]["remote"], "127.0.0.1:" + std::to_string(port));
  ExpectCleanShutdown(sensor);
}

TEST(SensorIntegration, CustomRulesFileCatchesAnOutboundConnection) {
  if (std::system("command -v ncat >/dev/null 2>&1") != 0) GTEST_SKIP() << "ncat not installed";
  // The built-in rule allows loopback; this file allows only a documentation network.
  std::string rules = "/tmp/sw-it-rules-" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(rules) << "rules:\n"
                          "  - name: suspicious_outbound_connection\n"
                          "    priority: Notice\n"
                          "    tags: [network]\n"
                          "    output: \"%proc.name connected to %connection.remote\"\n"
                          "    when: {remote_not_in: [192.0.2.0/24]}\n";
  SensorProcess sensor({"--capture", "poll", "--rules", rules});
  // A service port below the ephemeral range, as a real listener would have.
  int port = 20000 + ::getpid() % 10000;
  for (int i = 0; i < 100 && Listening(port); ++i) ++port;
  std::array<int, 2> keep{};
  ASSERT_EQ(::pipe(keep.data()), 0);
  pid_t listener = Spawn({"ncat", "-l", "127.0.0.1", std::to_string(port)}, keep[0]);
  ASSERT_TRUE(sensor.WaitFor([&] { return Listening(port); }));
  pid_t client = Spawn({"ncat", "127.0.0.1", std::to_string(port)}, keep[0]);
  bool seen = sensor.WaitForEvent([&](const json& e) {
    return e["rule"] == "suspicious_outbound_connection" && IsPid(e, client);
  });
  Kill(client);
  Kill(listener);
  ::close(keep[0]);
  ::close(keep[1]);
  std::filesystem::remove(rules);
  ASSERT_TRUE(seen) << sensor.Stderr();
  for (const auto& e : sensor.Events()) {
    EXPECT_EQ(e["rule"], "suspicious_outbound_connection");  // only the file's rule exists
    EXPECT_FALSE(IsPid(e, listener));                        // the accepted side is inbound
  }
  auto e = sensor.Events().back();
  EXPECT_EQ(e["connection"]["remote"], "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(e["output"], "ncat connected to 127.0.0.1:" + std::to_string(port));
  ExpectCleanShutdown(sensor);
}

TEST(SensorIntegration, ShipsOverHttpToALoopbackReceiver) {
  httplib::Server server;
  server.set_tcp_nodelay(true);
  std::mutex mu;
  std::vector<json> events, heartbeats;
  std::string auth;
  server.Post("/events", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    auth = req.get_header_value("Authorization");
    for (auto& e : json::parse(req.body)) events.push_back(e);
    res.status = 202;
  });
  server.Post("/heartbeat", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    heartbeats.push_back(json::parse(req.body));
    res.status = 202;
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  std::string spool = "/tmp/sw-it-spool-" + std::to_string(::getpid());
  SensorProcess sensor(
      {"--capture", "poll", "--output", "http", "--receiver-url",
       "http://127.0.0.1:" + std::to_string(port) + "/events", "--receiver-token", "s3cret",
       "--spool-dir", spool, "--pod-name", "kata-app", "--pod-namespace", "kata-demo"},
      false);
  sensor.WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !heartbeats.empty();
  });
  pid_t cat = Spawn({"tail", "-f", "/etc/shadow"});
  bool got = sensor.WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& e : events) {
      if (e["rule"] == "shadow_file_access" && e["process"]["pid"] == cat) return true;
    }
    return false;
  });
  Kill(cat);
  EXPECT_EQ(sensor.Stop(), 0);
  server.stop();
  t.join();
  std::filesystem::remove_all(spool);
  ASSERT_TRUE(got) << sensor.Stderr();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(auth, "Bearer s3cret");
  EXPECT_EQ(events.back()["k8s"]["pod"], "kata-app");
  EXPECT_EQ(events.back()["k8s"]["namespace"], "kata-demo");
  ASSERT_FALSE(heartbeats.empty());
  for (const char* k :
       {"scans", "processes_seen", "events_emitted", "events_suppressed", "events_dropped",
        "cmdline_unreadable", "netlink_overflows", "spool_bytes"}) {
    EXPECT_TRUE(heartbeats.back()["counters"].contains(k)) << k;
  }
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]["seq"], i + 1);
}

TEST(SensorIntegration, FalcoFormatToAFile) {
  SensorProcess sensor({"--capture", "poll", "--format", "falco"}, false);
  sensor.WaitFor([&] { return sensor.Stderr().find("msg=started") != std::string::npos; });
  pid_t tail = Spawn({"tail", "-f", "/etc/shadow"});
  bool seen = sensor.WaitFor([&] {
    for (const auto& j : sensor.Lines()) {
      if (j.value("rule", "") == "shadow_file_access") return true;
    }
    return false;
  });
  Kill(tail);
  EXPECT_EQ(sensor.Stop(), 0);
  ASSERT_TRUE(seen) << sensor.Stderr();
  for (const auto& j : sensor.Lines()) {
    EXPECT_FALSE(j.contains("schema")) << "a Falco stream holds Falco events only";
    EXPECT_EQ(j["source"], "syscall");
    EXPECT_FALSE(j["output_fields"].empty());
    EXPECT_TRUE(j.contains("time") && j.contains("priority") && j.contains("output"));
  }
}

TEST(SensorIntegration, ExitCodesForFlags) {
  auto run = [](const std::string& args) {
    return WEXITSTATUS(
        std::system((BinDir() + "/sandwatch-sensor " + args + " >/dev/null 2>&1").c_str()));
  };
  EXPECT_EQ(run("--help"), 0);
  EXPECT_EQ(run("--version"), 0);
  EXPECT_EQ(run("--print-config"), 0);
  EXPECT_EQ(run("--poll-interval nope"), 2);
  EXPECT_EQ(run("--no-such-flag"), 2);
  std::string path = "/tmp/sw-bad-rules-" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(path) << "rules:\n  - name: broken\n    priority: Warning\n    output: x\n"
                         "    when: {proc_name: [cat], cmdline: ['(']}\n";
  EXPECT_EQ(run("--rules " + path), 2);
  std::string msg;
  {
    FILE* p = ::popen((BinDir() + "/sandwatch-sensor --rules " + path + " 2>&1").c_str(), "r");
    std::array<char, 512> buf{};
    while (fgets(buf.data(), static_cast<int>(buf.size()), p)) msg += buf.data();
    ::pclose(p);
  }
  EXPECT_NE(msg.find("rule 'broken': when.cmdline"), std::string::npos) << msg;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace sandwatch::sensor::testing
