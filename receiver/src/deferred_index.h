// One step of a deferred index (the pod index, the text index): the rows after its mark go
// in, the mark moves, in one transaction the caller has begun.
#pragma once

#include <sqlite3.h>

#include <cstdint>

#include "sandwatch/core/result.h"
#include "sqlite_util.h"

namespace sandwatch::receiver {

struct IndexedRange {
  int64_t upto = 0;  // the new mark (the old one when no row waited)
  int64_t rows = 0;  // rows the index gained
};

// Adds the events after `from`, up to `max_rows` of them in row order, with `insert_sql`
// (?1 the old mark, ?2 the new) and stores the new mark with `mark_sql` (?1), then commits.
// `events` names the events table as this connection sees it. Rolls back on error.
inline Result<IndexedRange> FillIndexAndCommit(sqlite3* db, const char* events,
                                               const char* insert_sql, const char* mark_sql,
                                               int64_t from, int64_t max_rows, const char* what) {
  // The first failure's message, before a later statement resets the connection's error.
  auto fail = [&]() -> Error {
    Error e = SqlError(db, what);
    (void)Exec(db, "ROLLBACK");
    return e;
  };
  Stmt last(db, std::string("SELECT MAX(n) FROM (SELECT n FROM ") + events +
                    " WHERE n > ?1 ORDER BY n LIMIT ?2)");
  if (!last.ok()) return fail();
  Stmt ins(db, insert_sql);
  if (!ins.ok()) return fail();
  Stmt mark(db, mark_sql);
  if (!mark.ok()) return fail();
  IndexedRange r{from, 0};
  last.Bind(1, from);
  last.Bind(2, max_rows);
  const int rc = last.Step();
  if (rc == SQLITE_ROW && sqlite3_column_type(last.get(), 0) != SQLITE_NULL) r.upto = last.Int(0);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail();
  last.Reset();
  if (r.upto > from) {
    ins.Bind(1, from);
    ins.Bind(2, r.upto);
    mark.Bind(1, r.upto);
    if (ins.Step() != SQLITE_DONE) return fail();
    r.rows = sqlite3_changes(db);
    if (mark.Step() != SQLITE_DONE) return fail();
  }
  if (!Exec(db, "COMMIT").ok()) return fail();
  return r;
}

}  // namespace sandwatch::receiver
