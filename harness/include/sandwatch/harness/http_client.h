// The one HTTP client of the harness: the receiver's API (through ReceiverClient),
// falcosidekick-ui's search API and the receiver's /falco intake. Backends hold an
// HttpClient and tests inject their own. The real one (cpp-httplib) stays in
// src/http_client.cpp so this header is cheap.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "sandwatch/core/result.h"

namespace sandwatch::harness {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// Thread-safety: an implementation may be called from one thread at a time.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // `url` is "http://host:port/path?query". `basic_auth` is "user:password" or "".
  // An Error when the server could not be reached; any HTTP status is a response.
  virtual Result<HttpResponse> Get(const std::string& url, const std::string& basic_auth) = 0;
  virtual Result<HttpResponse> Post(const std::string& url, const std::string& body,
                                    const std::string& content_type) = 0;
};

// cpp-httplib, plain http only. Connecting may take `connect_timeout`, each read
// `read_timeout` (the same as connect_timeout when zero).
std::unique_ptr<HttpClient> MakeHttpClient(
    std::chrono::milliseconds connect_timeout,
    std::chrono::milliseconds read_timeout = std::chrono::milliseconds(0));

}  // namespace sandwatch::harness
