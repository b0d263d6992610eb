// HTTP/1.1 request and response as the receiver's routes see them, and the pure parser
// and serialiser the event-loop server uses (no I/O here, so tests feed it bytes).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sandwatch::receiver {

class StreamHub;
struct StreamSubscription;

struct HttpRequest {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // as sent: path plus optional ?query
  std::string path;                                          // target without the query
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::multimap<std::string, std::string> params;            // decoded query parameters
  std::string body;
  bool http10 = false;
  bool keep_alive = true;
  bool expect_continue = false;
  int64_t content_length = 0;
  std::string peer;  // client address, for logs and the per-peer limit

  // Names are case-insensitive; "" when absent.
  std::string get_header_value(std::string_view name) const;
  bool has_param(const std::string& name) const { return params.count(name) > 0; }
  std::string get_param_value(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "text/plain";
  bool close = false;  // close the connection after this response
  // Set by the stream route: the connection becomes a server-sent event stream fed by
  // this hub subscription once `body` (the first chunk) is sent.
  std::shared_ptr<StreamSubscription> stream;

  void set_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  void set_content(std::string text, std::string type) {
    body = std::move(text);
    content_type = std::move(type);
  }
};

enum class HeadParse { kIncomplete, kComplete, kBad };

struct HeadResult {
  HeadParse state = HeadParse::kIncomplete;
  size_t head_bytes = 0;   // bytes of request line + headers + blank line (kComplete)
  int error_status = 400;  // kBad: 400, 411 (chunked body), 413, 431 or 505
  std::string error;       // kBad: why
};

// Parses the request line and headers at the start of `buf` into `req` (method, target,
// path, params, headers, content_length, keep_alive, expect_continue). `max_head` bounds
// the head; a longer one is kBad with 431.
HeadResult ParseRequestHead(std::string_view buf, size_t max_head, HttpRequest* req);

// Percent-decodes a query component ('+' is a space). Invalid escapes are kept as is.
std::string DecodeQueryComponent(std::string_view s);

// "HTTP/1.1 <status> <reason>\r\n" headers, Content-Length or chunked, then the body.
std::string SerializeResponse(const HttpResponse& res, bool keep_alive,
                              const std::vector<std::pair<std::string, std::string>>& extra);

// One chunk of a chunked body ("" for the last chunk).
std::string Chunk(std::string_view data);

const char* ReasonPhrase(int status);

}  // namespace sandwatch::receiver
