// The text filter: words of the filter, all of which must occur as words of an event's
// search text (case-insensitive), the last one as a prefix when the filter ends inside a
// word. sw_match() (registered by RegisterFunctions, sqlite_util.h) tests one row.
#pragma once

#include <string>
#include <vector>

struct sqlite3;

namespace sandwatch::receiver {

// The filter as a LIKE pattern (wildcards escaped, ESCAPE '\\'), for filters without words.
std::string TextFilterLikePattern(const std::string& s);

// The filter as an FTS5 query over its words; empty when it has no word characters. With
// `terms_db` (a connection that ran AddTermList), a last word of 3 or more ASCII
// characters that is a prefix becomes the word itself, or the few indexed words it
// starts: the same matches, without FTS5 merging a prefix's posting lists in full.
std::string TextFilterFtsQuery(const std::string& s, sqlite3* terms_db = nullptr);

// The same query as its terms, one per word of the filter (TextFilterFtsQuery joins them
// with AND); empty when the filter has no word characters.
std::vector<std::string> TextFilterFtsTerms(const std::string& s, sqlite3* terms_db = nullptr);
std::string JoinFtsTerms(const std::vector<std::string>& terms);

// Adds temp.events_fts_terms (fts5vocab over events_fts) to a reader connection; without
// it (no text index), TextFilterFtsQuery keeps the prefix form.
void AddTermList(sqlite3* db);

}  // namespace sandwatch::receiver
