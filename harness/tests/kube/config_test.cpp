// KubeConfigFromEnv: defaults match `make kind-up`; bad values name the variable. Also
// the sidekick-ui answer parser and the backend's registration.
#include <gtest/gtest.h>

#include <map>

#include "../../src/kube/kube_internal.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/kube/kube_config.h"

namespace sandwatch::harness::kube::testing {
namespace {

Result<KubeConfig> FromMap(const std::map<std::string, std::string>& m) {
  return KubeConfigFromEnv([&m](const char* name) -> const char* {
    auto it = m.find(name);
    return it == m.end() ? nullptr : it->second.c_str();
  });
}

TEST(KubeConfig, DefaultsMatchKindUp) {
  auto c = FromMap({});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->context, "kind-sandwatch");
  EXPECT_EQ(c->namespace_, "kata-demo");
  EXPECT_EQ(c->receiver_url, "http://127.0.0.1:30080");
  EXPECT_EQ(c->falco_source, FalcoSource::kReceiver);
  EXPECT_FALSE(c->force_port_forward);
}

TEST(KubeConfig, EnvironmentOverrides) {
  auto c = FromMap({{"SANDWATCH_KUBE_CONTEXT", ""},
                    {"SANDWATCH_KUBE_RECEIVER_URL", "http://127.0.0.1:8080/"},
                    {"SANDWATCH_KUBE_FALCO_SOURCE", "sidekick-ui"},
                    {"SANDWATCH_KUBE_PORT_FORWARD", "1"},
                    {"SANDWATCH_KUBE_WAIT_TIMEOUT", "30"},
                    {"SANDWATCH_KUBE_ENGINE", "podman"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->context, "");
  EXPECT_EQ(c->receiver_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c->falco_source, FalcoSource::kSidekickUi);
  EXPECT_TRUE(c->force_port_forward);
  EXPECT_EQ(c->wait_timeout_s, 30);
  EXPECT_EQ(c->container_engine, "podman");
}

TEST(KubeConfig, BadValuesNameTheVariable) {
  for (const auto& [name, value] :
       std::map<std::string, std::string>{{"SANDWATCH_KUBE_FALCO_SOURCE", "loki"},
                                          {"SANDWATCH_KUBE_PORT_FORWARD", "maybe"},
                                          {"SANDWATCH_KUBE_WAIT_TIMEOUT", "-3"},
                                          {"SANDWATCH_KUBE_RECEIVER_URL", "https://x"},
                                          {"SANDWATCH_KUBE_ENGINE", "rkt"},
                                          {"SANDWATCH_KUBECTL", ""}}) {
    auto c = FromMap({{name, value}});
    ASSERT_FALSE(c.ok()) << name;
    EXPECT_EQ(c.error().message.rfind(name + ":", 0), 0u) << c.error().message;
  }
}

TEST(SidekickUi, SearchAnswersBecomeFalcoEvents) {
  auto list = SidekickUiEventsToFalcoJson(
      R"({"results":[{"rule":"Terminal shell in container","time":"2026-11-28T10:00:00Z","priority":"Notice",)"
      R"("output":"A shell was spawned","output_fields":{"k8s.pod.name":"normal-app"},"tags":["T1059"]}],)"
      R"("statistics":{"returned":1,"all":1}})");
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 1u);
  EXPECT_NE((*list)[0].find("\"k8s.pod.name\":\"normal-app\""), std::string::npos);
  // Older UIs answer with an id -> event map; no results is not an error.
  auto map = SidekickUiEventsToFalcoJson(
      R"({"results":{"1":{"rule":"r","time":"2026-11-28T10:00:00Z"}},"statistics":{"all":1}})");
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->size(), 1u);
  auto none = SidekickUiEventsToFalcoJson(R"({"statistics":{"all":0}})");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(SidekickUiEventsToFalcoJson("<html>").ok());
  EXPECT_FALSE(SidekickUiEventsToFalcoJson(R"({"results":[{"time":"x"}]})").ok());
}

TEST(KubeRegistration, TheBuiltinRegistryHasKube) {
  const auto names = DefaultBackends().Names();
  EXPECT_NE(std::find(names.begin(), names.end(), "kube"), names.end());
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing
