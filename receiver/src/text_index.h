// The text index's own database file (text_index.cpp), for connections outside the Store.
#pragma once

#include <sqlite3.h>

#include <string>

#include "sandwatch/core/result.h"

namespace sandwatch::receiver {

// Attaches the text index file at `path` to `db` as "textidx", the schema every query of
// the index names (unqualified names such as events_fts resolve to it), with a page cache of
// at most `cache_kib` for it.
Status AttachTextIndexFile(sqlite3* db, const std::string& path, int cache_kib = 4096);

}  // namespace sandwatch::receiver
