// cpp-httplib stays in this file only.
#include "sandwatch/harness/http_client.h"

#include <httplib.h>

#include <algorithm>
#include <exception>

namespace sandwatch::harness {
namespace {

class HttplibClient : public HttpClient {
 public:
  HttplibClient(std::chrono::milliseconds connect_timeout, std::chrono::milliseconds read_timeout)
      : connect_timeout_(connect_timeout), read_timeout_(read_timeout) {}

  Result<HttpResponse> Get(const std::string& url, const std::string& basic_auth) override {
    return Do(url, [&](httplib::Client& c, const std::string& path) {
      if (!basic_auth.empty()) {
        const size_t colon = basic_auth.find(':');
        c.set_basic_auth(basic_auth.substr(0, colon),
                         colon == std::string::npos ? "" : basic_auth.substr(colon + 1));
      }
      return c.Get(path);
    });
  }

  Result<HttpResponse> Post(const std::string& url, const std::string& body,
                            const std::string& content_type) override {
    return Do(url, [&](httplib::Client& c, const std::string& path) {
      return c.Post(path, body, content_type);
    });
  }

 private:
  template <class F>
  Result<HttpResponse> Do(const std::string& url, F&& call) {
    if (url.rfind("http://", 0) != 0) return MakeError("only http:// URLs are supported: " + url);
    const size_t slash = std::min(url.find('/', 7), url.size());  // http://host:port | /path?query
    try {
      httplib::Client c(url.substr(0, slash));
      c.set_connection_timeout(connect_timeout_);
      c.set_read_timeout(read_timeout_);
      c.set_tcp_nodelay(true);
      auto res = call(c, slash < url.size() ? url.substr(slash) : std::string("/"));
      if (!res) return MakeError(url + ": " + httplib::to_string(res.error()));
      return HttpResponse{res->status, res->body};
    } catch (const std::exception& e) {
      return MakeError(url + ": " + e.what());
    }
  }

  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds read_timeout_;
};

}  // namespace

std::unique_ptr<HttpClient> MakeHttpClient(std::chrono::milliseconds connect_timeout,
                                           std::chrono::milliseconds read_timeout) {
  return std::make_unique<HttplibClient>(connect_timeout,
                                         read_timeout.count() > 0 ? read_timeout : connect_timeout);
}

}  // namespace sandwatch::harness
