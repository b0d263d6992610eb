#include "doc.h"

#include "sandwatch/harness/results.h"
#include "svg.h"

namespace sandwatch::harness::tune {

std::string DocToMarkdown(const Doc& doc) {
  std::string out;
  for (const auto& b : doc) {
    switch (b.kind) {
      case Block::Kind::kHeading:
        out +=
            std::string(static_cast<size_t>(b.level), '#') + " " + EscapeMarkdown(b.text) + "\n\n";
        break;
      case Block::Kind::kPara:
        out += EscapeMarkdown(b.text) + "\n\n";
        break;
      case Block::Kind::kCode: {
        std::string t = b.text;
        for (auto& c : t) {
          if (c == '`') c = '\'';
        }
        out += "```\n" + t + "\n```\n\n";
        break;
      }
      case Block::Kind::kTable:
        for (size_t r = 0; r < b.rows.size(); ++r) {
          out += "|";
          for (const auto& cell : b.rows[r]) out += " " + EscapeMarkdown(cell) + " |";
          out += "\n";
          if (r == 0) {
            out += "|";
            for (size_t i = 0; i < b.rows[r].size(); ++i) out += "---|";
            out += "\n";
          }
        }
        out += "\n";
        break;
      case Block::Kind::kChart:
        out += "![" + EscapeMarkdown(b.text) + "](" + EscapeMarkdown(b.file) + ")\n\n";
        break;
    }
  }
  return out;
}

std::string DocToHtml(const Doc& doc, const std::string& title) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
      EscapeXml(title) +
      "</title>\n<style>\nbody{font-family:DejaVu Sans,Arial,sans-serif;max-width:1100px;"
      "margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\n"
      "table{border-collapse:collapse;margin:1em 0;font-size:13px}\n"
      "th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}\n"
      "th{background:#f3f3f3}\npre{background:#f6f6f6;padding:.6em;overflow-x:auto}\n"
      "figure{margin:1em 0}\nfigcaption{font-size:12px;color:#555}\n</style></head>\n<body>\n";
  for (const auto& b : doc) {
    switch (b.kind) {
      case Block::Kind::kHeading: {
        const std::string tag = "h" + std::to_string(b.level);
        out += "<" + tag + ">" + EscapeXml(b.text) + "</" + tag + ">\n";
        break;
      }
      case Block::Kind::kPara:
        out += "<p>" + EscapeXml(b.text) + "</p>\n";
        break;
      case Block::Kind::kCode:
        out += "<pre><code>" + EscapeXml(b.text) + "</code></pre>\n";
        break;
      case Block::Kind::kTable:
        out += "<table>\n";
        for (size_t r = 0; r < b.rows.size(); ++r) {
          const char* cell_tag = r == 0 ? "th" : "td";
          out += "<tr>";
          for (const auto& cell : b.rows[r]) {
            out += std::string("<") + cell_tag + ">" + EscapeXml(cell) + "</" + cell_tag + ">";
          }
          out += "</tr>\n";
        }
        out += "</table>\n";
        break;
      case Block::Kind::kChart:
        // The SVG is our own output; every string inside it was escaped when drawn.
        out += "<figure>\n" + b.svg + "<figcaption>" + EscapeXml(b.text) + " (" +
               EscapeXml(b.file) + ")</figcaption></figure>\n";
        break;
    }
  }
  out += "</body></html>\n";
  return out;
}

}  // namespace sandwatch::harness::tune
