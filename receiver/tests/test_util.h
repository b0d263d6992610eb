// Helpers for the receiver's integration tests: a real receiver on a loopback port
// with a real SQLite file in a fresh temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/event.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/receiver/receiver.h"

namespace sandwatch::receiver::testing {

using nlohmann::json;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sw-recv-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline ReceiverConfig TestConfig(const std::string& db) {
  ReceiverConfig c;
  c.listen = "127.0.0.1:0";
  c.db = db;
  c.sync_full = false;  // tests don't need fsync-per-commit; durability across restart holds
  c.silence_check_s = 0.05;
  return c;
}

inline std::unique_ptr<Receiver> StartOrDie(const ReceiverConfig& c) {
  auto r = Receiver::Start(c);
  if (!r.ok()) {
    ADD_FAILURE() << "receiver did not start: " << r.error().message;
    return nullptr;
  }
  return std::move(*r);
}

inline std::unique_ptr<httplib::Client> ClientFor(const Receiver& r) {
  auto c = std::make_unique<httplib::Client>(r.host(), r.port());
  c->set_tcp_nodelay(true);
  c->set_read_timeout(30, 0);
  return c;
}

inline Event MakeEvent(uint64_t seq, const std::string& rule = "shadow_file_access",
                       const std::string& sensor = "sensor-a",
                       const std::string& pod = "kata-app") {
  Event e;
  e.id = NewUuid();
  e.seq = seq;
  e.time_ns = SystemClock().WallNs();
  e.rule = rule;
  e.priority = Priority::kWarning;
  e.output = "cat read /etc/shadow";
  e.tags = {"mitre_credential_access"};
  e.sensor = {sensor, "kata", "poll", "0.1.0"};
  e.pod = pod;
  e.ns = "kata-demo";
  e.hostname = "node-1";
  e.process = ProcessRef{123, 1, 0, "cat", "/usr/bin/cat", {"cat", "/etc/shadow"}, 0, "/"};
  e.parent = AncestorRef{1, "bash", {"bash"}};
  e.file_path = "/etc/shadow";
  return e;
}

inline std::string Batch(const std::vector<Event>& events) {
  json arr = json::array();
  for (const auto& e : events) arr.push_back(EventToJson(e));
  return arr.dump();
}

// Polls `pred` until it holds or a generous deadline passes; returns the last result.
inline bool WaitFor(const std::function<bool()>& pred,
                    std::chrono::seconds deadline = std::chrono::seconds(60)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

inline json GetJson(httplib::Client& c, const std::string& path, int* status = nullptr) {
  auto res = c.Get(path.c_str());
  if (!res) {
    ADD_FAILURE() << "GET " << path << " failed: " << httplib::to_string(res.error());
    return {};  // json null
  }
  if (status) *status = res->status;
  return json::parse(res->body, nullptr, false);
}

inline int64_t CountAll(httplib::Client& c, const std::string& query = "") {
  json j = GetJson(c, "/api/events?limit=1" + query);
  return j.is_object() ? j["statistics"]["all"].get<int64_t>() : -1;
}

// The value of one /metrics series without labels, or -1.
inline double MetricValue(httplib::Client& c, const std::string& series) {
  auto res = c.Get("/metrics");
  if (!res) return -1;
  size_t at = res->body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(res->body.substr(at + series.size() + 2));
}

}  // namespace sandwatch::receiver::testing
