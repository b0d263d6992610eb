// Sensor liveness (silent after 2x the heartbeat interval, one sensor_silent event per
// silence) and per-sensor seq gap counting. No timed assertions: we poll for state.
#include <atomic>

#include "test_util.h"

namespace sandwatch::receiver::testing {
namespace {

json Heartbeat(const std::string& id, double interval_s, uint64_t last_seq) {
  return json{
      {"schema", "sandwatch.heartbeat/v1"},
      {"sensor", {{"id", id}, {"mode", "sidecar"}, {"capture", "poll"}, {"version", "0.1.0"}}},
      {"time", FormatRfc3339(SystemClock().WallNs())},
      {"last_seq", last_seq},
      {"interval_s", interval_s},
      {"k8s", {{"pod", "kata-app"}, {"namespace", "kata-demo"}}},
      {"hostname", "node-1"},
      {"counters",
       {{"scans", 10},
        {"processes_seen", 4},
        {"events_emitted", last_seq},
        {"events_suppressed", 0},
        {"events_dropped", 2},
        {"cmdline_unreadable", 0},
        {"netlink_overflows", 0},
        {"spool_bytes", 0}}}};
}

json FindSensor(httplib::Client& c, const std::string& id) {
  json s = GetJson(c, "/api/sensors");
  for (const auto& x : s["sensors"]) {
    if (x["id"] == id) return x;
  }
  return {};
}

TEST(Sensors, SilenceIsDetectedOnceAndClearedByAHeartbeat) {
  TempDir dir;
  auto r = StartOrDie(TestConfig(dir.File("events.db")));
  ASSERT_TRUE(r);
  auto c = ClientFor(*r);
  auto res = c->Post("/heartbeat", Heartbeat("quiet-1", 0.1, 0).dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202);
  json s = FindSensor(*c, "quiet-1");
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["mode"], "sidecar");
  EXPECT_EQ(s["capture"], "poll");
  EXPECT_EQ(s["counters"]["events_dropped"], 2);
  EXPECT_FALSE(s["last_heartbeat"].is_null());
  // No more heartbeats: it must turn silent and raise exactly one sensor_silent event.
  ASSERT_TRUE(WaitFor([&] { return FindSensor(*c, "quiet-1")["status"] == "silent"; }));
  ASSERT_TRUE(WaitFor([&] { return CountAll(*c, "&rule=sensor_silent") == 1; }));
  json ev = GetJson(*c, "/api/events?rule=sensor_silent");
  EXPECT_EQ(ev["results"][0]["sensor"]["id"], "quiet-1");
  EXPECT_EQ(ev["results"][0]["k8s"]["pod"], "kata-app");
  // Let many more liveness checks run (check interval 50 ms); still one event.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(CountAll(*c, "&rule=sensor_silent"), 1);
  // A heartbeat brings it back; a second silence raises a second event.
  ASSERT_EQ(c->Post("/heartbeat", Heartbeat("quiet-1", 0.1, 0).dump(), "application/json")->status,
            202);
  // (It may already be silent again by the time we look; the second event proves the reset.)
  ASSERT_TRUE(WaitFor([&] { return CountAll(*c, "&rule=sensor_silent") == 2; }));
  auto m = c->Get("/metrics");
  EXPECT_NE(m->body.find("sandwatch_receiver_sensor_silent_total 2"), std::string::npos);
  EXPECT_NE(m->body.find("sandwatch_receiver_sensors{status=\"silent\"} 1"), std::string::npos);
}

TEST(Sensors, AliveWhileHeartbeatsArrive) {
  TempDir dir;
  auto r = StartOrDie(TestConfig(dir.File("events.db")));
  ASSERT_TRUE(r);
  auto c = ClientFor(*r);
  ASSERT_EQ(c->Post("/heartbeat", Heartbeat("busy-1", 600, 0).dump(), "application/json")->status,
            202);
  json s = FindSensor(*c, "busy-1");
  EXPECT_EQ(s["status"], "alive");
  EXPECT_EQ(s["interval_s"], 600.0);
  EXPECT_EQ(CountAll(*c, "&rule=sensor_silent"), 0);
}

TEST(Sensors, SeqGapsAreCountedAndShrinkWhenLateEventsArrive) {
  TempDir dir;
  auto r = StartOrDie(TestConfig(dir.File("events.db")));
  ASSERT_TRUE(r);
  auto c = ClientFor(*r);
  std::vector<Event> events;
  for (uint64_t seq : {1, 2, 3, 5, 6, 9})
    events.push_back(MakeEvent(seq, "unexpected_shell", "gappy"));
  ASSERT_EQ(c->Post("/events", Batch(events), "application/json")->status, 202);
  json s = FindSensor(*c, "gappy");
  EXPECT_EQ(s["seq_max"], 9);
  EXPECT_EQ(s["seq_gaps"], 3);  // 4, 7, 8
  EXPECT_EQ(s["events"], 6);
  ASSERT_EQ(
      c->Post("/events", Batch({MakeEvent(4, "unexpected_shell", "gappy")}), "application/json")
          ->status,
      202);
  EXPECT_EQ(FindSensor(*c, "gappy")["seq_gaps"], 2);
  // Duplicates do not hide gaps.
  ASSERT_EQ(c->Post("/events", Batch({events[0]}), "application/json")->status, 202);
  EXPECT_EQ(FindSensor(*c, "gappy")["seq_gaps"], 2);
  // A heartbeat whose last_seq is ahead shows events emitted but not received.
  ASSERT_EQ(c->Post("/heartbeat", Heartbeat("gappy", 600, 12).dump(), "application/json")->status,
            202);
  s = FindSensor(*c, "gappy");
  EXPECT_EQ(s["last_seq"], 12);
  bool warned = false;
  for (const auto& w : s["warnings"])
    warned |= w.get<std::string>().find("not yet received") != std::string::npos;
  EXPECT_TRUE(warned) << s.dump();
  auto m = c->Get("/metrics");
  EXPECT_NE(m->body.find("sandwatch_receiver_seq_gaps{sensor=\"gappy\"} 2"), std::string::npos);
}

// A clock whose wall time the test sets; monotonic time is the real one (HTTP deadlines).
class SetWallClock : public Clock {
 public:
  explicit SetWallClock(int64_t wall_ns) : wall_(wall_ns) {}
  int64_t WallNs() const override { return wall_.load(); }
  int64_t MonoNs() const override { return SystemClock().MonoNs(); }
  void Set(int64_t wall_ns) { wall_.store(wall_ns); }

 private:
  std::atomic<int64_t> wall_;
};

TEST(Sensors, ReceiverTimeComesFromItsClock) {
  const int64_t t0 = 1'900'000'000'000'000'000;  // 2030-03-17
  SetWallClock clock(t0);
  TempDir dir;
  auto r = Receiver::Start(TestConfig(dir.File("events.db")), clock);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto c = ClientFor(**r);
  ASSERT_EQ(c->Post("/heartbeat", Heartbeat("clocked-1", 30, 0).dump(), "application/json")->status,
            202);
  json s = GetJson(*c, "/api/sensors");
  EXPECT_EQ(s["now"], FormatRfc3339(t0));
  EXPECT_EQ(FindSensor(*c, "clocked-1")["last_heartbeat"], FormatRfc3339(t0));
  EXPECT_EQ(FindSensor(*c, "clocked-1")["status"], "alive");
  // Ten minutes later by the receiver's clock (interval 30 s): the writer's liveness check
  // must see it silent and raise the event, with no real time passing.
  clock.Set(t0 + 600'000'000'000);
  ASSERT_TRUE(WaitFor([&] { return CountAll(*c, "&rule=sensor_silent") == 1; }));
  json ev = GetJson(*c, "/api/events?rule=sensor_silent");
  EXPECT_EQ(ev["results"][0]["sensor"]["id"], "clocked-1");
  EXPECT_EQ(FindSensor(*c, "clocked-1")["silent_since"], FormatRfc3339(t0 + 600'000'000'000));
}

}  // namespace
}  // namespace sandwatch::receiver::testing
