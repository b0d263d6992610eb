#include "sandwatch/receiver/query.h"

#include <gtest/gtest.h>

#include <map>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/event.h"

namespace sandwatch::receiver {
namespace {

constexpr int64_t kNow = 1'800'000'000'000'000'000;

Result<EventQuery> Parse(const std::map<std::string, std::string>& params) {
  return ParseEventQuery(
      [&](const std::string& name) -> std::optional<std::string> {
        auto it = params.find(name);
        if (it == params.end()) return std::nullopt;
        return it->second;
      },
      kNow);
}

TEST(ParseEventQuery, Defaults) {
  auto q = Parse({});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->page, 1);
  EXPECT_EQ(q->limit, 100);
  EXPECT_FALSE(q->since_ns.has_value());
  EXPECT_FALSE(q->ascending);
}

TEST(ParseEventQuery, ListsPrioritiesAndTimes) {
  auto q = Parse({{"rule", "a,b"},
                  {"priority", "warning,Critical"},
                  {"pod", "p"},
                  {"namespace", "n"},
                  {"sensor", "s"},
                  {"hostname", "h"},
                  {"source", "falco"},
                  {"tags", "T1003,shell"},
                  {"since", "15m"},
                  {"until", "2026-11-28T09:00:00Z"},
                  {"filter", "shadow"},
                  {"page", "3"},
                  {"limit", "50"},
                  {"order", "asc"}});
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->rules, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(q->priorities, (std::vector<int>{static_cast<int>(Priority::kWarning),
                                             static_cast<int>(Priority::kCritical)}));
  EXPECT_EQ(*q->since_ns, kNow - 15LL * 60 * 1'000'000'000);
  EXPECT_EQ(*q->until_ns, *ParseRfc3339("2026-11-28T09:00:00Z"));
  EXPECT_EQ(q->filter, "shadow");
  EXPECT_EQ(q->page, 3);
  EXPECT_EQ(q->limit, 50);
  EXPECT_TRUE(q->ascending);
  EXPECT_EQ(q->hostnames, std::vector<std::string>{"h"});
  EXPECT_EQ(q->tags, (std::vector<std::string>{"T1003", "shell"}));
}

TEST(ParseEventQuery, ErrorsNameTheParameter) {
  struct Case {
    const char* name;
    const char* value;
  };
  for (const Case& c : {Case{"since", "soon"}, Case{"until", "x"}, Case{"page", "0"},
                        Case{"page", "-1"}, Case{"limit", "1001"}, Case{"limit", "ten"},
                        Case{"priority", "Loud"}, Case{"min_priority", "x"}, Case{"order", "up"}}) {
    auto q = Parse({{c.name, c.value}});
    ASSERT_FALSE(q.ok()) << c.name << "=" << c.value;
    EXPECT_EQ(q.error().message.rfind(c.name, 0), 0u) << q.error().message;
  }
  auto q = Parse({{"filter", std::string(2000, 'x')}});
  EXPECT_FALSE(q.ok());
}

}  // namespace
}  // namespace sandwatch::receiver
