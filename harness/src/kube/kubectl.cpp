#include "sandwatch/harness/kube/kubectl.h"

#include <utility>

namespace sandwatch::harness::kube {

std::string Seconds(std::chrono::seconds s) { return std::to_string(s.count()) + "s"; }

Kubectl::Kubectl(CommandRunner& runner, KubeConfig config)
    : runner_(runner), config_(std::move(config)) {}

std::vector<std::string> Kubectl::Argv(const std::vector<std::string>& args,
                                       const std::string& ns) const {
  std::vector<std::string> argv = {config_.kubectl};
  if (!config_.context.empty()) {
    argv.push_back("--context");
    argv.push_back(config_.context);
  }
  if (!ns.empty()) {
    argv.push_back("-n");
    argv.push_back(ns);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Result<CommandResult> Kubectl::RunRaw(const std::string& ns, const std::vector<std::string>& args,
                                      std::chrono::seconds timeout, const std::string& stdin_data) {
  CommandSpec spec;
  spec.argv = Argv(args, ns);
  spec.timeout = timeout;
  spec.stdin_data = stdin_data;
  return runner_.Run(spec);
}

Result<std::string> Kubectl::RunIn(const std::string& ns, const std::vector<std::string>& args,
                                   std::chrono::seconds timeout, const std::string& stdin_data) {
  auto r = RunRaw(ns, args, timeout, stdin_data);
  const std::string cmd = RenderCommand(Argv(args, ns));
  if (!r.ok()) return MakeError(cmd + ": " + r.error().message);
  if (r->timed_out) return MakeError(cmd + ": timed out after " + Seconds(timeout));
  if (r->exit_code != 0) {
    std::string err = r->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return MakeError(cmd + ": exit " + std::to_string(r->exit_code) +
                     (err.empty() ? "" : ": " + err));
  }
  return std::move(r->out);
}

Result<std::string> Kubectl::Run(const std::vector<std::string>& args, std::chrono::seconds timeout,
                                 const std::string& stdin_data) {
  return RunIn(config_.namespace_, args, timeout, stdin_data);
}

Result<std::string> Kubectl::Kustomize(const std::string& dir, std::chrono::seconds timeout) {
  return RunIn("", {"kustomize", dir}, timeout);
}

Status Kubectl::ApplyYaml(const std::string& yaml, std::chrono::seconds timeout) {
  auto r = Run({"apply", "-f", "-"}, timeout, yaml);
  if (!r.ok()) return r.error();
  return OkStatus();
}

Status Kubectl::DeletePod(const std::string& name, std::chrono::seconds timeout) {
  auto r = Run(
      {"delete", "pod", name, "--ignore-not-found", "--wait=true", "--timeout=" + Seconds(timeout)},
      timeout + std::chrono::seconds(10));
  if (!r.ok()) return r.error();
  return OkStatus();
}

Status Kubectl::WaitPodReady(const std::string& name, std::chrono::seconds timeout) {
  auto r = Run({"wait", "--for=condition=Ready", "pod/" + name, "--timeout=" + Seconds(timeout)},
               timeout + std::chrono::seconds(10));
  if (!r.ok()) return r.error();
  return OkStatus();
}

Result<std::string> Kubectl::Exec(const std::string& pod, const std::string& container,
                                  const std::vector<std::string>& argv,
                                  std::chrono::seconds timeout) {
  std::vector<std::string> args = {"exec", pod, "-c", container, "--"};
  args.insert(args.end(), argv.begin(), argv.end());
  return Run(args, timeout);
}

Result<std::string> Kubectl::JsonPath(const std::string& ns, const std::string& kind,
                                      const std::string& name, const std::string& expr,
                                      std::chrono::seconds timeout) {
  std::vector<std::string> args = {"get", kind};
  if (!name.empty()) args.push_back(name);
  args.push_back("-o");
  args.push_back("jsonpath=" + expr);
  return RunIn(ns, args, timeout);
}

}  // namespace sandwatch::harness::kube
