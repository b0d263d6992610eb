// `run`: plays the chain, repeat by repeat, and writes one ground-truth line per step.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "sandwatch/attack_sim/benign.h"
#include "sandwatch/attack_sim/catalog.h"
#include "sandwatch/attack_sim/chain_record.h"
#include "sandwatch/attack_sim/interrupt.h"
#include "sandwatch/attack_sim/launcher.h"
#include "sandwatch/attack_sim/listener.h"
#include "sandwatch/attack_sim/packages.h"
#include "sandwatch/attack_sim/run.h"
#include "sandwatch/attack_sim/spawn.h"
#include "sandwatch/attack_sim/truth_sink.h"
#include "sandwatch/attack_sim/workload_files.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "sandwatch/core/signals.h"

namespace sandwatch::attacksim {
namespace {

constexpr const char* kComponent = "attack-sim";

void SleepMs(double ms) { SleepInterruptibly(ms); }

class ChainRun {
 public:
  ChainRun(const ChainConfig& cfg, TruthSink* sink, const Clock& clock)
      : cfg_(cfg), clock_(clock), sink_(sink), listener_(clock), rec_(cfg, sink, clock) {}

  int Execute() {
    if (!Prepare()) return 1;
    const int64_t t0 = clock_.MonoNs();
    for (int r = 0; r < cfg_.repeat && !Interrupted(); ++r) {
      if (r > 0) SleepMs(cfg_.timing.at(cfg_.steps.back()).gap_ms);  // the pause after a step
      RunOnce(r);
    }
    Cleanup();
    SW_LOG(kInfo, kComponent, "done", {"run_id", cfg_.run_id}, {"ran", std::to_string(rec_.ran())},
           {"skipped", std::to_string(rec_.skipped())},
           {"seconds", FormatMs(static_cast<double>(clock_.MonoNs() - t0) / 1e9)},
           {"failed", rec_.failed() ? "true" : "false"});
    if (Interrupted()) {
      SW_LOG(kWarn, kComponent, "interrupted: stopped early (cleanup ran if asked)");
      return 130;
    }
    return rec_.failed() ? 1 : 0;
  }

 private:
  bool Has(const std::string& step) const {
    for (const auto& s : cfg_.steps) {
      if (s == step) return true;
    }
    return false;
  }

  bool Prepare() {
    if (cfg_.mix_benign) {
      benign_ = std::make_unique<BenignPlayer>(cfg_.run_id, cfg_.speed, cfg_.drop_dir, clock_);
      if (auto st = benign_->Prepare(); !st.ok()) {
        SW_LOG(kError, kComponent, "benign steps cannot start", {"error", st.error().message});
        return false;
      }
    }
    if (Has("package-install") && cfg_.package_mode != PackageMode::kSimulate) {
      auto snap = SnapshotPackages();
      if (snap.ok()) {
        before_ = *snap;
      } else {
        SW_LOG(kWarn, kComponent, "no dpkg package state; cleanup cannot undo installs",
               {"error", snap.error().message});
      }
    }
    if (Has("reverse-shell") && cfg_.in_process_listener) {
      auto port = listener_.Start("127.0.0.1", 0);
      if (!port.ok()) {
        SW_LOG(kError, kComponent, "listener failed", {"error", port.error().message});
        return false;
      }
      target_ = {"127.0.0.1", *port};
    } else {
      target_ = cfg_.target;
    }
    return true;
  }

  std::string ResolveVariant(const std::string& step) const {
    std::string v = cfg_.variants.at(step);
    if (v == "auto") v = DefaultVariant(step, cfg_.speed, cfg_.package_mode);
    if (step == "new-binary" && v == "auto") {
      v = installed_by_us_ && cfg_.package == "ncat" ? "ncat" : "dropped";
    }
    return v;
  }

  void RunOnce(int repeat) {
    std::unique_ptr<Launcher> launcher;
    ShellSession* shell = nullptr;
    const bool have_bash = FindOnPath("bash").ok();
    if (Has("shell") && !have_bash) {
      // Not faked: the shell step is reported skipped and the steps run as our children.
      GroundTruthStep g = rec_.Base(repeat, "shell", "bash");
      g.signal = std::string(signals::kUnexpectedShell);
      g.signals = {g.signal};
      g.command = {"/bin/bash", "--noprofile", "--norc", "-i"};
      rec_.MarkSkippedNow(&g, -1);
      g.requested_hold_ms = cfg_.timing.at("shell").hold_ms;
      g.note =
          "skipped: bash is not installed here (not on PATH); later steps are direct "
          "children of attack-sim";
      rec_.Emit(g);
    }
    if (Has("shell") && have_bash) {
      auto session = std::make_unique<ShellSession>(clock_);
      if (auto st = session->Start({}, cfg_.shell_tty == "pty"); !st.ok()) {
        SW_LOG(kError, kComponent, "shell failed", {"error", st.error().message});
        rec_.Fail();
        return;
      }
      shell = session.get();
      launcher = std::move(session);
      SleepMs(cfg_.timing.at("shell").gap_ms);
    } else {
      launcher = std::make_unique<DirectLauncher>(clock_);
    }
    for (const auto& step : cfg_.steps) {
      if (step == "shell" || Interrupted()) continue;
      RunStep(repeat, step, launcher.get());
      if (benign_ && !Interrupted())
        EmitBenign(sink_, benign_->RunNext(repeat), rec_.failed_flag());
      if (step != cfg_.steps.back()) SleepMs(cfg_.timing.at(step).gap_ms);
    }
    if (shell != nullptr) FinishShell(repeat, shell);
  }

  void FinishShell(int repeat, ShellSession* shell) {
    const double hold = cfg_.timing.at("shell").hold_ms;
    GroundTruthStep g = rec_.Base(repeat, "shell", "bash");
    g.signal = std::string(signals::kUnexpectedShell);
    g.signals = {g.signal};
    g.command = shell->argv();
    g.requested_hold_ms = hold;
    // The shell lives at least its hold (a person idling at the prompt), then `exit`.
    double lived_ms = static_cast<double>(clock_.MonoNs() - shell->start_mono_ns()) / 1e6;
    SleepMs(hold - lived_ms);
    auto done = shell->Finish();
    if (!done.ok()) {
      rec_.Fail();
      return;
    }
    ChainRecorder::Fill(&g, *done);
    if (done->killed_at_timeout) AddNote(&g.note, "bash ignored exit and was killed");
    AddNote(&g.note,
            shell->has_tty()
                ? "interactive bash on a pty; parent of every later step"
                : "bash on pipes (no pty, as kubectl exec without -t); parent of later steps");
    rec_.Emit(g);
  }

  void RunStep(int repeat, const std::string& step, Launcher* launcher);
  void EmitListener(int repeat, const std::string& variant, const Result<ListenCapture>& capture);
  void Cleanup();

  const ChainConfig& cfg_;
  const Clock& clock_;
  TruthSink* sink_;
  Listener listener_;
  ChainRecorder rec_;
  Target target_;
  std::optional<PackageStates> before_;
  std::unique_ptr<BenignPlayer> benign_;  // --mix-benign
  bool installed_by_us_ = false;
  std::vector<std::string> dropped_;
};

void ChainRun::RunStep(int repeat, const std::string& step, Launcher* launcher) {
  const std::string variant = ResolveVariant(step);
  const double hold = cfg_.timing.at(step).hold_ms;
  GroundTruthStep g = rec_.Base(repeat, step, variant);
  const VariantInfo* info = FindVariant(step, variant);
  std::string reason = info != nullptr ? UnavailableReason(*info) : "unknown variant";

  CommandContext ctx;
  ctx.speed = cfg_.speed;
  ctx.hold_ms = hold;
  ctx.have_tty = launcher->has_tty();
  ctx.target_host = target_.host;
  ctx.target_port = target_.port;
  ctx.package_mode = cfg_.package_mode;
  ctx.package = cfg_.package;
  ctx.package_installed_by_us = installed_by_us_ && cfg_.package == "ncat";
  if (step == "package-install" && reason.empty() &&
      (cfg_.package_mode == PackageMode::kStaged || variant == "dpkg")) {
    auto deb = FindStagedDeb(cfg_.package, cfg_.deb);
    if (deb.ok()) {
      ctx.deb = *deb;
    } else {
      reason = deb.error().message;
    }
  }
  if (step == "new-binary" && reason.empty()) {
    if (variant == "ncat") {
      ctx.unix_socket_path = cfg_.drop_dir + "/sw-ncat-" + cfg_.run_id.substr(0, 8) + "-" +
                             std::to_string(repeat) + ".sock";
      dropped_.push_back(ctx.unix_socket_path);
    } else {
      auto path = DropFile(cfg_.drop_dir, variant == "script");
      if (path.ok()) {
        ctx.dropped_path = *path;
        dropped_.push_back(*path);
      } else {
        reason = path.error().message;
      }
    }
  }
  auto cmd = BuildCommand(step, variant, ctx);
  if (!cmd.ok()) reason = cmd.error().message;
  if (cmd.ok()) {
    g.signals = cmd->signals;
    g.command = cmd->argv;
    g.note = cmd->note;
  }
  if (!g.signals.empty()) g.signal = g.signals.front();
  if (!reason.empty()) {
    g.requested_hold_ms = hold;
    rec_.MarkSkippedNow(&g, -1);
    AddNote(&g.note, "skipped: " + reason);
    rec_.Emit(g);
    return;
  }
  const bool listen_here = step == "reverse-shell" && cfg_.in_process_listener;
  g.requested_hold_ms = cmd->held || listen_here ? hold : 0;
  if (step == "reverse-shell" && !listen_here) {
    AddNote(&g.note, "lives until the external listener sends exit (listen --speed/--linger-ms)");
  } else if (!cmd->held && !listen_here && hold > 0) {
    AddNote(&g.note, "runs to completion (no hold)");
  }
  if (step == "package-install" && cfg_.package_mode != PackageMode::kSimulate &&
      !WaitForDpkgLock(120)) {
    AddNote(&g.note, "another dpkg/apt held the lock for 120 s");
  }
  SW_LOG(kInfo, kComponent, "step start", {"repeat", std::to_string(repeat)}, {"step", step},
         {"variant", variant}, {"hold_ms", FormatMs(g.requested_hold_ms)},
         {"held", cmd->held ? "true" : "false"});
  std::optional<Result<ListenCapture>> capture;
  std::thread accept_thread;
  if (listen_here) {
    listener_.ResetCancel();
    accept_thread = std::thread([this, hold, &capture] {
      capture.emplace(listener_.AcceptOne("id; uname -a", hold, cfg_.listener_timeout_s * 1000));
    });
  }
  auto launched = launcher->Launch(*cmd, hold);
  listener_.CancelAccept();  // the step is over: do not wait for a connection that cannot come
  if (accept_thread.joinable()) accept_thread.join();
  if (!launched.ok()) {
    rec_.Fail();
    g.status = "skipped";
    g.exit_code = -1;
    g.start_wall_ns = clock_.WallNs();
    AddNote(&g.note, "skipped: could not start: " + launched.error().message);
    rec_.Emit(g);
    return;
  }
  ChainRecorder::Fill(&g, *launched);
  rec_.Emit(g);
  if (step == "package-install" && before_.has_value()) {
    auto after = SnapshotPackages();
    if (after.ok()) {
      for (const auto& name : NewlyInstalled(*before_, *after)) {
        if (name == cfg_.package) installed_by_us_ = true;
      }
    }
  }
  if (listen_here) EmitListener(repeat, variant, *capture);
}

void ChainRun::EmitListener(int repeat, const std::string& variant,
                            const Result<ListenCapture>& capture) {
  GroundTruthStep l = rec_.Base(repeat, "listener", variant);
  l.pid = getpid();
  l.command = {"listen", "127.0.0.1:" + std::to_string(target_.port)};
  if (!capture.ok()) {
    rec_.Fail();
    rec_.MarkSkippedNow(&l, 1);
    l.note = "no reverse shell arrived: " + capture.error().message;
    rec_.Emit(l);
    return;
  }
  l.start_wall_ns = capture->start_wall_ns;
  l.start_mono_ns = capture->start_mono_ns;
  l.end_wall_ns = capture->end_wall_ns;
  l.end_mono_ns = capture->end_mono_ns;
  l.hold_ms = static_cast<double>(l.end_mono_ns - l.start_mono_ns) / 1e6;
  l.note = capture->output;
  l.exit_code = capture->output.find("uid=") != std::string::npos ? 0 : 1;
  if (l.exit_code != 0) rec_.Fail();
  rec_.Emit(l);
}

void ChainRun::Cleanup() {
  if (benign_) benign_->Cleanup();
  std::vector<std::string> left;
  if (before_.has_value()) {
    auto after = SnapshotPackages();
    std::vector<std::string> added =
        after.ok() ? NewlyInstalled(*before_, *after) : std::vector<std::string>{};
    if (!added.empty() && cfg_.cleanup) {
      (void)WaitForDpkgLock(120);
      StepCommand purge;
      purge.argv = {"dpkg", "--purge"};
      purge.argv.insert(purge.argv.end(), added.begin(), added.end());
      purge.signals = {std::string(signals::kPackageManagerExecution)};
      purge.timeout_ms = 600'000;
      GroundTruthStep g = rec_.Base(cfg_.repeat - 1, "cleanup", "dpkg");
      g.signals = purge.signals;
      g.signal = g.signals.front();
      g.command = purge.argv;
      DirectLauncher direct(clock_);
      auto r = direct.Launch(purge, 0);
      if (r.ok()) {
        ChainRecorder::Fill(&g, *r);
        AddNote(&g.note, "undoes this run's install");
        rec_.Emit(g);
      }
      if (!r.ok() || r->exit_code != 0) rec_.Fail();
    } else {
      left = added;
    }
  }
  for (const auto& path : dropped_) {
    if (access(path.c_str(), F_OK) != 0) continue;
    if (cfg_.cleanup) {
      unlink(path.c_str());
    } else {
      left.push_back(path);
    }
  }
  for (const auto& item : left) {
    SW_LOG(kWarn, kComponent, "left behind (pass --cleanup to undo)", {"item", item});
  }
}

}  // namespace

int RunChain(const ChainConfig& config, const Clock& clock) {
  auto sink = TruthSink::Open(config.ground_truth);
  if (!sink.ok()) {
    std::cerr << "sandwatch-attack-sim: " << sink.error().message << "\n";
    return 2;
  }
  SW_LOG(kInfo, kComponent, "run", {"run_id", config.run_id}, {"speed", config.speed},
         {"repeat", std::to_string(config.repeat)});
  InstallInterruptHandlers();
  if (config.chain == "benign") return RunBenignSoak(config, sink->get(), clock);
  ChainRun run(config, sink->get(), clock);
  return run.Execute();
}

}  // namespace sandwatch::attacksim
