#include "sandwatch/sensor/capture_factory.h"

#include "capture_plan.h"
#include "fanotify_source.h"
#include "inotify_source.h"
#include "netlink_source.h"
#include "poll_source.h"

namespace sandwatch::sensor {

namespace {

std::unique_ptr<CaptureSource> Build(const std::string& name, bool files_only,
                                     const CaptureOptions& o) {
  if (name == "netlink") {
    NetlinkOptions n;
    n.clock = o.clock;
    n.proc_root = o.proc_root;
    n.rcvbuf_bytes = o.netlink_rcvbuf_bytes;
    n.early_read = o.early_read;
    n.priority = {o.early_read_nice, o.early_read_realtime};
    return std::make_unique<NetlinkSource>(n);
  }
  if (name == "fanotify") {
    FanotifyOptions f;
    f.clock = o.clock;
    f.proc_root = o.proc_root;
    f.workload_root = o.workload_root;
    f.exec_events = !files_only;
    f.early_read = o.early_read;
    f.priority = {o.early_read_nice, o.early_read_realtime};
    f.file_perm = o.fanotify_file_perm;
    return std::make_unique<FanotifySource>(f);
  }
  if (name == "inotify") {
    InotifyOptions i;
    i.clock = o.clock;
    i.workload_root = o.workload_root;
    i.proc_root = o.proc_root;
    i.min_gap_ns = static_cast<int64_t>(o.trigger_min_gap_s * 1e9);
    i.priority = {o.early_read_nice, o.early_read_realtime};
    return std::make_unique<InotifySource>(i);
  }
  return std::make_unique<PollSource>(o.poll_interval_s, o.clock);
}

}  // namespace

Status ValidateCaptureValue(std::string_view capture) {
  auto list = ParseCaptureList(capture);
  if (!list.ok()) return list.error();
  return OkStatus();
}

Result<CaptureSelection> MakeCaptureSources(const CaptureOptions& options) {
  if (options.mode != "kata" && options.mode != "sidecar" && options.mode != "node") {
    return MakeError("--mode: unknown mode '" + options.mode + "' (use kata, sidecar or node)");
  }
  if (!(options.poll_interval_s > 0)) return MakeError("--poll-interval: must be positive");
  auto probe = [&options](const std::string& name, bool files_only) {
    return Build(name, files_only, options)->Probe();
  };
  auto plan = PlanCapture(options.capture, options.mode, options.poll_interval_s, probe);
  if (!plan.ok()) return plan.error();
  CaptureSelection sel;
  for (const std::string& name : plan->sources) {
    sel.sources.push_back(Build(name, name == "fanotify" && plan->fanotify_files_only, options));
  }
  sel.sources.push_back(std::make_unique<PollSource>(options.poll_interval_s, options.clock));
  sel.active = plan->active;
  sel.why = plan->why;
  sel.vantage = VantageText(sel.active, options.mode);
  return sel;
}

}  // namespace sandwatch::sensor
