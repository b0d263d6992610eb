// NewPidLook against the real /proc: a real process with a loopback connection on
// its stdio (the shape of a reverse shell's relay) and a credential file open is
// reported with its descriptors and its socket, and keeps them after it is gone.
// The process lives until the test closes its connection, so nothing here waits on
// a clock.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "capture_test_support.h"
#include "inotify_look.h"
#include "sandwatch/core/clock.h"

namespace sandwatch::sensor {
namespace {

TEST(NewPidLookLive, ReadsTheFdsAndSocketOfANewProcessBeforeItIsGone) {
  if (access("/bin/cat", X_OK) != 0) GTEST_SKIP() << "/bin/cat missing";
  std::string tmpl = "/tmp/sw-look-live-XXXXXX";
  const std::string dir = mkdtemp(tmpl.data());
  const std::string creds = dir + "/credentials";
  std::ofstream(creds) << "[default]\naws_access_key_id = AKIAEXAMPLE\n";

  // A listener on loopback; the child connects to it.
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);

  testing::RecordingSink sink;
  NewPidLook look(NewPidLookOptions{});
  ASSERT_TRUE(look.Open(&sink).ok());

  // The child: connection on 0, 1 and 2, the credential file on 3, then exec
  // cat, which relays the connection until the peer closes it.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(3);
    const int f = open(creds.c_str(), O_RDONLY);
    if (f < 0 || dup2(f, 3) != 3) _exit(4);
    dup2(s, 0);
    dup2(s, 1);
    dup2(s, 2);
    execl("/bin/cat", "cat", static_cast<char*>(nullptr));
    _exit(5);
  }
  const int peer = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(peer, 0);

  // Looks until the child is reported (its exec may still be under way).
  std::optional<Observation> seen;
  for (int i = 0; i < 100000 && !seen; ++i) {
    look.Look(SystemClock().MonoNs(), 1);
    while (look.CheckPending() >= 0) {
    }
    for (auto& o : sink.Snapshot()) {
      if (o.pid == child && o.early && !o.early->cmdline.empty()) seen = o;
    }
  }
  // The process ends: its peer closes the connection.
  close(peer);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  close(listener);
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(child)));
  ASSERT_TRUE(seen.has_value()) << "the look never reported the child";

  const EarlyRead& er = *seen->early;
  EXPECT_EQ(er.cmdline, (std::vector<std::string>{"cat"}));
  const auto fd = [&er](int n) -> const FdInfo* {
    auto it =
        std::find_if(er.fds.begin(), er.fds.end(), [n](const FdInfo& f) { return f.fd == n; });
    return it == er.fds.end() ? nullptr : &*it;
  };
  ASSERT_NE(fd(0), nullptr);
  ASSERT_NE(fd(1), nullptr);
  ASSERT_NE(fd(3), nullptr);
  EXPECT_EQ(fd(0)->kind, FdKind::kSocket);
  EXPECT_EQ(fd(1)->inode, fd(0)->inode);
  EXPECT_EQ(fd(3)->kind, FdKind::kFile);
  EXPECT_EQ(fd(3)->path, creds);
  ASSERT_EQ(er.sockets.size(), 1u);
  EXPECT_EQ(er.sockets[0].inode, fd(0)->inode);
  EXPECT_EQ(er.sockets[0].remote, "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(er.sockets[0].state, 1);  // ESTABLISHED
  std::map<std::string, int64_t> c;
  look.AddCounters(&c);
  EXPECT_GE(c["inotify_look_fds_read"], 4);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sandwatch::sensor
