#include "sandwatch/sensor/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "sandwatch/sensor/sensor.h"

namespace sandwatch::sensor {
namespace {

using Env = std::map<std::string, std::string>;

Result<Command> Parse(const Env& env, std::vector<std::string> args) {
  args.insert(args.begin(), "sandwatch-sensor");
  return ParseCommand(env, args);
}

TEST(Config, DefaultsMatchTheContract) {
  auto c = Parse({}, {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  const SensorConfig& s = c->config;
  EXPECT_EQ(s.poll_interval_s, 2.0);
  EXPECT_EQ(s.heartbeat_interval_s, 15.0);
  EXPECT_EQ(s.mode, "kata");
  EXPECT_EQ(s.capture, "auto");
  EXPECT_EQ(s.format, "sandwatch");
  EXPECT_EQ(s.proc_root, "/proc");
  EXPECT_TRUE(s.receiver_url.empty());
  EXPECT_EQ(EffectiveOutput(s), "stdout");
}

TEST(Config, TheBlogPodSpecEnvRunsUnchanged) {
  Env env{{"RECEIVER_URL", "http://kata-receiver.kata-demo.svc.cluster.local/events"},
          {"POLL_INTERVAL", "2"},
          {"HEARTBEAT_INTERVAL", "15"},
          {"MODE", "kata"},
          {"EXPECTED_PROCESSES", "sleep"},
          {"POD_NAME", "kata-app"},
          {"POD_NAMESPACE", "kata-demo"}};
  auto c = Parse(env, {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->config.expected_processes, std::vector<std::string>{"sleep"});
  EXPECT_EQ(c->config.pod_name, "kata-app");
  EXPECT_EQ(c->config.pod_namespace, "kata-demo");
  EXPECT_EQ(EffectiveOutput(c->config), "http");
}

TEST(Config, FlagsOverrideEnv) {
  Env env{{"POLL_INTERVAL", "2"},
          {"MODE", "kata"},
          {"EXPECTED_PROCESSES", "a, b ,c"},
          {"OUTPUT_FORMAT", "falco"},
          {"SPOOL_MAX_BYTES", "1MiB"}};
  auto c = Parse(env, {"--poll-interval", "0.05", "--mode=node", "--output", "file:/tmp/x"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_DOUBLE_EQ(c->config.poll_interval_s, 0.05);
  EXPECT_EQ(c->config.mode, "node");
  EXPECT_EQ(c->config.expected_processes, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c->config.format, "falco");
  EXPECT_EQ(c->config.spool_max_bytes, 1u << 20);
  EXPECT_EQ(EffectiveOutput(c->config), "file:/tmp/x");
  auto ms = Parse({}, {"--poll-interval", "500ms"});
  ASSERT_TRUE(ms.ok());
  EXPECT_DOUBLE_EQ(ms->config.poll_interval_s, 0.5);
}

TEST(Config, BadValuesNameTheFlagOrVariable) {
  struct Case {
    Env env;
    std::vector<std::string> args;
    std::string want;
  };
  std::vector<Case> cases = {
      {{}, {"--poll-interval", "abc"}, "--poll-interval:"},
      {{{"POLL_INTERVAL", "0"}}, {}, "POLL_INTERVAL: must be between"},
      {{{"HEARTBEAT_INTERVAL", "x"}}, {}, "HEARTBEAT_INTERVAL:"},
      {{}, {"--mode", "vm"}, "--mode: expected one of kata, sidecar, node"},
      {{{"CAPTURE", "ebpf"}}, {}, "CAPTURE: unknown source \"ebpf\""},
      {{}, {"--format", "xml"}, "--format:"},
      {{}, {"--output", "kafka"}, "--output: expected stdout, http or file:PATH"},
      {{}, {"--output", "http"}, "--output: http needs --receiver-url"},
      {{{"RECEIVER_URL", "ftp://x"}}, {}, "RECEIVER_URL: expected an http"},
      {{{"RECEIVER_URL", "https://x/events"}}, {}, "RECEIVER_URL: expected an http:// URL"},
      {{}, {"--workload-pid", "-3"}, "--workload-pid:"},
      {{}, {"--spool-max-bytes", "12 parsecs"}, "--spool-max-bytes:"},
      {{}, {"--nope"}, "--nope"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.env, c.args);
    ASSERT_FALSE(r.ok()) << c.want;
    EXPECT_NE(r.error().message.find(c.want), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
  }
}

TEST(Config, HelpVersionAndPrintConfig) {
  auto h = Parse({}, {"--help"});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->action, Command::Action::kHelp);
  EXPECT_NE(h->text.find("Examples:"), std::string::npos);
  EXPECT_NE(h->text.find("RECEIVER_URL"), std::string::npos);
  auto v = Parse({}, {"--version"});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->action, Command::Action::kVersion);
  auto p = Parse({{"RECEIVER_TOKEN", "secret"}, {"RECEIVER_URL", "http://r/events"}},
                 {"--print-config"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->action, Command::Action::kPrintConfig);
  auto j = nlohmann::json::parse(ConfigToJson(p->config));
  EXPECT_EQ(j["receiver_token"], "<redacted>");
  EXPECT_EQ(j["output"], "http");
}

TEST(Config, StateDirDefaultsToTheSpoolDir) {
  auto spool = Parse({{"SPOOL_DIR", "/var/spool/sw"}}, {});
  ASSERT_TRUE(spool.ok());
  EXPECT_TRUE(spool->config.state_dir.empty());
  EXPECT_EQ(nlohmann::json::parse(ConfigToJson(spool->config))["state_dir"], "/var/spool/sw");
  auto env = Parse({{"SPOOL_DIR", "/var/spool/sw"}, {"STATE_DIR", "/var/run/sw"}}, {});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->config.state_dir, "/var/run/sw");
  auto flag = Parse({{"STATE_DIR", "/var/run/sw"}}, {"--state-dir", "/tmp/st"});
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->config.state_dir, "/tmp/st");
  EXPECT_NE(Parse({}, {"--help"})->text.find("STATE_DIR"), std::string::npos);
}

TEST(Config, NodeModeBaselinesTheHostRootAndPrintConfigSaysWhy) {
  procfs::ProcFs fs("/proc");
  const int self = static_cast<int>(::getpid());
  // Node mode: the host's /, whatever other mount namespaces run on it.
  WorkloadChoice node = ChooseWorkload(fs, self, 0, "", "node");
  EXPECT_EQ(node.root, "/");
  EXPECT_NE(node.why.find("mode node"), std::string::npos) << node.why;
  // --workload-root and --workload-pid still win in every mode.
  EXPECT_EQ(ChooseWorkload(fs, self, 0, "/srv/rootfs", "node").root, "/srv/rootfs");
  EXPECT_EQ(ChooseWorkload(fs, self, self, "", "node").root, fs.PidPath(self) + "/root");
  // Sidecar and kata keep looking for the workload container.
  WorkloadChoice sidecar = ChooseWorkload(fs, self, 0, "", "sidecar");
  EXPECT_NE(sidecar.why.find("mode sidecar"), std::string::npos) << sidecar.why;

  auto p = Parse({{"MODE", "node"}}, {"--print-config"});
  ASSERT_TRUE(p.ok());
  auto j = nlohmann::json::parse(DescribeConfig(p->config));
  EXPECT_EQ(j["mode"], "node");
  EXPECT_EQ(j["workload_choice"]["root"], "/");
  EXPECT_NE(j["workload_choice"]["why"].get<std::string>().find("mode node"), std::string::npos);
}

class TokenFile {
 public:
  explicit TokenFile(const std::string& content) {
    std::string tmpl = "/tmp/sw-token-XXXXXX";
    int fd = mkstemp(tmpl.data());
    path_ = tmpl;
    if (fd >= 0) {
      (void)!write(fd, content.data(), content.size());
      close(fd);
    }
  }
  ~TokenFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Config, TokenFromAFileNeverFromTheEnvironment) {
  TokenFile f("9f2c41d0a1b2c3d4e5f60718293a4b5c\n");
  auto c = Parse({{"RECEIVER_TOKEN_FILE", f.path()}}, {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->config.receiver_token_file, f.path());
  EXPECT_TRUE(c->config.receiver_token.empty()) << "read only at start, by LoadReceiverToken";
  ASSERT_TRUE(LoadReceiverToken(&c->config).ok());
  EXPECT_EQ(c->config.receiver_token, "9f2c41d0a1b2c3d4e5f60718293a4b5c") << "newline dropped";
  auto j = nlohmann::json::parse(ConfigToJson(c->config));
  EXPECT_EQ(j["receiver_token"], "<redacted>");
  EXPECT_EQ(j["receiver_token_file"], f.path());

  auto flag = Parse({}, {"--receiver-token-file", f.path()});
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->config.receiver_token_file, f.path());
}

TEST(Config, BadTokenFilesAreClearErrors) {
  auto both = Parse({{"RECEIVER_TOKEN", "abc"}}, {"--receiver-token-file", "/x"});
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("--receiver-token-file"), std::string::npos);
  EXPECT_NE(both.error().message.find("not both"), std::string::npos);

  SensorConfig missing;
  missing.receiver_token_file = "/nonexistent/sw-token";
  auto st = LoadReceiverToken(&missing);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("cannot read /nonexistent/sw-token"), std::string::npos);

  TokenFile empty("\n\n");
  SensorConfig e;
  e.receiver_token_file = empty.path();
  st = LoadReceiverToken(&e);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("is empty"), std::string::npos);

  TokenFile spaced("two words\n");
  SensorConfig sp;
  sp.receiver_token_file = spaced.path();
  EXPECT_FALSE(LoadReceiverToken(&sp).ok());
}

}  // namespace
}  // namespace sandwatch::sensor
