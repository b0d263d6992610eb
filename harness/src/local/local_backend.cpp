// The local backend: runs cells on this machine. Runtimes: host, runc, and a qemu/TCG
// LOCAL STAND-IN for kata-qemu. Observers: in-guest (a sensor beside the workload),
// host-view (a node sensor on the host, where host Falco stands), falco (when installed).
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "local/lab.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/falco.h"
#include "sandwatch/harness/progress.h"
#include "sandwatch/harness/receiver_client.h"

namespace sandwatch::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

class LocalBackend : public Backend {
 public:
  explicit LocalBackend(CommandRunner& runner) : runner_(runner) {}
  std::string_view Name() const override { return "local"; }

  std::vector<DoctorCheck> Doctor(const std::vector<std::string>& runtimes) override {
    return local::LocalDoctor(runner_, runtimes, ResolveBinDir(""));
  }

  Status Prepare(RunContext& ctx) override {
    lab_.ctx = &ctx;
    lab_.runner = &runner_;
    lab_.paths = local::ResolveLabPaths();
    lab_.root = geteuid() == 0;
    lab_.started_wall_ns = ctx.clock->WallNs();
    const Scenario& s = *ctx.scenario;
    auto has = [&](const std::vector<std::string>& v, const char* x) {
      return std::find(v.begin(), v.end(), x) != v.end();
    };
    bool runc = has(s.runtimes, "runc"), vm = has(s.runtimes, "kata-qemu");
    if ((runc || vm) && !lab_.root) {
      return MakeError("the runc and kata-qemu runtimes need root (try: sudo, or --runtimes host)");
    }
    for (const char* b : {"sandwatch-sensor", "sandwatch-receiver", "sandwatch-attack-sim"}) {
      if (!fs::exists(ctx.tools.Path(b))) {
        return MakeError(ctx.tools.Path(b) + " is missing: build it, or pass --bin-dir");
      }
    }
    // A fixed port lets a real Falco's http_output reach this run's receiver
    // (falco.yaml: http_output.url: http://127.0.0.1:PORT/falco).
    Result<int> port = PickFreeLoopbackPort();
    if (const char* fixed = std::getenv("SANDWATCH_LAB_RECEIVER_PORT");
        fixed != nullptr && *fixed) {
      int p = std::atoi(fixed);
      if (p < 1 || p > 65535)
        return MakeError("SANDWATCH_LAB_RECEIVER_PORT: not a port: " + std::string(fixed), 2);
      port = p;
    }
    if (!port.ok()) return port.error();
    lab_.receiver_port = *port;
    lab_.receiver_url = "http://127.0.0.1:" + std::to_string(*port);
    // An installed Falco posts to http://127.0.0.1:PORT/falco/TOKEN with a token it knows.
    const char* falco_token = std::getenv("SANDWATCH_LAB_FALCO_TOKEN");
    if (falco_token != nullptr && *falco_token && std::strlen(falco_token) < 16) {
      return MakeError("SANDWATCH_LAB_FALCO_TOKEN: at least 16 characters of A-Z a-z 0-9 - . _ ~",
                       2);
    }
    auto creds = local::WriteLabCredentials(ctx.work_dir + "/credentials",
                                            falco_token != nullptr ? falco_token : "");
    if (!creds.ok()) return creds.error();
    lab_.credentials = *creds;
    lab_.env["receiver_auth"] = "per-sensor credentials (--sensor-tokens)";
    auto recv = runner_.Start(
        Bg({ctx.tools.Path("sandwatch-receiver"), "--listen", "127.0.0.1:" + std::to_string(*port),
            "--db", ctx.work_dir + "/receiver.db", "--sensor-tokens", creds->sensor_tokens},
           "", ctx.work_dir + "/receiver.log"));
    if (!recv.ok()) return recv.error();
    receiver_ = std::move(*recv);
    ctx.cleanup->Add("receiver", [this] { receiver_.reset(); });
    ReceiverClient client(lab_.receiver_url);
    if (!local::PollUntil(10, 100ms, [&] { return client.Healthy(); }))
      return MakeError("the receiver did not come up (see " + ctx.work_dir + "/receiver.log)");

    if (runc || vm) {
      if (auto st = local::PrepareRunc(lab_); !st.ok()) return st;
      lab_.sw_dir = ctx.work_dir + "/sw";
      if (auto st = local::StageBinaries(lab_, lab_.paths.rootfs, lab_.sw_dir); !st.ok()) return st;
      lab_.env["rootfs"] =
          lab_.paths.rootfs + " (" +
          local::FirstLine(local::ReadText(lab_.paths.rootfs + "/.sandwatch-rootfs")) + ")";
    }
    if (runc) {
      lab_.env["runc_version"] = local::VersionLine(runner_, "runc");
    }
    if (vm) {
      if (auto st = local::PrepareQemu(lab_); !st.ok()) return st;
      lab_.env["qemu_version"] = local::VersionLine(runner_, "qemu-system-x86_64");
      lab_.env["stand_in.kata-qemu"] =
          "LOCAL STAND-IN: qemu-system-x86_64 -accel tcg booting Debian's kernel, workload and "
          "sensor inside the guest. Same isolation boundary as Kata (a separate guest kernel); not "
          "Kata.";
    }
    // Falco before the host view, so it is ready before any observer starts.
    if (auto st = local::PrepareFalco(lab_, falco_); !st.ok()) return st;
    if (has(s.observers, "host-view")) {
      ctx.progress->Note("starting the host-view sensor (--mode node on the host)");
      std::vector<std::string> argv =
          local::SensorArgs(s, lab_.receiver_url, "host-view", "node", s.sensor.host_view_capture,
                            local::LabTokenFile(lab_.credentials, "host-view"));
      argv.insert(argv.begin(), ctx.tools.Path("sandwatch-sensor"));
      // One host-view sensor watches the whole run (and the whole machine): without this,
      // its 300 s dedup would hide a cell's events behind an earlier cell's (or anyone's).
      argv.insert(argv.end(), {"--dedup-window", "0"});
      auto hv = runner_.Start(Bg(argv, "", ctx.work_dir + "/host-view.log"));
      if (!hv.ok()) return hv.error();
      host_view_ = std::move(*hv);
      ctx.cleanup->Add("host-view sensor", [this] { host_view_.reset(); });
      if (!local::WaitForSensor(lab_.receiver_url, "host-view", 30)) {
        return MakeError("the host-view sensor never reported (see " + ctx.work_dir +
                         "/host-view.log)");
      }
      lab_.host_view_capture = local::SensorCapture(lab_.receiver_url, "host-view");
      lab_.env["host_view_capture_active"] = lab_.host_view_capture;
      lab_.env["stand_in.host-view"] =
          "sandwatch-sensor --mode node on the host, standing where host Falco stands";
      // Let its first scan establish the baseline before any chain runs.
      local::SleepInterruptibly(std::max(1.0, s.sensor.poll_interval_s));
    }
    return OkStatus();
  }

  std::string ReceiverUrl() const override { return lab_.receiver_url; }

  Result<CellOutcome> RunCell(RunContext&, const Cell& cell) override {
    static constexpr std::array<local::Runtime, 3> kRuntimes = {
        {{"host", "host-app", local::RunHostCell},
         {"runc", "runc-app", local::RunRuncCell},
         {"kata-qemu", "kata-app", local::RunQemuCell}}};
    for (const local::Runtime& rt : kRuntimes) {
      if (rt.name != cell.runtime) continue;
      local::CellRun c = local::BeginCell(lab_, cell, rt);
      return rt.run(lab_, c);
    }
    return MakeError("local backend: unknown runtime " + cell.runtime);
  }

  std::map<std::string, std::string> Environment() override { return lab_.env; }

  void Finish(RunContext& ctx) override {
    // What each run-wide observer cost, read while it still runs (same run, same load).
    if (host_view_)
      local::RecordCost(lab_, "host-view", "", host_view_->Pid(), lab_.started_wall_ns);
    if (falco_.Running()) local::RecordCost(lab_, "falco", "", falco_.Pid(), lab_.started_wall_ns);
    if (host_view_) host_view_->Stop(5000ms);
    falco_.Stop();
    if (!lab_.costs.empty()) {
      (void)WriteFileAtomic(ctx.out_dir + "/observer-cost.json", lab_.costs.dump(2) + "\n");
    }
  }

 private:
  CommandRunner& runner_;
  local::Lab lab_;
  std::unique_ptr<ProcessHandle> receiver_;
  std::unique_ptr<ProcessHandle> host_view_;
  FalcoService falco_;
};

}  // namespace

namespace local {

CellOutcome CellRun::Fail(const std::string& why) {
  out.ok = false;
  out.error = why;
  out.end_wall_ns = clock.WallNs();
  return out;
}

CellRun BeginCell(Lab& lab, const Cell& cell, const Runtime& runtime) {
  CellRun c{{},
            lab.ctx->work_dir + "/" + cell.Id(),
            std::string(runtime.pod_prefix) + "-" + std::to_string(cell.index),
            *lab.ctx->clock,
            *lab.ctx->scenario,
            *lab.runner};
  c.out.cell = cell;
  c.out.start_wall_ns = c.clock.WallNs();
  fs::create_directories(c.dir);
  return c;
}

std::optional<int> WaitForExit(ProcessHandle& p, double timeout_s, std::chrono::milliseconds stop) {
  if (PollUntil(timeout_s, 100ms, [&p] { return !p.Running(); })) return p.Wait(0ms).value_or(-1);
  if (!Interrupted()) p.Stop(stop);
  return std::nullopt;
}

}  // namespace local

void RegisterLocalBackend(BackendRegistry& reg) {
  reg.Register("local", [](CommandRunner& r) { return std::make_unique<LocalBackend>(r); });
}

}  // namespace sandwatch::harness
