// The event store's schema, and the migration of stores written by earlier versions.
#pragma once

#include <cstdint>

#include "id_hash.h"
#include "sandwatch/core/result.h"

struct sqlite3;

namespace sandwatch::receiver {

// PRAGMA user_version of the current schema. 0: the first schema (a UNIQUE index on the
// id text instead of the id hash); 2: an index on the id hash and one on (pod, time);
// 3: duplicates found through the (time, id hash) index, pods through events_pod;
// 4: events_pod moved to the index file beside the events (text_index.cpp).
inline constexpr int kSchemaVersion = 4;

// Reads the store's id hash key, or makes one for a new store.
Result<IdHashKey> LoadIdHashKey(sqlite3* db);

// Creates the tables and indexes of a new store, or brings an older store to the current
// schema in one transaction (every event kept, with its row number, so the text index
// stays valid). `key`/`mask` fill the id hash of migrated events.
Status CreateOrMigrateSchema(sqlite3* db, const IdHashKey& key, uint64_t mask);

}  // namespace sandwatch::receiver
