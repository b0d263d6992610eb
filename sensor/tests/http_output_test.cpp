// HTTP shipping: a fault-injecting transport, and a real loopback httplib receiver.
#include "sandwatch/sensor/http_output.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "free_port.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/ids.h"

namespace sandwatch::sensor {
namespace {

using nlohmann::json;

Event MakeEvent(uint64_t seq) {
  Event e;
  e.id = NewUuid();
  e.seq = seq;
  e.time_ns = 1'800'000'000'000'000'000;
  e.rule = "shadow_file_access";
  e.output = "x";
  e.sensor = {"s-1", "kata", "poll", "0.1.0"};
  return e;
}

template <class F>
bool WaitFor(F cond) {  // generous cap; this is not a timing assertion
  for (int i = 0; i < 2000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

// Fails the first `failures` posts, then answers `status`; records what it got.
class FaultyTransport : public Transport {
 public:
  FaultyTransport(int failures, int status) : failures_(failures), status_(status) {}
  Result<int> Post(const std::string& path, const std::string& body) override {
    std::lock_guard<std::mutex> lock(mu);
    if (failures_ > 0) {
      --failures_;
      return MakeError("connection refused (injected)");
    }
    posts.emplace_back(path, body);
    return status_;
  }
  std::vector<uint64_t> Seqs() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<uint64_t> out;
    for (const auto& [path, body] : posts) {
      if (path != "/events") continue;
      for (const auto& e : json::parse(body)) out.push_back(e["seq"].get<uint64_t>());
    }
    return out;
  }
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> posts;

 private:
  int failures_;
  int status_;
};

HttpOptions FastOptions() {
  HttpOptions o;
  o.backoff_initial_s = 0.01;
  o.backoff_max_s = 0.05;
  o.batch_size = 3;
  return o;
}

TEST(HttpOutput, RetriesWithBackoffAndDeliversInOrder) {
  auto transport = std::make_unique<FaultyTransport>(4, 202);
  auto* t = transport.get();
  HttpOutput out(FastOptions(), std::move(transport), std::make_unique<MemoryQueue>(1 << 20));
  for (uint64_t i = 1; i <= 10; ++i) out.Emit(MakeEvent(i));
  ASSERT_TRUE(WaitFor([&] { return t->Seqs().size() == 10; }));
  std::vector<uint64_t> want{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(t->Seqs(), want);
  std::map<std::string, int64_t> c;
  out.AddCounters(&c);
  EXPECT_EQ(c["http_failures"], 4);
  EXPECT_EQ(c["events_delivered"], 10);
  EXPECT_EQ(c["events_dropped"], 0);
  out.Close(SystemClock().MonoNs() + 1'000'000'000);
}

TEST(HttpOutput, BadRequestDropsTheBatchAndCountsIt) {
  auto transport = std::make_unique<FaultyTransport>(0, 400);
  HttpOutput out(FastOptions(), std::move(transport), std::make_unique<MemoryQueue>(1 << 20));
  out.Emit(MakeEvent(1));
  std::map<std::string, int64_t> c;
  ASSERT_TRUE(WaitFor([&] {
    c.clear();
    out.AddCounters(&c);
    return c["events_rejected"] == 1;
  }));
  EXPECT_EQ(c["events_dropped"], 1);
  out.Close(SystemClock().MonoNs());
}

// Rejects (400) any body holding a poisoned event; accepts the rest.
class PickyTransport : public Transport {
 public:
  Result<int> Post(const std::string&, const std::string& body) override {
    std::lock_guard<std::mutex> lock(mu);
    if (body.find("poison") != std::string::npos) return 400;
    for (const auto& e : json::parse(body)) seqs.push_back(e["seq"].get<uint64_t>());
    return 202;
  }
  std::mutex mu;
  std::vector<uint64_t> seqs;
};

TEST(HttpOutput, ARejectedBatchIsResentOneByOneSoOnlyTheBadEventIsLost) {
  auto transport = std::make_unique<PickyTransport>();
  auto* t = transport.get();
  HttpOutput out(FastOptions(), std::move(transport), std::make_unique<MemoryQueue>(1 << 20));
  for (uint64_t i = 1; i <= 6; ++i) {
    Event e = MakeEvent(i);
    if (i == 2) e.output = "poison";
    out.Emit(e);
  }
  std::map<std::string, int64_t> c;
  ASSERT_TRUE(WaitFor([&] {
    c.clear();
    out.AddCounters(&c);
    return c["events_delivered"] + c["events_rejected"] == 6;
  }));
  EXPECT_EQ(c["events_rejected"], 1);
  EXPECT_EQ(c["events_dropped"], 1);
  std::lock_guard<std::mutex> lock(t->mu);
  EXPECT_EQ(t->seqs, (std::vector<uint64_t>{1, 3, 4, 5, 6}));
  out.Close(SystemClock().MonoNs());
}

TEST(HttpOutput, AtShutdownAFailedPostIsRetriedUntilTheDeadline) {
  // The receiver fails three posts; the backoff after the first would outlast any
  // shutdown, so only the shutdown retries can deliver.
  auto transport = std::make_unique<FaultyTransport>(3, 202);
  auto* t = transport.get();
  HttpOptions o = FastOptions();
  o.backoff_initial_s = 3600;
  o.backoff_max_s = 3600;
  o.shutdown_retry_s = 0.01;
  HttpOutput out(o, std::move(transport), std::make_unique<MemoryQueue>(1 << 20));
  for (uint64_t i = 1; i <= 5; ++i) out.Emit(MakeEvent(i));
  ASSERT_TRUE(WaitFor([&] {
    std::map<std::string, int64_t> c;
    out.AddCounters(&c);
    return c["http_failures"] >= 1;
  }));
  out.Close(SystemClock().MonoNs() + 60'000'000'000);
  EXPECT_EQ(t->Seqs(), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  std::map<std::string, int64_t> c;
  out.AddCounters(&c);
  EXPECT_EQ(c["events_pending"], 0);
  EXPECT_EQ(c["http_failures"], 3);
}

TEST(HttpOutput, FullMemoryQueueCountsDrops) {
  auto transport = std::make_unique<FaultyTransport>(1 << 30, 202);  // receiver never answers
  HttpOutput out(FastOptions(), std::move(transport),
                 std::make_unique<MemoryQueue>(EventToJsonLine(MakeEvent(1)).size() * 3 + 3));
  for (uint64_t i = 1; i <= 10; ++i) out.Emit(MakeEvent(i));
  std::map<std::string, int64_t> c;
  out.AddCounters(&c);
  EXPECT_EQ(c["events_dropped"], 7);
  EXPECT_EQ(c["events_pending"], 3);
  out.Close(SystemClock().MonoNs());
}

TEST(PlainHttpTransport, RejectsHttpsAndBadHosts) {
  EXPECT_FALSE(MakeHttpTransport("https://r", "").ok());
  EXPECT_FALSE(MakeHttpTransport("http://", "").ok());
  EXPECT_TRUE(MakeHttpTransport("http://[::1]:8080", "").ok());
  // Nobody listens: a connection error, not a hang or a crash.
  auto t = MakeHttpTransport("http://127.0.0.1:1", "");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE((*t)->Post("/events", "[]").ok());
}

TEST(SplitReceiverUrl, SiblingHeartbeat) {
  auto u = SplitReceiverUrl("http://kata-receiver.kata-demo.svc.cluster.local/events");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->base, "http://kata-receiver.kata-demo.svc.cluster.local");
  EXPECT_EQ(u->events_path, "/events");
  EXPECT_EQ(u->heartbeat_path, "/heartbeat");
  auto v = SplitReceiverUrl("http://127.0.0.1:8080/api/v1/events");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->base, "http://127.0.0.1:8080");
  EXPECT_EQ(v->heartbeat_path, "/api/v1/heartbeat");
}

// A loopback receiver: records event seqs, heartbeats and the Authorization header.
class LoopbackReceiver {
 public:
  explicit LoopbackReceiver(int port) {
    server_.set_tcp_nodelay(true);
    server_.Post("/events", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      auth = req.get_header_value("Authorization");
      for (const auto& e : json::parse(req.body)) seqs.push_back(e["seq"].get<uint64_t>());
      res.status = 202;
      res.set_content(R"({"accepted":1,"duplicates":0})", "application/json");
    });
    server_.Post("/heartbeat", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      heartbeats.push_back(json::parse(req.body));
      res.status = 202;
    });
    bound_ = server_.bind_to_port("127.0.0.1", port);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (bound_ && !server_.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LoopbackReceiver() {
    server_.stop();
    thread_.join();
  }
  bool bound() const { return bound_; }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu);
    return seqs.size();
  }
  std::mutex mu;
  std::vector<uint64_t> seqs;
  std::vector<json> heartbeats;
  std::string auth;

 private:
  httplib::Server server_;
  bool bound_ = false;
  std::thread thread_;
};

TEST(PlainHttpTransport, ReconnectsWhenTheServerClosesKeptAliveConnections) {
  httplib::Server server;
  server.set_keep_alive_max_count(2);  // the server closes every second connection
  int n = 0;
  server.Post("/events", [&](const httplib::Request& req, httplib::Response& res) {
    ++n;
    res.status = req.body == "[]" ? 202 : 400;
    res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
      sink.write("{\"accepted\":0}", 14);
      sink.done();
      return true;
    });
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto tr = MakeHttpTransport("http://127.0.0.1:" + std::to_string(port), "");
  ASSERT_TRUE(tr.ok());
  for (int i = 0; i < 10; ++i) {
    auto st = (*tr)->Post("/events", "[]");
    ASSERT_TRUE(st.ok()) << i << ": " << st.error().message;
    EXPECT_EQ(*st, 202);
  }
  auto bad = (*tr)->Post("/events", "{");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(*bad, 400);
  server.stop();
  t.join();
  EXPECT_EQ(n, 11);
}

TEST(PlainHttpTransport, NoPostWaitsPastTheCloseDeadline) {
  // The receiver answers "slow" after a second; a deadline already passed ends the
  // wait for that answer at once.
  httplib::Server server;
  server.Post("/events", [](const httplib::Request& req, httplib::Response& res) {
    if (req.body == "slow") std::this_thread::sleep_for(std::chrono::seconds(1));
    res.status = 202;
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto tr = MakeHttpTransport("http://127.0.0.1:" + std::to_string(port), "");
  ASSERT_TRUE(tr.ok());
  auto first = (*tr)->Post("/events", "[]");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, 202);
  (*tr)->LimitTo(SystemClock().MonoNs() - 1);
  EXPECT_FALSE((*tr)->Post("/events", "slow").ok());
  server.stop();
  t.join();
}

TEST(HttpOutput, ReceiverDownThenBackAcrossASensorRestart) {
  std::string dir = ::testing::TempDir() + "/sw-http-spool-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  int port = testing::FreePort();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  HttpOptions opt = FastOptions();
  {
    // The receiver is down: events go to the spool and stay there through shutdown.
    auto spool = Spool::Open(dir, 1 << 20);
    ASSERT_TRUE(spool.ok());
    HttpOutput out(opt, MakeHttpTransport(base, "tok").value(), std::move(spool.value()));
    for (uint64_t i = 1; i <= 5; ++i) out.Emit(MakeEvent(i));
    std::map<std::string, int64_t> c;
    ASSERT_TRUE(WaitFor([&] {
      c.clear();
      out.AddCounters(&c);
      return c["http_failures"] >= 2;
    }));
    EXPECT_GT(c["spool_bytes"], 0);
    out.Close(SystemClock().MonoNs());
  }
  LoopbackReceiver receiver(port);
  ASSERT_TRUE(receiver.bound());
  {
    // A restarted sensor finds the spool and delivers it first, in order.
    auto spool = Spool::Open(dir, 1 << 20);
    ASSERT_TRUE(spool.ok());
    EXPECT_EQ((*spool)->PendingRecords(), 5u);
    HttpOutput out(opt, MakeHttpTransport(base, "tok").value(), std::move(spool.value()));
    for (uint64_t i = 6; i <= 7; ++i) out.Emit(MakeEvent(i));
    Heartbeat hb;
    hb.sensor = {"s-1", "kata", "poll", "0.1.0"};
    hb.last_seq = 7;
    out.EmitHeartbeat(hb);
    ASSERT_TRUE(WaitFor([&] { return receiver.Count() == 7; }));
    ASSERT_TRUE(WaitFor([&] {
      std::lock_guard<std::mutex> lock(receiver.mu);
      return !receiver.heartbeats.empty();
    }));
    std::map<std::string, int64_t> c;
    out.AddCounters(&c);
    EXPECT_EQ(c["spool_bytes"], 0);
    out.Close(SystemClock().MonoNs() + 1'000'000'000);
  }
  std::lock_guard<std::mutex> lock(receiver.mu);
  EXPECT_EQ(receiver.seqs, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(receiver.auth, "Bearer tok");
  EXPECT_EQ(receiver.heartbeats[0]["last_seq"], 7);
  EXPECT_EQ(receiver.heartbeats[0]["schema"], "sandwatch.heartbeat/v1");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sandwatch::sensor
