#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "fixture_tree.h"
#include "sandwatch/core/procfs/process_scanner.h"

namespace sandwatch::procfs {
namespace {

using ::sandwatch::procfs::testing::FixtureTree;

const ProcessChange* FindChange(const ScanResult& r, int pid) {
  for (const auto& c : r.changes) {
    if (c.info.key.pid == pid) return &c;
  }
  return nullptr;
}

bool HasFd(const ProcessInfo& p, FdKind kind, const std::string& path) {
  return std::any_of(p.fds.begin(), p.fds.end(),
                     [&](const FdInfo& f) { return f.kind == kind && f.path == path; });
}

class ProcfsScannerTest : public ::testing::Test {
 protected:
  FixtureTree tree_;
  ManualClock clock_{0, 1000};
  ScannerOptions Options() {
    ScannerOptions o;
    o.clock = &clock_;
    return o;
  }
};

TEST_F(ProcfsScannerTest, FirstScanEnrichesEveryUserProcess) {
  ProcessScanner scanner(ProcFs(tree_.root()), Options());
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok()) << r.error().message;
  // pid 2 is a kernel thread: tracked, not reported.
  EXPECT_EQ(FindChange(*r, 2), nullptr);
  ASSERT_NE(scanner.Find(2), nullptr);
  EXPECT_TRUE(scanner.Find(2)->kernel_thread);
  for (int pid : {1, 100, 200, 300, 301, 400, 500}) {
    const ProcessChange* c = FindChange(*r, pid);
    ASSERT_NE(c, nullptr) << pid;
    EXPECT_EQ(c->kind, ChangeKind::kStarted);
  }
  EXPECT_TRUE(r->exited.empty());

  const ProcessInfo& weird = FindChange(*r, 200)->info;
  EXPECT_EQ(weird.name, "a) b");
  EXPECT_EQ(weird.ppid, 100);
  EXPECT_EQ(weird.uid, 0);
  EXPECT_EQ(weird.cmdline, (std::vector<std::string>{"python3", "-c", "print(1)"}));
  EXPECT_EQ(weird.exe, "/tmp/dropper");
  EXPECT_TRUE(weird.exe_deleted);
  EXPECT_FALSE(weird.exe_memfd);
  EXPECT_EQ(weird.cwd, "/tmp");
  EXPECT_TRUE(HasFd(weird, FdKind::kFile, "/etc/shadow"));
  EXPECT_TRUE(HasFd(weird, FdKind::kFile, "/var/log/old.log (deleted)"));
  EXPECT_EQ(weird.first_seen_mono_ns, 1000);
  EXPECT_FALSE(weird.partial);
  ASSERT_EQ(weird.ancestors.size(), 2u);  // bash, then systemd
  EXPECT_EQ(weird.ancestors[0].pid, 100);
  EXPECT_EQ(weird.ancestors[0].name, "bash");
  EXPECT_EQ(weird.ancestors[0].cmdline, (std::vector<std::string>{"bash", "-i"}));
  EXPECT_EQ(weird.ancestors[1].pid, 1);

  const ProcessInfo& bash = FindChange(*r, 100)->info;
  EXPECT_EQ(bash.uid, 1000);
  EXPECT_EQ(bash.fds.size(), 4u);
  EXPECT_EQ(bash.fds[0].kind, FdKind::kTty);
  EXPECT_EQ(bash.start_time_ns, uint64_t{1000} * 10000000u);  // CLK_TCK 100 on Linux

  const ProcessInfo& memfd = FindChange(*r, 400)->info;
  EXPECT_TRUE(memfd.exe_memfd);
  EXPECT_TRUE(memfd.exe_deleted);
  ASSERT_EQ(memfd.sockets.size(), 1u);
  EXPECT_EQ(memfd.sockets[0].proto, "tcp6");
  EXPECT_EQ(memfd.sockets[0].remote, "[::ffff:127.0.0.1]:8081");
}

TEST_F(ProcfsScannerTest, SocketsResolveAgainstNetTables) {
  ProcessScanner scanner(ProcFs(tree_.root()), Options());
  ASSERT_TRUE(scanner.Scan().ok());
  const ProcessInfo* ncat = scanner.Find(300);
  ASSERT_NE(ncat, nullptr);
  // socket:[99999] is not TCP/UDP (a unix socket): listed as an fd, not resolved.
  ASSERT_EQ(ncat->sockets.size(), 1u);
  EXPECT_EQ(ncat->sockets[0].inode, 5001u);
  EXPECT_EQ(ncat->sockets[0].remote, "127.0.0.1:8080");
  EXPECT_EQ(ncat->sockets[0].state, 1);
  EXPECT_NE(FindNetworkSocket(*ncat, 5001), nullptr);
  EXPECT_EQ(FindNetworkSocket(*ncat, 99999), nullptr);
  // Net tables were read once per namespace: pids 300 and 400 share one.
  EXPECT_EQ(scanner.counters().net_table_reads, 4u);
}

TEST_F(ProcfsScannerTest, PipeHoldersWithNetworkFindsTheRelay) {
  ProcessScanner scanner(ProcFs(tree_.root()), Options());
  ASSERT_TRUE(scanner.Scan().ok());
  const ProcessInfo* sh = scanner.Find(301);
  ASSERT_NE(sh, nullptr);
  ASSERT_EQ(sh->fds[0].kind, FdKind::kPipe);
  auto holders = scanner.PipeHoldersWithNetwork(sh->fds[0].inode, 301);
  ASSERT_EQ(holders.size(), 1u);
  EXPECT_EQ(holders[0]->key.pid, 300);
  EXPECT_EQ(holders[0]->name, "ncat");
  // bash (100) holds no such pipe; an unknown pipe has no holders.
  EXPECT_TRUE(scanner.PipeHoldersWithNetwork(123456, 301).empty());
}

TEST_F(ProcfsScannerTest, PipeHolderRefreshesAnAncestorThatForkedLater) {
  // ncat was enriched before it created the pipes (only its socket was open).
  tree_.Remove("300/fd/4");
  tree_.Remove("300/fd/5");
  tree_.Remove("301");
  ScannerOptions o = Options();
  o.young_rescans = 0;
  o.fd_refresh_budget = 0;
  ProcessScanner scanner(ProcFs(tree_.root()), o);
  ASSERT_TRUE(scanner.Scan().ok());
  tree_.Symlink("300/fd/4", "pipe:[9001]");
  tree_.WriteStat(301, "sh", 300, 1301);
  tree_.Write("301/cmdline", std::string("/bin/sh\0", 8));
  tree_.Symlink("301/fd/0", "pipe:[9001]");
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  ASSERT_NE(FindChange(*r, 301), nullptr);
  auto holders = scanner.PipeHoldersWithNetwork(9001, 301);
  ASSERT_EQ(holders.size(), 1u);
  EXPECT_EQ(holders[0]->key.pid, 300);
}

TEST_F(ProcfsScannerTest, SecondScanReadsOnlyStatAndReportsNothing) {
  ScannerOptions o = Options();
  o.young_rescans = 0;
  o.fd_refresh_budget = 0;
  ProcessScanner scanner(ProcFs(tree_.root()), o);
  ASSERT_TRUE(scanner.Scan().ok());
  // Remove everything but stat from a known process: an incremental scan does not care.
  tree_.Remove("100/cmdline");
  tree_.Remove("100/fd");
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->changes.empty());
  EXPECT_TRUE(r->exited.empty());
  auto c = scanner.counters();
  EXPECT_EQ(c.scans, 2u);
  EXPECT_EQ(c.processes_seen, 8u);
  EXPECT_EQ(c.tracked, 8u);
  EXPECT_EQ(c.read_errors, 0u);
}

TEST_F(ProcfsScannerTest, VanishedBeforeCmdlineIsCountedNotFatal) {
  ProcessScanner scanner(ProcFs(tree_.root()), Options());
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  const ProcessChange* c = FindChange(*r, 500);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->info.partial);
  EXPECT_EQ(c->info.name, "short");
  EXPECT_TRUE(c->info.cmdline.empty());
  EXPECT_EQ(scanner.counters().cmdline_unreadable, 1u);
  EXPECT_EQ(scanner.counters().partial, 1u);
  // It is then gone entirely: reported as exited, not again as started.
  tree_.Remove("500");
  auto r2 = scanner.Scan();
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(FindChange(*r2, 500), nullptr);
  ASSERT_EQ(r2->exited.size(), 1u);
  EXPECT_EQ(r2->exited[0], (ProcessKey{500, 1500}));
  EXPECT_EQ(scanner.counters().cmdline_unreadable, 1u);
}

TEST_F(ProcfsScannerTest, ListedButGoneBeforeStatIsCounted) {
  tree_.Write("600/.keep", "");  // the pid directory is listed, but every file is gone
  ProcessScanner scanner(ProcFs(tree_.root()), Options());
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FindChange(*r, 600), nullptr);
  EXPECT_EQ(scanner.Find(600), nullptr);
  // 600 (nothing readable) and 500 (no cmdline) were both gone too early.
  EXPECT_EQ(scanner.counters().cmdline_unreadable, 2u);
  EXPECT_EQ(scanner.counters().read_errors, 0u);
}

TEST_F(ProcfsScannerTest, ZombieIsReportedOnce) {
  tree_.Write("500/stat", testing::StatLine(500, "short", 'Z', 100, 4194304, 1500));
  tree_.Write("500/cmdline", "");
  ProcessScanner scanner(ProcFs(tree_.root()), Options());
  ASSERT_TRUE(scanner.Scan().ok());
  EXPECT_EQ(scanner.counters().cmdline_unreadable, 1u);
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FindChange(*r, 500), nullptr);
}

TEST_F(ProcfsScannerTest, PidReuseIsANewProcess) {
  ProcessScanner scanner(ProcFs(tree_.root()), Options());
  ASSERT_TRUE(scanner.Scan().ok());
  // pid 200 exits and the pid is reused by a new process with later start ticks.
  tree_.WriteStat(200, "cat", 100, 9000);
  tree_.Write("200/cmdline", std::string("cat\0/etc/shadow\0", 16));
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exited.size(), 1u);
  EXPECT_EQ(r->exited[0], (ProcessKey{200, 1200}));
  const ProcessChange* c = FindChange(*r, 200);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, ChangeKind::kStarted);
  EXPECT_EQ(c->info.key.start_ticks, 9000u);
  EXPECT_EQ(c->info.name, "cat");
  EXPECT_EQ(c->info.cmdline[1], "/etc/shadow");
  EXPECT_EQ(scanner.Find(200)->key.start_ticks, 9000u);
}

TEST_F(ProcfsScannerTest, ExecIsDetectedFromCommChange) {
  ProcessScanner scanner(ProcFs(tree_.root()), Options());
  ASSERT_TRUE(scanner.Scan().ok());
  tree_.WriteStat(100, "cat", 1, 1000);  // same start ticks: the bash exec'd cat
  tree_.Symlink("100/exe", "/usr/bin/cat");
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  const ProcessChange* c = FindChange(*r, 100);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, ChangeKind::kExeced);
  EXPECT_EQ(c->info.exe, "/usr/bin/cat");
  EXPECT_TRUE(r->exited.empty());
  EXPECT_EQ(scanner.counters().execs_seen, 1u);
}

TEST_F(ProcfsScannerTest, HeldCommFdDetectsExecAndStaysQuiet) {
  tree_.Write("100/comm", "bash\n");
  ProcessScanner scanner(ProcFs(tree_.root()), Options());
  ASSERT_TRUE(scanner.Scan().ok());
  EXPECT_EQ(scanner.counters().held_fds, 1u);  // only pid 100 has a comm file
  tree_.Remove("100/stat");  // a held comm fd needs no stat for an unchanged process
  auto quiet = scanner.Scan();
  ASSERT_TRUE(quiet.ok());
  EXPECT_EQ(FindChange(*quiet, 100), nullptr);
  EXPECT_TRUE(quiet->exited.empty());
  tree_.Write("100/comm", "cat\n");  // same inode: the held fd sees the new comm
  tree_.WriteStat(100, "cat", 1, 1000);
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  const ProcessChange* c = FindChange(*r, 100);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, ChangeKind::kExeced);
  EXPECT_EQ(c->info.name, "cat");
}

TEST_F(ProcfsScannerTest, YoungProcessFdsAreReRead) {
  ScannerOptions o = Options();
  o.young_rescans = 2;
  o.fd_refresh_budget = 0;
  ProcessScanner scanner(ProcFs(tree_.root()), o);
  ASSERT_TRUE(scanner.Scan().ok());
  tree_.Symlink("100/fd/7", "/etc/shadow");  // opened right after the first scan
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  const ProcessChange* c = FindChange(*r, 100);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, ChangeKind::kFdsChanged);
  ASSERT_EQ(c->new_fds.size(), 1u);
  EXPECT_EQ(c->new_fds[0].path, "/etc/shadow");
  EXPECT_TRUE(HasFd(*scanner.Find(100), FdKind::kFile, "/etc/shadow"));
}

TEST_F(ProcfsScannerTest, YoungProcessSocketThatConnectsLaterIsResolved) {
  const std::string header =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n";
  tree_.Write("100/net/tcp", header);  // socket 7777 not connected yet: not in the table
  tree_.Symlink("100/fd/5", "socket:[7777]");
  ScannerOptions o = Options();
  o.fd_refresh_budget = 0;
  ProcessScanner scanner(ProcFs(tree_.root()), o);
  ASSERT_TRUE(scanner.Scan().ok());
  EXPECT_TRUE(scanner.Find(100)->sockets.empty());
  tree_.Write("100/net/tcp",
              header +
                  "   0: 0100007F:B26F 0100007F:115C 01 00000000:00000000 00:00000000 00000000  "
                  "   0        0 7777 1 0000000000000000 20 4 30 10 -1\n");
  auto r = scanner.Scan();  // young re-read: the unresolved inode is looked up again
  ASSERT_TRUE(r.ok());
  const ProcessChange* c = FindChange(*r, 100);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, ChangeKind::kFdsChanged);
  ASSERT_EQ(c->new_sockets.size(), 1u);
  EXPECT_EQ(c->new_sockets[0].remote, "127.0.0.1:4444");
  EXPECT_NE(FindNetworkSocket(*scanner.Find(100), 7777), nullptr);
}

TEST_F(ProcfsScannerTest, RoundRobinBudgetEventuallyRereadsOldProcesses) {
  ScannerOptions o = Options();
  o.young_rescans = 0;
  o.fd_refresh_budget = 1;
  ProcessScanner scanner(ProcFs(tree_.root()), o);
  ASSERT_TRUE(scanner.Scan().ok());
  tree_.Symlink("1/fd/9", "/etc/shadow");
  bool seen = false;
  for (int i = 0; i < 10 && !seen; ++i) {
    auto r = scanner.Scan();
    ASSERT_TRUE(r.ok());
    const ProcessChange* c = FindChange(*r, 1);
    seen = c != nullptr && c->kind == ChangeKind::kFdsChanged;
  }
  EXPECT_TRUE(seen);
  auto direct = scanner.RefreshFds(1);
  ASSERT_TRUE(direct.ok());
  EXPECT_TRUE(direct->new_fds.empty());
  EXPECT_TRUE(HasFd(direct->info, FdKind::kFile, "/etc/shadow"));
  EXPECT_FALSE(scanner.RefreshFds(4242).ok());
}

TEST_F(ProcfsScannerTest, EnrichOneAddsToTable) {
  ProcessScanner scanner(ProcFs(tree_.root()), Options());
  auto info = scanner.EnrichOne(300);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->cmdline[1], "--exec");
  ASSERT_NE(scanner.Find(300), nullptr);
  auto gone = scanner.EnrichOne(31000);
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(IsGone(gone.error()));
  auto partial = scanner.EnrichOne(500);
  ASSERT_TRUE(partial.ok());
  EXPECT_TRUE(partial->partial);
  // A later scan does not report 300 again.
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FindChange(*r, 300), nullptr);
}

// What the event builder does to an argv: at most `args` args of at most `bytes` each,
// `total` bytes in all; returns whether anything was cut.
bool CutArgv(std::vector<std::string>* argv, size_t args, size_t bytes, size_t total) {
  bool cut = argv->size() > args;
  if (cut) argv->resize(args);
  size_t used = 0;
  for (auto& a : *argv) {
    size_t keep = std::min({a.size(), bytes, total - std::min(total, used)});
    cut |= keep < a.size();
    a.resize(keep);
    used += keep;
  }
  return cut;
}

TEST_F(ProcfsScannerTest, AncestorCmdlinesAreKeptOnlyAsFarAsEventsShowThem) {
  // 200's parent (100) carries 40 args of 2000 bytes each, its grandparent (1) 40 args of
  // mixed lengths (the first one empty).
  std::string long_cmdline, mixed_cmdline;
  for (int i = 0; i < 40; ++i) {
    long_cmdline += std::string(2000, static_cast<char>('a' + i % 26)) + '\0';
    mixed_cmdline += std::string(static_cast<size_t>(i * 397 % 700), 'x') + '\0';
  }
  tree_.Write("100/cmdline", long_cmdline);
  tree_.Write("1/cmdline", mixed_cmdline);
  ProcessScanner scanner(ProcFs(tree_.root()), Options());
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(scanner.Find(100)->cmdline.size(), 40u);  // a process keeps its own in full
  const ProcessInfo& child = *scanner.Find(200);
  ASSERT_GE(child.ancestors.size(), 2u);
  const auto &parent = child.ancestors[0].cmdline, &grandparent = child.ancestors[1].cmdline;
  // Per arg: what the parent (2,048 in all) or ancestor (1,024) view shows, plus 1 byte.
  std::vector<size_t> got, want(33, 1);
  for (const auto& a : parent) got.push_back(a.size());
  want[0] = want[1] = 1025, want[2] = want[3] = 257, want[32] = 0;  // 33rd: "there is more"
  EXPECT_EQ(got, want);
  // Cut again at the event's caps: what the full cmdline gives, the cut still reported.
  using Cap = std::tuple<const std::vector<std::string>*, int, size_t, size_t, size_t>;
  for (auto [kept, pid, args, bytes, total] :
       {Cap{&parent, 100, 32, 1024, 2048}, Cap{&parent, 100, 16, 256, 1024},
        Cap{&grandparent, 1, 16, 256, 1024}}) {
    auto from_full = scanner.Find(pid)->cmdline;
    auto from_kept = *kept;
    EXPECT_EQ(CutArgv(&from_full, args, bytes, total), CutArgv(&from_kept, args, bytes, total));
    EXPECT_EQ(from_full, from_kept) << pid;
  }
}

TEST_F(ProcfsScannerTest, KworkerWithItsQueueNameIsNotReEnrichedEveryScan) {
  tree_.Write("2/comm", "kworker/u8:0-events_unbound\n");  // as /proc shows it: > 15 bytes
  ProcessScanner scanner(ProcFs(tree_.root()), Options());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(scanner.Scan().ok());
  EXPECT_EQ(scanner.counters().execs_seen, 0u);
  EXPECT_EQ(scanner.Find(2)->name, "kworker/u8:0-events_unbound");
}

TEST_F(ProcfsScannerTest, BadRootIsAnError) {
  ProcessScanner scanner(ProcFs("/nonexistent/sandwatch"), Options());
  EXPECT_FALSE(scanner.Scan().ok());
}

}  // namespace
}  // namespace sandwatch::procfs
