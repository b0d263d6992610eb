// The HTTP limits against slow, idle and hostile clients, over real loopback sockets.
// Each test holds a bounded number of connections for a bounded time and checks what
// happened (answered, refused, closed, counted), never how fast.
#include <memory>
#include <sstream>
#include <vector>

#include "raw_socket.h"
#include "test_util.h"

namespace sandwatch::receiver::testing {
namespace {

double Metric(httplib::Client& c, const std::string& series) {
  auto res = c.Get("/metrics");
  if (!res) return -1;
  std::istringstream in(res->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::atof(line.c_str() + series.size() + 1);
  }
  return -1;
}

std::string PostHead(const std::string& path, size_t length, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         extra + "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

std::string Post(const std::string& path, const std::string& body, const std::string& extra = "") {
  return PostHead(path, body.size(), extra) + body;
}

const std::string kHealthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

class LimitsTest : public ::testing::Test {
 protected:
  void Start(const std::function<void(ReceiverConfig&)>& tweak) {
    ReceiverConfig c = TestConfig(dir_.File("events.db"));
    tweak(c);
    receiver_ = StartOrDie(c);
    ASSERT_TRUE(receiver_);
    client_ = ClientFor(*receiver_);
  }
  int port() const { return receiver_->port(); }
  double M(const std::string& series) { return Metric(*client_, series); }

  TempDir dir_;
  std::unique_ptr<Receiver> receiver_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(LimitsTest, HeadersNotFinishedInTimeAreCutOff) {
  Start([](ReceiverConfig& c) { c.header_timeout_s = 0.3; });
  std::vector<std::unique_ptr<RawConn>> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(std::make_unique<RawConn>(port()));
    ASSERT_TRUE(slow.back()->Send("POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  }
  RawConn fine(port());
  ASSERT_TRUE(fine.Send(kHealthz));
  EXPECT_EQ(RawConn::Status(fine.ReadResponse()), 200);
  for (auto& s : slow) EXPECT_TRUE(s->WaitClosed());
  EXPECT_GE(M("sandwatch_receiver_http_timeouts_total{phase=\"header\"}"), 20);
  EXPECT_EQ(M("sandwatch_receiver_http_limit{name=\"header_timeout_seconds\"}"), 0.3);
}

TEST_F(LimitsTest, BodyNotFinishedInTimeIsCutOffAndNothingStored) {
  Start([](ReceiverConfig& c) { c.body_timeout_s = 0.3; });
  std::string body = Batch({MakeEvent(1), MakeEvent(2)});
  RawConn slow(port());
  ASSERT_TRUE(slow.Send(PostHead("/events", body.size()) + body.substr(0, body.size() / 2)));
  EXPECT_TRUE(slow.WaitClosed());
  EXPECT_GE(M("sandwatch_receiver_http_timeouts_total{phase=\"body\"}"), 1);
  EXPECT_EQ(CountAll(*client_), 0);
}

TEST_F(LimitsTest, GibibyteBodyIsRefusedAfterItsHeadersAndNothingStored) {
  Start([](ReceiverConfig&) {});
  RawConn big(port());
  // The body is announced but never sent: the answer comes from the headers alone.
  ASSERT_TRUE(big.Send(PostHead("/events", size_t{1} << 30) + "[{\"id\":"));
  std::string res = big.ReadResponse();
  EXPECT_EQ(RawConn::Status(res), 413) << res;
  EXPECT_NE(res.find("1 MiB"), std::string::npos);
  EXPECT_TRUE(big.WaitClosed());
  EXPECT_EQ(M("sandwatch_receiver_rejected_total{reason=\"too_large\"}"), 1);
  EXPECT_EQ(CountAll(*client_), 0);
}

TEST_F(LimitsTest, IdleKeepAliveConnectionsAreClosed) {
  Start([](ReceiverConfig& c) { c.idle_timeout_s = 0.3; });
  RawConn idle(port());
  ASSERT_TRUE(idle.Send(kHealthz));
  std::string res = idle.ReadResponse();
  EXPECT_EQ(RawConn::Status(res), 200);
  EXPECT_NE(res.find("Connection: keep-alive"), std::string::npos);
  EXPECT_TRUE(idle.WaitClosed());
  EXPECT_GE(M("sandwatch_receiver_http_timeouts_total{phase=\"idle\"}"), 1);
}

TEST_F(LimitsTest, KeepAliveCarriesManyRequestsOnOneConnection) {
  Start([](ReceiverConfig&) {});
  RawConn conn(port());
  for (uint64_t i = 1; i <= 5; ++i) {
    ASSERT_TRUE(conn.Send(Post("/events", Batch({MakeEvent(i)}))));
    EXPECT_EQ(RawConn::Status(conn.ReadResponse()), 202);
  }
  // Two requests in one write (pipelined) are both answered, in order.
  ASSERT_TRUE(conn.Send(kHealthz + kHealthz));
  EXPECT_EQ(RawConn::Status(conn.ReadResponse()), 200);
  EXPECT_EQ(RawConn::Status(conn.ReadResponse()), 200);
  // HEAD answers without a body, so the next answer starts right after its head.
  ASSERT_TRUE(conn.Send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + kHealthz));
  std::string head = conn.ReadResponse(/*head_only=*/true);
  EXPECT_EQ(RawConn::Status(head), 200);
  EXPECT_NE(head.find("Content-Length: 2"), std::string::npos);
  EXPECT_EQ(RawConn::Status(conn.ReadResponse()), 200);
  EXPECT_EQ(CountAll(*client_), 5);
}

TEST_F(LimitsTest, ConnectionsOverThePerPeerLimitAreRefusedAtOnce) {
  Start([](ReceiverConfig& c) { c.max_connections_per_peer = 5; });
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(std::make_unique<RawConn>(port(), "127.0.0.9"));
    ASSERT_TRUE(held.back()->Send(kHealthz));
    EXPECT_EQ(RawConn::Status(held.back()->ReadResponse()), 200);
  }
  RawConn over(port(), "127.0.0.9");
  std::string res = over.ReadResponse();
  EXPECT_EQ(RawConn::Status(res), 503) << res;
  EXPECT_TRUE(over.WaitClosed());
  RawConn other_peer(port(), "127.0.0.10");
  ASSERT_TRUE(other_peer.Send(kHealthz));
  EXPECT_EQ(RawConn::Status(other_peer.ReadResponse()), 200);
  EXPECT_EQ(M("sandwatch_receiver_http_connections_refused_total{limit=\"max_connections_per_"
              "peer\"}"),
            1);
}

TEST_F(LimitsTest, ConnectionsOverTheTotalLimitAreRefusedAtOnce) {
  Start([](ReceiverConfig& c) {
    c.max_connections = 6;
    c.max_stream_clients = 2;
  });
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 6; ++i) {
    held.push_back(std::make_unique<RawConn>(port(), i % 2 ? "127.0.0.11" : "127.0.0.12"));
    ASSERT_TRUE(held.back()->Send(kHealthz));
    EXPECT_EQ(RawConn::Status(held.back()->ReadResponse()), 200);
  }
  RawConn over(port(), "127.0.0.13");
  EXPECT_EQ(RawConn::Status(over.ReadResponse()), 503);
  EXPECT_TRUE(over.WaitClosed());
  held.pop_back();  // a slot frees up once a connection closes
  EXPECT_TRUE(WaitFor([&] {
    RawConn again(port(), "127.0.0.13");
    return again.Send(kHealthz) && RawConn::Status(again.ReadResponse()) == 200;
  }));
  // /metrics itself needs a free slot: retried until the last probe's close is seen.
  EXPECT_TRUE(WaitFor([&] {
    return M("sandwatch_receiver_http_connections_refused_total{limit=\"max_connections\"}") >= 1;
  }));
}

TEST_F(LimitsTest, BadTokenIsRefusedBeforeTheBodyIsRead) {
  Start([](ReceiverConfig& c) { c.token = "s3cret"; });
  RawConn bad(port());
  // Headers only: the 401 must come without the announced 500,000-byte body.
  ASSERT_TRUE(bad.Send(PostHead("/events", 500000, "Authorization: Bearer wrong\r\n")));
  std::string res = bad.ReadResponse();
  EXPECT_EQ(RawConn::Status(res), 401) << res;
  EXPECT_TRUE(bad.WaitClosed());
  RawConn good(port());
  ASSERT_TRUE(
      good.Send(Post("/events", Batch({MakeEvent(1)}), "Authorization: Bearer s3cret\r\n")));
  EXPECT_EQ(RawConn::Status(good.ReadResponse()), 202);
  EXPECT_EQ(M("sandwatch_receiver_rejected_total{reason=\"unauthorized\"}"), 1);
  EXPECT_EQ(M("sandwatch_receiver_http_rejected_before_body_total"), 1);
  EXPECT_EQ(CountAll(*client_), 1);
}

TEST_F(LimitsTest, ExpectContinueIsAnsweredAfterTheTokenCheck) {
  Start([](ReceiverConfig& c) { c.token = "s3cret"; });
  std::string body = Batch({MakeEvent(1)});
  RawConn conn(port());
  ASSERT_TRUE(conn.Send(PostHead("/events", body.size(),
                                 "Authorization: Bearer s3cret\r\nExpect: 100-continue\r\n")));
  EXPECT_EQ(RawConn::Status(conn.ReadResponse()), 100);
  ASSERT_TRUE(conn.Send(body));
  EXPECT_EQ(RawConn::Status(conn.ReadResponse()), 202);
  EXPECT_EQ(CountAll(*client_), 1);
}

TEST_F(LimitsTest, StreamClientsOverTheLimitGet503AndAreClosed) {
  Start([](ReceiverConfig& c) { c.max_stream_clients = 2; });
  const std::string get = "GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  RawConn s1(port()), s2(port());
  ASSERT_TRUE(s1.Send(get));
  ASSERT_TRUE(s2.Send(get));
  ASSERT_TRUE(WaitFor([&] { return M("sandwatch_receiver_stream_clients") == 2; }));
  RawConn s3(port());
  ASSERT_TRUE(s3.Send(get));
  std::string res = s3.ReadResponse();
  EXPECT_EQ(RawConn::Status(res), 503) << res;
  EXPECT_TRUE(s3.WaitClosed());
  EXPECT_EQ(M("sandwatch_receiver_stream_refused_total"), 1);
}

TEST_F(LimitsTest, StreamClientThatDoesNotReadIsDroppedOnceItsQueueIsFull) {
  Start([](ReceiverConfig& c) { c.stream_queue = 1000; });
  RawConn stuck(port(), "127.0.0.1", 4096);  // reads nothing, tiny receive buffer
  ASSERT_TRUE(stuck.Send("GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_TRUE(WaitFor([&] { return M("sandwatch_receiver_stream_clients") == 1; }));
  // Enough events to fill the socket buffers (a few MiB on loopback) and then the queue;
  // bounded at 40 batches.
  uint64_t seq = 0;
  for (int b = 0; b < 40 && M("sandwatch_receiver_stream_disconnected_total") < 1; ++b) {
    std::vector<Event> batch;
    batch.reserve(1000);
    for (int i = 0; i < 1000; ++i) batch.push_back(MakeEvent(++seq));
    auto res = client_->Post("/events", Batch(batch), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 202);
  }
  EXPECT_TRUE(WaitFor([&] { return M("sandwatch_receiver_stream_disconnected_total") == 1; }));
  EXPECT_TRUE(WaitFor([&] { return M("sandwatch_receiver_stream_clients") == 0; }));
  EXPECT_GE(CountAll(*client_), static_cast<int64_t>(seq));  // nothing lost meanwhile
}

TEST_F(LimitsTest, HealthAndIngestionAnswerWhileSlowClientsHoldConnections) {
  Start([](ReceiverConfig& c) { c.max_stream_clients = 8; });
  std::vector<std::unique_ptr<RawConn>> hostile;
  for (int i = 0; i < 60; ++i) {  // heads never finished
    hostile.push_back(std::make_unique<RawConn>(port(), "127.0.0.20"));
    ASSERT_TRUE(hostile.back()->Send("POST /events HTTP/1.1\r\nContent-Le"));
  }
  for (int i = 0; i < 60; ++i) {  // idle keep-alive after one request
    hostile.push_back(std::make_unique<RawConn>(port(), "127.0.0.21"));
    ASSERT_TRUE(hostile.back()->Send(kHealthz));
    ASSERT_EQ(RawConn::Status(hostile.back()->ReadResponse()), 200);
  }
  for (int i = 0; i < 20; ++i) {  // streams never read (12 of them over the limit)
    hostile.push_back(std::make_unique<RawConn>(port(), "127.0.0.22", 4096));
    ASSERT_TRUE(hostile.back()->Send("GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  RawConn sensor(port(), "127.0.0.23");
  ASSERT_TRUE(sensor.Send(kHealthz));
  EXPECT_EQ(RawConn::Status(sensor.ReadResponse()), 200);
  std::vector<Event> batch;
  for (uint64_t i = 1; i <= 100; ++i) batch.push_back(MakeEvent(i));
  ASSERT_TRUE(sensor.Send(Post("/events", Batch(batch))));
  EXPECT_EQ(RawConn::Status(sensor.ReadResponse()), 202);
  EXPECT_EQ(CountAll(*client_), 100);
  EXPECT_GE(M("sandwatch_receiver_http_connections"), 120);
}

}  // namespace
}  // namespace sandwatch::receiver::testing
