// The sandwatch-receiver binary itself: --help, --version, bad flags, and a real
// process serving on a free port until SIGTERM.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "test_util.h"

extern char** environ;

namespace sandwatch::receiver::testing {
namespace {

std::string Binary() {
  const char* dir = std::getenv("SANDWATCH_BIN_DIR");
  return std::string(dir ? dir : "bin") + "/sandwatch-receiver";
}

// Runs the binary with args; stdout+stderr go to `out_file`. Returns the pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& out_file) {
  std::vector<std::string> full = {Binary()};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int RunToExit(const std::vector<std::string>& args, std::string* output) {
  TempDir dir;
  std::string out = dir.File("out.txt");
  pid_t pid = Spawn(args, out);
  if (pid < 0) return -1;
  int code = WaitExit(pid);
  *output = Slurp(out);
  return code;
}

TEST(Binary, HelpTeachesWithExamples) {
  std::string out;
  ASSERT_EQ(RunToExit({"--help"}, &out), 0);
  for (const char* part : {"--listen", "--db", "--token", "--retention-age", "Examples",
                           "http_output", "webhook.address", "/api/events"}) {
    EXPECT_NE(out.find(part), std::string::npos) << part;
  }
  ASSERT_EQ(RunToExit({"--version"}, &out), 0);
  EXPECT_NE(out.find("sandwatch-receiver "), std::string::npos);
}

TEST(Binary, BadFlagsExitTwoNamingTheFlag) {
  struct Case {
    std::vector<std::string> args;
    const char* flag;
  };
  for (const Case& c : {Case{{"--bogus"}, "--bogus"}, Case{{"--listen", "nohost"}, "--listen"},
                        Case{{"--listen", "127.0.0.1:99999"}, "--listen"},
                        Case{{"--retention-age", "soon"}, "--retention-age"},
                        Case{{"--retention-max-events", "-5"}, "--retention-max-events"},
                        Case{{"--log-level", "loud"}, "--log-level"},
                        Case{{"--http-threads", "x"}, "--http-threads"}}) {
    std::string out;
    EXPECT_EQ(RunToExit(c.args, &out), 2) << c.flag;
    EXPECT_NE(out.find(c.flag), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  }
}

TEST(Binary, ServesUntilSigterm) {
  TempDir dir;
  std::string ready = dir.File("ready");
  pid_t pid = Spawn({"--listen", "127.0.0.1:0", "--db", dir.File("events.db"), "--ready-file",
                     ready, "--token", "t0k"},
                    dir.File("log.txt"));
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitFor([&] { return Slurp(ready).find(':') != std::string::npos; }));
  std::string addr = Slurp(ready);
  int port = std::stoi(addr.substr(addr.find(':') + 1));
  httplib::Client c("127.0.0.1", port);
  c.set_tcp_nodelay(true);
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  c.set_bearer_token_auth("t0k");
  auto p = c.Post("/events", Batch({MakeEvent(1)}), "application/json");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 202);
  kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0);
  EXPECT_NE(Slurp(dir.File("log.txt")).find("msg=stopped"), std::string::npos);
}

}  // namespace
}  // namespace sandwatch::receiver::testing
