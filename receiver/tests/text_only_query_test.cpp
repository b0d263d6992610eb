// A text filter alone is answered from one walk of the text index in row order, its
// page proven against the time index (text_only_query.h). Every page and count must be
// the scan's (a store without the index, sw_match on every row): filters with a word in
// every event, prefixes, punctuation, quotes, non-ASCII words, rows out of time order,
// equal times, and rows not indexed yet.
#include "text_only_query.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sandwatch/core/ids.h"
#include "sandwatch/receiver/store.h"
#include "sqlite_util.h"
#include "test_util.h"
#include "text_filter.h"
#include "text_index.h"

namespace sandwatch::receiver {
namespace {

using testing::TempDir;

constexpr int64_t kBaseNs = 1'900'000'000'000'000'000;
constexpr int64_t kSecond = 1'000'000'000;

// Event i: nearly in time order (times in steps of 2 s, so neighbours tie, plus a
// deterministic jitter), every 37th far out of order; words common, rare and odd.
Event MakeEvent(int64_t i, int64_t total) {
  Event e;
  e.id = NewUuid();
  e.seq = static_cast<uint64_t>(i + 1);
  const int64_t jitter = ((i * 7919) % 7) - 3;
  e.time_ns = kBaseNs + (i / 2 + jitter) * 2 * kSecond;
  if (i % 37 == 0) e.time_ns = kBaseNs + (total - i) * kSecond;
  e.rule = i % 2 ? "unexpected_shell" : "shadow_file_access";
  e.output = "shell in pod-" + std::to_string(i % 50) + " host-" + std::to_string(i % 700);
  if (i % 11 == 0) e.output += " cat /etc/shadow";
  if (i % 13 == 0) e.output += " дом 日本語";
  if (i % 17 == 0) e.output += " nc -e /bin/sh";
  if (i % 19 == 0) e.output += " a'b \"q\" OR NOT * NEAR(x)";
  e.sensor = {"sensor-a", "sidecar", "poll", "0.1.0"};
  e.pod = "pod-" + std::to_string(i % 50);
  e.ns = "kata-demo";
  e.hostname = "node-1";
  return e;
}

// Writes events [first, first + count) of `total`, with times from `time_of` when given.
void WriteEvents(Store& store, int64_t first, int64_t count, int64_t total,
                 int64_t (*time_of)(int64_t) = nullptr) {
  WriteOp op;
  for (int64_t i = first; i < first + count; ++i) {
    Event e = MakeEvent(i, total);
    if (time_of) e.time_ns = time_of(i);
    op.events.push_back(Prepare(std::move(e)));
  }
  std::vector<WriteOp*> ops{&op};
  ASSERT_TRUE(store.Apply(ops).ok());
  ASSERT_EQ(op.accepted, static_cast<int>(count));
}

std::unique_ptr<Store> OpenOrDie(const std::string& path, bool fts) {
  auto s = Store::Open(StoreOptions{path, fts, false});
  if (!s.ok()) ADD_FAILURE() << s.error().message;
  return s.ok() ? std::move(*s) : nullptr;
}

struct Answer {
  std::vector<int64_t> rows;
  int64_t all = 0;
  bool capped = false;
  bool operator==(const Answer&) const = default;
};

Answer Ask(Store& store, const std::string& filter, int64_t page, int64_t limit, bool asc) {
  EventQuery q;
  q.filter = filter;
  q.page = page;
  q.limit = limit;
  q.ascending = asc;
  auto r = store.Query(q);
  EXPECT_TRUE(r.ok()) << filter;
  Answer a;
  if (!r.ok()) return a;
  for (const auto& row : r->rows) a.rows.push_back(row.first);
  a.all = r->all;
  a.capped = r->all_capped;
  return a;
}

// FindTextOnly on its own connection to the indexed store, in one read transaction.
std::optional<std::vector<int64_t>> PageFromWalk(const std::string& path, const std::string& filter,
                                                 int64_t page, int64_t limit, bool asc) {
  auto db = OpenConnection(path, false);
  if (!db.ok()) {
    ADD_FAILURE() << db.error().message;
    return std::nullopt;
  }
  RegisterFunctions(*db);
  EXPECT_TRUE(AttachTextIndexFile(*db, TextIndexPath(path)).ok());
  EXPECT_TRUE(Exec(*db, "BEGIN").ok());
  auto found = FindTextOnly(*db, {TextFilterFtsTerms(filter), filter, page, limit, asc});
  (void)Exec(*db, "ROLLBACK");
  sqlite3_close(*db);
  if (!found.ok()) {
    ADD_FAILURE() << found.error().message;
    return std::nullopt;
  }
  return found->page;
}

const std::vector<std::string> kFilters = {
    "pod-17 ",      "pod-1",
    "pod",          "shell in pod-3 ",
    "shadow",       "sha",
    "/etc/sha",     "nc -e",
    "host-699",     "host-6",
    "дом",          "日本語",
    "дом 日本",     "a'b \"q\" OR",
    "NOT *",        "NEAR(x)",
    "no-such-word", "POD-17 ",
    "sh",           "e",
    "unexpected",   "kata-demo node",
};

// The same events in a store with the text index (`indexed`) and one without it
// (`scanned`, the LIKE scan the answers are compared with).
class TextOnlyQuery : public ::testing::Test {
 protected:
  void SetUp() override {
    indexed = OpenOrDie(indexed_path, true);
    scanned = OpenOrDie(dir.File("scanned.db"), false);
    ASSERT_NE(indexed, nullptr);
    ASSERT_NE(scanned, nullptr);
  }
  TempDir dir;
  const std::string indexed_path = dir.File("indexed.db");
  std::unique_ptr<Store> indexed;
  std::unique_ptr<Store> scanned;
};

TEST_F(TextOnlyQuery, EveryPageAndCountIsTheScans) {
  constexpr int64_t kTotal = 3000;
  for (Store* s : {indexed.get(), scanned.get()}) WriteEvents(*s, 0, kTotal, kTotal);
  // The newest 300 rows are not in the text index yet: they are tested one by one.
  ASSERT_TRUE(indexed->IndexPending(kTotal - 300).ok());
  int from_walk = 0;
  for (const auto& filter : kFilters) {
    for (bool asc : {false, true}) {
      for (auto [page, limit] : {std::pair<int64_t, int64_t>{1, 100}, {2, 7}, {5, 40}, {40, 25}}) {
        SCOPED_TRACE(filter + (asc ? " asc" : " desc") + " page " + std::to_string(page) +
                     " limit " + std::to_string(limit));
        const Answer want = Ask(*scanned, filter, page, limit, asc);
        EXPECT_EQ(Ask(*indexed, filter, page, limit, asc), want);
        auto walked = PageFromWalk(indexed_path, filter, page, limit, asc);
        if (walked) {
          EXPECT_EQ(*walked, want.rows);
          ++from_walk;
        }
      }
    }
  }
  // Most pages come from the walk; the rest from the general query, checked above.
  EXPECT_GT(from_walk, static_cast<int>(kFilters.size()) * 4);
  // A word in every event, and one in a fiftieth of them, newest first: from the walk.
  EXPECT_TRUE(PageFromWalk(indexed_path, "pod", 1, 100, false).has_value());
  EXPECT_TRUE(PageFromWalk(indexed_path, "pod-17 ", 1, 20, false).has_value());
}

TEST_F(TextOnlyQuery, ManyRowsOutOfTimeOrderFallBackToTheTimeIndex) {
  // The first 1,500 rows stored carry the newest times (a sensor's clock far ahead, or
  // a late backlog in reverse): row order says nothing about time order.
  constexpr int64_t kTotal = 2500;
  auto time_of = [](int64_t i) {
    return i < 1500 ? kBaseNs + (10'000 + i) * kSecond : kBaseNs + i * kSecond;
  };
  for (Store* s : {indexed.get(), scanned.get()}) WriteEvents(*s, 0, kTotal, kTotal, time_of);
  ASSERT_TRUE(indexed->IndexPending(kTotal).ok());
  for (const std::string filter : {"pod", "shell in", "pod-17 ", "host-6"}) {
    for (bool asc : {false, true}) {
      SCOPED_TRACE(filter + (asc ? " asc" : " desc"));
      EXPECT_EQ(Ask(*indexed, filter, 1, 100, asc), Ask(*scanned, filter, 1, 100, asc));
      EXPECT_EQ(Ask(*indexed, filter, 3, 50, asc), Ask(*scanned, filter, 3, 50, asc));
    }
  }
  // Newest first, the proof meets more than 1,000 rows out of order and gives up.
  EXPECT_FALSE(PageFromWalk(indexed_path, "pod", 1, 100, false).has_value());
}

TEST_F(TextOnlyQuery, CommonWordsPastTheCountsBoundPageAsTheScanDoes) {
  // More matches than the count's bound; "alpha beta" is missing from the newest 600
  // rows, so its page is not among the newest rows in time order.
  constexpr int64_t kTotal = kMaxTextMatchesCounted + 1000;
  for (Store* s : {indexed.get(), scanned.get()}) {
    for (int64_t first = 0; first < kTotal; first += 2000) {
      WriteOp op;
      for (int64_t i = first; i < std::min(first + 2000, kTotal); ++i) {
        Event e = MakeEvent(i, kTotal);
        if (i < kTotal - 600) e.output += " alpha beta";
        op.events.push_back(Prepare(std::move(e)));
      }
      std::vector<WriteOp*> ops{&op};
      ASSERT_TRUE(s->Apply(ops).ok());
    }
  }
  ASSERT_TRUE(indexed->IndexPending(kTotal - 100).ok());
  for (const std::string filter : {"shell in", "kata-demo node ", "alpha beta", "pod"}) {
    for (bool asc : {false, true}) {
      SCOPED_TRACE(filter + (asc ? " asc" : " desc"));
      const Answer want = Ask(*scanned, filter, 1, 100, asc);
      EXPECT_TRUE(want.capped);
      EXPECT_EQ(Ask(*indexed, filter, 1, 100, asc), want);
      EXPECT_EQ(Ask(*indexed, filter, 4, 50, asc), Ask(*scanned, filter, 4, 50, asc));
      // Words in every event fill the page from the first rows in time order. Elsewhere
      // every 37th row, far out of order, may be too many to test from the walk: then the
      // general query answers (checked above).
      auto walked = PageFromWalk(indexed_path, filter, 1, 100, asc);
      if (filter == "shell in" || filter == "kata-demo node ") {
        EXPECT_TRUE(walked.has_value());
      }
      if (walked) {
        EXPECT_EQ(*walked, want.rows);
      }
    }
  }
}

}  // namespace
}  // namespace sandwatch::receiver
