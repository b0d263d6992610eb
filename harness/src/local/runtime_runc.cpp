// The runc runtime: a real runc container from the cached debootstrap rootfs (an
// overlay per cell, so the rootfs stays clean), and a sensor sidecar container that
// joins the workload's PID namespace (as shareProcessNamespace does). Both use the
// host's network namespace, so the receiver and the listener are on 127.0.0.1.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "local/lab.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/core/log.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/progress.h"
#include "sandwatch/harness/receiver_client.h"

namespace sandwatch::harness::local {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kCaps = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

json OciConfig(const std::string& root, const std::string& hostname,
               const std::vector<std::string>& args, const std::vector<std::string>& env,
               const std::string& pid_ns_path, const std::string& sw_dir,
               const std::string& out_dir, bool ptrace, const std::string& cgroups_path) {
  std::vector<std::string> caps = kCaps;
  if (ptrace) caps.emplace_back("CAP_SYS_PTRACE");
  json pid_ns = {{"type", "pid"}};
  if (!pid_ns_path.empty()) pid_ns["path"] = pid_ns_path;
  return json{
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", args},
        {"env", env},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"inheritable", caps}}},
        {"noNewPrivileges", false}}},
      {"root", {{"path", root}, {"readonly", false}}},
      {"hostname", hostname},
      {"mounts",
       json::array({{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
                    {{"destination", "/dev"},
                     {"type", "tmpfs"},
                     {"source", "tmpfs"},
                     {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
                    {{"destination", "/dev/pts"},
                     {"type", "devpts"},
                     {"source", "devpts"},
                     {"options",
                      {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
                    {{"destination", "/dev/shm"},
                     {"type", "tmpfs"},
                     {"source", "shm"},
                     {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
                    {{"destination", "/sys"},
                     {"type", "sysfs"},
                     {"source", "sysfs"},
                     {"options", {"nosuid", "noexec", "nodev", "ro"}}},
                    {{"destination", "/tmp"},
                     {"type", "tmpfs"},
                     {"source", "tmpfs"},
                     {"options", {"nosuid", "nodev", "mode=1777"}}},
                    {{"destination", "/sw"},
                     {"type", "bind"},
                     {"source", sw_dir},
                     {"options", {"rbind", "ro"}}},
                    {{"destination", "/sw-out"},
                     {"type", "bind"},
                     {"source", out_dir},
                     {"options", {"rbind", "rw"}}}})},
      {"linux",
       {{"cgroupsPath", cgroups_path},
        {"namespaces",
         json::array({pid_ns, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}})},
        {"maskedPaths",
         {"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
}

// An overlay of the cached rootfs on a tmpfs, so nothing a cell does reaches the cache.
Result<std::string> MountOverlay(Lab& lab, CleanupRegistry& cleanup, const std::string& dir) {
  CommandRunner& r = *lab.runner;
  fs::create_directories(dir + "/tmpfs");
  fs::create_directories(dir + "/merged");
  auto m = r.Run(Cmd({"mount", "-t", "tmpfs", "-o", "size=1g", "tmpfs", dir + "/tmpfs"}));
  if (!m.ok() || !m->ok())
    return MakeError("mount tmpfs " + dir + "/tmpfs: " + (m.ok() ? m->err : m.error().message));
  cleanup.Add("umount " + dir + "/tmpfs", [&r, dir] {
    (void)r.Run(Cmd({"umount", "-l", dir + "/tmpfs"}));
  });
  fs::create_directories(dir + "/tmpfs/upper");
  fs::create_directories(dir + "/tmpfs/work");
  std::string opts = "lowerdir=" + lab.paths.rootfs + ",upperdir=" + dir +
                     "/tmpfs/upper,workdir=" + dir + "/tmpfs/work";
  m = r.Run(Cmd({"mount", "-t", "overlay", "overlay", "-o", opts, dir + "/merged"}));
  if (!m.ok() || !m->ok())
    return MakeError("mount overlay: " + (m.ok() ? m->err : m.error().message));
  cleanup.Add("umount " + dir + "/merged", [&r, dir] {
    (void)r.Run(Cmd({"umount", "-l", dir + "/merged"}));
  });
  return fs::canonical(dir + "/merged").string();
}

Status StartContainer(Lab& lab, CleanupRegistry& cleanup, const std::string& bundle,
                      const std::string& id) {
  CommandRunner& r = *lab.runner;
  cleanup.Add("runc delete -f " + id, [&r, id] {
    (void)r.Run(Cmd({"runc", "delete", "-f", id}, 20s));
  });
  auto res = r.Run(
      Cmd({"runc", "run", "--detach", "--bundle", bundle, "--pid-file", bundle + "/pid", id}, 60s));
  if (!res.ok()) return res.error();
  if (!res->ok()) return MakeError("runc run " + id + " failed: " + res->err);
  return OkStatus();
}

// A container id as containerd makes them (64 hex digits).
std::string ContainerHexId() {
  std::string id;
  while (id.size() < 64) {
    for (char ch : NewUuid())
      if (ch != '-') id += ch;
  }
  return id.substr(0, 64);
}

// The kubelet/containerd cgroup layout (cgroupfs driver): .../pod<uid>/<container id>, which
// Falco recognises as a container, as on a node. Removes the pod's cgroup dirs at the end.
std::string PodCgroups(Lab& lab, CleanupRegistry& cleanup, std::string* pod_dir) {
  std::string uid = NewUuid();
  *pod_dir = "/kubepods/besteffort/pod" + uid;
  CommandRunner& r = *lab.runner;
  std::string dir = *pod_dir;
  cleanup.Add("remove cgroups " + dir, [&r, dir] {
    std::error_code ec;
    for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
      std::string path = h.path().string();
      if (fs::is_directory(path + dir, ec)) (void)r.Run(Cmd({"rmdir", path + dir}, 10s));
    }
  });
  return dir;
}

}  // namespace

Status PrepareRunc(Lab& lab) {
  if (fs::exists(lab.paths.rootfs + "/.sandwatch-rootfs")) return OkStatus();
  lab.ctx->progress->Note("building the rootfs once (debootstrap --variant=minbase bookworm)");
  auto res = lab.runner->Run(
      Cmd({lab.paths.lab_scripts + "/build-rootfs.sh", lab.paths.rootfs, lab.paths.debs_dir},
          std::chrono::milliseconds(
              static_cast<int64_t>(lab.ctx->scenario->timeouts.prepare_s * 1000))));
  if (!res.ok()) return res.error();
  if (!res->ok()) return MakeError("building the rootfs failed: " + res->err);
  return OkStatus();
}

namespace {

Result<CellOutcome> RunRuncCell(Lab& lab, CellRun& c) {
  const Scenario& s = *lab.ctx->scenario;
  CommandRunner& r = *lab.runner;
  auto& [out, dir, pod, clock_of_cell] = c;
  const Clock& clock = *clock_of_cell;
  const Cell& cell = out.cell;
  std::string share = dir + "/share";
  fs::create_directories(share);
  std::string base_id = "sw-" + std::to_string(getpid()) + "-" + std::to_string(cell.index);

  // Everything this cell creates is undone when the cell ends, however it ends.
  CleanupRegistry cleanup;
  std::string pod_cgroup;
  PodCgroups(lab, cleanup, &pod_cgroup);
  const std::string app_hex = ContainerHexId(), sensor_hex = ContainerHexId();
  auto app_root = MountOverlay(lab, cleanup, dir + "/app");
  if (!app_root.ok()) return c.Fail(app_root.error().message);
  if (auto st = WritePackageDelayHook(s, *app_root); !st.ok()) return c.Fail(st.error().message);
  if (s.attack.package_delay_ms > 0) {
    out.notes.push_back("dpkg pre-invoke hook sleeps " + std::to_string(s.attack.package_delay_ms) +
                        " ms (stands in for the blog's network fetch)");
  }
  auto sensor_root = MountOverlay(lab, cleanup, dir + "/sensor");
  if (!sensor_root.ok()) return c.Fail(sensor_root.error().message);
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
      "LD_LIBRARY_PATH=/sw/lib"};
  // The workload: pid 1 sleeps; attack-sim arrives through `runc exec`, like kubectl exec.
  fs::create_directories(dir + "/app/bundle");
  auto cfg = OciConfig(*app_root, "runc-app", {"/bin/sleep", "infinity"}, env, "", lab.sw_dir,
                       share, false, pod_cgroup + "/" + app_hex);
  if (auto st = WriteFileAtomic(dir + "/app/bundle/config.json", cfg.dump(2)); !st.ok())
    return c.Fail(st.error().message);
  lab.ctx->progress->Note("starting the runc workload container");
  if (auto st = StartContainer(lab, cleanup, dir + "/app/bundle", base_id + "-app"); !st.ok()) {
    return c.Fail(st.error().message);
  }
  std::string app_pid = ReadText(dir + "/app/bundle/pid");
  while (!app_pid.empty() && (app_pid.back() == '\n' || app_pid.back() == ' ')) app_pid.pop_back();
  if (app_pid.empty()) return c.Fail("runc gave no pid for the workload container");
  // The sidecar joins the workload's PID namespace.
  std::vector<std::string> sensor_cmd = {"/sw/bin/sandwatch-sensor"};
  for (auto& a : SensorArgs(s, lab.receiver_url, pod, s.sensor.mode, s.sensor.capture,
                            "/sw/credentials/runc-app.token"))
    sensor_cmd.push_back(a);
  fs::create_directories(dir + "/sensor/bundle");
  cfg = OciConfig(*sensor_root, "runc-app", sensor_cmd, env, "/proc/" + app_pid + "/ns/pid",
                  lab.sw_dir, share, true, pod_cgroup + "/" + sensor_hex);
  if (auto st = WriteFileAtomic(dir + "/sensor/bundle/config.json", cfg.dump(2)); !st.ok())
    return c.Fail(st.error().message);
  lab.ctx->progress->Note("starting the sensor sidecar (shared PID namespace)");
  if (auto st = StartContainer(lab, cleanup, dir + "/sensor/bundle", base_id + "-sensor");
      !st.ok()) {
    return c.Fail(st.error().message);
  }
  if (!WaitForSensor(lab.receiver_url, pod, s.timeouts.boot_s)) {
    return c.Fail("the sidecar sensor never reported (no heartbeat from pod " + pod + ")");
  }
  if (!SleepInterruptibly(std::max(1.0, s.sensor.poll_interval_s) + 0.5))
    return MakeError("interrupted");

  auto port = PickFreeLoopbackPort();
  if (!port.ok()) return c.Fail(port.error().message);
  auto listener =
      r.Start(Bg(ListenerArgs(lab, cell, *port, s.timeouts.cell_s, dir + "/listener.jsonl"), "",
                 dir + "/listener.log"));
  if (!listener.ok()) return c.Fail(listener.error().message);
  WaitForTcp(*port, 10);
  std::vector<std::string> attack_argv = {"/sw/bin/sandwatch-attack-sim", "run"};
  for (auto& a : AttackArgs(s, cell, "127.0.0.1:" + std::to_string(*port), s.attack.package_install,
                            "/sw-out/gt.jsonl", false)) {
    attack_argv.push_back(a);
  }
  // As `kubectl exec -it`: a bash on a terminal, started by the runtime, runs the chain.
  EntryShell entry = RuncEntryShell(r, base_id + "-app", {"LD_LIBRARY_PATH=/sw/lib"}, attack_argv,
                                    "/sw-out/entry-shell.pid");
  lab.ctx->progress->Note(entry.tty ? "chain running in the runc container (runc exec -t bash)"
                                    : "chain running in the runc container (runc exec bash)");
  const int64_t entry_start_wall = clock.WallNs(), entry_start_mono = clock.MonoNs();
  auto attack = r.Start(Bg(entry.argv, dir + "/attack.out", dir + "/attack.log"));
  if (!attack.ok()) return c.Fail(attack.error().message);
  const Waited waited = WaitForExit(clock, **attack, s.timeouts.cell_s, 2000ms);
  // Interrupted or not, the cleanup registry undoes the cell.
  if (waited == Waited::kInterrupted) return MakeError("interrupted");
  if (waited == Waited::kTimedOut) return c.Fail("the chain did not finish within timeouts.cell");
  int attack_rc = (*attack)->Wait(0ms).value_or(-1);
  if (!SleepInterruptibly(s.SettleSeconds())) return MakeError("interrupted");
  RecordCost(lab, "in-guest", cell.Id(), std::atoi(ReadText(dir + "/sensor/bundle/pid").c_str()),
             out.start_wall_ns);
  (void)r.Run(Cmd({"runc", "kill", base_id + "-sensor", "TERM"}, 10s));
  (*listener)->Stop(2000ms);
  std::string capture = SensorCapture(lab.receiver_url, pod);

  const int64_t entry_end_wall = clock.WallNs(), entry_end_mono = clock.MonoNs();
  auto gt = ParseGroundTruthText(ReadText(share + "/gt.jsonl") + ReadText(dir + "/listener.jsonl"));
  if (gt.ok()) {
    auto shell = EntryShellStep(ReadText(share + "/entry-shell.pid"), entry, entry_start_wall,
                                entry_end_wall, entry_start_mono, entry_end_mono);
    if (shell.ok())
      gt->insert(gt->begin(), std::move(*shell));
    else
      out.notes.push_back("entry shell: " + shell.error().message);
  }
  ObserverBinding in;
  in.label =
      "sandwatch-sensor sidecar in its own runc container, sharing the workload's PID namespace";
  if (auto st = EndCell(lab, c, in, capture, false, {"runc"}, std::move(gt), app_hex.substr(0, 12));
      !st.ok()) {
    return c.Fail("ground truth: " + st.error().message);
  }
  if (attack_rc != 0) {
    out.error = "attack-sim in the container: exit " + std::to_string(attack_rc) + " " +
                ReadText(dir + "/attack.log").substr(0, 300) + " " +
                ReadText(dir + "/attack.out").substr(0, 300);
    out.ok = false;
  } else {
    out.ok = !out.ground_truth.empty();
    if (!out.ok) out.error = "attack-sim wrote no ground truth";
  }
  out.notes.push_back("runc " + lab.env["runc_version"] +
                      ", rootfs debootstrap minbase bookworm (overlay per cell), cgroups " +
                      pod_cgroup + "/<container id> (kubelet layout)");
  out.notes.push_back(entry.note);
  return out;
}

}  // namespace

const Runtime& RuncRuntime() {
  static const Runtime runtime{"runc", "runc-app", RunRuncCell};
  return runtime;
}

}  // namespace sandwatch::harness::local
