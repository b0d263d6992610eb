#include "sandwatch/core/rules/engine.h"

#include <gtest/gtest.h>

#include "sandwatch/core/rules/loader.h"
#include "sandwatch/core/rules/template.h"
#include "test_util.h"

namespace sandwatch::rules {
namespace {

using testing::AddFile;
using testing::AddSocket;
using testing::FakeWorld;
using testing::Proc;

RuleEngine Engine(const std::string& yaml, std::vector<std::string> expected = {}) {
  auto set = ParseRules(yaml, "test.yaml");
  EXPECT_TRUE(set.ok()) << (set.ok() ? "" : set.error().message);
  return {std::move(set.value()), std::move(expected)};
}

std::vector<std::string> Names(const std::vector<Match>& ms) {
  std::vector<std::string> out;
  out.reserve(ms.size());
  for (const auto& m : ms) out.push_back(m.rule->name);
  return out;
}

constexpr const char* kHeader =
    "rules:\n  - name: r\n    priority: Warning\n    output: x %proc.name\n";

TEST(Cidr, ParsesAndContains) {
  auto lo = ParseCidr("127.0.0.0/8");
  ASSERT_TRUE(lo.ok());
  std::array<uint8_t, 16> ip{};
  ASSERT_TRUE(ParseIp("127.3.4.5", &ip));
  EXPECT_TRUE(CidrContains(*lo, ip));
  ASSERT_TRUE(ParseIp("128.0.0.1", &ip));
  EXPECT_FALSE(CidrContains(*lo, ip));
  auto v6 = ParseCidr("::1/128");
  ASSERT_TRUE(v6.ok());
  ASSERT_TRUE(ParseIp("[::1]", &ip));
  EXPECT_TRUE(CidrContains(*v6, ip));
  auto mapped = ParseCidr("10.0.0.0/8");
  ASSERT_TRUE(ParseIp("::ffff:10.1.2.3", &ip));
  EXPECT_TRUE(CidrContains(*mapped, ip));
  EXPECT_FALSE(ParseCidr("10.0.0.0/33").ok());
  EXPECT_FALSE(ParseCidr("nope/8").ok());
  auto all = ParseCidr("0.0.0.0/0");
  ASSERT_TRUE(ParseIp("8.8.8.8", &ip));
  EXPECT_TRUE(CidrContains(*all, ip));
}

TEST(Engine, ProcNameMatchesCommExeOrArgv0Globs) {
  auto e = Engine(std::string(kHeader) + "    when: {proc_name: ['python*']}\n");
  FakeWorld w;
  auto p = Proc("python3.11", {"python3", "x.py"});
  EXPECT_EQ(Names(e.Evaluate({&p, {}}, w)).size(), 1u);
  // comm truncated to 15 chars, but argv[0]'s basename still matches.
  auto q = Proc("x", {"/opt/python3-custom/bin/python3-very-long-name"}, "/opt/x");
  EXPECT_EQ(e.Evaluate({&q, {}}, w).size(), 1u);
  auto r = Proc("perl", {"perl"});
  EXPECT_TRUE(e.Evaluate({&r, {}}, w).empty());
}

TEST(Engine, BlocksAreAndWithinOrAcrossAndUnlessSuppresses) {
  auto e = Engine(std::string(kHeader) +
                  "    when:\n"
                  "      - {proc_name: [cat], cmdline: ['secret']}\n"
                  "      - {file_open: ['/etc/shadow']}\n"
                  "    unless: {parent_name: [sudo]}\n");
  FakeWorld w;
  auto cat = Proc("cat", {"cat", "/tmp/secret"});
  EXPECT_EQ(e.Evaluate({&cat, {}}, w).size(), 1u);
  auto cat2 = Proc("cat", {"cat", "/tmp/public"});
  EXPECT_TRUE(e.Evaluate({&cat2, {}}, w).empty());
  auto py = Proc("python3", {"python3"});
  AddFile(&py, 3, "/etc/shadow");
  auto ms = e.Evaluate({&py, {}}, w);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].file_path, "/etc/shadow");
  auto under_sudo = Proc("cat", {"cat", "secret"}, "", {"sudo", "bash"});
  EXPECT_TRUE(e.Evaluate({&under_sudo, {}}, w).empty());
}

TEST(Engine, ObservedPathCountsAsOpenFile) {
  auto e = Engine(std::string(kHeader) + "    when: {file_open: ['*/.aws/*']}\n");
  FakeWorld w;
  auto p = Proc("cat", {"cat"});
  EXPECT_TRUE(e.Evaluate({&p, {}}, w).empty());
  auto ms = e.Evaluate({&p, std::string("/root/.aws/credentials")}, w);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(*ms[0].file_path, "/root/.aws/credentials");
}

TEST(Engine, ExeNewUsesBaselineAndTreatsDeletedAndMemfdAsNew) {
  auto e = Engine(std::string(kHeader) + "    when: {exe_new: true}\n");
  FakeWorld w;
  w.baseline = {"/usr/bin/ls"};
  auto ls = Proc("ls", {"ls"});
  EXPECT_TRUE(e.Evaluate({&ls, {}}, w).empty());
  auto dropped = Proc("x", {"/tmp/x"}, "/tmp/x");
  EXPECT_EQ(e.Evaluate({&dropped, {}}, w).size(), 1u);
  ls.exe_deleted = true;
  EXPECT_EQ(e.Evaluate({&ls, {}}, w).size(), 1u);
  auto memfd = Proc("x", {"x"}, "/memfd:x");
  memfd.exe_memfd = true;
  EXPECT_EQ(e.Evaluate({&memfd, {}}, w).size(), 1u);
  auto unknown = Proc("k", {}, "");
  unknown.exe.clear();
  EXPECT_TRUE(e.Evaluate({&unknown, {}}, w).empty());
}

TEST(Engine, StdioSocketAndNetworkedPipe) {
  auto e = Engine(std::string(kHeader) + "    when: {proc_name: [sh], stdio_network: true}\n");
  FakeWorld w;
  auto sh = Proc("sh", {"sh"});
  sh.fds.push_back(FdInfo{0, FdKind::kPipe, "pipe:[9]", 9});
  EXPECT_TRUE(e.Evaluate({&sh, {}}, w).empty());
  w.networked_pipe = 9;
  auto ms = e.Evaluate({&sh, {}}, w);
  ASSERT_EQ(ms.size(), 1u);
  ASSERT_TRUE(ms[0].connection);
  EXPECT_EQ(ms[0].connection->remote, "127.0.0.1:4444");

  auto bash = Proc("sh", {"bash", "-i"});
  AddSocket(&bash, 0, 5, "10.0.0.2:5555", "192.0.2.1:4444");
  EXPECT_EQ(e.Evaluate({&bash, {}}, w).size(), 1u);
  // A unix socket on stdout (journald) does not resolve to an inet socket.
  auto svc = Proc("sh", {"sh"});
  svc.fds.push_back(FdInfo{1, FdKind::kSocket, "socket:[6]", 6});
  EXPECT_TRUE(e.Evaluate({&svc, {}}, w).empty());
  // An inet socket on fd 3 is not stdio.
  auto fd3 = Proc("sh", {"sh"});
  AddSocket(&fd3, 3, 7, "10.0.0.2:5555", "192.0.2.1:4444");
  EXPECT_TRUE(e.Evaluate({&fd3, {}}, w).empty());
}

TEST(Engine, RemoteNotInAllowlistIgnoresInboundAndListening) {
  auto e = Engine(std::string(kHeader) + "    when: {remote_not_in: [127.0.0.0/8, '::1/128']}\n");
  FakeWorld w;
  auto curl = Proc("curl", {"curl"});
  AddSocket(&curl, 3, 1, "10.0.0.2:40000", "127.0.0.1:80");
  EXPECT_TRUE(e.Evaluate({&curl, {}}, w).empty());
  AddSocket(&curl, 4, 2, "10.0.0.2:40001", "203.0.113.9:443");
  auto ms = e.Evaluate({&curl, {}}, w);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].connection->remote, "203.0.113.9:443");
  auto server = Proc("nginx", {"nginx"});
  AddSocket(&server, 3, 1, "0.0.0.0:8080", "0.0.0.0:0", 10);
  AddSocket(&server, 4, 2, "10.0.0.2:8080", "203.0.113.9:55555", 1);
  EXPECT_TRUE(e.Evaluate({&server, {}}, w).empty());
  auto bind_shell = Proc("ncat", {"ncat", "-l", "4444"});  // listening socket already closed
  AddSocket(&bind_shell, 3, 1, "10.0.0.2:4444", "203.0.113.9:51234", 1);
  EXPECT_TRUE(e.Evaluate({&bind_shell, {}}, w).empty());
  auto v6 = Proc("x", {"x"});
  AddSocket(&v6, 3, 1, "[::1]:4000", "[::1]:80", 1, "tcp6");
  EXPECT_TRUE(e.Evaluate({&v6, {}}, w).empty());
  auto closing = Proc("x", {"x"});
  AddSocket(&closing, 3, 1, "10.0.0.2:4000", "203.0.113.9:80", 8);  // CLOSE_WAIT
  EXPECT_TRUE(e.Evaluate({&closing, {}}, w).empty());
}

TEST(Engine, ExpectedParentOutsideRootAndArgs) {
  auto e =
      Engine(std::string(kHeader) +
                 "    when: {expected: false, parent_outside: true, root: true, args: ['-e*']}\n",
             {"sleep"});
  FakeWorld w;
  auto p = Proc("nc", {"nc", "-e/bin/sh"});
  p.ppid = 0;
  EXPECT_EQ(e.Evaluate({&p, {}}, w).size(), 1u);
  p.uid = 1000;
  EXPECT_TRUE(e.Evaluate({&p, {}}, w).empty());
  auto s = Proc("sleep", {"sleep", "-e"});
  s.ppid = 0;
  EXPECT_TRUE(e.Evaluate({&s, {}}, w).empty());
  EXPECT_TRUE(e.IsExpected(s));
}

TEST(Engine, DisabledRulesDoNotFire) {
  auto e = Engine(std::string(kHeader) + "    enabled: false\n    when: {proc_name: [cat]}\n");
  FakeWorld w;
  auto p = Proc("cat", {"cat"});
  EXPECT_TRUE(e.Evaluate({&p, {}}, w).empty());
  EXPECT_EQ(e.rules().EnabledCount(), 0u);
}

TEST(Engine, NotProcNameExcludesByCommExeOrArgv0) {
  auto e = Engine(std::string(kHeader) +
                  "    when: {cmdline: ['/etc/shadow'], not_proc_name: [stat, ls, 'ba*']}\n");
  FakeWorld w;
  auto cat = Proc("cat", {"cat", "/etc/shadow"});
  EXPECT_EQ(e.Evaluate({&cat, {}}, w).size(), 1u);
  auto stat = Proc("stat", {"stat", "/etc/shadow"});
  EXPECT_TRUE(e.Evaluate({&stat, {}}, w).empty());
  auto shell = Proc("x", {"/bin/bash", "-c", "test -e /etc/shadow"}, "/usr/bin/x");
  EXPECT_TRUE(e.Evaluate({&shell, {}}, w).empty());
}

TEST(Engine, InterpreterScriptSkipsOptionsAndInlineCode) {
  auto p = Proc("bash", {"bash", "-x", "/dev/shm/x"});
  EXPECT_EQ(InterpreterScript(p), "/dev/shm/x");
  p.cmdline = {"bash", "-c", "sh /tmp/x"};
  EXPECT_EQ(InterpreterScript(p), "");
  p.cmdline = {"sh", "-ic", "id"};
  EXPECT_EQ(InterpreterScript(p), "");
  p.cmdline = {"python3", "-W", "ignore", "-u", "job.py"};
  p.cwd = "/var/tmp";
  EXPECT_EQ(InterpreterScript(p), "/var/tmp/job.py");
  p.cmdline = {"python3", "-m", "http.server"};
  EXPECT_EQ(InterpreterScript(p), "");
  p.cmdline = {"perl", "-E", "say 1", "/tmp/data"};
  EXPECT_EQ(InterpreterScript(p), "");
  p.cmdline = {"python3", "-E", "/tmp/x.py"};  // -E is not inline code for python
  EXPECT_EQ(InterpreterScript(p), "/tmp/x.py");
  p.cmdline = {"sh", "--", "-weird"};
  p.cwd = "/";
  EXPECT_EQ(InterpreterScript(p), "/-weird");
  p.cmdline = {"sh", "-"};
  EXPECT_EQ(InterpreterScript(p), "");
  p.cmdline = {"sh"};
  EXPECT_EQ(InterpreterScript(p), "");
  // A `#!/usr/bin/env bash` script: env, then the interpreter, then the script.
  p.cwd = "/tmp/work";
  p.cmdline = {"/usr/bin/env", "bash", "/root/.pyenv/shims/pip", "list"};
  EXPECT_EQ(InterpreterScript(p), "/root/.pyenv/shims/pip");
  p.cmdline = {"env", "-i", "A=b", "python3", "-c", "x"};
  EXPECT_EQ(InterpreterScript(p), "");
}

TEST(Engine, ScriptInMatchesTheInterpretedFile) {
  auto e = Engine(std::string(kHeader) + "    when: {proc_name: [sh], script_in: ['/tmp/*']}\n");
  FakeWorld w;
  auto run = Proc("sh", {"/bin/sh", "/tmp/x.sh"});  // a #! script run directly
  EXPECT_EQ(e.Evaluate({&run, {}}, w).size(), 1u);
  auto inline_code = Proc("sh", {"sh", "-c", "ls /tmp/x"});
  EXPECT_TRUE(e.Evaluate({&inline_code, {}}, w).empty());
  auto relative = Proc("sh", {"sh", "./x.sh"});
  relative.cwd = "/tmp";
  EXPECT_EQ(e.Evaluate({&relative, {}}, w).size(), 1u);
}

TEST(Engine, StdinNetworkNeedsTheInputSide) {
  auto e = Engine(std::string(kHeader) + "    when: {proc_name: [sh], stdin_network: true}\n");
  FakeWorld w;
  w.networked_pipe = 9;
  // `while :; do date; done | nc host port`: only stdout reaches the network.
  auto writer = Proc("sh", {"sh", "-c", "while :; do date; done"});
  writer.fds.push_back(FdInfo{1, FdKind::kPipe, "pipe:[9]", 9});
  EXPECT_TRUE(e.Evaluate({&writer, {}}, w).empty());
  // `ncat --exec /bin/sh`, `curl | sh`: the shell reads the network.
  auto reader = Proc("sh", {"sh"});
  reader.fds.push_back(FdInfo{0, FdKind::kPipe, "pipe:[9]", 9});
  auto ms = e.Evaluate({&reader, {}}, w);
  ASSERT_EQ(ms.size(), 1u);
  ASSERT_TRUE(ms[0].connection);
  // socat EXEC: hands the shell a unix socketpair; the networked end is the parent.
  auto paired = Proc("sh", {"sh"}, "", {"socat"});
  paired.fds.push_back(FdInfo{0, FdKind::kSocket, "socket:[12]", 12});
  EXPECT_TRUE(e.Evaluate({&paired, {}}, w).empty());
  w.parent_connection = SocketInfo{13, "tcp", "127.0.0.1:40001", "127.0.0.1:4444", 1};
  EXPECT_EQ(e.Evaluate({&paired, {}}, w).size(), 1u);
  auto direct = Proc("sh", {"sh", "-i"});
  AddSocket(&direct, 0, 5, "10.0.0.2:5555", "192.0.2.1:4444");
  EXPECT_EQ(e.Evaluate({&direct, {}}, w).size(), 1u);
}

TEST(Engine, LowConfidenceBlocksMarkTheirMatches) {
  auto e = Engine(std::string(kHeader) +
                  "    when:\n"
                  "      - {file_open: [/etc/shadow]}\n"
                  "      - {cmdline: ['/etc/shadow'], confidence: low}\n");
  FakeWorld w;
  auto cat = Proc("cat", {"cat", "/etc/shadow"});
  auto ms = e.Evaluate({&cat, {}}, w);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_TRUE(ms[0].low_confidence);
  ms = e.Evaluate({&cat, std::string("/etc/shadow")}, w);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_FALSE(ms[0].low_confidence);  // the observed open wins: first block
  auto bad =
      ParseRules(std::string(kHeader) + "    when: {cmdline: [x], confidence: maybe}\n", "t");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("confidence"), std::string::npos);
  auto alone = ParseRules(std::string(kHeader) + "    when: {confidence: low}\n", "t");
  EXPECT_FALSE(alone.ok());  // a marker is not a condition
}

TEST(Template, RendersFieldsAndEscapesControlCharacters) {
  auto p = Proc("cat", {"cat", "/etc/shadow\n\x1b[31m"});
  Match m;
  m.file_path = "/etc/shadow";
  auto f = OutputFields(p, m, "pod", "ns");
  EXPECT_EQ(RenderTemplate("%proc.name read %fd.name (%proc.pname) 100%% %k8s.pod.name.", f),
            "cat read /etc/shadow (bash) 100% pod.");
  EXPECT_EQ(RenderTemplate("%proc.cmdline", f), "cat /etc/shadow\\x0a\\x1b[31m");
  EXPECT_EQ(RenderTemplate("%connection.remote", f), "<NA>");
  EXPECT_TRUE(ValidateTemplate("%proc.name %fd.name %% %connection.remote").ok());
  auto bad = ValidateTemplate("x %proc.nme y");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("%proc.nme"), std::string::npos);
}

}  // namespace
}  // namespace sandwatch::rules
