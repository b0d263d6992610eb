// The text filter's word semantics, shared by the FTS query and sw_match().
#include "text_filter.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
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

// A filter's words, parsed once per statement (kept as the function's auxiliary data).
struct WantedWords {
  std::vector<std::string> words;
  bool prefix_last = false;
};

// Every wanted word occurs as a word of `text` (lower-cased), the last one as a prefix
// when prefix_last. One pass over the text, no allocation once `word` has grown.
bool AllWordsIn(const WantedWords& want, std::string_view text) {
  std::vector<char> found(want.words.size(), 0);
  size_t missing = want.words.size();
  std::string word;
  auto check = [&] {
    for (size_t i = 0; i < want.words.size(); ++i) {
      if (found[i]) continue;
      const std::string& w = want.words[i];
      const bool prefix = want.prefix_last && i + 1 == want.words.size();
      if (prefix ? word.compare(0, w.size(), w) == 0 : word == w) {
        found[i] = 1;
        --missing;
      }
    }
  };
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (IsWordChar(u)) {
      word += static_cast<char>(std::tolower(u));
      continue;
    }
    if (!word.empty()) check();
    word.clear();
    if (missing == 0) return true;
  }
  if (!word.empty()) check();
  return missing == 0;
}

// sw_match(search, filter): the FTS semantics without the index, for rows already
// narrowed by another index: every word of the filter occurs as a word of the text
// (case-insensitive), the last one as a prefix when the filter ends inside a word.
void SwMatch(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto text_p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  auto filter_p = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  if (!text_p || !filter_p) return sqlite3_result_int(ctx, 0);
  auto* want = static_cast<WantedWords*>(sqlite3_get_auxdata(ctx, 1));
  std::unique_ptr<WantedWords> parsed;
  if (!want) {
    std::string_view filter(filter_p);
    parsed = std::make_unique<WantedWords>();
    parsed->words = Words(filter);
    parsed->prefix_last = !filter.empty() && IsWordChar(static_cast<unsigned char>(filter.back()));
    want = parsed.get();
  }
  const bool match = AllWordsIn(
      *want, std::string_view(text_p, static_cast<size_t>(sqlite3_value_bytes(argv[0]))));
  sqlite3_result_int(ctx, match ? 1 : 0);
  if (parsed) {  // SQLite owns it from here, and may free it at once
    sqlite3_set_auxdata(ctx, 1, parsed.release(),
                        [](void* p) { delete static_cast<WantedWords*>(p); });
  }
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

namespace {

// How many other indexed words a short prefix may stand for before the query keeps the
// prefix form.
constexpr int kMaxPrefixAlternatives = 8;

// The indexed words other than `word` that start with `word` (lower-case ASCII), up to
// kMaxPrefixAlternatives + 1; nullopt when the term list cannot be read.
std::optional<std::vector<std::string>> LongerTerms(sqlite3* db, const std::string& word) {
  std::string above = word;
  above.back() = static_cast<char>(above.back() + 1);  // ASCII alnum: never overflows
  // fts5vocab counts the documents of every word it steps onto, and takes "term > w" as
  // "term >= w": it would walk the whole posting list of `word` itself (a fifth of the
  // store for a common word) only for SQLite to drop the row. A word never holds a control
  // character, so every longer word is at or above word + "\x01", and `word` is skipped.
  const std::string after = word + '\x01';
  Stmt s(db,
         "SELECT term FROM temp.events_fts_terms WHERE term >= ?1 AND term < ?2 "
         "LIMIT " +
             std::to_string(kMaxPrefixAlternatives + 1));
  if (!s.ok()) return std::nullopt;
  s.BindStatic(1, after);
  s.BindStatic(2, above);
  std::vector<std::string> out;
  int rc = 0;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(s.Text(0));
  if (rc != SQLITE_DONE) return std::nullopt;
  return out;
}

std::string Quoted(const std::string& word) {
  std::string out = "\"";
  for (char c : word) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

// The filter as FTS5 query terms, one per word, all of which must occur, the last one
// as a prefix: "nc -e /bin/s" becomes "nc", "e", "bin" and "s"* (case-insensitive).
// The index keeps no positions (detail=none, a third of the ingest cost of positions),
// so word order is not checked. Empty when the filter has no word characters.
std::vector<std::string> TextFilterFtsTerms(const std::string& s, sqlite3* terms_db) {
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
  std::vector<std::string> out;
  if (words.empty()) return out;
  for (size_t i = 0; i + 1 < words.size(); ++i) out.push_back(Quoted(words[i]));
  const std::string& last = words.back();
  auto end = static_cast<unsigned char>(s.back());
  if (!(std::isalnum(end) || end >= 0x80)) {
    out.push_back(Quoted(last));
    return out;
  }
  // A prefix of 3 or more characters has no prefix index: FTS5 merges the whole posting
  // list of every word it covers before the first row, even under a LIMIT (15 ms for a
  // word in a fifth of 300,000 events). When the index holds few such words, name them.
  const bool ascii = std::all_of(last.begin(), last.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80;
  });
  if (terms_db && ascii && last.size() >= 3) {
    std::string lower = last;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto longer = LongerTerms(terms_db, lower);
    if (longer && longer->size() <= static_cast<size_t>(kMaxPrefixAlternatives)) {
      if (longer->empty()) {
        out.push_back(Quoted(lower));
        return out;
      }
      std::string any = "(" + Quoted(lower);
      for (const auto& t : *longer) any += " OR " + Quoted(t);
      out.push_back(any + ")");
      return out;
    }
  }
  out.push_back(Quoted(last) + "*");
  return out;
}

std::string JoinFtsTerms(const std::vector<std::string>& terms) {
  std::string out;
  for (const auto& t : terms) out += (out.empty() ? "" : " AND ") + t;
  return out;
}

std::string TextFilterFtsQuery(const std::string& s, sqlite3* terms_db) {
  return JoinFtsTerms(TextFilterFtsTerms(s, terms_db));
}

void AddTermList(sqlite3* db) {
  (void)Exec(db,
             "CREATE VIRTUAL TABLE IF NOT EXISTS temp.events_fts_terms USING "
             "fts5vocab(textidx, events_fts, row)");
}

void RegisterFunctions(sqlite3* db) {
  sqlite3_create_function_v2(db, "sw_match", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                             SwMatch, nullptr, nullptr, nullptr);
}

}  // namespace sandwatch::receiver
