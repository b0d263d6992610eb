#include "capture_plan.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace sandwatch::sensor {

namespace {

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "+") + p;
  return out.empty() ? "poll" : out;
}

std::string PollNote(double interval_s) {
  std::array<char, 96> buf;
  std::snprintf(buf.data(), buf.size(), "; poll every %gs underneath", interval_s);
  return buf.data();
}

}  // namespace

Result<std::vector<std::string>> ParseCaptureList(std::string_view text) {
  if (text == "auto") return std::vector<std::string>{"auto"};
  if (text.empty()) return MakeError("empty value (" + std::string(kCaptureHelp) + ")");
  std::vector<std::string> seen;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('+', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string part(text.substr(pos, end - pos));
    bool known = part == "poll" ||
                 std::find(kEventSources.begin(), kEventSources.end(), part) != kEventSources.end();
    if (!known) {
      return MakeError("unknown source \"" + part + "\" (" + std::string(kCaptureHelp) + ")");
    }
    seen.push_back(std::move(part));
    pos = end + 1;
  }
  std::vector<std::string> out;
  for (std::string_view name : {"netlink", "fanotify", "inotify", "poll"}) {
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) out.emplace_back(name);
  }
  return out;
}

Result<CapturePlan> PlanCapture(std::string_view capture, std::string_view mode,
                                double poll_interval_s, const ProbeFn& probe) {
  auto list = ParseCaptureList(capture);
  if (!list.ok()) return list.error();
  CapturePlan plan;
  if ((*list)[0] != "auto") {
    const bool has_netlink = std::find(list->begin(), list->end(), "netlink") != list->end();
    for (const std::string& name : *list) {
      if (name == "poll") continue;
      const bool files_only = name == "fanotify" && has_netlink;
      Status st = probe(name, files_only);
      if (!st.ok()) return MakeError(st.error().message, st.error().code);
      plan.sources.push_back(name);
      if (files_only) plan.fanotify_files_only = true;
    }
    plan.active = Join(plan.sources);
    plan.why = "capture=" + plan.active + " (requested, mode=" + std::string(mode) + ")" +
               PollNote(poll_interval_s);
    return plan;
  }

  std::vector<std::string> refused;
  auto try_source = [&](const std::string& name, bool files_only) {
    Status st = probe(name, files_only);
    if (!st.ok()) refused.push_back(st.error().message);
    return st.ok();
  };
  if (mode == "node") {
    if (try_source("netlink", false)) {
      plan.sources.emplace_back("netlink");
      if (try_source("fanotify", true)) {
        plan.sources.emplace_back("fanotify");
        plan.fanotify_files_only = true;
      }
    }
  } else {
    refused.push_back("netlink skipped: mode=" + std::string(mode) +
                      " watches one pod, the proc connector sees the whole node (use --mode node)");
  }
  if (plan.sources.empty()) {
    if (try_source("fanotify", false))
      plan.sources.emplace_back("fanotify");
    else if (try_source("inotify", false))
      plan.sources.emplace_back("inotify");
  }
  plan.active = Join(plan.sources);
  std::string why = "capture=auto chose " + plan.active + " (mode=" + std::string(mode) + ")";
  if (!refused.empty()) {
    why += "; refused: ";
    for (size_t i = 0; i < refused.size(); ++i) why += (i ? "; " : "") + refused[i];
  }
  plan.why = why + PollNote(poll_interval_s);
  return plan;
}

std::string VantageText(std::string_view active, std::string_view mode) {
  const bool node = mode == "node";
  if (active.find("netlink") != std::string_view::npos) {
    return "node vantage (initial PID namespace, CAP_NET_ADMIN): every exec arrives with its pid "
           "and is read at once, so 1 ms processes are seen with argv";
  }
  if (active.find("fanotify") != std::string_view::npos) {
    return std::string(node ? "node" : "privileged sidecar") +
           " vantage (CAP_SYS_ADMIN): exec and sensitive-file events carry the pid, so 1 ms "
           "processes are seen with argv; memfd execs only through scans";
  }
  if (active.find("inotify") != std::string_view::npos) {
    return std::string(node ? "node without privileges" : "sidecar without privileges") +
           " vantage (no CAP_SYS_ADMIN, CAP_NET_ADMIN): inotify events carry no pid; each open "
           "of a dropped file, a binary directory or ld.so.cache starts a look at new pids, and "
           "a process that exits before the look (about 1 ms) is missed; memfd and "
           "same-binary execs are left to scans";
  }
  return "poll-only vantage: no kernel events; a process living less than POLL_INTERVAL is "
         "seen with probability about lifetime/interval";
}

}  // namespace sandwatch::sensor
