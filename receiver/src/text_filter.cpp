// The text filter's word semantics, shared by the FTS query and sw_match().
#include "text_filter.h"

#include <cctype>
#include <string_view>
#include <vector>

#include "sqlite_util.h"

namespace sandwatch::receiver {
namespace {

bool IsWordChar(unsigned char u) { return std::isalnum(u) || u >= 0x80; }

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> words;
  bool in_word = false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (IsWordChar(u)) {
      if (!in_word) words.emplace_back();
      words.back() += static_cast<char>(std::tolower(u));
    }
    in_word = IsWordChar(u);
  }
  return words;
}

// sw_match(search, filter): the FTS semantics without the index, for rows already
// narrowed by another index: every word of the filter occurs as a word of the text
// (case-insensitive), the last one as a prefix when the filter ends inside a word.
void SwMatch(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto text_p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  auto filter_p = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  if (!text_p || !filter_p) return sqlite3_result_int(ctx, 0);
  std::string_view filter(filter_p);
  std::vector<std::string> want = Words(filter);
  std::vector<std::string> have = Words(text_p);
  bool prefix_last = !filter.empty() && IsWordChar(static_cast<unsigned char>(filter.back()));
  for (size_t i = 0; i < want.size(); ++i) {
    bool prefix = prefix_last && i + 1 == want.size();
    bool found = false;
    for (const auto& h : have) {
      if (prefix ? h.compare(0, want[i].size(), want[i]) == 0 : h == want[i]) {
        found = true;
        break;
      }
    }
    if (!found) return sqlite3_result_int(ctx, 0);
  }
  sqlite3_result_int(ctx, 1);
}

}  // namespace

// Escapes LIKE wildcards; used with ESCAPE '\'.
std::string TextFilterLikePattern(const std::string& s) {
  std::string out = "%";
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  out += '%';
  return out;
}

// The filter as an FTS5 query over its words, all of which must occur, the last one as
// a prefix: "nc -e /bin/s" becomes "nc" AND "e" AND "bin" AND "s"* (case-insensitive).
// The index keeps no positions (detail=none, a third of the ingest cost of positions),
// so word order is not checked. Empty when the filter has no word characters.
std::string TextFilterFtsQuery(const std::string& s) {
  std::vector<std::string> words;
  bool in_word = false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool word_char = std::isalnum(u) || u >= 0x80;
    if (word_char) {
      if (!in_word) words.emplace_back();
      words.back() += c;
    }
    in_word = word_char;
  }
  if (words.empty()) return "";
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out += " AND ";
    out += "\"" + words[i] + "\"";
  }
  auto last = static_cast<unsigned char>(s.back());
  if (std::isalnum(last) || last >= 0x80) out += "*";
  return out;
}

void RegisterFunctions(sqlite3* db) {
  sqlite3_create_function_v2(db, "sw_match", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                             SwMatch, nullptr, nullptr, nullptr);
}

}  // namespace sandwatch::receiver
