#include "http_message.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace sandwatch::receiver {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool HasToken(std::string_view value, std::string_view token) {
  std::string v = Lower(value);
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t comma = v.find(',', pos);
    if (comma == std::string::npos) comma = v.size();
    if (Trim(std::string_view(v).substr(pos, comma - pos)) == token) return true;
    pos = comma + 1;
  }
  return false;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

HeadResult Bad(int status, std::string why) {
  HeadResult r;
  r.state = HeadParse::kBad;
  r.error_status = status;
  r.error = std::move(why);
  return r;
}

void ParseQuery(std::string_view q, HttpRequest* req) {
  size_t pos = 0;
  while (pos < q.size()) {
    size_t amp = q.find('&', pos);
    if (amp == std::string_view::npos) amp = q.size();
    std::string_view pair = q.substr(pos, amp - pos);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string_view key = pair.substr(0, eq);
      std::string_view val = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
      req->params.emplace(DecodeQueryComponent(key), DecodeQueryComponent(val));
    }
    pos = amp + 1;
  }
}

}  // namespace

std::string HttpRequest::get_header_value(std::string_view name) const {
  std::string key = Lower(name);
  for (const auto& [k, v] : headers) {
    if (k == key) return v;
  }
  return "";
}

std::string HttpRequest::get_param_value(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? "" : it->second;
}

std::string DecodeQueryComponent(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

HeadResult ParseRequestHead(std::string_view buf, size_t max_head, HttpRequest* req) {
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buf.size() > max_head) return Bad(431, "request headers too large");
    return {};
  }
  if (end + 4 > max_head) return Bad(431, "request headers too large");
  std::string_view head = buf.substr(0, end);
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return Bad(400, "malformed request line");
  req->method = std::string(line.substr(0, sp1));
  req->target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.0") {
    req->http10 = true;
  } else if (version != "HTTP/1.1") {
    return Bad(505, "only HTTP/1.0 and HTTP/1.1 are supported");
  }
  if (req->target.empty() || req->target[0] != '/') return Bad(400, "malformed request target");
  size_t qmark = req->target.find('?');
  req->path = req->target.substr(0, qmark);
  if (qmark != std::string::npos) ParseQuery(std::string_view(req->target).substr(qmark + 1), req);

  req->keep_alive = !req->http10;
  bool have_length = false;
  std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
  while (!rest.empty()) {
    size_t eol = rest.find("\r\n");
    std::string_view h = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? "" : rest.substr(eol + 2);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return Bad(400, "malformed header line");
    std::string name = Lower(h.substr(0, colon));
    std::string_view value = Trim(h.substr(colon + 1));
    if (name == "content-length") {
      int64_t n = -1;
      auto r = std::from_chars(value.data(), value.data() + value.size(), n);
      if (r.ec != std::errc() || r.ptr != value.data() + value.size() || n < 0 ||
          (have_length && n != req->content_length)) {
        return Bad(400, "malformed Content-Length");
      }
      req->content_length = n;
      have_length = true;
    } else if (name == "transfer-encoding") {
      return Bad(411, "chunked request bodies are not supported; send Content-Length");
    } else if (name == "connection") {
      if (HasToken(value, "close")) req->keep_alive = false;
      if (HasToken(value, "keep-alive")) req->keep_alive = true;
    } else if (name == "expect") {
      req->expect_continue = HasToken(value, "100-continue");
    }
    req->headers.emplace_back(std::move(name), std::string(value));
  }
  HeadResult r;
  r.state = HeadParse::kComplete;
  r.head_bytes = end + 4;
  return r;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Status";
  }
}

std::string SerializeResponse(const HttpResponse& res, bool keep_alive,
                              const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string out;
  out.reserve(res.body.size() + 512);
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += ReasonPhrase(res.status);
  out += "\r\nContent-Type: ";
  out += res.content_type;
  out += "\r\n";
  for (const auto& list : {&extra, &res.headers}) {
    for (const auto& [k, v] : *list) {
      out += k;
      out += ": ";
      out += v;
      out += "\r\n";
    }
  }
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  if (res.stream) {
    out += "Transfer-Encoding: chunked\r\n\r\n";
    out += Chunk(res.body);
    return out;
  }
  out += "Content-Length: ";
  out += std::to_string(res.body.size());
  out += "\r\n\r\n";
  out += res.body;
  return out;
}

std::string Chunk(std::string_view data) {
  std::array<char, 20> hex;
  auto r = std::to_chars(hex.data(), hex.data() + hex.size(), data.size(), 16);
  std::string out(hex.data(), r.ptr);
  out += "\r\n";
  out += data;
  out += "\r\n";
  return out;
}

}  // namespace sandwatch::receiver
