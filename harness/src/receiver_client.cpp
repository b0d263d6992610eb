#include "sandwatch/harness/receiver_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "sandwatch/core/json_fields.h"

namespace sandwatch::harness {

ReceiverClient::ReceiverClient(std::string base_url, HttpClient& http)
    : base_(std::move(base_url)), http_(&http) {}

ReceiverClient::ReceiverClient(std::string base_url)
    : base_(std::move(base_url)),
      owned_(MakeHttpClient(std::chrono::seconds(5), std::chrono::seconds(10))),
      http_(owned_.get()) {}

bool ReceiverClient::Healthy() const {
  auto res = http_->Get(base_ + "/healthz", "");
  return res.ok() && res->status == 200;
}

Result<std::string> ReceiverClient::GetOk(const std::string& path) const {
  auto res = http_->Get(base_ + path, "");
  if (!res.ok()) return MakeError("GET " + res.error().message);
  if (res->status != 200) {
    return MakeError("GET " + base_ + path + ": HTTP " + std::to_string(res->status) + " " +
                     res->body.substr(0, 200));
  }
  return std::move(res->body);
}

Result<FetchedEvents> ReceiverClient::FetchAll(const std::string& query) const {
  FetchedEvents out;
  std::set<std::string> seen;
  std::vector<std::pair<Event, nlohmann::json>> parsed;
  std::vector<nlohmann::json> bad;
  constexpr int kLimit = 1000;
  for (int page = 1; page < 100000; ++page) {
    std::string path = "/api/events?limit=" + std::to_string(kLimit) +
                       "&page=" + std::to_string(page) + (query.empty() ? "" : "&" + query);
    auto text = GetOk(path);
    if (!text.ok()) return text.error();
    const auto body = nlohmann::json::parse(*text, nullptr, false);
    if (!body.is_object() || !body.contains("results") || !body["results"].is_array()) {
      return MakeError("GET " + path + ": no results array in the answer");
    }
    const auto& results = body["results"];
    for (const auto& j : results) {
      auto e = EventFromJson(j);
      if (!e.ok()) {
        bad.push_back(j);
        continue;
      }
      if (!seen.insert(e->id).second) continue;
      parsed.emplace_back(std::move(*e), j);
    }
    if (results.size() < static_cast<size_t>(kLimit)) break;
  }
  std::stable_sort(parsed.begin(), parsed.end(),
                   [](const auto& a, const auto& b) { return a.first.time_ns < b.first.time_ns; });
  for (auto& [e, j] : parsed) {
    out.events.push_back(std::move(e));
    out.raw.push_back(std::move(j));
  }
  for (auto& j : bad) out.raw.push_back(std::move(j));
  return out;
}

Result<std::vector<SensorSeen>> ReceiverClient::Sensors() const {
  auto text = GetOk("/api/sensors");
  if (!text.ok()) return text.error();
  return ParseSensorList(*text);
}

std::vector<SensorSeen> ParseSensorList(const std::string& body) {
  std::vector<SensorSeen> out;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  const nlohmann::json* list = &j;
  if (j.is_object()) {
    for (const char* key : {"sensors", "results"}) {
      if (j.contains(key) && j[key].is_array()) list = &j[key];
    }
  }
  if (!list->is_array()) return out;
  for (const auto& s : *list) {
    SensorSeen seen;
    if (!s.is_object() || !jsonf::ReadString(s, "id", "id", true, &seen.id).ok()) continue;
    // A field of another type reads as absent.
    for (auto [key, field] :
         {std::pair{"pod", &seen.pod}, {"capture", &seen.capture}, {"mode", &seen.mode}}) {
      (void)jsonf::ReadString(s, key, key, false, field);
    }
    if (seen.pod.empty() && s.contains("k8s") && s["k8s"].is_object()) {
      (void)jsonf::ReadString(s["k8s"], "pod", "k8s.pod", false, &seen.pod);
    }
    out.push_back(std::move(seen));
  }
  return out;
}

Result<int> PickFreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return MakeError("socket failed", errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return MakeError("bind 127.0.0.1:0 failed", err);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

}  // namespace sandwatch::harness
