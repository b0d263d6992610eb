// The document model every report is written in: headings, paragraphs, lists, code,
// tables and charts, rendered to Markdown, a self-contained HTML page or JSON. All text
// is plain (never markup): each renderer escapes it for its format, so attacker-written
// event fields cannot inject Markdown or HTML.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sandwatch::harness::report {

// How a run of text is shown: plain, as code, or strong. `tone` colours it in HTML
// (ok green, bad red); Markdown has no colour.
enum class Style { kPlain, kCode, kStrong };
enum class Tone { kNone, kOk, kBad };

struct Span {
  Span(std::string t, Style s = Style::kPlain, Tone n = Tone::kNone)  // NOLINT
      : text(std::move(t)), style(s), tone(n) {}
  Span(const char* t) : Span(std::string(t)) {}  // NOLINT(google-explicit-constructor)
  std::string text;
  Style style;
  Tone tone;
};

inline Span Code(std::string text) { return {std::move(text), Style::kCode}; }
inline Span Toned(std::string text, bool ok) {
  return {std::move(text), Style::kPlain, ok ? Tone::kOk : Tone::kBad};
}

// A line of text: one or more spans.
struct Text {
  std::vector<Span> spans;
  Text() = default;
  Text(std::string s) : spans{Span(std::move(s))} {}  // NOLINT(google-explicit-constructor)
  Text(const char* s) : Text(std::string(s)) {}       // NOLINT(google-explicit-constructor)
  Text(Span s) : spans{std::move(s)} {}               // NOLINT(google-explicit-constructor)
  Text(std::initializer_list<Span> s) : spans(s) {}
  std::string Plain() const;  // the text without styles
};

using Row = std::vector<Text>;

struct Block {
  enum class Kind { kHeading, kPara, kList, kCode, kTable, kChart };
  Kind kind = Kind::kPara;
  int level = 2;              // kHeading
  Text text{};                // heading, paragraph, code, chart caption
  std::vector<Text> items{};  // kList
  std::vector<Row> rows{};    // kTable: the first row is the header
  std::string file{};         // kChart: the .svg file name next to the report
  std::string svg{};          // kChart: the SVG document (inlined in HTML)
};

class Doc {
 public:
  Doc& Heading(int level, Text text);
  Doc& Para(Text text);
  Doc& List(std::vector<Text> items);
  Doc& Code(std::string text);
  Doc& Table(Row header, std::vector<Row> rows);
  Doc& Chart(std::string caption, std::string file, std::string svg);
  Doc& Append(const Doc& other);
  const std::vector<Block>& blocks() const { return blocks_; }

 private:
  Doc& Add(Block block);
  std::vector<Block> blocks_;
};

// Blocks are separated by a blank line; the text ends with one newline.
std::string ToMarkdown(const Doc& doc);
// A self-contained page: inline CSS and inline SVG, no external references, and a
// Content-Security-Policy that forbids scripts and remote loads.
std::string ToHtml(const Doc& doc, const std::string& title);
// [{"type": "heading", "level": 1, "text": "..."}, {"type": "table", "rows": [[...]]}, ...]:
// plain text only (styles dropped), for scripts that read a report.
nlohmann::json ToJson(const Doc& doc);

// A table in aligned plain-text columns for the terminal (two spaces between columns,
// a dashed line under the header).
std::string ToPlainTable(const std::vector<Row>& rows);

}  // namespace sandwatch::harness::report
