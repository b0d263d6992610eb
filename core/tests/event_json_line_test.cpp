// EventToJsonLine writes the stored form without a JSON tree; it must give exactly the
// bytes the tree's dump gives, for every event, including hostile strings.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "sandwatch/core/event.h"

namespace sandwatch {
namespace {

using nlohmann::json;

std::string TreeDump(const Event& e) {
  return EventToJson(e).dump(-1, ' ', false, json::error_handler_t::replace);
}

Event FullEvent() {
  Event e;
  e.id = "6f1c0e1e-3b1a-4c55-9a51-0f7e3d2b8a10";
  e.seq = 17;
  e.time_ns = 1'795'856'400'123'456'789;
  e.rule = "shadow_file_access";
  e.priority = Priority::kCritical;
  e.output = "cat read /etc/shadow";
  e.tags = {"mitre_credential_access", "T1003.008"};
  e.source = "falco";
  e.sensor = {"s-1", "kata", "poll", "0.1.0"};
  e.pod = "kata-app";
  e.ns = "kata-demo";
  e.hostname = "h";
  e.process = ProcessRef{123, 1, 99, "cat", "/usr/bin/cat", {"cat", "/etc/shadow"}, 0, "/"};
  e.parent = AncestorRef{1, "bash", {"bash"}};
  e.ancestors = {{1, "bash", {}}, {0, "init", {"/sbin/init", "splash"}}};
  e.file_path = "/etc/shadow";
  e.connection = ConnectionRef{"tcp", "127.0.0.1:5000", "127.0.0.1:4444"};
  e.detection = DetectionInfo{"poll", 3.2};
  e.fields = {{"suppressed", "4"}, {"proc.name", "cat"}, {"a", ""}};
  return e;
}

TEST(EventJsonLine, MinimalEventMatchesTheTree) {
  Event e;
  e.id = "x";
  e.rule = "r";
  EXPECT_EQ(EventToJsonLine(e), TreeDump(e));
}

TEST(EventJsonLine, FullEventMatchesTheTree) {
  Event e = FullEvent();
  EXPECT_EQ(EventToJsonLine(e), TreeDump(e));
  e.process->uid.reset();
  e.process->cmdline.clear();
  e.detection->lag_ms.reset();
  e.parent->cmdline.clear();
  EXPECT_EQ(EventToJsonLine(e), TreeDump(e));
}

TEST(EventJsonLine, ExtremeNumbersMatchTheTree) {
  Event e = FullEvent();
  e.seq = std::numeric_limits<uint64_t>::max();
  e.time_ns = 0;
  e.process->pid = std::numeric_limits<int>::min();
  e.process->ppid = std::numeric_limits<int>::max();
  e.process->start_time_ns = std::numeric_limits<uint64_t>::max();
  e.process->uid = std::numeric_limits<int64_t>::min();
  for (double lag : {0.0, -0.0, 1e300, 5e-324, 0.1, 123456789.0, std::nan(""),
                     std::numeric_limits<double>::infinity()}) {
    e.detection->lag_ms = lag;
    EXPECT_EQ(EventToJsonLine(e), TreeDump(e)) << lag;
  }
}

TEST(EventJsonLine, HostileStringsAreEscapedAsTheTreeDoes) {
  Event e = FullEvent();
  const std::vector<std::string> hostile = {
      "quote \" and backslash \\",
      std::string("nul \0 byte", 10),
      "\x01\x1f\x7f tab\t newline\n cr\r",
      "</script><script>alert(1)</script>",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
      "invalid \xff\xfe utf-8 \xc3",
      "overlong \xc0\xaf and surrogate \xed\xa0\x80",
  };
  for (const auto& s : hostile) {
    e.output = s;
    e.process->cmdline = {s, "ok"};
    e.fields = {{s, s}, {"plain", s}};
    e.ancestors[1].name = s;
    e.file_path = s;
    EXPECT_EQ(EventToJsonLine(e), TreeDump(e));
  }
}

// Random bytes in every string field, with a fixed seed: any difference is reproducible.
TEST(EventJsonLine, RandomStringsMatchTheTree) {
  std::mt19937_64 rng(20261207);
  auto random_string = [&rng] {
    std::string s(rng() % 12, '\0');
    for (char& c : s) {
      // Mostly ASCII, with control characters and high bytes mixed in.
      uint64_t r = rng() % 8;
      c = static_cast<char>(r < 5 ? 0x20 + rng() % 95 : (r < 6 ? rng() % 0x20 : rng() % 256));
    }
    return s;
  };
  for (int i = 0; i < 500; ++i) {
    Event e = FullEvent();
    e.id = random_string();
    e.rule = random_string();
    e.output = random_string();
    e.tags = {random_string(), random_string()};
    e.sensor = {random_string(), random_string(), random_string(), random_string()};
    e.pod = random_string();
    e.ns = random_string();
    e.hostname = random_string();
    e.process->exe = random_string();
    e.process->cwd = random_string();
    e.connection->remote = random_string();
    e.fields = {{random_string(), random_string()}, {random_string(), random_string()}};
    ASSERT_EQ(EventToJsonLine(e), TreeDump(e)) << "case " << i;
  }
}

}  // namespace
}  // namespace sandwatch
