#include "sandwatch/attack_sim/cli.h"

#include <iostream>

#include "sandwatch/core/cli.h"
#include "sandwatch/core/log.h"

namespace sandwatch::attacksim {

namespace {

constexpr const char* kRunFooter = R"(Examples:
  sandwatch-attack-sim --list
  sandwatch-attack-sim run --speed fast --package-install staged --cleanup --ground-truth gt.jsonl
  sandwatch-attack-sim run --speed burst --variant shadow=dd --variant socat --cleanup
  sandwatch-attack-sim run --speed human --hold-ms 300 --hold-ms shadow=50 --gap-ms 100
  sandwatch-attack-sim run --steps shadow,aws-creds --speed fast --repeat 20   (no shell parent)
  sandwatch-attack-sim listen --port 4444 &  sandwatch-attack-sim run --target 127.0.0.1:4444
  sandwatch-attack-sim run --chain benign --benign-duration-s 600 --benign-rate-per-min 6
  sandwatch-attack-sim run --speed human --mix-benign   (a benign step after each attack step)

Without --target, run starts its own listener on 127.0.0.1 (an ephemeral port) and records
what the reverse shell sent back. A --target outside loopback needs --allow-remote.
Ground truth: JSONL, one line per step (see docs/attack-sim.md). Progress: stderr.
Exit: 0 chain ran (skipped variants are reported in the ground truth), 1 runtime failure
(no shell, no reverse-shell output, ground truth unwritable), 2 bad flags.)";

}  // namespace

void BuildCli(CLI::App& app, CliState* s) {
  app.description(
      "sandwatch-attack-sim: plays the blog's attack chain (shell, /etc/shadow, AWS credential "
      "hunt, package install, new binary, reverse shell) as real processes at a chosen speed, "
      "and writes ground truth of exactly what ran and for how long.");
  app.footer(R"(Examples:
  sandwatch-attack-sim --list                        what can run here, and the speeds
  sandwatch-attack-sim run --speed blog --cleanup    the blog's second run (about 30 s)
  sandwatch-attack-sim run --speed burst --cleanup --ground-truth gt.jsonl
  sandwatch-attack-sim run --help                    every run flag, with more examples
Docs: docs/attack-sim.md)");
  AddVersionFlag(app, "sandwatch-attack-sim");
  app.add_flag("--list", s->list, "list steps, variants (and whether they can run here), speeds");
  app.add_flag("--json", s->list_json, "with --list: machine-readable JSON");
  app.add_option("--log-level", s->log_level, "debug|info|warn|error|off (default info)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));
  app.require_subcommand(0, 1);
  app.fallthrough();  // --log-level and --list also work after the subcommand

  RunOptions& r = s->run;
  CLI::App* run = app.add_subcommand("run", "play the attack chain");
  s->run_cmd = run;
  run->footer(kRunFooter);
  run->add_flag("--list", s->list, "list steps, variants, speeds and exit");
  run->add_flag("--json", s->list_json, "with --list: machine-readable JSON");
  run->add_option("--chain", r.chain,
                  "blog: the attack chain; benign: everyday activity that must stay quiet")
      ->capture_default_str();
  run->add_option("--benign-duration-s", r.benign_duration_s,
                  "--chain benign: seconds of benign activity")
      ->capture_default_str();
  run->add_option("--benign-rate-per-min", r.benign_rate_per_min,
                  "--chain benign: benign steps started per minute")
      ->capture_default_str();
  run->add_flag("--mix-benign", r.mix_benign,
                "blog chain: run one benign step after each attack step, in the same pod");
  run->add_option("--speed", r.speed, "blog|human|fast|burst (see --list)")->capture_default_str();
  run->add_option("--hold-ms", r.hold_specs,
                  "how long each step's process lives: N (all steps) or STEP=N; repeatable");
  run->add_option("--gap-ms", r.gap_specs, "pause after each step: N or STEP=N; repeatable");
  run->add_option("--repeat", r.repeat, "run the chain N times")->capture_default_str();
  run->add_option("--target", r.target,
                  "HOST:PORT of an external listener (default: our own on 127.0.0.1)");
  run->add_flag("--allow-remote", r.allow_remote, "allow a --target outside loopback");
  run->add_option("--package-install", r.package_install, "real|staged|simulate")
      ->capture_default_str();
  run->add_option("--package", r.package, "package to install")->capture_default_str();
  run->add_option("--deb", r.deb, "staged .deb (default /var/cache/sandwatch/debs/PACKAGE_*.deb)");
  run->add_option("--ground-truth", r.ground_truth, "append JSONL here (default stdout)");
  run->add_option("--variant", r.variant_specs,
                  "STEP=VARIANT or a unique VARIANT (e.g. socat); repeatable");
  run->add_option("--steps", r.steps, "comma list of steps to run, in chain order (default all)");
  run->add_flag("--cleanup", r.cleanup,
                "afterwards purge packages this run installed and delete dropped files");
  run->add_option("--drop-dir", r.drop_dir, "where new-binary writes its file")
      ->capture_default_str();
  run->add_option("--run-id", r.run_id, "run id stamped on every line (default a new uuid)");
  run->add_option("--listener-timeout", r.listener_timeout_s,
                  "seconds our listener waits for the reverse shell")
      ->capture_default_str();
  run->add_option("--shell-tty", r.shell_tty,
                  "pty: bash on a terminal, as kubectl exec -it; pipe: as kubectl exec without -t")
      ->capture_default_str();
  run->add_flag("--quiet,-q", r.quiet, "no progress on stderr (warnings and errors only)");

  ListenOptions& l = s->listen;
  CLI::App* listen = app.add_subcommand("listen", "the attacker's end of the reverse shell");
  s->listen_cmd = listen;
  listen->footer(R"(Accepts a connection, sends "id; uname -a", waits the linger (the --speed
preset's hold), sends "exit", and prints and records what came back (escaped). Examples:
  sandwatch-attack-sim listen --port 4444 --ground-truth gt.jsonl
  sandwatch-attack-sim listen --port 4444 --speed blog --bind 0.0.0.0 --timeout 3600
Exit: 0 every connection arrived, 1 none within --timeout, 2 bad flags.)");
  listen->add_option("--port", l.port, "TCP port (0 = any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  listen->add_option("--bind", l.bind, "address to bind")->capture_default_str();
  listen->add_option("--count", l.count, "connections to accept")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  listen
      ->add_option("--linger-ms", l.linger_ms,
                   "wait this long after the commands before sending exit (default: the "
                   "--speed preset's hold)")
      ->check(CLI::Range(0.0, 3600000.0));
  listen
      ->add_option("--speed", l.speed,
                   "the run's speed: keeps the reverse shell alive for its hold "
                   "(blog 5 s, human 3 s, fast 100 ms, burst 0)")
      ->check(CLI::IsMember({"blog", "human", "fast", "burst"}))
      ->capture_default_str();
  listen->add_option("--timeout", l.timeout_s, "seconds to wait for each connection")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  listen->add_option("--send", l.commands, "commands sent before exit")->capture_default_str();
  listen->add_option("--ground-truth", l.ground_truth, "append a listener line here");
  listen->add_option("--run-id", l.run_id, "run id for the ground truth line");
  listen->add_flag("--quiet,-q", l.quiet, "no progress on stderr");
}

int ParseCli(CLI::App& app, int argc, const char* const* argv) {
  return ParseCommandLine(app, argc, argv, "sandwatch-attack-sim").value_or(-1);
}

int Dispatch(CliState& s) {
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(s.log_level, &level);
  if (s.list) {
    PrintList(std::cout, s.list_json);
    return 0;
  }
  if (s.run_cmd != nullptr && s.run_cmd->parsed()) {
    if (s.run.quiet) level = LogLevel::kWarn;
    SetLogLevel(level);
    auto config = ResolveRun(s.run);
    if (!config.ok()) {
      std::cerr << "sandwatch-attack-sim: " << config.error().message << "\n";
      return 2;
    }
    return RunChain(*config, SystemClock());
  }
  if (s.listen_cmd != nullptr && s.listen_cmd->parsed()) {
    if (s.listen.quiet) level = LogLevel::kWarn;
    SetLogLevel(level);
    return RunListen(s.listen, SystemClock());
  }
  std::cerr << "sandwatch-attack-sim: a subcommand is required: run, listen (or --list); "
               "see --help\n";
  return 2;
}

}  // namespace sandwatch::attacksim
