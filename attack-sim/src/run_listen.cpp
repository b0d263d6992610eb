// `listen` (the attacker's end) and `--list`.
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "sandwatch/attack_sim/benign.h"
#include "sandwatch/attack_sim/catalog.h"
#include "sandwatch/attack_sim/listener.h"
#include "sandwatch/attack_sim/options.h"
#include "sandwatch/attack_sim/run.h"
#include "sandwatch/attack_sim/spawn.h"
#include "sandwatch/attack_sim/truth_sink.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/core/log.h"

namespace sandwatch::attacksim {

int RunListen(const ListenOptions& o, const Clock& clock) {
  auto sink = TruthSink::Open(o.ground_truth.empty() ? "/dev/null" : o.ground_truth);
  if (!sink.ok()) {
    std::cerr << "sandwatch-attack-sim: " << sink.error().message << "\n";
    return 1;
  }
  Listener listener(clock);
  auto port = listener.Start(o.bind, o.port);
  if (!port.ok()) {
    std::cerr << "sandwatch-attack-sim: " << port.error().message << "\n";
    return port.error().message.rfind("--bind:", 0) == 0 ? 2 : 1;
  }
  const std::string run_id = o.run_id.empty() ? NewUuid() : o.run_id;
  double linger_ms = o.linger_ms;
  for (const auto& p : SpeedPresets()) {
    if (linger_ms < 0 && p.name == o.speed) linger_ms = p.hold_ms;
  }
  if (linger_ms < 0) linger_ms = 0;
  SW_LOG(kInfo, "attack-sim", "listening", {"bind", o.bind}, {"port", std::to_string(*port)},
         {"count", std::to_string(o.count)});
  std::cerr.flush();
  int rc = 0;
  for (int i = 0; i < o.count; ++i) {
    auto cap = listener.AcceptOne(o.commands, linger_ms, o.timeout_s * 1000);
    GroundTruthStep g;
    g.run_id = run_id;
    g.repeat = i;
    g.step = "listener";
    g.variant = "listen";
    g.speed = o.speed;
    g.requested_hold_ms = linger_ms;
    g.pid = getpid();
    g.command = {"listen", o.bind + ":" + std::to_string(*port)};
    if (!cap.ok()) {
      g.status = "skipped";
      g.exit_code = 1;
      g.note = "no connection: " + cap.error().message;
      (void)sink->get()->Write(g);
      std::cerr << "sandwatch-attack-sim: listen: " << cap.error().message << "\n";
      return 1;
    }
    g.start_wall_ns = cap->start_wall_ns;
    g.start_mono_ns = cap->start_mono_ns;
    g.end_wall_ns = cap->end_wall_ns;
    g.end_mono_ns = cap->end_mono_ns;
    g.hold_ms = static_cast<double>(cap->end_mono_ns - cap->start_mono_ns) / 1e6;
    g.note = cap->output;
    g.exit_code = cap->timed_out ? 1 : 0;
    if (!sink->get()->Write(g)) rc = 1;
    // The output is the remote shell's: escape it before showing it.
    std::cout << "connection " << (i + 1) << " from " << cap->peer << ":\n";
    size_t start = 0;
    while (start < cap->output.size()) {
      size_t nl = cap->output.find('\n', start);
      if (nl == std::string::npos) nl = cap->output.size();
      std::cout << "  " << EscapeForDisplay(std::string_view(cap->output).substr(start, nl - start))
                << "\n";
      start = nl + 1;
    }
    std::cout.flush();
  }
  return rc;
}

void PrintList(std::ostream& out, bool json) {
  nlohmann::json j;
  for (const auto& s : ChainSteps()) {
    j["steps"].push_back(
        {{"name", s},
         {"description", StepDescription(s)},
         {"default_variant", DefaultVariant(s, "fast", PackageMode::kStaged)},
         {"default_variant_blog", DefaultVariant(s, "blog", PackageMode::kStaged)}});
  }
  for (const auto& v : Variants()) {
    std::string reason = UnavailableReason(v);
    j["variants"].push_back({{"step", v.step},
                             {"name", v.name},
                             {"available", reason.empty()},
                             {"skipped_reason", reason},
                             {"description", v.description}});
  }
  for (const auto& p : SpeedPresets()) {
    j["speeds"].push_back({{"name", p.name},
                           {"hold_ms", p.hold_ms},
                           {"gap_ms", p.gap_ms},
                           {"description", p.description}});
  }
  for (const auto& b : BenignSteps()) {
    j["benign_steps"].push_back({{"name", b.name},
                                 {"resembles", b.resembles},
                                 {"available", FindOnPath(b.tool).ok()},
                                 {"description", b.description}});
  }
  j["package_install_modes"] = {"real", "staged", "simulate"};
  if (json) {
    out << j.dump(2) << "\n";
    return;
  }
  out << "Steps (chain order):\n";
  for (const auto& s : j["steps"]) {
    out << "  " << s["name"].get<std::string>()
        << std::string(18 - s["name"].get<std::string>().size(), ' ')
        << s["description"].get<std::string>() << "\n";
  }
  out << "\nVariants (--variant STEP=NAME; [default] at fast/human/burst, [blog] at blog speed):\n";
  for (const auto& v : Variants()) {
    std::string name = v.step + "=" + v.name;
    const bool d = DefaultVariant(v.step, "fast", PackageMode::kStaged) == v.name;
    const bool b = DefaultVariant(v.step, "blog", PackageMode::kStaged) == v.name;
    std::string mark = d && b ? " [default,blog]" : d ? " [default]" : b ? " [blog]" : "";
    if (v.step == "package-install" && v.name == "apt-get") mark = " [default: real, simulate]";
    if (v.step == "package-install" && v.name == "dpkg") mark = " [default: staged]";
    std::string reason = UnavailableReason(v);
    out << "  " << name << mark << "\n      " << v.description << "\n";
    if (!reason.empty()) out << "      SKIPPED here: " << reason << "\n";
  }
  out << "  new-binary=auto [default,blog]\n      ncat when this run installed it, else dropped\n";
  out << "\nSpeeds (hold = how long each step's process lives; gap = pause after it):\n";
  for (const auto& p : SpeedPresets()) {
    out << "  " << p.name << std::string(8 - p.name.size(), ' ') << "hold " << p.hold_ms
        << " ms, gap " << p.gap_ms << " ms: " << p.description << "\n";
  }
  out << "\nBenign steps (--chain benign, --mix-benign; any alert on one is a false positive):\n";
  for (const auto& b : BenignSteps()) {
    out << "  " << b.name << " (resembles " << b.resembles << ")\n      " << b.description << "\n";
    if (!FindOnPath(b.tool).ok()) out << "      SKIPPED here: " << b.tool << " is not on PATH\n";
  }
  out << "\nPackage install (--package-install): real (apt-get install -y ncat, needs a mirror), "
         "staged (dpkg -i of a cached .deb, offline), simulate (apt-get install -s ncat)\n";
}

}  // namespace sandwatch::attacksim
