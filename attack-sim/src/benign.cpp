// Benign steps: the catalogue, their scratch files, and running one as a real process.
#include "sandwatch/attack_sim/benign.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "sandwatch/attack_sim/launcher.h"
#include "sandwatch/attack_sim/spawn.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/signals.h"

namespace sandwatch::attacksim {

namespace fs = std::filesystem;
namespace sig = sandwatch::signals;

namespace {
constexpr double kStepTimeoutMs = 120'000;

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return out.flush() ? OkStatus() : MakeError("cannot write " + path);
}
}  // namespace

const std::vector<BenignStepInfo>& BenignSteps() {
  static const std::vector<BenignStepInfo> kSteps = {
      {"stat-secrets", std::string(sig::kShadowFileAccess), "stat",
       "stat -c '%n %s %U %a' /etc/shadow /etc/passwd (metadata only, as a permissions audit)"},
      {"getent", std::string(sig::kShadowFileAccess), "getent",
       "getent passwd root (the account database through NSS, as entrypoints resolve users)"},
      {"list-config", std::string(sig::kAwsCredentialDiscovery), "find",
       "find /etc -maxdepth 2 -name '*.conf' (listing config files, as config checkers do)"},
      {"package-query", std::string(sig::kPackageManagerExecution), "dpkg",
       "dpkg -l (package inventory, as image scanners and SBOM tools do)"},
      {"apt-cache-policy", std::string(sig::kPackageManagerExecution), "apt-cache",
       "apt-cache policy bash (a version query; installs nothing)"},
      {"pip-local", std::string(sig::kPackageManagerExecution), "python3",
       "python3 -m pip install --no-index --target DIR/site DIR/project (a CI job installing "
       "its own code from a local directory, no network)"},
      {"build-sh-c", std::string(sig::kUnexpectedShell), "sh",
       "make -C DIR/build: a recipe with a redirection, which make runs through sh -c (without "
       "make: xargs -I{} sh -c 'cp {} {}.o', a build script's loop)"},
      {"health-check", std::string(sig::kReverseShell), "bash",
       "bash -c 'echo health ok ... >/dev/tcp/127.0.0.1/PORT' (a probe reporting to a local "
       "collector)"},
      {"log-rotation", std::string(sig::kPostStartBinaryExecution), "savelog",
       "savelog -c 3 DIR/app.log (Debian's log rotation: renames, gzips, recreates)"},
      {"id", std::string(sig::kUnexpectedShell), "id", "id (entrypoints checking who they run as)"},
      {"uname", std::string(sig::kUnexpectedShell), "uname",
       "uname -a (entrypoints picking an architecture)"},
  };
  return kSteps;
}

const BenignStepInfo* FindBenignStep(std::string_view name) {
  for (const auto& s : BenignSteps()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// Accepts connections on 127.0.0.1 and reads each to its end (the health check's collector).
struct BenignPlayer::Drain {
  int fd = -1;
  int port = 0;
  std::atomic<bool> stop{false};
  std::thread thread;

  Status Start() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return MakeError(std::string("socket: ") + strerror(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return MakeError(std::string("collector listener: ") + strerror(errno));
    }
    port = ntohs(a.sin_port);
    thread = std::thread([this] { Loop(); });
    return OkStatus();
  }

  void Loop() {
    while (!stop.load()) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::array<char, 512> buf{};
      pollfd q{c, POLLIN, 0};
      while (!stop.load() && poll(&q, 1, 2000) > 0 && read(c, buf.data(), buf.size()) > 0) {
      }
      close(c);
    }
  }

  ~Drain() {
    stop = true;
    if (thread.joinable()) thread.join();
    if (fd >= 0) close(fd);
  }
};

BenignPlayer::BenignPlayer(std::string run_id, std::string speed, std::string work_parent,
                           const Clock& clock)
    : run_id_(std::move(run_id)),
      clock_(clock),
      speed_(std::move(speed)),
      work_parent_(std::move(work_parent)) {}

BenignPlayer::~BenignPlayer() { Cleanup(); }

Status BenignPlayer::Prepare() {
  std::string tmpl = work_parent_ + "/sw-benign-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return MakeError("cannot create a directory in " + work_parent_ + ": " + strerror(errno));
  }
  dir_ = tmpl;
  std::error_code ec;
  fs::create_directories(dir_ + "/project/swbenign", ec);
  fs::create_directories(dir_ + "/build", ec);
  fs::create_directories(dir_ + "/logs", ec);
  if (ec) return MakeError("cannot create files in " + dir_ + ": " + ec.message());
  for (const auto& [path, text] : std::vector<std::pair<std::string, std::string>>{
           {"/project/setup.py",
            "from setuptools import setup\nsetup(name='swbenign', version='1.0', "
            "packages=['swbenign'])\n"},
           {"/project/swbenign/__init__.py", "VALUE = 1\n"},
           {"/build/Makefile", "all:\n\t@echo compiled > out.o && cat out.o > /dev/null\n"},
           {"/build/main.c", "int main(void) { return 0; }\n"},
           {"/build/sources", dir_ + "/build/main.c\n"},
           {"/logs/app.log", "started\n"}}) {
    if (auto st = WriteText(dir_ + path, text); !st.ok()) return st;
  }
  drain_ = std::make_unique<Drain>();
  return drain_->Start();
}

void BenignPlayer::Cleanup() {
  drain_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

Result<StepCommand> BenignPlayer::Command(const std::string& name) const {
  StepCommand c;
  c.timeout_ms = kStepTimeoutMs;
  if (name == "stat-secrets") {
    c.argv = {"stat", "-c", "%n %s %U %a", "/etc/shadow", "/etc/passwd"};
  } else if (name == "getent") {
    c.argv = {"getent", "passwd", "root"};
  } else if (name == "list-config") {
    c.argv = {"find", "/etc", "-maxdepth", "2", "-name", "*.conf"};
  } else if (name == "package-query") {
    c.argv = {"dpkg", "-l"};
  } else if (name == "apt-cache-policy") {
    c.argv = {"apt-cache", "policy", "bash"};
  } else if (name == "pip-local") {
    c.argv = {"python3",
              "-m",
              "pip",
              "install",
              "--quiet",
              "--no-index",
              "--no-deps",
              "--no-build-isolation",
              "--disable-pip-version-check",
              "--upgrade",
              "--target",
              dir_ + "/site",
              dir_ + "/project"};
  } else if (name == "build-sh-c") {
    if (FindOnPath("make").ok()) {
      c.argv = {"make", "-s", "-B", "-C", dir_ + "/build"};
    } else {
      c.argv = {"xargs", "-a", dir_ + "/build/sources", "-I{}", "sh", "-c", "cp {} {}.o"};
    }
  } else if (name == "health-check") {
    const std::string port = drain_ ? std::to_string(drain_->port) : "0";
    c.argv = {"bash", "-c", "echo \"health ok $(cat /proc/loadavg)\" >/dev/tcp/127.0.0.1/" + port};
  } else if (name == "log-rotation") {
    c.argv = {"savelog", "-q", "-c", "3", dir_ + "/logs/app.log"};
  } else if (name == "id") {
    c.argv = {"id"};
  } else if (name == "uname") {
    c.argv = {"uname", "-a"};
  } else {
    return MakeError("no benign step '" + name + "'");
  }
  return c;
}

GroundTruthStep BenignPlayer::Run(int repeat, const std::string& name) {
  GroundTruthStep g;
  g.kind = "benign";
  g.run_id = run_id_;
  g.repeat = repeat;
  g.step = name;
  g.variant = "default";
  g.speed = speed_;
  const BenignStepInfo* info = FindBenignStep(name);
  std::string reason = info == nullptr ? "unknown benign step" : "";
  if (info != nullptr) {
    g.signal = info->resembles;
    g.signals = {info->resembles};
    if (!FindOnPath(info->tool).ok()) reason = info->tool + " is not installed here (not on PATH)";
  }
  if (reason.empty() && dir_.empty()) reason = "benign steps were not prepared";
  auto cmd = Command(name);
  if (cmd.ok()) g.command = cmd->argv;
  if (cmd.ok() && name == "build-sh-c" && cmd->argv[0] == "xargs") g.variant = "xargs";
  if (reason.empty() && !cmd.ok()) reason = cmd.error().message;
  if (reason.empty() && name == "log-rotation") {
    (void)WriteText(dir_ + "/logs/app.log", "request served\n");  // something to rotate
  }
  const Clock& clock = clock_;
  if (reason.empty()) {
    DirectLauncher direct(clock_);
    auto r = direct.Launch(*cmd, 0);
    if (r.ok()) {
      g.pid = r->pid;
      g.ppid = r->ppid;
      g.start_wall_ns = r->start_wall_ns;
      g.end_wall_ns = r->end_wall_ns;
      g.start_mono_ns = r->start_mono_ns;
      g.end_mono_ns = r->end_mono_ns;
      g.hold_ms = static_cast<double>(r->end_mono_ns - r->start_mono_ns) / 1e6;
      g.exit_code = r->exit_code;
      g.note =
          r->killed_at_timeout ? "ended: killed at safety timeout" : "ended: exited on its own";
      return g;
    }
    reason = "could not start: " + r.error().message;
  }
  g.status = "skipped";
  g.exit_code = -1;
  g.start_wall_ns = g.end_wall_ns = clock.WallNs();
  g.start_mono_ns = g.end_mono_ns = clock.MonoNs();
  g.note = "skipped: " + reason;
  return g;
}

GroundTruthStep BenignPlayer::RunNext(int repeat) {
  const auto& steps = BenignSteps();
  const std::string name = steps[next_ % steps.size()].name;
  ++next_;
  return Run(repeat, name);
}

}  // namespace sandwatch::attacksim
