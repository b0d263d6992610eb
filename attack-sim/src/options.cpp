#include "sandwatch/attack_sim/options.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cmath>

#include "sandwatch/attack_sim/catalog.h"
#include "sandwatch/core/ids.h"

namespace sandwatch::attacksim {
namespace {

std::vector<std::string> SplitComma(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) comma = s.size();
    std::string part(s.substr(start, comma - start));
    if (!part.empty()) out.push_back(part);
    start = comma + 1;
  }
  return out;
}

Result<double> ParseMs(std::string_view text) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v) || v < 0 ||
      v > 86'400'000) {
    return MakeError("'" + std::string(text) + "' is not a number of milliseconds (0..86400000)");
  }
  return v;
}

}  // namespace

const std::vector<SpeedPreset>& SpeedPresets() {
  static const std::vector<SpeedPreset> kPresets = {
      {"blog", 5000, 1000,
       "the blog's second run: tail -f /etc/shadow and a find loop, each living 5 s "
       "(caught by a 2 s poll), 1 s between steps"},
      {"human", 3000, 2000, "a person typing: each step lives 3 s, 2 s between steps"},
      {"fast", 100, 100, "a script: each step lives about 100 ms, 100 ms apart"},
      {"burst", 0, 0, "each command exits at once (cat /etc/shadow), no pause between steps"},
  };
  return kPresets;
}

Result<Target> ParseTarget(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return MakeError("'" + std::string(text) + "' is not HOST:PORT ([v6]:PORT for IPv6)");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return MakeError("'" + std::string(text) + "' is not HOST:PORT ([v6]:PORT for IPv6)");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  int p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (host.empty() || ec != std::errc() || ptr != port.data() + port.size() || p < 1 || p > 65535) {
    return MakeError("'" + std::string(text) + "' needs a host and a port 1..65535");
  }
  for (char c : host) {
    bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_';
    if (!ok)
      return MakeError("host '" + std::string(host) + "' has a character that is not allowed");
  }
  return Target{std::string(host), p};
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "localhost.") return true;
  std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127;
  }
  return false;
}

Status ApplyTimingSpec(std::string_view spec, bool gap, std::map<std::string, StepTiming>* timing) {
  const char* flag = gap ? "--gap-ms" : "--hold-ms";
  auto parts = SplitComma(spec);
  if (parts.empty()) return MakeError(std::string(flag) + ": empty value");
  for (const auto& part : parts) {
    size_t eq = part.find('=');
    std::string step = eq == std::string::npos ? "all" : part.substr(0, eq);
    std::string value = eq == std::string::npos ? part : part.substr(eq + 1);
    auto ms = ParseMs(value);
    if (!ms.ok()) return MakeError(std::string(flag) + ": " + ms.error().message);
    if (step != "all" && !IsChainStep(step)) {
      return MakeError(std::string(flag) + ": unknown step '" + step + "' (see --list)");
    }
    for (auto& [name, t] : *timing) {
      if (step == "all" || step == name) (gap ? t.gap_ms : t.hold_ms) = *ms;
    }
  }
  return OkStatus();
}

Result<ChainConfig> ResolveRun(const RunOptions& o) {
  ChainConfig c;
  if (o.chain != "blog" && o.chain != "benign") {
    return MakeError("--chain: unknown chain '" + o.chain + "' (blog|benign)");
  }
  c.chain = o.chain;
  if (!(o.benign_duration_s > 0 && o.benign_duration_s <= 86400)) {
    return MakeError("--benign-duration-s: must be in (0, 86400] seconds");
  }
  if (!(o.benign_rate_per_min > 0 && o.benign_rate_per_min <= 600)) {
    return MakeError("--benign-rate-per-min: must be in (0, 600]");
  }
  if (o.mix_benign && o.chain == "benign") {
    return MakeError("--mix-benign: only with --chain blog (--chain benign is benign already)");
  }
  c.benign_duration_s = o.benign_duration_s;
  c.benign_rate_per_min = o.benign_rate_per_min;
  c.mix_benign = o.mix_benign;
  const SpeedPreset* preset = nullptr;
  for (const auto& p : SpeedPresets()) {
    if (p.name == o.speed) preset = &p;
  }
  if (preset == nullptr) {
    return MakeError("--speed: unknown speed '" + o.speed + "' (blog|human|fast|burst)");
  }
  c.speed = preset->name;
  if (o.repeat < 1 || o.repeat > 100000) return MakeError("--repeat: must be 1..100000");
  c.repeat = o.repeat;

  if (o.steps.empty()) {
    c.steps = ChainSteps();
  } else {
    auto wanted = SplitComma(o.steps);
    for (const auto& w : wanted) {
      if (!IsChainStep(w)) return MakeError("--steps: unknown step '" + w + "' (see --list)");
    }
    for (const auto& s : ChainSteps()) {  // keep chain order, drop duplicates
      for (const auto& w : wanted) {
        if (w == s) {
          c.steps.push_back(s);
          break;
        }
      }
    }
  }
  for (const auto& s : ChainSteps()) c.timing[s] = {preset->hold_ms, preset->gap_ms};
  for (const auto& spec : o.hold_specs) {
    if (auto st = ApplyTimingSpec(spec, false, &c.timing); !st.ok()) return st.error();
  }
  for (const auto& spec : o.gap_specs) {
    if (auto st = ApplyTimingSpec(spec, true, &c.timing); !st.ok()) return st.error();
  }

  if (o.package_install == "real") {
    c.package_mode = PackageMode::kReal;
  } else if (o.package_install == "staged") {
    c.package_mode = PackageMode::kStaged;
  } else if (o.package_install == "simulate") {
    c.package_mode = PackageMode::kSimulate;
  } else {
    return MakeError("--package-install: unknown mode '" + o.package_install +
                     "' (real|staged|simulate)");
  }
  for (const auto& s : ChainSteps()) c.variants[s] = "auto";
  for (const auto& spec : o.variant_specs) {
    for (const auto& part : SplitComma(spec)) {
      size_t eq = part.find('=');
      std::string step;
      std::string name = eq == std::string::npos ? part : part.substr(eq + 1);
      if (eq != std::string::npos) {
        step = part.substr(0, eq);
        if (!IsChainStep(step)) return MakeError("--variant: unknown step '" + step + "'");
        if (name != "auto" && FindVariant(step, name) == nullptr) {
          return MakeError("--variant: step '" + step + "' has no variant '" + name +
                           "' (see --list)");
        }
      } else {
        for (const auto& v : Variants()) {
          if (v.name != name) continue;
          if (!step.empty()) {
            return MakeError("--variant: '" + name + "' is ambiguous; write STEP=" + name);
          }
          step = v.step;
        }
        if (step.empty())
          return MakeError("--variant: unknown variant '" + name + "' (see --list)");
      }
      c.variants[step] = name;
    }
  }

  if (o.target.empty()) {
    c.in_process_listener = true;
  } else {
    auto t = ParseTarget(o.target);
    if (!t.ok()) return MakeError("--target: " + t.error().message);
    if (!IsLoopbackHost(t->host) && !o.allow_remote) {
      return MakeError("--target: " + o.target +
                       " is not on loopback (127.0.0.0/8, ::1, localhost); pass --allow-remote "
                       "to send a reverse shell there");
    }
    c.in_process_listener = false;
    c.target = *t;
  }
  if (o.package.empty() || o.package.find_first_of(" /;'\"$`") != std::string::npos) {
    return MakeError("--package: '" + o.package + "' is not a package name");
  }
  c.package = o.package;
  c.deb = o.deb;
  c.ground_truth = o.ground_truth;
  c.cleanup = o.cleanup;
  if (o.drop_dir.empty() || o.drop_dir.front() != '/') {
    return MakeError("--drop-dir: must be an absolute directory");
  }
  c.drop_dir = o.drop_dir;
  c.run_id = o.run_id.empty() ? NewUuid() : o.run_id;
  if (o.listener_timeout_s <= 0 || o.listener_timeout_s > 3600) {
    return MakeError("--listener-timeout: must be in (0, 3600] seconds");
  }
  c.listener_timeout_s = o.listener_timeout_s;
  if (o.shell_tty != "pty" && o.shell_tty != "pipe") {
    return MakeError("--shell-tty: unknown '" + o.shell_tty + "' (pty|pipe)");
  }
  c.shell_tty = o.shell_tty;
  c.quiet = o.quiet;
  return c;
}

}  // namespace sandwatch::attacksim
