#include "sandwatch/harness/report/doc.h"

#include <algorithm>
#include <array>

#include "sandwatch/harness/results.h"

namespace sandwatch::harness::report {
namespace {

std::string SpansMarkdown(const Text& t) {
  std::string out;
  for (const auto& s : t.spans) {
    const std::string text = EscapeMarkdown(s.text);
    if (s.style == Style::kCode) {
      out += "`" + text + "`";
    } else if (s.style == Style::kStrong) {
      out += "**" + text + "**";
    } else {
      out += text;
    }
  }
  return out;
}

std::string SpansHtml(const Text& t) {
  std::string out;
  for (const auto& s : t.spans) {
    std::string text = EscapeHtml(s.text);
    if (s.style == Style::kCode) text = "<code>" + text + "</code>";
    if (s.style == Style::kStrong) text = "<b>" + text + "</b>";
    if (s.tone != Tone::kNone) {
      text = std::string("<span class=\"") + (s.tone == Tone::kOk ? "ok" : "bad") + "\">" + text +
             "</span>";
    }
    out += text;
  }
  return out;
}

const char* kStyle =
    "body{font-family:DejaVu Sans,Arial,sans-serif;max-width:1100px;"
    "margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\n"
    "table{border-collapse:collapse;margin:1em 0;font-size:13px}\n"
    "th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}\n"
    "th{background:#f3f3f3}\npre{background:#f6f6f6;padding:.6em;overflow-x:auto}\n"
    "figure{margin:1em 0}\nfigcaption{font-size:12px;color:#555}\ncode{font-size:12px}\n"
    ".ok{color:#2a7a2a;font-weight:bold}\n.bad{color:#b02020;font-weight:bold}\n";

}  // namespace

std::string Text::Plain() const {
  std::string out;
  for (const auto& s : spans) out += s.text;
  return out;
}

Doc& Doc::Add(Block block) {
  blocks_.push_back(std::move(block));
  return *this;
}

Doc& Doc::Heading(int level, Text text) {
  return Add({.kind = Block::Kind::kHeading, .level = level, .text = std::move(text)});
}

Doc& Doc::Para(Text text) { return Add({.kind = Block::Kind::kPara, .text = std::move(text)}); }

Doc& Doc::List(std::vector<Text> items) {
  return Add({.kind = Block::Kind::kList, .items = std::move(items)});
}

Doc& Doc::Code(std::string text) {
  return Add({.kind = Block::Kind::kCode, .text = std::move(text)});
}

Doc& Doc::Table(Row header, std::vector<Row> rows) {
  rows.insert(rows.begin(), std::move(header));
  return Add({.kind = Block::Kind::kTable, .rows = std::move(rows)});
}

Doc& Doc::Chart(std::string caption, std::string file, std::string svg) {
  return Add({.kind = Block::Kind::kChart,
              .text = std::move(caption),
              .file = std::move(file),
              .svg = std::move(svg)});
}

Doc& Doc::Append(const Doc& other) {
  blocks_.insert(blocks_.end(), other.blocks_.begin(), other.blocks_.end());
  return *this;
}

std::string ToMarkdown(const Doc& doc) {
  std::string out;
  for (const auto& b : doc.blocks()) {
    switch (b.kind) {
      case Block::Kind::kHeading:
        out +=
            std::string(static_cast<size_t>(b.level), '#') + " " + SpansMarkdown(b.text) + "\n\n";
        break;
      case Block::Kind::kPara:
        out += SpansMarkdown(b.text) + "\n\n";
        break;
      case Block::Kind::kList:
        for (const auto& item : b.items) out += "- " + SpansMarkdown(item) + "\n";
        out += "\n";
        break;
      case Block::Kind::kCode: {
        std::string t = b.text.Plain();
        std::replace(t.begin(), t.end(), '`', '\'');
        out += "```\n" + t + "\n```\n\n";
        break;
      }
      case Block::Kind::kTable:
        for (size_t r = 0; r < b.rows.size(); ++r) {
          out += "|";
          for (const auto& cell : b.rows[r]) out += " " + SpansMarkdown(cell) + " |";
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
        out += "![" + SpansMarkdown(b.text) + "](" + EscapeMarkdown(b.file) + ")\n\n";
        break;
    }
  }
  if (out.size() > 1 && out.compare(out.size() - 2, 2, "\n\n") == 0) out.pop_back();
  return out;
}

std::string ToHtml(const Doc& doc, const std::string& title) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'; img-src data:\">\n<title>" +
      EscapeHtml(title) + "</title>\n<style>\n" + kStyle + "</style></head>\n<body>\n";
  for (const auto& b : doc.blocks()) {
    switch (b.kind) {
      case Block::Kind::kHeading: {
        const std::string tag = "h" + std::to_string(b.level);
        out += "<" + tag + ">" + SpansHtml(b.text) + "</" + tag + ">\n";
        break;
      }
      case Block::Kind::kPara:
        out += "<p>" + SpansHtml(b.text) + "</p>\n";
        break;
      case Block::Kind::kList:
        out += "<ul>\n";
        for (const auto& item : b.items) out += "<li>" + SpansHtml(item) + "</li>\n";
        out += "</ul>\n";
        break;
      case Block::Kind::kCode:
        out += "<pre><code>" + EscapeHtml(b.text.Plain()) + "</code></pre>\n";
        break;
      case Block::Kind::kTable:
        out += "<table>\n";
        for (size_t r = 0; r < b.rows.size(); ++r) {
          const std::string tag = r == 0 ? "th" : "td";
          out += "<tr>";
          for (const auto& cell : b.rows[r]) {
            out += "<" + tag + ">" + SpansHtml(cell) + "</" + tag + ">";
          }
          out += "</tr>\n";
        }
        out += "</table>\n";
        break;
      case Block::Kind::kChart:
        // The SVG is our own output; every string inside it was escaped when drawn.
        out += "<figure>\n" + b.svg + "<figcaption>" + SpansHtml(b.text) + " (" +
               EscapeHtml(b.file) + ")</figcaption></figure>\n";
        break;
    }
  }
  return out + "</body></html>\n";
}

nlohmann::json ToJson(const Doc& doc) {
  static constexpr std::array<const char*, 6> kNames = {"heading", "paragraph", "list",
                                                        "code",    "table",     "chart"};
  nlohmann::json out = nlohmann::json::array();
  for (const auto& b : doc.blocks()) {
    nlohmann::json j{{"type", kNames.at(static_cast<size_t>(b.kind))}};
    if (b.kind == Block::Kind::kHeading) j["level"] = b.level;
    if (b.kind == Block::Kind::kChart) j["file"] = b.file;
    if (b.kind == Block::Kind::kList) {
      j["items"] = nlohmann::json::array();
      for (const auto& item : b.items) j["items"].push_back(item.Plain());
    } else if (b.kind == Block::Kind::kTable) {
      j["rows"] = nlohmann::json::array();
      for (const auto& row : b.rows) {
        nlohmann::json cells = nlohmann::json::array();
        for (const auto& cell : row) cells.push_back(cell.Plain());
        j["rows"].push_back(std::move(cells));
      }
    } else {
      j["text"] = b.text.Plain();
    }
    out.push_back(std::move(j));
  }
  return out;
}

std::string ToPlainTable(const std::vector<Row>& rows) {
  std::vector<std::vector<std::string>> lines;
  std::vector<size_t> w;
  for (const auto& r : rows) {
    auto& cells = lines.emplace_back();
    for (const auto& c : r) cells.push_back(c.Plain());
    w.resize(std::max(w.size(), cells.size()));
    for (size_t i = 0; i < cells.size(); ++i) w[i] = std::max(w[i], cells[i].size());
  }
  if (!lines.empty()) {  // a dashed line under the header
    auto& dashes = *lines.emplace(lines.begin() + 1);
    for (size_t x : w) dashes.emplace_back(x, '-');
  }
  std::string out;
  for (const auto& cells : lines) {
    std::string l;
    for (size_t i = 0; i < cells.size(); ++i)
      l += cells[i] + std::string(w[i] - cells[i].size() + 2, ' ');
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  }
  return out;
}

}  // namespace sandwatch::harness::report
