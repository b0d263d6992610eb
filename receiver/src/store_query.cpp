// Read side of the store: query building and the reader connection pool.
#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "id_hash.h"
#include "page_rows.h"
#include "pod_index.h"
#include "sandwatch/receiver/store.h"
#include "sqlite_util.h"
#include "text_filter.h"
#include "text_only_query.h"

namespace sandwatch::receiver {
namespace {

struct Bound {
  std::string where;
  int conditions = 0;
  std::string fts_query;               // set when the text filter uses the FTS index
  std::vector<std::string> fts_terms;  // its terms, one per word
  std::vector<std::string> texts;      // bound in order, interleaved with ints by `kinds`
  std::vector<int64_t> ints;
  std::vector<bool> is_text;
};

void AddIn(Bound& b, const char* col, const std::vector<std::string>& values) {
  if (values.empty()) return;
  b.where += b.where.empty() ? " WHERE " : " AND ";
  ++b.conditions;
  b.where += col;
  b.where += " IN (";
  for (size_t i = 0; i < values.size(); ++i) {
    b.where += i ? ",?" : "?";
    b.texts.push_back(values[i]);
    b.is_text.push_back(true);
  }
  b.where += ")";
}

void AddInt(Bound& b, const std::string& cond, int64_t v) {
  b.where += b.where.empty() ? " WHERE " : " AND ";
  ++b.conditions;
  b.where += cond;
  b.ints.push_back(v);
  b.is_text.push_back(false);
}

void AddText(Bound& b, const std::string& cond, std::string v) {
  b.where += b.where.empty() ? " WHERE " : " AND ";
  ++b.conditions;
  b.where += cond;
  b.texts.push_back(std::move(v));
  b.is_text.push_back(true);
}

// How the text filter is evaluated (LIKE without words). kFts: walk an index, testing membership
// in the match set; kScan: test each row with sw_match(); kMatches: sort the matches by time.
enum class TextMode { kFts, kScan, kMatches };

// `id_hash` is q.id's hash (events are found by it; the text is compared too). `db`, when
// given, narrows the text filter's last prefix to the words the index holds.
Bound BuildWhere(const EventQuery& q, bool fts, int64_t id_hash, TextMode mode = TextMode::kFts,
                 sqlite3* db = nullptr) {
  Bound b;
  AddIn(b, "rule", q.rules);
  if (!q.priorities.empty()) {
    b.where += b.where.empty() ? " WHERE " : " AND ";
    ++b.conditions;
    b.where += "priority IN (";
    for (size_t i = 0; i < q.priorities.size(); ++i) {
      b.where += i ? ",?" : "?";
      b.ints.push_back(q.priorities[i]);
      b.is_text.push_back(false);
    }
    b.where += ")";
  }
  if (q.min_priority) AddInt(b, "priority <= ?", *q.min_priority);
  AddIn(b, "source", q.sources);
  if (!q.pods.empty()) {  // by pods alone (the timeline) the pods' rows drive the query
    b.where += (b.where.empty() ? " WHERE " : " AND ") + PodCondition(q.pods.size(), IsPodsOnly(q));
    ++b.conditions;
    for (size_t i = 0; i < 2 * q.pods.size(); ++i) b.texts.push_back(q.pods[i % q.pods.size()]);
    b.is_text.resize(b.is_text.size() + 2 * q.pods.size(), true);
  }
  AddIn(b, "ns", q.namespaces);
  AddIn(b, "sensor", q.sensors);
  AddIn(b, "hostname", q.hostnames);
  for (const auto& tag : q.tags) {
    AddText(b, "EXISTS (SELECT 1 FROM json_each(events.json, '$.tags') WHERE value = ?)", tag);
  }
  if (!q.id.empty()) {
    AddInt(b, "id_hash = ?", id_hash);
    AddText(b, "id = ?", q.id);
  }
  if (q.since_ns) AddInt(b, "time_ns >= ?", *q.since_ns);
  if (q.until_ns) AddInt(b, "time_ns < ?", *q.until_ns);
  if (!q.filter.empty()) {
    std::vector<std::string> terms = TextFilterFtsTerms(q.filter, fts ? db : nullptr);
    std::string phrase = JoinFtsTerms(terms);
    if (!phrase.empty() && (!fts || mode == TextMode::kScan)) {
      AddText(b, "sw_match(search, ?)", q.filter);
    } else if (!phrase.empty()) {
      // "+n" keeps the planner from driving the query by the match list (a row lookup
      // per match, then a sort); it scans the time or (rule|pod|...) index instead and
      // tests membership in the match set, stopping after one page.
      // Rows past the index's "upto" mark are not indexed yet: test those directly. The
      // mark is read in the same statement (same snapshot) as the index itself.
      b.where += b.where.empty() ? " WHERE " : " AND ";
      ++b.conditions;
      b.where += mode == TextMode::kMatches
                     ? "n IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ? UNION ALL "
                       "SELECT n FROM events WHERE n > (SELECT upto FROM fts_state WHERE id = 1) "
                       "AND sw_match(search, ?))"
                     : "(+n IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?) OR "
                       "(n > (SELECT upto FROM fts_state WHERE id = 1) AND sw_match(search, ?)))";
      b.texts.push_back(phrase);
      b.is_text.push_back(true);
      b.texts.push_back(q.filter);
      b.is_text.push_back(true);
      b.fts_query = phrase;
      b.fts_terms = std::move(terms);
    } else {
      AddText(b, "search LIKE ? ESCAPE '\\'", TextFilterLikePattern(q.filter));
    }
  }
  return b;
}

void BindAll(Stmt& s, const Bound& b, int first = 0) {
  size_t ti = 0, ii = 0;
  for (size_t i = 0; i < b.is_text.size(); ++i) {
    int idx = first + static_cast<int>(i) + 1;
    if (b.is_text[i])
      s.BindStatic(idx, b.texts[ti++]);
    else
      s.Bind(idx, b.ints[ii++]);
  }
}

}  // namespace

Result<sqlite3*> Store::AcquireReader() {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (!idle_readers_.empty()) {
      sqlite3* db = idle_readers_.back();
      idle_readers_.pop_back();
      return db;
    }
  }
  auto opened = OpenConnection(options_.path, false);  // the writer created the file
  if (!opened.ok()) return opened.error();
  sqlite3* db = *opened;
  if (auto st = AttachTextIndex(db); !st.ok()) {
    sqlite3_close(db);
    return st.error();
  }
  // 16 MiB per reader in all: 12 for the events file, 4 for the text index file.
  (void)Exec(db, "PRAGMA query_only=1; PRAGMA cache_size=-12288;");
  RegisterFunctions(db);
  std::lock_guard<std::mutex> lock(readers_mu_);
  all_readers_.push_back(db);
  return db;
}

void Store::ReleaseReader(sqlite3* db) {
  std::lock_guard<std::mutex> lock(readers_mu_);
  idle_readers_.push_back(db);
}

namespace {

// Runs `fn(db)` on a reader connection (or the writer, under its lock, in memory mode).
template <class Fn>
auto WithReader(bool memory, std::mutex& write_mu, sqlite3* writer,
                const std::function<Result<sqlite3*>()>& acquire,
                const std::function<void(sqlite3*)>& release, Fn fn) -> decltype(fn(writer)) {
  if (memory) {
    std::lock_guard<std::mutex> lock(write_mu);
    return fn(writer);
  }
  auto db = acquire();
  if (!db.ok()) return db.error();
  // One read transaction: a request's statements (a page, its count, the text index's word
  // list) see one snapshot while the writer and the index catch-up commit.
  auto begun = Exec(*db, "BEGIN");
  auto result = begun.ok() ? fn(*db) : decltype(fn(*db))(begun.error());
  (void)Exec(*db, "ROLLBACK");
  release(*db);
  return result;
}

// Past this many rows expected to be read in time order for one page, a text-only
// filter collects its matches from the index instead.
constexpr int64_t kMaxRowsScannedForAPage = 20000;

}  // namespace

#define SW_WITH_READER(fn)                                             \
  WithReader(                                                          \
      memory_, write_mu_, writer_, [this] { return AcquireReader(); }, \
      [this](sqlite3* d) { ReleaseReader(d); }, fn)

Result<QueryResult> Store::Query(const EventQuery& q) {
  const int64_t id_hash = IdHash(id_key_, q.id, options_.id_hash_mask);
  return SW_WITH_READER([&](sqlite3* db) -> Result<QueryResult> {
    if (IsPodsOnly(q)) return QueryPodsOnly(db, q);
    TextMode mode = TextMode::kFts;
    if (options_.fts && !q.filter.empty()) {
      // When the other conditions leave few rows, testing those rows directly beats
      // materialising every FTS match (which costs ~1 us per match).
      EventQuery rest = q;
      rest.filter.clear();
      Bound rb = BuildWhere(rest, false, id_hash);
      if (!rb.where.empty()) {
        Stmt c(db, "SELECT COUNT(*) FROM (SELECT 1 FROM events" + rb.where + " LIMIT 50001)");
        if (!c.ok()) return SqlError(db, "prepare estimate");
        BindAll(c, rb);
        if (c.Step() == SQLITE_ROW && c.Int(0) <= 50000) mode = TextMode::kScan;
      }
    }
    // A filter alone: count its matches in the index first (plus the rows not indexed
    // yet), walking them newest row first; rows arrive nearly in time order, so the walk's
    // first matches are usually the page (text_only_query.h). Otherwise: a common word
    // fills a page after a few hundred rows in time order, which is cheaper than
    // collecting every match to test membership.
    int64_t text_only_count = -1;
    std::optional<std::vector<int64_t>> text_only_page;
    Bound b = BuildWhere(q, options_.fts, id_hash, mode, db);
    if (b.conditions == 1 && !b.fts_query.empty()) {
      auto counted = FindTextOnly(db, {b.fts_terms, q.filter, q.page, q.limit, q.ascending});
      if (!counted.ok()) return counted.error();
      text_only_count = counted->matches;
      text_only_page = std::move(counted->page);
      // Past the bound the true count is unknown, but at least the bound: the walk in time
      // order estimated from it reads at most that many rows for a page.
      const bool capped = text_only_count > kMaxTextMatchesCounted;
      // sw_match() costs about 5 times what a match collected from the index costs.
      auto matches = static_cast<double>(text_only_count);
      double scanned = static_cast<double>(q.page * q.limit) * static_cast<double>(counted->rows) /
                       std::max(matches, 1.0);
      // Walking the time index tests every row until the page is full, all of them when
      // the matches cannot fill it. Looking a match up and sorting it is taken to cost
      // about 5 rows of the walk (an estimate, not tuned).
      auto wanted = static_cast<double>(q.page * q.limit);
      double walked = matches >= wanted ? scanned : static_cast<double>(counted->rows);
      if (text_only_page) {
        // Found from the walk in row order, with its order proven.
      } else if (!capped && 5 * matches <= walked) {
        b = BuildWhere(q, options_.fts, id_hash, TextMode::kMatches, db);
      } else if (text_only_count > 0 && scanned <= kMaxRowsScannedForAPage &&
                 (capped || 5 * scanned <= matches)) {
        b = BuildWhere(q, options_.fts, id_hash, TextMode::kScan, db);
      }
    }
    QueryResult out;
    // Step 1 orders row numbers only (an index covers it when one applies, and the sorter
    // never copies event JSON); step 2 fetches the JSON of the one page.
    std::vector<int64_t> ids;
    if (text_only_page) {
      ids = std::move(*text_only_page);
    } else {
      std::string order =
          q.ascending ? " ORDER BY time_ns ASC, n ASC" : " ORDER BY time_ns DESC, n DESC";
      Stmt s(db, "SELECT n FROM events" + b.where + order + " LIMIT ? OFFSET ?");
      if (!s.ok()) return SqlError(db, "prepare query");
      BindAll(s, b);
      int next = static_cast<int>(b.is_text.size()) + 1;
      s.Bind(next, q.limit);
      s.Bind(next + 1, (q.page - 1) * q.limit);
      int rc = 0;
      while ((rc = s.Step()) == SQLITE_ROW) ids.push_back(s.Int(0));
      if (rc != SQLITE_DONE) return SqlError(db, "query");
    }
    if (auto st = FetchPageRows(db, ids, &out); !st.ok()) return st.error();
    // A text filter's matches are counted up to the bound; other filters exactly.
    const bool bounded = !q.filter.empty();
    int64_t all = text_only_count;
    if (all < 0) {
      Stmt c(db, bounded ? "SELECT COUNT(*) FROM (SELECT 1 FROM events" + b.where + " LIMIT ?)"
                         : "SELECT COUNT(*) FROM events" + b.where);
      if (!c.ok()) return SqlError(db, "prepare count");
      BindAll(c, b);
      if (bounded) c.Bind(static_cast<int>(b.is_text.size()) + 1, kMaxTextMatchesCounted + 1);
      if (c.Step() != SQLITE_ROW) return SqlError(db, "count");
      all = c.Int(0);
    }
    out.all_capped = bounded && all > kMaxTextMatchesCounted;
    out.all = out.all_capped ? kMaxTextMatchesCounted : all;
    return out;
  });
}

Result<QueryResult> Store::After(int64_t after_rowid, int64_t limit) {
  return SW_WITH_READER([&](sqlite3* db) -> Result<QueryResult> {
    Stmt s(db, "SELECT n, json FROM events WHERE n > ? ORDER BY n LIMIT ?");
    if (!s.ok()) return SqlError(db, "prepare");
    s.Bind(1, after_rowid);
    s.Bind(2, limit);
    QueryResult out;
    int rc = 0;
    while ((rc = s.Step()) == SQLITE_ROW) out.rows.emplace_back(s.Int(0), s.Text(1));
    if (rc != SQLITE_DONE) return SqlError(db, "query");
    out.all = static_cast<int64_t>(out.rows.size());
    return out;
  });
}

Result<std::vector<SensorRow>> Store::Sensors() {
  return SW_WITH_READER([&](sqlite3* db) -> Result<std::vector<SensorRow>> {
    Stmt s(db, R"sql(SELECT id, mode, capture, version, hostname, pod, ns, interval_s,
      last_heartbeat_ns, heartbeat_time_ns, last_event_ns, first_seen_ns, last_seq, seq_max,
      seq_count, events, silent, silent_since_ns, counters FROM sensors ORDER BY id)sql");
    if (!s.ok()) return SqlError(db, "prepare sensors");
    std::vector<SensorRow> out;
    int rc = 0;
    while ((rc = s.Step()) == SQLITE_ROW) {
      SensorRow r;
      r.id = s.Text(0);
      r.mode = s.Text(1);
      r.capture = s.Text(2);
      r.version = s.Text(3);
      r.hostname = s.Text(4);
      r.pod = s.Text(5);
      r.ns = s.Text(6);
      r.interval_s = s.Double(7);
      r.last_heartbeat_ns = s.Int(8);
      r.heartbeat_time_ns = s.Int(9);
      r.last_event_ns = s.Int(10);
      r.first_seen_ns = s.Int(11);
      r.last_seq = static_cast<uint64_t>(s.Int(12));
      r.seq_max = static_cast<uint64_t>(s.Int(13));
      r.seq_count = static_cast<uint64_t>(s.Int(14));
      r.events = s.Int(15);
      r.silent = s.Int(16) != 0;
      r.silent_since_ns = s.Int(17);
      r.counters_json = s.Text(18);
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return SqlError(db, "sensors");
    return out;
  });
}

Result<std::vector<Store::TimelineRow>> Store::Timeline(const EventQuery& q, int64_t bucket_ns) {
  const int64_t id_hash = IdHash(id_key_, q.id, options_.id_hash_mask);
  return SW_WITH_READER([&](sqlite3* db) -> Result<std::vector<TimelineRow>> {
    Bound b = BuildWhere(q, options_.fts, id_hash, TextMode::kFts, db);
    // "?1" is the bucket width; the positional "?" that follow are numbered from 2.
    Stmt s(db, "SELECT (time_ns / ?1) * ?1 AS b, rule, COUNT(*) FROM events" + b.where +
                   " GROUP BY b, rule ORDER BY b LIMIT 20000");
    if (!s.ok()) return SqlError(db, "prepare timeline");
    s.Bind(1, bucket_ns);
    BindAll(s, b, 1);
    std::vector<TimelineRow> out;
    int rc = 0;
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back({s.Int(0), s.Text(1), s.Int(2)});
    if (rc != SQLITE_DONE) return SqlError(db, "timeline");
    return out;
  });
}

Result<std::vector<std::pair<std::string, std::vector<std::string>>>> Store::Facets(int limit) {
  return SW_WITH_READER([&](sqlite3* db) { return FacetValues(db, limit); });
}

Result<int64_t> Store::CountEvents() {
  return SW_WITH_READER([&](sqlite3* db) -> Result<int64_t> {
    Stmt s(db, "SELECT COUNT(*) FROM events");
    if (!s.ok() || s.Step() != SQLITE_ROW) return SqlError(db, "count");
    return s.Int(0);
  });
}

}  // namespace sandwatch::receiver
