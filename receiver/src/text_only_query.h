// A search by a text filter alone: its bounded count and, when it can be shown cheaply to
// be exact, its page, both from one walk of the FTS index in row-number order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"

struct sqlite3;

namespace sandwatch::receiver {

struct TextOnlyMatches {
  int64_t matches = 0;  // at most kMaxTextMatchesCounted + 1
  int64_t rows = 0;     // row-number span of the store: an upper bound on its size
  // The page's row numbers in the requested order, when found from the walk; unset when
  // the caller must run the general query.
  std::optional<std::vector<int64_t>> page;
};

struct TextOnlyRequest {
  std::vector<std::string> fts_terms;  // TextFilterFtsTerms of the filter
  std::string filter;                  // the filter as given (for sw_match on rows not indexed yet)
  int64_t page = 1;                    // 1-based
  int64_t limit = 100;
  bool ascending = false;
};

// Reads the FTS matches in row-number order (newest rows first, or oldest first when
// ascending), up to one past the count's bound, and the matching rows not indexed yet.
// When one word of several is rare, only its matches are read from the index and each is
// tested with sw_match(): the index's AND walks the posting list of a word found in
// every event ("pod" of "pod-17") page by page.
// Rows arrive nearly in time order, so the first page*limit matches in row order are
// nearly the page; the page is returned only when the order is proven: every row outside
// them that could rank inside the page (its time at or past the page's last) is looked up
// through the time index and tested. When that takes too many rows, `page` stays unset.
Result<TextOnlyMatches> FindTextOnly(sqlite3* db, const TextOnlyRequest& r);

}  // namespace sandwatch::receiver
