// The harness-managed Falco: flags, start with a readiness wait, stop with per-rule counts.
#include <chrono>
#include <thread>

#include "sandwatch/core/files.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/falco.h"

namespace sandwatch::harness {

namespace {

// Falco's own files: a missing one (not written yet) reads as empty.
std::string Slurp(const std::string& path) { return ReadFileToString(path).value_or(""); }

std::string Tail(const std::string& text, size_t n) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

}  // namespace

std::vector<std::string> FalcoArgs(const std::string& exe, const std::string& http_url,
                                   const std::string& events_file) {
  // The fields the scorer needs: the pids in the workload's namespace and on the host,
  // parent, ancestors, executable and container.
  const std::vector<std::string> extra_fields = {
      "proc.pid",      "proc.vpid",     "proc.ppid",     "proc.pvpid",    "proc.pname",
      "proc.pcmdline", "proc.exepath",  "proc.cmdline",  "proc.tty",      "container.id",
      "proc.aname[2]", "proc.aname[3]", "proc.aname[4]", "proc.aname[5]", "proc.aname[6]",
      "proc.aname[7]", "proc.apid[2]",  "proc.apid[3]",  "proc.apid[4]",  "proc.apid[5]",
      "proc.apid[6]",  "proc.apid[7]"};
  const nlohmann::json append = {{"match", {{"source", "syscall"}}},
                                 {"extra_fields", extra_fields}};
  const std::vector<std::string> settings = {"engine.kind=modern_ebpf",
                                             "json_output=true",
                                             "json_include_output_property=true",
                                             "json_include_tags_property=true",
                                             "rule_matching=all",
                                             "priority=debug",
                                             "stdout_output.enabled=false",
                                             "syslog_output.enabled=false",
                                             "log_syslog=false",
                                             "log_stderr=true",
                                             "webserver.enabled=false",
                                             "http_output.enabled=true",
                                             "http_output.url=" + http_url,
                                             "file_output.enabled=true",
                                             "file_output.keep_alive=false",
                                             "file_output.filename=" + events_file,
                                             "append_output[]=" + append.dump()};
  std::vector<std::string> args{exe};
  for (const auto& s : settings) args.insert(args.end(), {"-o", s});
  return args;
}

std::map<std::string, long> ParseFalcoRuleCounts(std::string_view text) {
  std::map<std::string, long> out;
  auto at = text.find("Triggered rules by rule name:");
  if (at == std::string_view::npos) return out;
  std::istringstream in{std::string(text.substr(at))};
  std::string line;
  std::getline(in, line);  // the heading
  while (std::getline(in, line)) {
    auto start = line.find_first_not_of(' ');
    auto colon = line.rfind(": ");
    if (start == std::string::npos || start == 0 || colon == std::string::npos || colon <= start)
      break;  // the list is indented; anything else ends it
    try {
      out[line.substr(start, colon - start)] = std::stol(line.substr(colon + 2));
    } catch (const std::exception&) {
      break;
    }
  }
  return out;
}

std::string FalcoRulesRelease(const std::string& sha256_of_stable_rules) {
  // falcosecurity/rules tag -> sha256 of its rules/falco_rules.yaml (the pair Falco 0.40 ships).
  static const std::map<std::string, std::string> kKnown = {
      {"58a4f187b6b04b43ae938132325cbbb6b2bb9eb4e76e553f5b4b7b5b360ee0b4", "falco-rules-3.2.0"}};
  auto it = kKnown.find(sha256_of_stable_rules);
  if (it != kKnown.end()) return it->second;
  return "unknown (falco_rules.yaml sha256 " + sha256_of_stable_rules + ")";
}

FalcoService::~FalcoService() {
  try {
    Stop();
  } catch (const std::exception&) {  // a destructor must not throw; the counts file is lost
  }
}

Status FalcoService::Start(CommandRunner& runner, const std::string& exe,
                           const std::string& http_url, const std::string& out_dir,
                           double timeout_s) {
  out_dir_ = out_dir;
  const std::string log = out_dir + "/" + std::string(kFalcoLogFile);
  const std::string events = out_dir + "/" + std::string(kFalcoEventsFile);
  // Present even when Falco never alerts.
  if (auto st = WriteFileAtomic(events, ""); !st.ok()) return st;
  auto started = runner.Start(Bg(FalcoArgs(exe, http_url, events), out_dir + "/falco.stdout", log));
  if (!started.ok()) return MakeError("starting falco (" + exe + "): " + started.error().message);
  proc_ = std::move(*started);
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  // Ready = an alert came through. "Opening 'syscall' source" is logged before Falco has
  // scanned /proc; on a loaded machine alerts start seconds later. So the harness trips
  // a rule itself (a 0-byte read of /etc/shadow) until its alert is in the file output.
  bool opened = false;
  while (std::chrono::steady_clock::now() < end && !Interrupted() && proc_->Running()) {
    if (!opened) opened = Slurp(log).find("Opening 'syscall' source with") != std::string::npos;
    if (opened) {
      (void)runner.Run(Cmd({"head", "-c", "0", "/etc/shadow"}, std::chrono::milliseconds(5000)));
      if (Slurp(events).find(kFalcoProbeCmdline) != std::string::npos) return OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  bool running = proc_->Running();
  Stop();
  return MakeError(std::string(running ? "falco was not ready in time" : "falco exited at start") +
                   " (log " + log + "): " + Tail(Slurp(log), 600));
}

void FalcoService::Stop() {
  if (!proc_) return;
  proc_->Stop(std::chrono::milliseconds(10000));
  proc_.reset();
  const nlohmann::json counts =
      ParseFalcoRuleCounts(Slurp(out_dir_ + "/falco.stdout") + "\n" +
                           Slurp(out_dir_ + "/" + std::string(kFalcoLogFile)));
  (void)WriteFileAtomic(out_dir_ + "/" + std::string(kFalcoCountsFile), counts.dump(2) + "\n");
}

bool FalcoService::Running() const { return proc_ && proc_->Running(); }

int FalcoService::Pid() const { return proc_ ? proc_->Pid() : 0; }

}  // namespace sandwatch::harness
