// The only file that includes cpp-httplib.
#include <httplib.h>

#include "sandwatch/sensor/http_output.h"

namespace sandwatch::sensor {
namespace {

class HttplibTransport : public Transport {
 public:
  HttplibTransport(const std::string& base, const std::string& token) : client_(base) {
    client_.set_tcp_nodelay(true);
    client_.set_keep_alive(true);
    client_.set_connection_timeout(3, 0);
    client_.set_read_timeout(10, 0);
    client_.set_write_timeout(10, 0);
    if (!token.empty()) client_.set_bearer_token_auth(token.c_str());
  }

  Result<int> Post(const std::string& path, const std::string& body) override {
    try {
      auto res = client_.Post(path.c_str(), body, "application/json");
      if (!res) return MakeError("POST " + path + ": " + httplib::to_string(res.error()));
      return res->status;
    } catch (const std::exception& e) {
      return MakeError(std::string("POST ") + path + ": " + e.what());
    }
  }

 private:
  httplib::Client client_;
};

}  // namespace

std::unique_ptr<Transport> MakeHttpTransport(const std::string& scheme_host_port,
                                             const std::string& bearer_token) {
  return std::make_unique<HttplibTransport>(scheme_host_port, bearer_token);
}

}  // namespace sandwatch::sensor
