// The one document model (Markdown, HTML, JSON, plain tables), the SVG writer and the
// number formatters every report shares.
#include <gtest/gtest.h>

#include "sandwatch/harness/format.h"
#include "sandwatch/harness/report/doc.h"
#include "sandwatch/harness/report/svg.h"

namespace sandwatch::harness::report {
namespace {

const char* const kEvil = "<script>alert(1)</script>|`x`*y*_z_ [a](b) \\| # h";

Doc Sample() {
  Doc d;
  d.Heading(1, "Run")
      .Para({"verdict: ", Span("holds", Style::kStrong, Tone::kOk)})
      .List({"one", {"exe ", Code("/bin/sh")}})
      .Code("make `x`")
      .Table({"a", "b"}, {{"1", "2"}, {"3", ""}})
      .Chart("cap", "c.svg", "<svg></svg>\n");
  return d;
}

TEST(ReportDoc, RendersMarkdownBlocks) {
  EXPECT_EQ(ToMarkdown(Sample()),
            "# Run\n\nverdict: **holds**\n\n- one\n- exe `/bin/sh`\n\n```\nmake 'x'\n```\n\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 |  |\n\n![cap](c.svg)\n");
}

TEST(ReportDoc, RendersASelfContainedHtmlPage) {
  const std::string html = ToHtml(Sample(), "t<1>");
  EXPECT_NE(html.find("<title>t&lt;1&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_NE(html.find("<p>verdict: <span class=\"ok\"><b>holds</b></span></p>"), std::string::npos);
  EXPECT_NE(html.find("<li>exe <code>/bin/sh</code></li>"), std::string::npos);
  EXPECT_NE(html.find("<tr><th>a</th><th>b</th></tr>\n<tr><td>1</td><td>2</td></tr>"),
            std::string::npos);
  EXPECT_NE(html.find("<figure>\n<svg></svg>\n<figcaption>cap (c.svg)</figcaption>"),
            std::string::npos);
  EXPECT_EQ(html.rfind("</body></html>\n"), html.size() - 15);
}

TEST(ReportDoc, RendersJsonAsPlainText) {
  const auto j = ToJson(Sample());
  ASSERT_EQ(j.size(), 6u);
  EXPECT_EQ(j[0]["type"], "heading");
  EXPECT_EQ(j[0]["level"], 1);
  EXPECT_EQ(j[1]["text"], "verdict: holds");
  EXPECT_EQ(j[2]["items"][1], "exe /bin/sh");
  EXPECT_EQ(j[4]["rows"][0][1], "b");
  EXPECT_EQ(j[5]["file"], "c.svg");
  EXPECT_FALSE(j[5].contains("svg"));  // the chart is in its own file
}

TEST(ReportDoc, AttackerTextIsEscapedInEveryFormat) {
  Doc d;
  d.Heading(2, kEvil).Para(kEvil).List({{kEvil, Code(kEvil)}}).Table({kEvil}, {{kEvil}});
  const std::string html = ToHtml(d, kEvil);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  const std::string md = ToMarkdown(d);
  EXPECT_EQ(md.find("<script"), std::string::npos);
  EXPECT_EQ(md.find("|`x`"), std::string::npos);  // cannot end a cell or open a code span
  EXPECT_EQ(md.find("[a](b)"), std::string::npos);
  EXPECT_EQ(md.find(" \\| "), std::string::npos);  // the backslash is escaped too
  EXPECT_EQ(ToJson(d)[1]["text"], kEvil);          // JSON keeps the text as written
}

TEST(ReportDoc, PlainTableAlignsColumns) {
  EXPECT_EQ(ToPlainTable({{"signal", "runc"}, {"a", "YES 2/2"}}),
            "signal  runc\n------  -------\na       YES 2/2\n");
}

TEST(ReportSvg, EscapesTextAndDrawsAxes) {
  Svg svg(100, 50, "t<");
  svg.Text(1, 2, "<b>&");
  const Scale x{1, 100, 10, 90, true};
  const Scale y{0, 1, 40, 5, false};
  svg.Axes(
      x, y, "x", "y", [](double v) { return Compact(v); }, [](double v) { return Percent(v); });
  const std::string out = svg.Finish();
  EXPECT_EQ(out.rfind("<svg", 0), 0u);
  EXPECT_NE(out.find("<title>t&lt;</title>"), std::string::npos);
  EXPECT_NE(out.find("&lt;b&gt;&amp;"), std::string::npos);
  EXPECT_NE(out.find(">50<"), std::string::npos);   // a 1-2-5 log tick
  EXPECT_NE(out.find(">20%<"), std::string::npos);  // a linear tick
  EXPECT_EQ(Ticks(x).front(), 1);
  EXPECT_EQ(Ticks(x).back(), 100);
}

TEST(ReportSvg, HeatmapPlacesLabelsAndHandsEachCellItsCorner) {
  Svg svg(300, 200, "heat");
  std::vector<std::string> seen;
  svg.Heatmap({50, 40, 30, 20, 11, "#444", 6}, {"c0", "c1<"}, {"r0", "r1", "r2"},
              [&](size_t r, size_t c, double x, double y) {
                seen.push_back(std::to_string(r) + "," + std::to_string(c) + "@" + Fixed(x, 0) +
                               "," + Fixed(y, 0));
              });
  const std::vector<std::string> want = {"0,0@50,40", "0,1@80,40", "1,0@50,60",
                                         "1,1@80,60", "2,0@50,80", "2,1@80,80"};
  EXPECT_EQ(seen, want);
  const std::string out = svg.Finish();
  // Column labels centred 6 px above the grid; row labels right-aligned 8 px left of it.
  EXPECT_NE(
      out.find(
          R"(<text x="95.0" y="34.0" font-size="11" text-anchor="middle" fill="#444">c1&lt;</text>)"),
      std::string::npos);
  EXPECT_NE(
      out.find(R"(<text x="42.0" y="94.0" font-size="11" text-anchor="end" fill="#444">r2</text>)"),
      std::string::npos);
}

TEST(Format, OneFunctionPerFormat) {
  EXPECT_EQ(Fixed(2.345, 1), "2.3");
  EXPECT_EQ(Compact(0.5), "0.5");
  EXPECT_EQ(Compact(2000), "2000");
  EXPECT_EQ(FormatSeconds(2), "2");
  EXPECT_EQ(FormatSeconds(0.05), "0.05");
  EXPECT_EQ(FormatSeconds(0.1), "0.1");
  EXPECT_EQ(FormatSeconds(1.0 / 3), "0.3333333333333333");  // reads back exactly
  EXPECT_EQ(FormatDuration(62), "1m02s");
  EXPECT_EQ(FormatMs(850.4), "850 ms");
  EXPECT_EQ(FormatMs(1250), "1.2 s");
  EXPECT_EQ(FormatMs(std::nullopt), "");
  for (const auto& [fraction, text] : std::vector<std::pair<double, std::string>>{
           {0, "0%"}, {0.25, "25%"}, {0.012, "1.2%"}, {0.0012, "0.12%"}}) {
    EXPECT_EQ(Percent(fraction), text) << fraction;
  }
  EXPECT_EQ(Join({"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(Join({}, ","), "");
  EXPECT_EQ(Join({"", "a"}, ","), ",a");  // every part keeps its place
  EXPECT_EQ(Join({"a", ""}, ","), "a,");
}

}  // namespace
}  // namespace sandwatch::harness::report
