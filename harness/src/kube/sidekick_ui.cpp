#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "kube_internal.h"

namespace sandwatch::harness::kube {

Result<std::vector<std::string>> SidekickUiEventsToFalcoJson(const std::string& body) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(std::string("falcosidekick-ui answer is not JSON: ") + e.what());
  }
  if (!j.is_object()) return MakeError("falcosidekick-ui answer: expected an object");
  std::vector<std::string> out;
  if (!j.contains("results") || j["results"].is_null()) return out;  // no events
  const nlohmann::json& results = j["results"];
  if (!results.is_array() && !results.is_object()) {
    return MakeError("falcosidekick-ui answer: 'results' is neither a list nor a map");
  }
  for (const auto& ev : results) {  // arrays, and the older id -> event maps
    if (!ev.is_object() || !ev.contains("rule") || !ev["rule"].is_string() ||
        !ev.contains("time") || !ev["time"].is_string()) {
      return MakeError("falcosidekick-ui answer: an event lacks 'rule' or 'time'");
    }
    nlohmann::json falco = nlohmann::json::object();
    for (const char* key : {"uuid", "output", "priority", "rule", "time", "source", "output_fields",
                            "tags", "hostname"}) {
      if (ev.contains(key)) falco[key] = ev[key];
    }
    out.push_back(falco.dump());
  }
  return out;
}

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace sandwatch::harness::kube
