// The runc runtime: a real runc container from the cached debootstrap rootfs (an
// overlay per cell, so the rootfs stays clean), and a sensor sidecar container that
// joins the workload's PID namespace (as shareProcessNamespace does). Both use the
// host's network namespace, so the receiver and the listener are on 127.0.0.1.
#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "local/lab.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/progress.h"

namespace sandwatch::harness::local {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Where the sidecar finds its receiver token: the one file bind-mounted into it alone, as a
// pod's Secret volume is mounted into one container.
constexpr const char* kSidecarTokenPath = "/run/secrets/sandwatch/sensor.token";

// One container's OCI config: harness/lab/oci-config.json (a containerd default's
// capabilities, mounts and masked paths; /sw our binaries read-only, /sw-out the cell's
// share) with its rootfs, command, cgroup and, for a sidecar, the PID namespace it joins
// and its token file (`token_file`, mounted read-only at kSidecarTokenPath).
Result<json> OciConfig(const Lab& lab, const std::string& root,
                       const std::vector<std::string>& args, const std::string& pid_ns_path,
                       const std::string& share, bool ptrace, const std::string& cgroups_path,
                       const std::string& token_file = "") {
  const std::string path = lab.paths.lab_scripts + "/oci-config.json";
  json c = json::parse(ReadText(path), nullptr, false);
  if (!c.is_object()) return MakeError(path + ": not a JSON object");
  c["root"]["path"] = root;
  c["process"]["args"] = args;
  for (auto& set : c["process"]["capabilities"]) {
    if (ptrace) set.push_back("CAP_SYS_PTRACE");
  }
  if (!pid_ns_path.empty()) c["linux"]["namespaces"][0]["path"] = pid_ns_path;
  c["linux"]["cgroupsPath"] = cgroups_path;
  for (auto& m : c["mounts"]) {
    if (m["destination"] == "/sw") m["source"] = lab.sw_dir;
    if (m["destination"] == "/sw-out") m["source"] = share;
  }
  if (!token_file.empty()) {
    c["mounts"].push_back({{"destination", kSidecarTokenPath},
                           {"type", "bind"},
                           {"source", token_file},
                           {"options", {"bind", "ro"}}});
  }
  return c;
}

// `mount ARGS... TARGET` (TARGET created), undone (umount -l) by `cleanup`.
Status MountUndone(CommandRunner& r, CleanupRegistry& cleanup, std::vector<std::string> args,
                   const std::string& target, const std::string& what) {
  fs::create_directories(target);
  args.insert(args.begin(), "mount");
  args.push_back(target);
  auto m = r.Run(Cmd(args));
  if (!m.ok() || !m->ok()) return MakeError(what + ": " + (m.ok() ? m->err : m.error().message));
  cleanup.Add("umount " + target, [&r, target] { (void)r.Run(Cmd({"umount", "-l", target})); });
  return OkStatus();
}

// An overlay of the cached rootfs on a tmpfs, so nothing a cell does reaches the cache.
Result<std::string> MountOverlay(Lab& lab, CleanupRegistry& cleanup, const std::string& dir) {
  CommandRunner& r = *lab.runner;
  Status st = MountUndone(r, cleanup, {"-t", "tmpfs", "-o", "size=1g", "tmpfs"}, dir + "/tmpfs",
                          "mount tmpfs " + dir + "/tmpfs");
  if (st.ok()) {
    fs::create_directories(dir + "/tmpfs/upper");
    fs::create_directories(dir + "/tmpfs/work");
    const std::string opts = "lowerdir=" + lab.paths.rootfs + ",upperdir=" + dir +
                             "/tmpfs/upper,workdir=" + dir + "/tmpfs/work";
    st = MountUndone(r, cleanup, {"-t", "overlay", "overlay", "-o", opts}, dir + "/merged",
                     "mount overlay");
  }
  if (!st.ok()) return st.error();
  return fs::canonical(dir + "/merged").string();
}

// Writes BUNDLE/config.json and runs the container detached (its pid in BUNDLE/pid);
// `cleanup` deletes it.
Status StartContainer(Lab& lab, CleanupRegistry& cleanup, const std::string& bundle,
                      const std::string& id, const Result<json>& config) {
  CommandRunner& r = *lab.runner;
  if (!config.ok()) return config.error();
  fs::create_directories(bundle);
  if (auto st = WriteFileAtomic(bundle + "/config.json", config->dump(2)); !st.ok()) return st;
  cleanup.Add("runc delete -f " + id, [&r, id] {
    (void)r.Run(Cmd({"runc", "delete", "-f", id}, 20s));
  });
  auto res = r.Run(
      Cmd({"runc", "run", "--detach", "--bundle", bundle, "--pid-file", bundle + "/pid", id}, 60s));
  if (!res.ok()) return res.error();
  if (!res->ok()) return MakeError("runc run " + id + " failed: " + res->err);
  return OkStatus();
}

// A container id as containerd makes them (64 hex digits: two UUIDs without their dashes).
std::string ContainerHexId() {
  std::string id = NewUuid() + NewUuid();
  std::erase(id, '-');
  return id;
}

// The chain's entry shell, as `kubectl exec -it POD -- /bin/bash` makes it: a bash on a
// terminal whose parent is the container runtime (`runc exec -t CONTAINER bash -c CHAIN`
// under script(1)). Falco's "Terminal shell in container" (container_entrypoint) depends on
// exactly that.
struct EntryShell {
  std::vector<std::string> argv;  // what the harness runs on the host
  bool tty = false;               // runc exec -t (false: script(1) is missing)
  std::string note;
  // Its ground-truth line (step `entry-shell`, signal unexpected_shell, the shell's own argv
  // in the container); the cell adds the times around runc exec, EntryShellStep the pid.
  GroundTruthStep step;
};
EntryShell RuncEntryShell(CommandRunner& runner, const std::string& container,
                          const std::vector<std::string>& env,
                          const std::vector<std::string>& chain_argv, const std::string& pid_file) {
  EntryShell e;
  // The shell writes its own pid (in the container's PID namespace) for the ground truth,
  // then runs the chain as a command typed at it would run, and exits with its status.
  std::string script =
      "echo $$ > " + RenderCommand({pid_file}) + "; " + RenderCommand(chain_argv) + "; exit $?";
  e.step.step = "entry-shell";
  e.step.signal = "unexpected_shell";
  e.step.signals = {e.step.signal};
  e.step.variant = "runtime-exec";
  e.step.command = {"/bin/bash", "--noprofile", "--norc", "-c", script};
  std::vector<std::string> exec = {"runc", "exec"};
  // runc exec -t needs a controlling terminal of its own (it opens /dev/tty): script(1)
  // gives it one, as kubectl's terminal does.
  e.tty = !runner.Which("script").empty();
  if (e.tty) exec.emplace_back("-t");
  for (const auto& v : env) exec.insert(exec.end(), {"--env", v});
  exec.push_back(container);
  exec.insert(exec.end(), e.step.command.begin(), e.step.command.end());
  if (e.tty) {
    e.argv = {"script", "-q", "-e", "-c", RenderCommand(exec), "/dev/null"};
    e.note = "entry shell: runc exec -t bash (on a terminal, parent runc), as kubectl exec -it";
  } else {
    e.argv = exec;
    e.note =
        "entry shell: runc exec bash WITHOUT a terminal (script(1) is missing), as "
        "kubectl exec without -t";
  }
  e.step.note = e.note + " (recorded by the harness: start and end bracket runc exec)";
  return e;
}

// The entry shell's ground-truth line `g`, timed, with the pid the shell wrote.
Result<GroundTruthStep> EntryShellStep(const std::string& pid_text, GroundTruthStep g) {
  auto r = std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), g.pid);
  if (r.ec != std::errc() || g.pid <= 0) return MakeError("the entry shell wrote no pid");
  g.hold_ms = static_cast<double>(g.end_mono_ns - g.start_mono_ns) / 1e6;
  return g;
}

// The kubelet/containerd cgroup layout (cgroupfs driver): .../pod<uid>/<container id>, which
// Falco recognises as a container, as on a node. Removes the pod's cgroup dirs at the end.
std::string PodCgroups(Lab& lab, CleanupRegistry& cleanup) {
  std::string dir = "/kubepods/besteffort/pod" + NewUuid();
  CommandRunner& r = *lab.runner;
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

Result<CellOutcome> RunRuncCell(Lab& lab, CellRun& c) {
  auto& [out, dir, pod, clock, s, r] = c;
  const Cell& cell = out.cell;
  std::string share = dir + "/share";
  fs::create_directories(share);
  std::string base_id = "sw-" + std::to_string(getpid()) + "-" + std::to_string(cell.index);

  // Everything this cell creates is undone when the cell ends, however it ends.
  CleanupRegistry cleanup;
  const std::string pod_cgroup = PodCgroups(lab, cleanup);
  const std::string app_hex = ContainerHexId(), sensor_hex = ContainerHexId();
  auto app_root = MountOverlay(lab, cleanup, dir + "/app");
  if (!app_root.ok()) return c.Fail(app_root.error().message);
  if (auto st = WritePackageDelayHook(s, *app_root, out); !st.ok()) {
    return c.Fail(st.error().message);
  }
  auto sensor_root = MountOverlay(lab, cleanup, dir + "/sensor");
  if (!sensor_root.ok()) return c.Fail(sensor_root.error().message);
  // The workload: pid 1 sleeps; attack-sim arrives through `runc exec`, like kubectl exec.
  lab.ctx->progress->Note("starting the runc workload container");
  if (auto st = StartContainer(lab, cleanup, dir + "/app/bundle", base_id + "-app",
                               OciConfig(lab, *app_root, {"/bin/sleep", "infinity"}, "", share,
                                         false, pod_cgroup + "/" + app_hex));
      !st.ok()) {
    return c.Fail(st.error().message);
  }
  const int app_pid = std::atoi(ReadText(dir + "/app/bundle/pid").c_str());
  if (app_pid <= 0) return c.Fail("runc gave no pid for the workload container");
  // The sidecar joins the workload's PID namespace.
  std::vector<std::string> sensor_cmd =
      SensorArgs(s, lab.receiver_url, pod, s.sensor.mode, s.sensor.capture, kSidecarTokenPath);
  sensor_cmd.insert(sensor_cmd.begin(), "/sw/bin/sandwatch-sensor");
  lab.ctx->progress->Note("starting the sensor sidecar (shared PID namespace)");
  if (auto st = StartContainer(
          lab, cleanup, dir + "/sensor/bundle", base_id + "-sensor",
          OciConfig(lab, *sensor_root, sensor_cmd, "/proc/" + std::to_string(app_pid) + "/ns/pid",
                    share, true, pod_cgroup + "/" + sensor_hex,
                    LabTokenFile(lab.credentials, "runc-app")));
      !st.ok()) {
    return c.Fail(st.error().message);
  }
  if (!WaitForSensor(lab.receiver_url, pod, s.timeouts.boot_s)) {
    return c.Fail("the sidecar sensor never reported (no heartbeat from pod " + pod + ")");
  }
  if (!SleepInterruptibly(std::max(1.0, s.sensor.poll_interval_s) + 0.5))
    return MakeError("interrupted");

  std::unique_ptr<ProcessHandle> listener;
  auto port = StartListener(lab, c, s.timeouts.cell_s, &listener);
  if (!port.ok()) return c.Fail(port.error().message);
  std::vector<std::string> attack_argv =
      AttackRunArgs(s, cell, "127.0.0.1:" + std::to_string(*port), s.attack.package_install,
                    "/sw-out/gt.jsonl", false, true);
  attack_argv.insert(attack_argv.begin(), {"/sw/bin/sandwatch-attack-sim", "run"});
  // As `kubectl exec -it`: a bash on a terminal, started by the runtime, runs the chain.
  EntryShell entry = RuncEntryShell(r, base_id + "-app", {"LD_LIBRARY_PATH=/sw/lib"}, attack_argv,
                                    "/sw-out/entry-shell.pid");
  lab.ctx->progress->Note(entry.tty ? "chain running in the runc container (runc exec -t bash)"
                                    : "chain running in the runc container (runc exec bash)");
  entry.step.start_wall_ns = clock.WallNs();
  entry.step.start_mono_ns = clock.MonoNs();
  auto attack = r.Start(Bg(entry.argv, dir + "/attack.out", dir + "/attack.log"));
  if (!attack.ok()) return c.Fail(attack.error().message);
  const std::optional<int> attack_rc = WaitForExit(**attack, s.timeouts.cell_s, 2000ms);
  // Interrupted or not, the cleanup registry undoes the cell.
  if (!attack_rc && Interrupted()) return MakeError("interrupted");
  if (!attack_rc) return c.Fail("the chain did not finish within timeouts.cell");
  if (!SleepInterruptibly(s.SettleSeconds())) return MakeError("interrupted");
  RecordCost(lab, "in-guest", cell.Id(), std::atoi(ReadText(dir + "/sensor/bundle/pid").c_str()),
             out.start_wall_ns);
  (void)r.Run(Cmd({"runc", "kill", base_id + "-sensor", "TERM"}, 10s));
  listener->Stop(2000ms);
  entry.step.end_wall_ns = clock.WallNs();
  entry.step.end_mono_ns = clock.MonoNs();
  ObserverBinding in;
  in.label =
      "sandwatch-sensor sidecar in its own runc container, sharing the workload's PID namespace";
  if (auto st = EndCell(lab, c, in, false, {"runc"}, share + "/gt.jsonl", app_hex.substr(0, 12));
      !st.ok()) {
    return c.Fail("ground truth: " + st.error().message);
  }
  auto shell = EntryShellStep(ReadText(share + "/entry-shell.pid"), entry.step);
  if (shell.ok())
    out.ground_truth.insert(out.ground_truth.begin(), std::move(*shell));
  else
    out.notes.push_back("entry shell: " + shell.error().message);
  if (*attack_rc != 0) {
    out.error = "attack-sim in the container: exit " + std::to_string(*attack_rc) + " " +
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

}  // namespace sandwatch::harness::local
