// A small HTTP client interface for the kube backend: the receiver's /healthz and
// /api/sensors, and falcosidekick-ui's search API. The real one (cpp-httplib) stays in
// src/kube/http_client.cpp so this header is cheap; tests inject their own.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "sandwatch/core/result.h"

namespace sandwatch::harness::kube {

struct HttpResponse {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // `url` is "http://host:port/path?query". `basic_auth` is "user:password" or "".
  // An Error when the server could not be reached; any HTTP status is a response.
  virtual Result<HttpResponse> Get(const std::string& url, const std::string& basic_auth) = 0;
  virtual Result<HttpResponse> Post(const std::string& url, const std::string& body,
                                    const std::string& content_type) = 0;
};

// cpp-httplib, plain http only, each request bounded by `timeout`.
std::unique_ptr<HttpClient> MakeHttpClient(std::chrono::milliseconds timeout);

}  // namespace sandwatch::harness::kube
