#include "pod_index.h"

#include <vector>

#include "page_rows.h"
#include "sqlite_util.h"

namespace sandwatch::receiver {
namespace {

std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i ? ",?" : "?";
  return out;
}

// " AND time_ns >= ? AND time_ns < ?" for the window `q` has, and its values.
std::string TimeWindow(const EventQuery& q, std::vector<int64_t>* values) {
  std::string out;
  if (q.since_ns) {
    out += " AND time_ns >= ?";
    values->push_back(*q.since_ns);
  }
  if (q.until_ns) {
    out += " AND time_ns < ?";
    values->push_back(*q.until_ns);
  }
  return out;
}

// Binds the pods then the time window, for each of the two parts; returns the next index.
int BindParts(Stmt& s, const EventQuery& q, const std::vector<int64_t>& window) {
  int i = 1;
  for (int part = 0; part < 2; ++part) {
    for (const std::string& pod : q.pods) s.BindStatic(i++, pod);
    for (int64_t v : window) s.Bind(i++, v);
  }
  return i;
}

}  // namespace

std::string PodCondition(size_t pods, bool drive) {
  const std::string in = Placeholders(pods);
  if (drive) {
    return "n IN (SELECT n FROM events_pod WHERE pod IN (" + in +
           ") UNION ALL SELECT n FROM events INDEXED BY events_pod_tail WHERE n > "
           "(SELECT upto FROM pod_index_state WHERE id = 1) AND pod IN (" +
           in + "))";
  }
  // "+n" keeps the planner from driving the query by the pod's row list (a lookup and a
  // sort per row); it walks the time or (rule|source|...) index and tests membership.
  return "(+n IN (SELECT n FROM events_pod WHERE pod IN (" + in +
         ")) OR (n > (SELECT upto FROM pod_index_state WHERE id = 1) AND pod IN (" + in + ")))";
}

bool IsPodsOnly(const EventQuery& q) {
  return !q.pods.empty() && q.rules.empty() && q.priorities.empty() && !q.min_priority &&
         q.sources.empty() && q.namespaces.empty() && q.sensors.empty() && q.hostnames.empty() &&
         q.tags.empty() && q.id.empty() && q.filter.empty();
}

Result<QueryResult> QueryPodsOnly(sqlite3* db, const EventQuery& q) {
  std::vector<int64_t> window;
  const std::string time = TimeWindow(q, &window);
  const std::string in = Placeholders(q.pods.size());
  // The tail is read through its own append-order index (n > mark), never by walking the
  // time index or the rows themselves.
  const std::string parts =
      "SELECT time_ns, n FROM events_pod WHERE pod IN (" + in + ")" + time +
      " UNION ALL SELECT time_ns, n FROM events INDEXED BY events_pod_tail WHERE n > "
      "(SELECT upto FROM pod_index_state WHERE id = 1) AND pod IN (" +
      in + ")" + time;
  // Each part comes sorted (the first from its primary key) and SQLite merges them, so a
  // page reads only its own rows and the ones it skips.
  const char* order = q.ascending ? " ORDER BY 1 ASC, 2 ASC" : " ORDER BY 1 DESC, 2 DESC";
  Stmt s(db, parts + order + " LIMIT ? OFFSET ?");
  if (!s.ok()) return SqlError(db, "prepare pod query");
  int next = BindParts(s, q, window);
  s.Bind(next, q.limit);
  s.Bind(next + 1, (q.page - 1) * q.limit);
  std::vector<int64_t> ids;
  int rc = 0;
  while ((rc = s.Step()) == SQLITE_ROW) ids.push_back(s.Int(1));
  if (rc != SQLITE_DONE) return SqlError(db, "pod query");
  QueryResult out;
  if (auto st = FetchPageRows(db, ids, &out); !st.ok()) return st.error();
  Stmt c(db, "SELECT COUNT(*) FROM (" + parts + ")");
  if (!c.ok()) return SqlError(db, "prepare pod count");
  BindParts(c, q, window);
  if (c.Step() != SQLITE_ROW) return SqlError(db, "pod count");
  out.all = c.Int(0);
  return out;
}

namespace {

Result<std::vector<std::string>> DistinctValues(sqlite3* db, const char* col, int limit) {
  const std::string column = col;
  Stmt s(db, column == "pod"
                 ? "SELECT pod FROM events_pod WHERE pod <> '' UNION SELECT pod FROM events "
                   "INDEXED BY events_pod_tail WHERE n > (SELECT upto FROM pod_index_state "
                   "WHERE id = 1) AND pod <> '' ORDER BY 1 LIMIT ?"
                 : "SELECT DISTINCT " + column + " FROM events WHERE " + column +
                       " <> '' ORDER BY 1 LIMIT ?");
  if (!s.ok()) return SqlError(db, "prepare facets");
  s.Bind(1, static_cast<int64_t>(limit));
  std::vector<std::string> out;
  int rc = 0;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(s.Text(0));
  if (rc != SQLITE_DONE) return SqlError(db, "facets");
  return out;
}

}  // namespace

Result<std::vector<std::pair<std::string, std::vector<std::string>>>> FacetValues(sqlite3* db,
                                                                                  int limit) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const char* col : {"rule", "source", "pod", "sensor"}) {
    auto values = DistinctValues(db, col, limit);
    if (!values.ok()) return values.error();
    out.emplace_back(col, std::move(*values));
  }
  return out;
}

}  // namespace sandwatch::receiver
