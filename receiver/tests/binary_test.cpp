// The sandwatch-receiver binary itself: --help, --version, bad flags, and a real
// process serving on a free port until SIGTERM.
#include <signal.h>

#include "process_util.h"
#include "test_util.h"

namespace sandwatch::receiver::testing {
namespace {

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
