// The chain's entry shell, as `kubectl exec -it POD -- /bin/bash` makes it: a bash on a
// terminal whose parent is the container runtime. Falco's "Terminal shell in container"
// (container_entrypoint) depends on exactly that.
#include <charconv>

#include "local/lab.h"

namespace sandwatch::harness::local {

EntryShell RuncEntryShell(CommandRunner& runner, const std::string& container,
                          const std::vector<std::string>& env,
                          const std::vector<std::string>& chain_argv, const std::string& pid_file) {
  EntryShell e;
  // The shell writes its own pid (in the container's PID namespace) for the ground truth,
  // then runs the chain as a command typed at it would run, and exits with its status.
  std::string script =
      "echo $$ > " + RenderCommand({pid_file}) + "; " + RenderCommand(chain_argv) + "; exit $?";
  e.shell_argv = {"/bin/bash", "--noprofile", "--norc", "-c", script};
  std::vector<std::string> exec = {"runc", "exec"};
  // runc exec -t needs a controlling terminal of its own (it opens /dev/tty): script(1)
  // gives it one, as kubectl's terminal does.
  e.tty = !runner.Which("script").empty();
  if (e.tty) exec.push_back("-t");
  for (const auto& v : env) exec.insert(exec.end(), {"--env", v});
  exec.push_back(container);
  exec.insert(exec.end(), e.shell_argv.begin(), e.shell_argv.end());
  if (e.tty) {
    e.argv = {"script", "-q", "-e", "-c", RenderCommand(exec), "/dev/null"};
    e.note = "entry shell: runc exec -t bash (on a terminal, parent runc), as kubectl exec -it";
  } else {
    e.argv = exec;
    e.note =
        "entry shell: runc exec bash WITHOUT a terminal (script(1) is missing), as "
        "kubectl exec without -t";
  }
  return e;
}

Result<GroundTruthStep> EntryShellStep(const std::string& pid_text, const EntryShell& entry,
                                       int64_t start_wall_ns, int64_t end_wall_ns,
                                       int64_t start_mono_ns, int64_t end_mono_ns) {
  int pid = 0;
  auto r = std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
  if (r.ec != std::errc() || pid <= 0) return MakeError("the entry shell wrote no pid");
  GroundTruthStep s;
  s.step = "entry-shell";
  s.signal = "unexpected_shell";
  s.signals = {"unexpected_shell"};
  s.variant = "runtime-exec";
  s.command = entry.shell_argv;
  s.pid = pid;
  s.start_wall_ns = start_wall_ns;
  s.end_wall_ns = end_wall_ns;
  s.start_mono_ns = start_mono_ns;
  s.end_mono_ns = end_mono_ns;
  s.hold_ms = static_cast<double>(end_mono_ns - start_mono_ns) / 1e6;
  s.note = entry.note + " (recorded by the harness: start and end bracket runc exec)";
  return s;
}

}  // namespace sandwatch::harness::local
