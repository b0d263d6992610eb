#include "sandwatch/core/procfs/parsers.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "fixture_tree.h"
#include "sandwatch/core/procfs/proc_fs.h"

namespace sandwatch::procfs {
namespace {

using ::sandwatch::procfs::testing::StatLine;

TEST(ProcfsParseStat, ReadsPidCommPpidFlagsStartTicks) {
  auto f = ParseStat(
      "15924 (cat) R 15922 15922 4272 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 183624 3133440 380 "
      "18446744073709551615 94784351436800 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->pid, 15924);
  EXPECT_EQ(f->comm, "cat");
  EXPECT_EQ(f->state, 'R');
  EXPECT_EQ(f->ppid, 15922);
  EXPECT_EQ(f->start_ticks, 183624u);
  EXPECT_FALSE(f->IsKernelThread());
}

TEST(ProcfsParseStat, CommWithParensAndSpacesUsesLastParen) {
  auto f = ParseStat(StatLine(7, "(a) b)", 'S', 3, 0, 99));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->comm, "(a) b)");
  EXPECT_EQ(f->ppid, 3);
  EXPECT_EQ(f->start_ticks, 99u);
  const std::string line = StatLine(7, ") 1 2 3 (", 'S', 3, 0, 42);
  auto k = ParseStatKey(line);  // comm is a view into `line`
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->comm, ") 1 2 3 (");
  EXPECT_EQ(k->start_ticks, 42u);
}

TEST(ProcfsParseStat, KernelThreadFlag) {
  auto f = ParseStat(StatLine(2, "kthreadd", 'S', 0, 2129984, 8));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->IsKernelThread());
}

TEST(ProcfsParseStat, RejectsTruncatedAndMalformed) {
  EXPECT_FALSE(ParseStat("").ok());
  EXPECT_FALSE(ParseStat("12 (x").ok());
  EXPECT_FALSE(ParseStat("12 (x) S 1 2 3").ok());
  EXPECT_FALSE(ParseStatKey("12 (x) S 1 2 3").ok());
  EXPECT_FALSE(ParseStat("abc (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0 5 0").ok());
  std::string bad = StatLine(1, "x", 'S', 0, 0, 5);
  bad.replace(bad.find(" 5 "), 3, " z ");
  EXPECT_FALSE(ParseStat(bad).ok());
}

TEST(ProcfsParseStat, CpuTicksAreUtimePlusStime) {
  // comm with spaces and parens; utime=7 stime=5.
  const std::string stat =
      "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 3 0 12345 1000 200";
  auto ticks = ParseStatCpuTicks(stat);
  ASSERT_TRUE(ticks.ok()) << ticks.error().message;
  EXPECT_EQ(*ticks, 12u);
  EXPECT_FALSE(ParseStatCpuTicks("42 (x) S 1 2").ok());
  EXPECT_FALSE(ParseStatCpuTicks("garbage").ok());
  std::string bad = stat;
  bad.replace(bad.find(" 7 5 "), 5, " 7 x ");
  EXPECT_FALSE(ParseStatCpuTicks(bad).ok());
}

TEST(ProcfsStatusValue, ExactKeyAndTrimmedValue) {
  const std::string status =
      "Name:\tsensor\nNSpid:\t4242\t1\nVmHWM:\t   5120 kB\nVmRSS:\t   3120 kB\n"
      "CapEff:\t000001ffffffffff\n";
  EXPECT_EQ(StatusValue(status, "NSpid").value_or(""), "4242\t1");
  EXPECT_EQ(StatusValue(status, "CapEff").value_or(""), "000001ffffffffff");
  EXPECT_FALSE(StatusValue(status, "Cap").has_value());
  EXPECT_FALSE(StatusValue(status, "VmSwap").has_value());
  EXPECT_EQ(ParseStatusKib(status, "VmRSS").value_or(0), 3120);
  EXPECT_EQ(ParseStatusKib(status, "VmHWM").value_or(0), 5120);
  EXPECT_FALSE(ParseStatusKib(status, "VmSwap").has_value());
  EXPECT_FALSE(ParseStatusKib("VmRSSX:\t1 kB\n", "VmRSS").has_value());
  EXPECT_FALSE(ParseStatusKib("VmRSS:\tlots kB\n", "VmRSS").has_value());
}

TEST(ProcfsParseSchedstat, FirstFieldIsNanoseconds) {
  EXPECT_EQ(ParseSchedstatNs("123456789 2000 17\n").value_or(0), 123456789u);
  EXPECT_FALSE(ParseSchedstatNs("").has_value());
  EXPECT_FALSE(ParseSchedstatNs("-5 1 1\n").has_value());
}

TEST(ProcfsParseStatus, NamePpidUids) {
  auto s = ParseStatus("Name:\tcat\nUmask:\t0022\nPPid:\t15922\nUid:\t1000\t0\t0\t0\nGid:\t0\n");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->name, "cat");
  EXPECT_EQ(s->ppid, 15922);
  EXPECT_EQ(s->uid, 1000);
  EXPECT_EQ(s->euid, 0);
  EXPECT_FALSE(ParseStatus("Umask:\t0022\n").ok());
  auto partial = ParseStatus("Name:\tx");  // truncated mid-file
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->uid, -1);
}

TEST(ProcfsParseCmdline, TrailingNulOptional) {
  using V = std::vector<std::string>;
  EXPECT_EQ(ParseCmdline(std::string_view("cat\0/etc/shadow\0", 16)), (V{"cat", "/etc/shadow"}));
  EXPECT_EQ(ParseCmdline(std::string_view("python3\0-c\0print(1)", 19)),
            (V{"python3", "-c", "print(1)"}));
  EXPECT_EQ(ParseCmdline(std::string_view("a\0\0b\0", 5)), (V{"a", "", "b"}));
  EXPECT_EQ(ParseCmdline("nginx: worker process"), (V{"nginx: worker process"}));
  EXPECT_TRUE(ParseCmdline("").empty());
}

TEST(ProcfsDecodeEndpoint, Ipv4AndIpv6ByteOrder) {
  EXPECT_EQ(DecodeEndpoint("0100007F:1F90").value(), "127.0.0.1:8080");
  EXPECT_EQ(DecodeEndpoint("00000000:0000").value(), "0.0.0.0:0");
  EXPECT_EQ(DecodeEndpoint("0101A8C0:0016").value(), "192.168.1.1:22");
  EXPECT_EQ(DecodeEndpoint("00000000000000000000000001000000:0050").value(), "[::1]:80");
  EXPECT_EQ(DecodeEndpoint("0000000000000000FFFF00000100007F:C350").value(),
            "[::ffff:127.0.0.1]:50000");
  // fe80::1 : first word bytes fe 80 00 00 -> printed 000080FE.
  EXPECT_EQ(DecodeEndpoint("000080FE000000000000000001000000:0001").value(), "[fe80::1]:1");
  EXPECT_FALSE(DecodeEndpoint("0100007F").ok());
  EXPECT_FALSE(DecodeEndpoint("0100007:1F90").ok());
  EXPECT_FALSE(DecodeEndpoint("0100007F:1FFFF").ok());
  EXPECT_FALSE(DecodeEndpoint("XX00007F:1F90").ok());
}

TEST(ProcfsParseNetTable, SkipsHeaderAndBadLines) {
  std::string text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
      "inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
      "4001 1 0000000000000000 100 0 0 10 0\n"
      "   1: 0100007F:B26E 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 "
      "5001 1 0000000000000000 20 4 30 10 -1\n"
      "   2: nonsense\n"
      "\n";
  int bad = -1;
  auto rows = ParseNetTable(text, "tcp", &bad);
  EXPECT_EQ(bad, 1);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].inode, 4001u);
  EXPECT_EQ(rows[0].state, 10);
  EXPECT_EQ(rows[0].local, "127.0.0.1:8080");
  EXPECT_EQ(rows[1].proto, "tcp");
  EXPECT_EQ(rows[1].remote, "127.0.0.1:8080");
  EXPECT_EQ(rows[1].local, "127.0.0.1:45678");
  EXPECT_EQ(rows[1].state, 1);
  EXPECT_TRUE(ParseNetTable("", "udp").empty());
}

TEST(ProcfsParseFdLink, Kinds) {
  EXPECT_EQ(ParseFdLink(3, "socket:[123]").kind, FdKind::kSocket);
  EXPECT_EQ(ParseFdLink(3, "socket:[123]").inode, 123u);
  EXPECT_EQ(ParseFdLink(0, "pipe:[456]").kind, FdKind::kPipe);
  EXPECT_EQ(ParseFdLink(0, "pipe:[456]").inode, 456u);
  EXPECT_EQ(ParseFdLink(0, "pipe:[]").kind, FdKind::kOther);
  EXPECT_EQ(ParseFdLink(1, "/dev/pts/0").kind, FdKind::kTty);
  EXPECT_EQ(ParseFdLink(1, "/dev/tty").kind, FdKind::kTty);
  EXPECT_EQ(ParseFdLink(4, "anon_inode:[eventfd]").kind, FdKind::kAnon);
  EXPECT_EQ(ParseFdLink(4, "anon_inode:inotify").kind, FdKind::kAnon);
  FdInfo f = ParseFdLink(5, "/etc/shadow");
  EXPECT_EQ(f.kind, FdKind::kFile);
  EXPECT_EQ(f.path, "/etc/shadow");
  EXPECT_EQ(f.fd, 5);
  EXPECT_EQ(ParseFdLink(6, "/x (deleted)").path, "/x (deleted)");
  EXPECT_EQ(ParseFdLink(6, "/memfd:name (deleted)").kind, FdKind::kFile);
  EXPECT_EQ(ParseFdLink(7, "net:[4026531833]").kind, FdKind::kOther);
  EXPECT_EQ(ParseFdLink(7, "").kind, FdKind::kNone);
}

TEST(ProcfsParseExeLink, DeletedAndMemfd) {
  ExeLink a = ParseExeLink("/usr/bin/ls");
  EXPECT_EQ(a.path, "/usr/bin/ls");
  EXPECT_FALSE(a.deleted);
  ExeLink b = ParseExeLink("/tmp/x (deleted)");
  EXPECT_EQ(b.path, "/tmp/x");
  EXPECT_TRUE(b.deleted);
  EXPECT_FALSE(b.memfd);
  ExeLink c = ParseExeLink("/memfd:payload (deleted)");
  EXPECT_EQ(c.path, "/memfd:payload");
  EXPECT_TRUE(c.memfd);
  EXPECT_TRUE(c.deleted);
  ExeLink d = ParseExeLink("/opt/my (deleted) app");
  EXPECT_FALSE(d.deleted);
}

TEST(ProcfsParseMountPoints, FifthFieldWithTheKernelsEscapesDecoded) {
  const std::string mountinfo =
      "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
      "35 22 0:30 / /tmp/sandwatch-run-x/a\\040b rw - tmpfs tmpfs rw\n"
      "36 22 0:31 / /mnt/back\\134slash\\011tab rw - tmpfs tmpfs rw\n"
      "37 22 0:32 / /not\\08octal rw - tmpfs tmpfs rw\n"
      "short line\n"
      "\n"
      "38 22 0:33 / /last rw - tmpfs tmpfs rw";
  EXPECT_EQ(ParseMountPoints(mountinfo),
            (std::vector<std::string>{"/", "/tmp/sandwatch-run-x/a b", "/mnt/back\\slash\ttab",
                                      "/not\\08octal", "/last"}));
  EXPECT_TRUE(ParseMountPoints("").empty());
}

TEST(ProcfsParseMountPoints, ThisProcessHasARoot) {
  auto text = ProcFs("/proc").ReadPidFile(getpid(), "mountinfo");
  ASSERT_TRUE(text.ok());
  auto points = ParseMountPoints(*text);
  EXPECT_NE(std::find(points.begin(), points.end(), "/"), points.end());
}

TEST(ProcfsParseNsLink, Inode) {
  EXPECT_EQ(ParseNsLink("net:[4026531833]"), 4026531833u);
  EXPECT_EQ(ParseNsLink("net:[]"), 0u);
  EXPECT_EQ(ParseNsLink("garbage"), 0u);
  EXPECT_EQ(ParseNsLink("pid:[12x]"), 0u);
  EXPECT_EQ(ParseNsLink("pid:[4026531836]"), 4026531836u);
}

}  // namespace
}  // namespace sandwatch::procfs
