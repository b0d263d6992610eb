// Falco rule -> signal map, and Falco events in the scorer's shape.
#include <charconv>

#include "sandwatch/harness/falco.h"

namespace sandwatch::harness {

namespace {

int ToInt(const std::map<std::string, std::string>& f, const std::string& key, bool* found) {
  auto it = f.find(key);
  if (it == f.end()) return 0;
  int v = 0;
  auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (r.ec != std::errc() || v < 0) return 0;
  if (found != nullptr) *found = true;
  return v;
}

}  // namespace

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

std::string FalcoRuleSignal(std::string_view rule) {
  const auto& m = FalcoRuleSignalMap();
  auto it = m.find(rule);
  return it == m.end() ? std::string() : it->second;
}

std::string FalcoContainerId(const Event& e) {
  auto it = e.fields.find("container.id");
  return it == e.fields.end() ? std::string() : it->second;
}

Event FalcoEventForScoring(Event e) {
  if (e.source != "falco") return e;
  const auto& f = e.fields;
  bool has_vpid = false, has_pvpid = false;
  int vpid = ToInt(f, "proc.vpid", &has_vpid);
  int pvpid = ToInt(f, "proc.pvpid", &has_pvpid);
  if (e.process) {
    if (has_vpid) e.process->pid = vpid;
    if (has_pvpid) e.process->ppid = pvpid;
    if (auto it = f.find("proc.exepath"); it != f.end() && !it->second.empty())
      e.process->exe = it->second;
  }
  if (e.parent && has_pvpid) e.parent->pid = pvpid;
  if (auto it = f.find("proc.pname"); !e.parent && (it != f.end() || has_pvpid)) {
    e.parent = AncestorRef{pvpid, it == f.end() ? "" : it->second, {}};
  }
  // proc.aname[2..]: grandparent upwards. Their pids (proc.apid) are host pids, which
  // cannot be compared with the workload's, so they stay 0.
  e.ancestors.clear();
  for (int level = 2; level <= 7; ++level) {
    auto it = f.find("proc.aname[" + std::to_string(level) + "]");
    if (it == f.end() || it->second.empty()) break;
    e.ancestors.push_back(AncestorRef{0, it->second, {}});
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
