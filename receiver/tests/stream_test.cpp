// /api/stream delivers each stored event as a server-sent event.
#include <atomic>
#include <mutex>

#include "test_util.h"

namespace sandwatch::receiver::testing {
namespace {

class StreamReader {
 public:
  StreamReader(const Receiver& r, const std::string& path) {
    thread_ = std::thread([this, host = r.host(), port = r.port(), path] {
      httplib::Client c(host, port);
      c.set_tcp_nodelay(true);
      c.set_read_timeout(120, 0);
      client_ = &c;
      auto res = c.Get(path.c_str(), [this](const char* data, size_t len) {
        std::lock_guard<std::mutex> lock(mu_);
        received_.append(data, len);
        return !stop_.load();
      });
      done_ = true;
    });
  }
  ~StreamReader() {
    stop_ = true;
    while (!done_ && !client_.load()) std::this_thread::yield();
    if (!done_) client_.load()->stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  void Stop() { stop_ = true; }
  bool done() const { return done_; }

 private:
  std::mutex mu_;
  std::string received_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::atomic<httplib::Client*> client_{nullptr};
  std::thread thread_;
};

TEST(Stream, PostedEventArrivesAsServerSentEvent) {
  TempDir dir;
  auto r = StartOrDie(TestConfig(dir.File("events.db")));
  ASSERT_TRUE(r);
  StreamReader reader(*r, "/api/stream");
  ASSERT_TRUE(WaitFor([&] { return reader.received().find(": connected") != std::string::npos; }));
  auto c = ClientFor(*r);
  Event e = MakeEvent(1);
  e.process->cmdline = {"sh", "-c", "<script>alert(1)</script>"};
  ASSERT_EQ(c->Post("/events", Batch({e}), "application/json")->status, 202);
  ASSERT_TRUE(WaitFor([&] { return reader.received().find(e.id) != std::string::npos; }));
  std::string text = reader.received();
  auto data = text.find("data: ");
  ASSERT_NE(data, std::string::npos);
  auto end = text.find('\n', data);
  json got = json::parse(text.substr(data + 6, end - data - 6));
  EXPECT_EQ(got["id"], e.id);
  EXPECT_EQ(got["process"]["cmdline"][2], "<script>alert(1)</script>");
  EXPECT_NE(text.find("id: "), std::string::npos);
  // Falco alerts are streamed too.
  ASSERT_EQ(c->Post("/falco", R"({"rule":"Falco rule","priority":"Notice","output":"x"})",
                    "application/json")
                ->status,
            202);
  EXPECT_TRUE(WaitFor([&] { return reader.received().find("Falco rule") != std::string::npos; }));
}

TEST(Stream, DisconnectedClientsAreRemovedAndResumeReplays) {
  TempDir dir;
  auto r = StartOrDie(TestConfig(dir.File("events.db")));
  ASSERT_TRUE(r);
  auto c = ClientFor(*r);
  {
    StreamReader reader(*r, "/api/stream");
    ASSERT_TRUE(
        WaitFor([&] { return reader.received().find(": connected") != std::string::npos; }));
    auto m = c->Get("/metrics");
    EXPECT_NE(m->body.find("sandwatch_receiver_stream_clients 1"), std::string::npos);
    reader.Stop();
    // Keep producing so the server notices the closed socket on its next write.
    ASSERT_TRUE(WaitFor([&] {
      c->Post("/events", Batch({MakeEvent(1)}), "application/json");
      return c->Get("/metrics")->body.find("sandwatch_receiver_stream_clients 0") !=
             std::string::npos;
    }));
  }
  Event first = MakeEvent(100);
  Event second = MakeEvent(101);
  ASSERT_EQ(c->Post("/events", Batch({first}), "application/json")->status, 202);
  ASSERT_EQ(c->Post("/events", Batch({second}), "application/json")->status, 202);
  // Resume after the first one: the second is replayed from the store.
  json page = GetJson(*c, "/api/events?id=" + first.id);
  ASSERT_EQ(page["statistics"]["all"], 1);
  StreamReader all(*r, "/api/stream?last_event_id=0");
  EXPECT_TRUE(WaitFor([&] { return all.received().find(second.id) != std::string::npos; }));
  EXPECT_NE(all.received().find(first.id), std::string::npos);
}

TEST(Stream, StopClosesOpenStreams) {
  TempDir dir;
  auto r = StartOrDie(TestConfig(dir.File("events.db")));
  ASSERT_TRUE(r);
  StreamReader reader(*r, "/api/stream");
  ASSERT_TRUE(WaitFor([&] { return reader.received().find(": connected") != std::string::npos; }));
  r->Stop();
  EXPECT_TRUE(WaitFor([&] { return reader.done(); }));
}

}  // namespace
}  // namespace sandwatch::receiver::testing
