// A minimal document model so report.md and report.html carry the same content:
// headings, plain paragraphs, code lines, tables and charts. All text is plain
// (never markup) and each renderer escapes it for its format.
#pragma once

#include <string>
#include <vector>

namespace sandwatch::harness::tune {

struct Block {
  enum class Kind { kHeading, kPara, kCode, kTable, kChart };
  Kind kind = Kind::kPara;
  int level = 2;                               // kHeading
  std::string text;                            // heading, paragraph, code, chart caption
  std::vector<std::vector<std::string>> rows;  // kTable: first row is the header
  std::string file;                            // kChart: the .svg file name next to the report
  std::string svg;                             // kChart: the SVG document (inlined in HTML)
};

using Doc = std::vector<Block>;

std::string DocToMarkdown(const Doc& doc);
// A self-contained page: inline CSS and inline SVG, no external references.
std::string DocToHtml(const Doc& doc, const std::string& title);

}  // namespace sandwatch::harness::tune
