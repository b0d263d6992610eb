#include "sandwatch/harness/receiver_client.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

namespace sandwatch::harness {

ReceiverClient::ReceiverClient(std::string base_url, std::string token)
    : base_(std::move(base_url)), token_(std::move(token)) {}

namespace {
httplib::Client MakeClient(const std::string& base, const std::string& token, double timeout_s) {
  httplib::Client cli(base);
  auto sec = static_cast<time_t>(timeout_s);
  auto usec = static_cast<time_t>((timeout_s - static_cast<double>(sec)) * 1e6);
  cli.set_connection_timeout(sec, usec);
  cli.set_read_timeout(std::max<time_t>(sec, 10), 0);
  cli.set_tcp_nodelay(true);
  if (!token.empty()) cli.set_bearer_token_auth(token);
  return cli;
}
}  // namespace

bool ReceiverClient::Healthy(double timeout_s) const {
  try {
    auto cli = MakeClient(base_, token_, timeout_s);
    auto res = cli.Get("/healthz");
    return res && res->status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

Result<nlohmann::json> ReceiverClient::GetJson(const std::string& path) const {
  try {
    auto cli = MakeClient(base_, token_, 5.0);
    auto res = cli.Get(path);
    if (!res) return MakeError("GET " + base_ + path + ": " + httplib::to_string(res.error()));
    if (res->status != 200) {
      return MakeError("GET " + base_ + path + ": HTTP " + std::to_string(res->status) + " " +
                       res->body.substr(0, 200));
    }
    return nlohmann::json::parse(res->body);
  } catch (const std::exception& e) {
    return MakeError("GET " + base_ + path + ": " + e.what());
  }
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
    auto body = GetJson(path);
    if (!body.ok()) return body.error();
    if (!body->is_object() || !body->contains("results") || !(*body)["results"].is_array()) {
      return MakeError("GET " + path + ": no results array in the answer");
    }
    const auto& results = (*body)["results"];
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
  out.unparsable = static_cast<int>(bad.size());
  for (auto& j : bad) out.raw.push_back(std::move(j));
  return out;
}

Result<nlohmann::json> ReceiverClient::Sensors() const { return GetJson("/api/sensors"); }

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
