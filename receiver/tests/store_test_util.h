// A Store opened on a file and written directly (no HTTP), for the store's own tests.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sandwatch/receiver/store.h"

namespace sandwatch::receiver::testing {

struct WriteOutcome {
  int accepted = 0;
  int duplicates = 0;
};

// One commit of `events`, as the writer applies a POST.
inline WriteOutcome WriteEvents(Store& store, const std::vector<Event>& events) {
  WriteOp op;
  for (const Event& e : events) op.events.push_back(Prepare(e));
  std::vector<WriteOp*> ops{&op};
  EXPECT_TRUE(store.Apply(ops).ok());
  return {op.accepted, op.duplicates};
}

// The store at `path` (WAL, text index on); `mask` keeps fewer bits of the id hash, to force
// collisions. nullptr, with a test failure, when it cannot be opened.
inline std::unique_ptr<Store> OpenStoreOrDie(const std::string& path,
                                             uint64_t mask = ~uint64_t{0}) {
  StoreOptions o{path, true, false};
  o.id_hash_mask = mask;
  auto s = Store::Open(o);
  if (!s.ok()) ADD_FAILURE() << s.error().message;
  return s.ok() ? std::move(*s) : nullptr;
}

// The first column of the first row of `sql` on the database file at `path` (opened on its
// own connection, as a tool would); -1 when it cannot be read.
inline int64_t QueryInt(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  int64_t v = -1;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return v;
}

}  // namespace sandwatch::receiver::testing
