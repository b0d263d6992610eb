// Falco rule -> signal map, and Falco events in the scorer's shape.
#include <charconv>

#include "sandwatch/harness/falco.h"

namespace sandwatch::harness {

const std::map<std::string, std::string, std::less<>>& FalcoRuleSignalMap() {
  // Stable (falco_rules.yaml) and incubating (falco-incubating_rules.yaml) rules of
  // falcosecurity/rules that target the chain's behaviours.
  static const std::map<std::string, std::string, std::less<>> kMap = {
      {"Terminal shell in container", "unexpected_shell"},
      {"Run shell untrusted", "unexpected_shell"},
      {"System user interactive", "unexpected_shell"},
      {"Read sensitive file untrusted", "shadow_file_access"},
      {"Read sensitive file trusted after startup", "shadow_file_access"},
      {"Directory traversal monitored file read", "shadow_file_access"},
      {"Find AWS Credentials", "aws_credential_discovery"},
      {"Search Private Keys or Passwords", "aws_credential_discovery"},
      {"Launch Package Management Process in Container", "package_manager_execution"},
      {"Drop and execute new binary in container", "post_start_binary_execution"},
      {"Execution from /dev/shm", "post_start_binary_execution"},
      {"Fileless execution via memfd_create", "post_start_binary_execution"},
      {"Netcat Remote Code Execution in Container", "nc_execution"},
      {"Launch Suspicious Network Tool in Container", "nc_execution"},
      {"Launch Suspicious Network Tool on Host", "nc_execution"},
      {"Redirect STDOUT/STDIN to Network Connection in Container", "reverse_shell"},
  };
  return kMap;
}

std::string FalcoField(const Event& e, const std::string& key) {
  auto it = e.fields.find(key);
  return it == e.fields.end() ? std::string() : it->second;
}

std::optional<int> FalcoPid(const Event& e, const std::string& key) {
  const std::string v = FalcoField(e, key);
  int pid = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), pid);
  if (r.ec != std::errc() || pid < 0) return std::nullopt;
  return pid;
}

Event FalcoEventForScoring(Event e) {
  if (e.source != "falco") return e;
  const std::optional<int> vpid = FalcoPid(e, "proc.vpid"), pvpid = FalcoPid(e, "proc.pvpid");
  if (e.process) {
    if (vpid) e.process->pid = *vpid;
    if (pvpid) e.process->ppid = *pvpid;
    if (const std::string exe = FalcoField(e, "proc.exepath"); !exe.empty()) e.process->exe = exe;
  }
  if (e.parent && pvpid) e.parent->pid = *pvpid;
  if (auto it = e.fields.find("proc.pname"); !e.parent && (it != e.fields.end() || pvpid)) {
    e.parent = AncestorRef{pvpid.value_or(0), it == e.fields.end() ? "" : it->second, {}};
  }
  // proc.aname[2..]: grandparent upwards. Their pids (proc.apid) are host pids, which
  // cannot be compared with the workload's, so they stay 0.
  e.ancestors.clear();
  for (int level = 2; level <= 7; ++level) {
    std::string name = FalcoField(e, "proc.aname[" + std::to_string(level) + "]");
    if (name.empty()) break;
    e.ancestors.push_back(AncestorRef{0, std::move(name), {}});
  }
  return e;
}

std::vector<Event> EventsForScoring(const std::vector<Event>& events) {
  std::vector<Event> out;
  out.reserve(events.size());
  for (const auto& e : events) out.push_back(FalcoEventForScoring(e));
  return out;
}

}  // namespace sandwatch::harness
