// The text filter: words of the filter, all of which must occur as words of an event's
// search text (case-insensitive), the last one as a prefix when the filter ends inside a
// word. sw_match() (registered by RegisterFunctions, sqlite_util.h) tests one row.
#pragma once

#include <string>

namespace sandwatch::receiver {

// The filter as a LIKE pattern (wildcards escaped, ESCAPE '\\'), for filters without words.
std::string TextFilterLikePattern(const std::string& s);

// The filter as an FTS5 query over its words; empty when it has no word characters.
std::string TextFilterFtsQuery(const std::string& s);

}  // namespace sandwatch::receiver
