// A query's page: the stored JSON of the rows it picked, in its order.
#pragma once

#include <cstdint>
#include <vector>

#include "sandwatch/receiver/store.h"
#include "sqlite_util.h"

namespace sandwatch::receiver {

// Appends the stored JSON of each of `ids` to out->rows, in order; a row deleted since it
// was picked is left out. Runs inside the caller's read transaction.
inline Status FetchPageRows(sqlite3* db, const std::vector<int64_t>& ids, QueryResult* out) {
  if (ids.empty()) return OkStatus();
  Stmt f(db, "SELECT json FROM events WHERE n = ?");
  if (!f.ok()) return SqlError(db, "prepare fetch");
  for (int64_t id : ids) {
    f.Reset();
    f.Bind(1, id);
    if (f.Step() == SQLITE_ROW) out->rows.emplace_back(id, f.Text(0));
  }
  return OkStatus();
}

}  // namespace sandwatch::receiver
