#include <iterator>
#include <sstream>
#include <utility>

#include "kube_internal.h"

namespace sandwatch::harness::kube {

std::string Seconds(std::chrono::seconds s) { return std::to_string(s.count()) + "s"; }

std::chrono::seconds Secs(double s) {
  return std::chrono::seconds(static_cast<long>(s < 1 ? 1 : s + 0.999));
}

std::string TrimRight(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::vector<std::string> SplitWords(const std::string& s) {
  std::istringstream in(s);
  return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

std::string FirstWord(const std::string& s) {
  std::string word;
  std::istringstream(s) >> word;
  return word;
}

Kubectl::Kubectl(CommandRunner& runner, KubeConfig config)
    : runner_(runner), config_(std::move(config)) {}

std::vector<std::string> Kubectl::Argv(const std::vector<std::string>& args,
                                       const std::string& ns) const {
  std::vector<std::string> argv = {config_.kubectl};
  if (!config_.context.empty()) argv.insert(argv.end(), {"--context", config_.context});
  if (!ns.empty()) argv.insert(argv.end(), {"-n", ns});
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Result<std::string> Kubectl::RunIn(const std::string& ns, const std::vector<std::string>& args,
                                   std::chrono::seconds timeout, const std::string& stdin_data) {
  CommandSpec spec = Cmd(Argv(args, ns), timeout);
  spec.stdin_data = stdin_data;
  auto r = runner_.Run(spec);
  const std::string cmd = RenderCommand(spec.argv);
  if (!r.ok()) return MakeError(cmd + ": " + r.error().message);
  if (r->timed_out) return MakeError(cmd + ": timed out after " + Seconds(timeout));
  if (r->exit_code != 0) {
    const std::string err = TrimRight(r->err);
    return MakeError(cmd + ": exit " + std::to_string(r->exit_code) +
                     (err.empty() ? "" : ": " + err));
  }
  return std::move(r->out);
}

Result<std::string> Kubectl::Run(const std::vector<std::string>& args, std::chrono::seconds timeout,
                                 const std::string& stdin_data) {
  return RunIn(config_.namespace_, args, timeout, stdin_data);
}

Result<std::shared_ptr<ProcessHandle>> Kubectl::Start(const std::string& ns,
                                                      const std::vector<std::string>& args,
                                                      const std::string& stdout_path,
                                                      const std::string& stderr_path) {
  const CommandSpec spec = Bg(Argv(args, ns), stdout_path, stderr_path);
  auto started = runner_.Start(spec);
  if (!started.ok()) return MakeError(RenderCommand(spec.argv) + ": " + started.error().message);
  return std::shared_ptr<ProcessHandle>(std::move(*started));
}

Status Kubectl::DeletePod(const std::string& name, std::chrono::seconds timeout) {
  auto r = Run(
      {"delete", "pod", name, "--ignore-not-found", "--wait=true", "--timeout=" + Seconds(timeout)},
      timeout + std::chrono::seconds(10));
  if (!r.ok()) return r.error();
  return OkStatus();
}

std::vector<std::string> Kubectl::ExecArgs(const std::string& pod, const std::string& container,
                                           const std::vector<std::string>& argv) {
  std::vector<std::string> args = {"exec", pod, "-c", container, "--"};
  args.insert(args.end(), argv.begin(), argv.end());
  return args;
}

Result<std::string> Kubectl::Exec(const std::string& pod, const std::string& container,
                                  const std::vector<std::string>& argv,
                                  std::chrono::seconds timeout) {
  return Run(ExecArgs(pod, container, argv), timeout);
}

Result<std::string> Kubectl::Get(const std::string& ns, std::vector<std::string> what,
                                 const std::string& expr, std::chrono::seconds timeout) {
  what.insert(what.begin(), "get");
  what.insert(what.end(), {"-o", "jsonpath=" + expr});
  auto r = RunIn(ns, what, timeout);
  if (!r.ok()) return r;
  return TrimRight(std::move(*r));
}

}  // namespace sandwatch::harness::kube
