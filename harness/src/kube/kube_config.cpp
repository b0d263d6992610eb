#include "sandwatch/harness/kube/kube_config.h"

#include <charconv>
#include <string>

namespace sandwatch::harness::kube {

Result<KubeConfig> KubeConfigFromEnv(const std::function<const char*(const char*)>& getenv) {
  KubeConfig c;
  auto str = [&](const char* name, std::string& field) {
    if (const char* v = getenv(name); v != nullptr) field = v;
  };
  str("SANDWATCH_KUBECTL", c.kubectl);
  str("SANDWATCH_KUBE_CONTEXT", c.context);
  str("SANDWATCH_KUBE_NAMESPACE", c.namespace_);
  str("SANDWATCH_KUBE_FALCO_NAMESPACE", c.falco_namespace);
  str("SANDWATCH_KUBE_MANIFESTS", c.manifests_dir);
  str("SANDWATCH_KUBE_RECEIVER_URL", c.receiver_url);
  str("SANDWATCH_KUBE_SIDEKICK_UI_USER", c.sidekick_ui_user);
  str("SANDWATCH_KUBE_LISTENER_SERVICE", c.listener_service);
  str("SANDWATCH_KUBE_WORKLOAD_IMAGE", c.workload_image);
  str("SANDWATCH_KUBE_ENGINE", c.container_engine);
  if (!c.container_engine.empty() && c.container_engine != "docker" &&
      c.container_engine != "podman") {
    return MakeError("SANDWATCH_KUBE_ENGINE: expected docker or podman, got '" +
                     c.container_engine + "'");
  }
  if (c.kubectl.empty()) return MakeError("SANDWATCH_KUBECTL: must not be empty");
  if (c.namespace_.empty()) return MakeError("SANDWATCH_KUBE_NAMESPACE: must not be empty");
  if (c.receiver_url.rfind("http://", 0) != 0) {
    return MakeError("SANDWATCH_KUBE_RECEIVER_URL: must start with http:// (got '" +
                     c.receiver_url + "')");
  }
  while (!c.receiver_url.empty() && c.receiver_url.back() == '/') c.receiver_url.pop_back();

  if (const char* v = getenv("SANDWATCH_KUBE_PORT_FORWARD"); v != nullptr) {
    const std::string s = v;
    if (s != "1" && s != "true" && s != "0" && s != "false" && !s.empty())
      return MakeError("SANDWATCH_KUBE_PORT_FORWARD: expected 0 or 1, got '" + s + "'");
    c.force_port_forward = s == "1" || s == "true";
  }
  if (const char* v = getenv("SANDWATCH_KUBE_FALCO_SOURCE"); v != nullptr) {
    const std::string s = v;
    if (s != "receiver" && s != "sidekick-ui") {
      return MakeError("SANDWATCH_KUBE_FALCO_SOURCE: expected receiver or sidekick-ui, got '" + s +
                       "'");
    }
    c.falco_source = s == "receiver" ? FalcoSource::kReceiver : FalcoSource::kSidekickUi;
  }
  if (const char* v = getenv("SANDWATCH_KUBE_WAIT_TIMEOUT"); v != nullptr) {
    const std::string s = v;
    double d = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc() || ptr != s.data() + s.size() || d <= 0) {
      return MakeError("SANDWATCH_KUBE_WAIT_TIMEOUT: expected seconds > 0, got '" + s + "'");
    }
    c.wait_timeout_s = d;
  }
  return c;
}

}  // namespace sandwatch::harness::kube
