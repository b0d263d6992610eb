// Integration: the scanner and baseline against real processes on this machine.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>

#include "live_process.h"
#include "sandwatch/core/procfs/baseline.h"
#include "sandwatch/core/procfs/process_scanner.h"

namespace sandwatch::procfs {
namespace {

namespace fs = std::filesystem;
using testing::ChildrenOf;
using testing::FdLinks;
using testing::LiveProcess;
using testing::WaitFor;

const ProcessInfo* ChangeFor(const ScanResult& r, pid_t pid) {
  for (const auto& c : r.changes) {
    if (c.info.key.pid == pid) return &c.info;
  }
  return nullptr;
}

bool StartedOrExeced(const ScanResult& r, pid_t pid) {
  return std::any_of(r.changes.begin(), r.changes.end(), [&](const ProcessChange& c) {
    return c.info.key.pid == pid && c.kind != ChangeKind::kFdsChanged;
  });
}

bool HasLink(pid_t pid, const std::string& text) {
  auto links = FdLinks(pid);
  return std::find(links.begin(), links.end(), text) != links.end();
}

bool HasPrefix(pid_t pid, const std::string& prefix) {
  auto links = FdLinks(pid);
  return std::any_of(links.begin(), links.end(),
                     [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
}

std::string TempDir() {
  std::string tmpl = "/tmp/sandwatch-procfs-it-XXXXXX";
  return mkdtemp(tmpl.data()) != nullptr ? std::string(tmpl.data()) : std::string();
}

TEST(ProcfsScannerLive, TailFollowingShadowHoldsIt) {
  if (geteuid() != 0) GTEST_SKIP() << "tail -f /etc/shadow needs root";
  ProcessScanner scanner{ProcFs()};
  ASSERT_TRUE(scanner.Scan().ok());  // everything that already runs is now "known"
  LiveProcess tail({"tail", "-f", "/etc/shadow"});
  ASSERT_TRUE(tail.ok());
  ASSERT_TRUE(WaitFor([&] { return HasLink(tail.pid(), "/etc/shadow"); }));
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  const ProcessInfo* info = ChangeFor(*r, tail.pid());
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->name, "tail");
  EXPECT_EQ(info->exe, "/usr/bin/tail");
  EXPECT_EQ(info->cmdline, (std::vector<std::string>{"tail", "-f", "/etc/shadow"}));
  EXPECT_EQ(info->ppid, getpid());
  EXPECT_EQ(info->uid, 0);
  ASSERT_FALSE(info->ancestors.empty());
  EXPECT_EQ(info->ancestors[0].pid, getpid());
  EXPECT_TRUE(std::any_of(info->fds.begin(), info->fds.end(), [](const FdInfo& f) {
    return f.kind == FdKind::kFile && f.path == "/etc/shadow";
  }));
  EXPECT_FALSE(info->partial);
  // Next scan: known, nothing new.
  auto r2 = scanner.Scan();
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(StartedOrExeced(*r2, tail.pid()));  // known now (fd re-reads may still report)
  const ProcessKey tail_key = info->key;
  const pid_t tail_pid = tail.pid();
  tail.Kill();
  auto r3 = scanner.Scan();
  ASSERT_TRUE(r3.ok());
  EXPECT_TRUE(std::find(r3->exited.begin(), r3->exited.end(), tail_key) != r3->exited.end());
  EXPECT_EQ(scanner.Find(tail_pid), nullptr);
}

TEST(ProcfsScannerLive, LoopbackConnectionResolvesRemote) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const int port = ntohs(a.sin_port);
  // bash opens the connection on fd 3, then becomes sleep, which keeps it.
  LiveProcess client(
      {"bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) + "; exec sleep 300"});
  ASSERT_TRUE(client.ok());
  int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(conn, 0);
  ASSERT_TRUE(WaitFor([&] {
    return testing::ProcState(client.pid()) != '?' && HasPrefix(client.pid(), "socket:[") &&
           ProcFs().ReadLink(client.pid(), "exe").value_or("") == "/usr/bin/sleep";
  }));
  ProcessScanner scanner{ProcFs()};
  auto info = scanner.EnrichOne(client.pid());
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->sockets.size(), 1u);
  EXPECT_EQ(info->sockets[0].proto, "tcp");
  EXPECT_EQ(info->sockets[0].remote, "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(info->sockets[0].state, 1);  // ESTABLISHED
  auto fd3 =
      std::find_if(info->fds.begin(), info->fds.end(), [](const FdInfo& f) { return f.fd == 3; });
  ASSERT_NE(fd3, info->fds.end());
  EXPECT_EQ(fd3->kind, FdKind::kSocket);
  EXPECT_NE(FindNetworkSocket(*info, fd3->inode), nullptr);
  close(conn);
  close(listener);
}

TEST(ProcfsScannerLive, UnixSocketsAreNotLookedUpInSocketTables) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "python3 is not installed";
  LiveProcess holder({"python3", "-c",
                      "import socket, time\n"
                      "a, b = socket.socketpair()\n"
                      "time.sleep(300)"});
  ASSERT_TRUE(holder.ok());
  ASSERT_TRUE(WaitFor([&] { return HasPrefix(holder.pid(), "socket:["); }));
  ProcessScanner scanner{ProcFs()};
  auto info = scanner.EnrichOne(holder.pid());
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(std::any_of(info->fds.begin(), info->fds.end(),
                          [](const FdInfo& f) { return f.kind == FdKind::kSocket; }));
  EXPECT_TRUE(info->sockets.empty());
  EXPECT_EQ(scanner.counters().net_table_reads, 0u);
}

TEST(ProcfsScannerLive, NcatExecShellPipesLeadToTheRelay) {
  const int port = testing::FreeLoopbackPort();
  ASSERT_GT(port, 0);
  if (access("/usr/bin/ncat", X_OK) != 0) GTEST_SKIP() << "ncat is not installed";
  LiveProcess listener({"ncat", "-l", "127.0.0.1", std::to_string(port)}, /*stdin_pipe=*/true);
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE(WaitFor([&] { return testing::IsListening(port); })) << "ncat -l did not listen";
  ProcessScanner scanner{ProcFs()};
  ASSERT_TRUE(scanner.Scan().ok());
  LiveProcess relay({"ncat", "--exec", "/bin/sh", "127.0.0.1", std::to_string(port)});
  ASSERT_TRUE(relay.ok());
  pid_t shell = -1;
  ASSERT_TRUE(WaitFor([&] {
    auto kids = ChildrenOf(relay.pid());
    if (kids.empty() || !HasPrefix(kids[0], "pipe:[")) return false;
    shell = kids[0];
    return ProcFs().ReadLink(shell, "exe").value_or("") == "/usr/bin/dash";
  })) << "ncat --exec did not start /bin/sh";
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  const ProcessInfo* sh = scanner.Find(shell);
  ASSERT_NE(sh, nullptr);
  ASSERT_FALSE(sh->fds.empty());
  ASSERT_EQ(sh->fds[0].fd, 0);
  ASSERT_EQ(sh->fds[0].kind, FdKind::kPipe) << sh->fds[0].path;
  EXPECT_EQ(sh->ancestors[0].name, "ncat");
  auto holders = scanner.PipeHoldersWithNetwork(sh->fds[0].inode, shell);
  ASSERT_EQ(holders.size(), 1u);
  EXPECT_EQ(holders[0]->key.pid, relay.pid());
  ASSERT_FALSE(holders[0]->sockets.empty());
  EXPECT_EQ(holders[0]->sockets[0].remote, "127.0.0.1:" + std::to_string(port));
}

class ProcfsBaselineLive : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "writes into /usr/local/bin and needs root";
    auto b = Baseline::Build("/proc/self/root");
    ASSERT_TRUE(b.ok()) << b.error().message;
    baseline_ = std::move(b).value();
    tmp_ = TempDir();
  }
  void TearDown() override {
    std::error_code ec;
    if (!copied_.empty()) fs::remove(copied_, ec);
    if (!tmp_.empty()) fs::remove_all(tmp_, ec);
  }
  Baseline baseline_;
  std::string tmp_;
  std::string copied_;
};

TEST_F(ProcfsBaselineLive, CopiedBinaryRunAfterStartIsNotInBaseline) {
  copied_ = "/usr/local/bin/sandwatch-it-sleep-" + std::to_string(getpid());
  fs::copy_file("/usr/bin/sleep", copied_);
  LiveProcess copied({copied_, "300"});
  LiveProcess original({"/usr/bin/sleep", "300"});
  ASSERT_TRUE(copied.ok() && original.ok());
  ProcessScanner scanner{ProcFs()};
  ASSERT_TRUE(WaitFor([&] {
    return ProcFs().ReadLink(copied.pid(), "exe").ok() &&
           ProcFs().ReadLink(original.pid(), "exe").ok();
  }));
  auto c = scanner.EnrichOne(copied.pid());
  auto o = scanner.EnrichOne(original.pid());
  ASSERT_TRUE(c.ok() && o.ok());
  EXPECT_EQ(c->exe, copied_);
  EXPECT_FALSE(baseline_.Contains(*c));
  EXPECT_TRUE(baseline_.Contains(*o)) << o->exe;
  EXPECT_GT(o->exe_inode, 0u);
}

TEST_F(ProcfsBaselineLive, DeletedExecutable) {
  const std::string path = tmp_ + "/vanishing";
  fs::copy_file("/usr/bin/sleep", path);
  LiveProcess p({path, "300"});
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(WaitFor([&] { return ProcFs().ReadLink(p.pid(), "exe").value_or("") == path; }));
  fs::remove(path);
  ProcessScanner scanner{ProcFs()};
  auto info = scanner.EnrichOne(p.pid());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->exe, path);
  EXPECT_TRUE(info->exe_deleted);
  EXPECT_FALSE(info->exe_memfd);
  EXPECT_GT(info->exe_inode, 0u);  // stat through /proc/PID/exe still works
  EXPECT_FALSE(baseline_.Contains(*info));
}

TEST_F(ProcfsBaselineLive, MemfdExecutable) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int src = open("/usr/bin/sleep", O_RDONLY);
    int mfd = memfd_create("payload", MFD_CLOEXEC);
    std::array<char, 65536> buf;
    ssize_t n;
    while ((n = read(src, buf.data(), buf.size())) > 0) {
      if (write(mfd, buf.data(), static_cast<size_t>(n)) != n) _exit(3);
    }
    std::string arg0 = "payload";
    std::string arg1 = "300";
    std::array<char*, 3> argv = {arg0.data(), arg1.data(), nullptr};
    fexecve(mfd, argv.data(), environ);
    _exit(4);
  }
  LiveProcess p = LiveProcess::Adopt(child);
  ASSERT_TRUE(WaitFor([&] {
    return ProcFs().ReadLink(child, "exe").value_or("").rfind("/memfd:payload", 0) == 0;
  }));
  ProcessScanner scanner{ProcFs()};
  auto info = scanner.EnrichOne(child);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->exe_memfd);
  EXPECT_TRUE(info->exe_deleted);
  EXPECT_EQ(info->exe, "/memfd:payload");
  EXPECT_FALSE(baseline_.Contains(*info));
}

TEST(ProcfsLive, HeldCommFdDiesWithItsProcess) {
  ProcFs fs;
  LiveProcess child({"sleep", "300"});
  ASSERT_TRUE(child.ok());
  auto fd = fs.OpenPidFile(child.pid(), "comm");
  ASSERT_TRUE(fd.ok());
  std::string buf;
  ASSERT_TRUE(ProcFs::PreadInto(*fd, &buf).ok());
  ASSERT_TRUE(ProcFs::PreadInto(*fd, &buf).ok());  // repeatable at offset 0
  EXPECT_EQ(buf, "sleep\n");
  child.Kill();  // killed and reaped: the pid may now be reused, the fd stays dead
  Status st = ProcFs::PreadInto(*fd, &buf);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(IsGone(st.error())) << st.error().message;
  close(*fd);
}

void ExpectExecReported(size_t max_held_fds) {
  // bash waits on its stdin pipe, then execs sleep in the same pid.
  LiveProcess p({"bash", "-c", "read x; exec sleep 300"}, /*stdin_pipe=*/true);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(
      WaitFor([&] { return ProcFs().ReadLink(p.pid(), "exe").value_or("") == "/usr/bin/bash"; }));
  ScannerOptions o;
  o.max_held_fds = max_held_fds;
  ProcessScanner scanner(ProcFs(), o);
  auto r1 = scanner.Scan();
  ASSERT_TRUE(r1.ok());
  ASSERT_NE(ChangeFor(*r1, p.pid()), nullptr);
  EXPECT_EQ(scanner.counters().held_fds > 0, max_held_fds > 0);
  const ProcessKey key = scanner.Find(p.pid())->key;
  p.CloseStdin();
  ASSERT_TRUE(
      WaitFor([&] { return ProcFs().ReadLink(p.pid(), "exe").value_or("") == "/usr/bin/sleep"; }));
  auto r2 = scanner.Scan();
  ASSERT_TRUE(r2.ok());
  const ProcessChange* c = nullptr;
  for (const auto& ch : r2->changes) {
    if (ch.info.key.pid == p.pid()) c = &ch;
  }
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, ChangeKind::kExeced);
  EXPECT_EQ(c->info.key, key);
  EXPECT_EQ(c->info.exe, "/usr/bin/sleep");
  EXPECT_EQ(c->info.cmdline, (std::vector<std::string>{"sleep", "300"}));
  EXPECT_TRUE(r2->exited.empty() ||
              std::find(r2->exited.begin(), r2->exited.end(), key) == r2->exited.end());
  auto r3 = scanner.Scan();  // and only once
  ASSERT_TRUE(r3.ok());
  EXPECT_FALSE(StartedOrExeced(*r3, p.pid()));
}

TEST(ProcfsScannerLive, ExecOfAKnownProcessIsReportedThroughHeldCommFd) {
  ExpectExecReported(8192);
}
TEST(ProcfsScannerLive, ExecOfAKnownProcessIsReportedThroughStat) { ExpectExecReported(0); }

TEST(ProcfsScannerLive, ZombieCountsAsCmdlineUnreadable) {
  ProcessScanner scanner{ProcFs()};
  ASSERT_TRUE(scanner.Scan().ok());
  const uint64_t before = scanner.counters().cmdline_unreadable;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  // Not reaped yet: the process is gone but its pid is listed (a zombie).
  ASSERT_TRUE(WaitFor([&] { return testing::ProcState(child) == 'Z'; }));
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  const ProcessInfo* info = ChangeFor(*r, child);
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(info->partial);
  EXPECT_TRUE(info->cmdline.empty());
  // >=: other short-lived processes on this shared machine may vanish during the scan too.
  EXPECT_GE(scanner.counters().cmdline_unreadable, before + 1);
  waitpid(child, nullptr, 0);
  auto r2 = scanner.Scan();
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(scanner.Find(child), nullptr);
  EXPECT_TRUE(std::any_of(r2->exited.begin(), r2->exited.end(),
                          [&](const ProcessKey& k) { return k.pid == child; }));
}

}  // namespace
}  // namespace sandwatch::procfs
