// The HTTP head parser and serialiser on canned bytes (no sockets).
#include "http_message.h"

#include <gtest/gtest.h>

namespace sandwatch::receiver {
namespace {

TEST(ParseRequestHead, ReadsRequestLineHeadersAndQuery) {
  HttpRequest req;
  std::string raw =
      "GET /api/events?rule=a%2Cb&filter=ncat+--exec&x HTTP/1.1\r\nHost: h\r\n"
      "AUTHORIZATION:  Bearer t \r\n\r\nrest";
  HeadResult r = ParseRequestHead(raw, 16384, &req);
  ASSERT_EQ(r.state, HeadParse::kComplete);
  EXPECT_EQ(raw.substr(r.head_bytes), "rest");
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.path, "/api/events");
  EXPECT_EQ(req.get_param_value("rule"), "a,b");
  EXPECT_EQ(req.get_param_value("filter"), "ncat --exec");
  EXPECT_TRUE(req.has_param("x"));
  EXPECT_EQ(req.get_header_value("Authorization"), "Bearer t");
  EXPECT_TRUE(req.keep_alive);
  EXPECT_EQ(req.content_length, 0);
}

TEST(ParseRequestHead, IncompleteUntilTheBlankLine) {
  HttpRequest req;
  EXPECT_EQ(ParseRequestHead("POST /events HTTP/1.1\r\nContent-Le", 16384, &req).state,
            HeadParse::kIncomplete);
}

TEST(ParseRequestHead, RefusesWhatItCannotServe) {
  auto status = [](const std::string& raw, size_t max = 16384) {
    HttpRequest req;
    HeadResult r = ParseRequestHead(raw, max, &req);
    return r.state == HeadParse::kBad ? r.error_status : 0;
  };
  EXPECT_EQ(status("GARBAGE\r\n\r\n"), 400);
  EXPECT_EQ(status("GET / HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(status("GET http://x/ HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(status("POST /events HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(status("POST /events HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
  EXPECT_EQ(status("POST /events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 411);
  EXPECT_EQ(status("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
  EXPECT_EQ(status("GET / HTTP/1.1\r\nX: " + std::string(200, 'a'), 100), 431);
}

TEST(ParseRequestHead, ConnectionAndExpectHeaders) {
  HttpRequest a, b, c;
  ParseRequestHead("GET / HTTP/1.0\r\n\r\n", 16384, &a);
  EXPECT_FALSE(a.keep_alive);
  ParseRequestHead("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", 16384, &b);
  EXPECT_FALSE(b.keep_alive);
  ParseRequestHead("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", 16384,
                   &c);
  EXPECT_TRUE(c.expect_continue);
  EXPECT_EQ(c.content_length, 3);
}

TEST(SerializeResponse, LengthOrChunked) {
  HttpResponse res;
  res.status = 202;
  res.set_content("{}", "application/json");
  res.set_header("X-A", "1");
  std::string out = SerializeResponse(res, true, {{"X-Default", "d"}});
  EXPECT_EQ(out.rfind("HTTP/1.1 202 Accepted\r\n", 0), 0u);
  EXPECT_NE(out.find("X-Default: d\r\nX-A: 1\r\n"), std::string::npos);
  EXPECT_NE(out.find("Content-Length: 2\r\n\r\n{}"), std::string::npos);
  EXPECT_NE(out.find("Connection: keep-alive"), std::string::npos);
  EXPECT_EQ(Chunk("hello"), "5\r\nhello\r\n");
  EXPECT_EQ(Chunk(""), "0\r\n\r\n");
}

}  // namespace
}  // namespace sandwatch::receiver
