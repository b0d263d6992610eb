// A text filter alone: its count and page from one walk of the FTS index (text_only_query.h).
#include "text_only_query.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "sandwatch/receiver/store.h"
#include "sqlite_util.h"
#include "text_filter.h"

namespace sandwatch::receiver {
namespace {

// The page is looked for from the walk only this deep (page * limit).
constexpr int64_t kMaxRankedForAPage = 2000;
// Past this many rows expected in the time range that proves the order, the general query.
constexpr int64_t kMaxRowsInTimeRange = 100000;
// Past this many rows out of row order in that range, the general query.
constexpr int64_t kMaxRowsOutOfOrder = 1000;
// Reading one row's time by its number costs about as much as stepping over this many
// entries of the time index (measured at 300,000 events: about 1 us against 0.05 us).
constexpr int64_t kIndexEntriesPerLookup = 20;

struct Ranked {
  int64_t time_ns = 0;
  int64_t n = 0;
};

struct StoreBounds {
  int64_t upto = 0;  // rows up to here are in the FTS index
  int64_t min_n = 0, max_n = 0;
  bool empty = true;
};

// MAX(n) and MIN(n) each in their own subquery: together in one SELECT, SQLite cannot
// answer them from the ends of the row-number B-tree and scans the whole table instead.
Result<StoreBounds> ReadBounds(sqlite3* db) {
  Stmt s(db,
         "SELECT (SELECT upto FROM fts_state WHERE id = 1), (SELECT MIN(n) FROM events), "
         "(SELECT MAX(n) FROM events)");
  if (!s.ok() || s.Step() != SQLITE_ROW) return SqlError(db, "read the store's bounds");
  StoreBounds b;
  b.upto = s.Int(0);
  b.empty = sqlite3_column_type(s.get(), 2) == SQLITE_NULL;
  b.min_n = s.Int(1);
  b.max_n = s.Int(2);
  return b;
}

// The walk over the index: the matches of `query` (each tested with sw_match() when
// `tested`), in row-number order, within a row-number range.
struct Walk {
  std::string query;
  bool tested = false;
};

// A word of several is read alone, each of its matches tested with sw_match(), when it has
// at most this many matches (a row read and a test, about 3 us each).
constexpr int64_t kMaxRowsTested = 1000;

// The query the walk reads: the AND of every term, or the rarest term alone when its
// matches are few enough to test one by one.
Result<Walk> WalkQuery(sqlite3* db, const TextOnlyRequest& r) {
  if (r.fts_terms.size() < 2) return Walk{JoinFtsTerms(r.fts_terms), false};
  Stmt c(db, "SELECT COUNT(*) FROM (SELECT 1 FROM events_fts WHERE events_fts MATCH ?1 LIMIT ?2)");
  if (!c.ok()) return SqlError(db, "prepare word count");
  int64_t fewest = kMaxRowsTested + 1;
  const std::string* rarest = nullptr;
  for (const auto& term : r.fts_terms) {
    c.Reset();
    c.BindStatic(1, term);
    c.Bind(2, kMaxRowsTested + 1);
    if (c.Step() != SQLITE_ROW) return SqlError(db, "word count");
    if (c.Int(0) < fewest) {
      fewest = c.Int(0);
      rarest = &term;
    }
    if (fewest == 0) break;
  }
  if (!rarest) return Walk{JoinFtsTerms(r.fts_terms), false};
  return Walk{*rarest, true};
}

// Counts the walk's matches, up to `cap`, without handing each to C++.
Result<int64_t> CountWalk(sqlite3* db, const TextOnlyRequest& r, const Walk& w, int64_t cap) {
  Stmt c(db,
         std::string("SELECT COUNT(*) FROM (SELECT 1 FROM events_fts WHERE events_fts MATCH ?1") +
             (w.tested ? " AND sw_match((SELECT search FROM events WHERE n = events_fts.rowid), ?3)"
                       : "") +
             " LIMIT ?2)");
  if (!c.ok()) return SqlError(db, "prepare text count");
  c.BindStatic(1, w.query);
  c.Bind(2, cap);
  if (w.tested) c.BindStatic(3, r.filter);
  if (c.Step() != SQLITE_ROW) return SqlError(db, "text count");
  return c.Int(0);
}

// The walk's matches in the requested order, up to `cap`; only those with row numbers in
// `range` when given (a bound costs FTS5 a seek in every posting list: the whole walk
// goes without one).
Result<std::vector<int64_t>> ReadWalk(sqlite3* db, const TextOnlyRequest& r, const Walk& w,
                                      std::optional<std::pair<int64_t, int64_t>> range,
                                      int64_t cap) {
  Stmt s(db,
         std::string("SELECT rowid FROM events_fts WHERE events_fts MATCH ?1") +
             (range ? " AND rowid >= ?4 AND rowid <= ?5" : "") +
             (w.tested ? " AND sw_match((SELECT search FROM events WHERE n = events_fts.rowid), ?3)"
                       : "") +
             " ORDER BY rowid " + (r.ascending ? "ASC" : "DESC") + " LIMIT ?2");
  if (!s.ok()) return SqlError(db, "prepare text walk");
  s.BindStatic(1, w.query);
  s.Bind(2, cap);
  if (w.tested) s.BindStatic(3, r.filter);
  if (range) {
    s.Bind(4, range->first);
    s.Bind(5, range->second);
  }
  std::vector<int64_t> out;
  int rc = 0;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(s.Int(0));
  if (rc != SQLITE_DONE) return SqlError(db, "text walk");
  return out;
}

// The matching rows not indexed yet, tested directly, with their times; up to `cap`.
Result<std::vector<Ranked>> MatchTail(sqlite3* db, const TextOnlyRequest& r, int64_t upto,
                                      int64_t cap) {
  Stmt t(db, "SELECT time_ns, n FROM events WHERE n > ?1 AND sw_match(search, ?2) LIMIT ?3");
  if (!t.ok()) return SqlError(db, "prepare tail");
  t.Bind(1, upto);
  t.BindStatic(2, r.filter);
  t.Bind(3, cap);
  std::vector<Ranked> out;
  int rc = 0;
  while ((rc = t.Step()) == SQLITE_ROW) out.push_back({t.Int(0), t.Int(1)});
  if (rc != SQLITE_DONE) return SqlError(db, "tail");
  return out;
}

// Appends the times of `rows` (rows gone from the table are skipped).
Status AddTimes(sqlite3* db, const std::vector<int64_t>& rows, std::vector<Ranked>& into) {
  Stmt t(db, "SELECT time_ns FROM events WHERE n = ?1");
  if (!t.ok()) return SqlError(db, "prepare time lookup");
  for (int64_t n : rows) {
    t.Reset();
    t.Bind(1, n);
    int rc = t.Step();
    if (rc == SQLITE_ROW) {
      into.push_back({t.Int(0), n});
    } else if (rc != SQLITE_DONE) {
      return SqlError(db, "time lookup");
    }
  }
  return OkStatus();
}

// Indexed rows past `edge` in row order (below it when newest first) whose time is at or
// past `last` in the requested order; nullopt when more than kMaxRowsOutOfOrder.
Result<std::optional<std::vector<Ranked>>> OutOfOrderRows(sqlite3* db, const TextOnlyRequest& r,
                                                          int64_t last_time, int64_t edge,
                                                          int64_t upto) {
  // "+n" keeps SQLite on the time index: the row-number range is most of the table.
  Stmt o(db, r.ascending ? "SELECT time_ns, n FROM events WHERE time_ns <= ?1 AND +n > ?2 AND "
                           "+n <= ?3 LIMIT ?4"
                         : "SELECT time_ns, n FROM events WHERE time_ns >= ?1 AND +n < ?2 AND "
                           "+n <= ?3 LIMIT ?4");
  if (!o.ok()) return SqlError(db, "prepare order check");
  o.Bind(1, last_time);
  o.Bind(2, edge);
  o.Bind(3, upto);
  o.Bind(4, kMaxRowsOutOfOrder + 1);
  std::vector<Ranked> out;
  int rc = 0;
  while ((rc = o.Step()) == SQLITE_ROW) out.push_back({o.Int(0), o.Int(1)});
  if (rc != SQLITE_DONE) return SqlError(db, "order check");
  if (static_cast<int64_t>(out.size()) > kMaxRowsOutOfOrder)
    return std::optional<std::vector<Ranked>>();
  return std::optional<std::vector<Ranked>>(std::move(out));
}

// The page, when the first `want` matches in time order lie among the newest (oldest
// when ascending) 2 * want rows: each tested with sw_match(), as a walk of the time index
// tests them; nullopt when fewer match there.
Result<std::optional<std::vector<int64_t>>> FirstRowsInTimeOrder(sqlite3* db,
                                                                 const TextOnlyRequest& r,
                                                                 int64_t want) {
  Stmt s(db, std::string("SELECT n, sw_match(search, ?1) FROM events ORDER BY ") +
                 (r.ascending ? "time_ns ASC, n ASC" : "time_ns DESC, n DESC") + " LIMIT ?2");
  if (!s.ok()) return SqlError(db, "prepare time-order probe");
  s.BindStatic(1, r.filter);
  s.Bind(2, 2 * want);
  std::vector<int64_t> matches;
  int rc = 0;
  while (static_cast<int64_t>(matches.size()) < want && (rc = s.Step()) == SQLITE_ROW) {
    if (s.Int(1)) matches.push_back(s.Int(0));
  }
  if (static_cast<int64_t>(matches.size()) < want) {
    if (rc != SQLITE_DONE) return SqlError(db, "time-order probe");
    return std::optional<std::vector<int64_t>>();
  }
  matches.erase(matches.begin(), matches.begin() + (r.page - 1) * r.limit);
  return std::optional<std::vector<int64_t>>(std::move(matches));
}

}  // namespace

Result<TextOnlyMatches> FindTextOnly(sqlite3* db, const TextOnlyRequest& r) {
  const int64_t cap = kMaxTextMatchesCounted + 1;
  auto bounds = ReadBounds(db);
  if (!bounds.ok()) return bounds.error();
  TextOnlyMatches out;
  out.rows = bounds->empty ? 0 : bounds->max_n - bounds->min_n + 1;
  auto walk = WalkQuery(db, r);
  if (!walk.ok()) return walk.error();
  auto indexed = CountWalk(db, r, *walk, cap);
  if (!indexed.ok()) return indexed.error();
  auto ranked = MatchTail(db, r, bounds->upto, cap);
  if (!ranked.ok()) return ranked.error();
  out.matches = std::min(*indexed + static_cast<int64_t>(ranked->size()), cap);
  if (r.page < 1 || r.limit < 1 || r.page > kMaxRankedForAPage / r.limit) return out;
  const int64_t want = r.page * r.limit;
  // Words that are all common (more matches than the count's bound): FTS5 reads the
  // newest end of several long posting lists at a cost of its own (about 0.8 ms for
  // "bash -i" at 300,000 events), where the time index may fill a page after a few rows.
  if (!walk->tested && r.fts_terms.size() > 1 && *indexed == cap) {
    auto dense = FirstRowsInTimeOrder(db, r, want);
    if (!dense.ok()) return dense.error();
    if (*dense) {
      out.page = std::move(*dense);
      return out;
    }
  }
  const bool counted_all = *indexed < cap;
  // Every match is looked up when there are few, or when that costs less than proving
  // the order of the first `want` (a look at the time index for each row past them).
  bool take_all = counted_all && *indexed <= want;
  auto walked = ReadWalk(db, r, *walk, std::nullopt, take_all ? cap : want);
  if (!walked.ok()) return walked.error();
  int64_t edge = 0;
  if (!take_all) {
    if (static_cast<int64_t>(walked->size()) < want) return out;  // the index changed
    edge = walked->back();
    const int64_t past_edge = r.ascending ? edge - bounds->min_n : bounds->max_n - edge;
    const int64_t prove_cost = want * kIndexEntriesPerLookup + past_edge;
    if (counted_all && *indexed * kIndexEntriesPerLookup <= prove_cost) {
      take_all = true;
      walked = ReadWalk(db, r, *walk, std::nullopt, cap);
      if (!walked.ok()) return walked.error();
    } else if (past_edge > kMaxRowsInTimeRange) {
      return out;
    }
  }
  if (auto st = AddTimes(db, *walked, *ranked); !st.ok()) return st.error();
  auto before = [&](const Ranked& a, const Ranked& b) {
    if (a.time_ns != b.time_ns) return r.ascending ? a.time_ns < b.time_ns : a.time_ns > b.time_ns;
    return r.ascending ? a.n < b.n : a.n > b.n;
  };
  std::sort(ranked->begin(), ranked->end(), before);
  if (!take_all) {
    // Any match ranked at or before the want-th found so far is one of them, or an
    // indexed row past the edge in row order whose time is at or past that one's.
    if (static_cast<int64_t>(ranked->size()) < want) return out;  // rows gone meanwhile
    const Ranked last = (*ranked)[static_cast<size_t>(want - 1)];
    auto others = OutOfOrderRows(db, r, last.time_ns, edge, bounds->upto);
    if (!others.ok()) return others.error();
    if (!*others) return out;
    if (!(*others)->empty()) {
      // Which of them match: the walk over just their row-number range (usually a few
      // rows past the edge, where the time jitter of arrival reaches).
      int64_t lo = edge, hi = edge;
      for (const Ranked& row : **others) {
        lo = std::min(lo, row.n);
        hi = std::max(hi, row.n);
      }
      auto members = ReadWalk(db, r, *walk, std::make_pair(lo, hi), cap);
      if (!members.ok()) return members.error();
      if (static_cast<int64_t>(members->size()) == cap) return out;
      std::sort(members->begin(), members->end());
      for (const Ranked& row : **others) {
        if (std::binary_search(members->begin(), members->end(), row.n)) ranked->push_back(row);
      }
      std::sort(ranked->begin(), ranked->end(), before);
    }
  }
  std::vector<int64_t> page;
  const auto first = static_cast<size_t>((r.page - 1) * r.limit);
  for (size_t i = first; i < ranked->size() && i < static_cast<size_t>(want); ++i) {
    page.push_back((*ranked)[i].n);
  }
  out.page = std::move(page);
  return out;
}

}  // namespace sandwatch::receiver
