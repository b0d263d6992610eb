// A minimal HTTP/1.1 client for POSTing JSON to the receiver: keep-alive,
// TCP_NODELAY, Content-Length and chunked responses, timeouts through poll(2).
//
// Why not cpp-httplib here: Debian's libcpp-httplib is built with OpenSSL, and
// merely loading it initialises libcrypto, which adds about 6 MiB of RSS (measured:
// a program that only links it has 7.3 MiB RSS against 1.1 MiB). That alone would
// break the sensor's 10 MiB budget. The sensor speaks plain HTTP (the in-cluster
// receiver); put a TLS proxy in front for https. Tests still use cpp-httplib servers.
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "sandwatch/core/ids.h"
#include "sandwatch/sensor/http_output.h"

namespace sandwatch::sensor {
namespace {

constexpr int kConnectTimeoutMs = 3000;
constexpr int kIoTimeoutMs = 10000;
constexpr size_t kMaxHeaderBytes = size_t{64} * 1024;
constexpr size_t kMaxBodyBytes = 1 << 20;

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class PlainHttpTransport : public Transport {
 public:
  PlainHttpTransport(std::string host, std::string port, std::string token)
      : host_(std::move(host)), port_(std::move(port)), token_(std::move(token)) {}
  ~PlainHttpTransport() override { Close(); }

  Result<int> Post(const std::string& path, const std::string& body) override {
    std::string req =
        "POST " + path + " HTTP/1.1\r\nHost: " + host_ + (port_ == "80" ? "" : ":" + port_) +
        "\r\nUser-Agent: sandwatch-sensor/" + Version() +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: keep-alive\r\n";
    if (!token_.empty()) req += "Authorization: Bearer " + token_ + "\r\n";
    req += "\r\n";
    req += body;
    // A kept-alive connection may have been closed by the server: retry once on a fresh one.
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = fd_ >= 0;
      if (fd_ < 0) {
        auto st = Connect();
        if (!st.ok()) return st.error();
      }
      auto status = RoundTrip(req);
      if (status.ok()) return status;
      Close();
      if (!reused) return status;
    }
    return MakeError("POST " + path + ": connection lost");
  }

 private:
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
  }

  Status Connect() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host_.c_str(), port_.c_str(), &hints, &res);
    if (rc != 0) return MakeError("resolve " + host_ + ": " + gai_strerror(rc));
    std::string last = "no address";
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0) continue;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        last = std::strerror(errno);
        ::close(fd);
        continue;
      }
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      if (::poll(&p, 1, kConnectTimeoutMs) != 1 ||
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        last = err ? std::strerror(err) : "connect timeout";
        ::close(fd);
        continue;
      }
      fd_ = fd;
      ::freeaddrinfo(res);
      return OkStatus();
    }
    ::freeaddrinfo(res);
    return MakeError("connect " + host_ + ":" + port_ + ": " + last);
  }

  Status WaitFor(short events) {
    pollfd p{fd_, events, 0};
    int rc;
    do {
      rc = ::poll(&p, 1, kIoTimeoutMs);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) return MakeError("timeout");
    if (rc < 0) return MakeError(std::strerror(errno), errno);
    return OkStatus();
  }

  Status SendAll(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        auto st = WaitFor(POLLOUT);
        if (!st.ok()) return st;
        continue;
      }
      return MakeError(std::string("send: ") + std::strerror(errno), errno);
    }
    return OkStatus();
  }

  // Appends what the socket has to buf_; false at EOF.
  Result<bool> ReadMore() {
    for (;;) {
      std::array<char, 16384> chunk;
      ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
      if (n > 0) {
        buf_.append(chunk.data(), static_cast<size_t>(n));
        return true;
      }
      if (n == 0) return false;
      if (errno == EAGAIN || errno == EINTR) {
        auto st = WaitFor(POLLIN);
        if (!st.ok()) return st.error();
        continue;
      }
      return MakeError(std::string("recv: ") + std::strerror(errno), errno);
    }
  }

  // Reads until buf_ holds `n` bytes; Error at EOF before that.
  Status Need(size_t n) {
    while (buf_.size() < n) {
      auto more = ReadMore();
      if (!more.ok()) return more.error();
      if (!*more) return MakeError("connection closed mid-response");
    }
    return OkStatus();
  }

  Result<int> RoundTrip(const std::string& req) {
    buf_.clear();
    auto st = SendAll(req);
    if (!st.ok()) return st.error();
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (buf_.size() > kMaxHeaderBytes) return MakeError("response headers too large");
      auto more = ReadMore();
      if (!more.ok()) return more.error();
      if (!*more) return MakeError("connection closed before a response");
    }
    std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    // "HTTP/1.1 202 Accepted"
    if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) return MakeError("not an HTTP response");
    int status = std::atoi(head.c_str() + 9);
    bool chunked = false, close_after = head.rfind("HTTP/1.0", 0) == 0;
    long long length = -1;
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos) {
      size_t next = head.find("\r\n", pos + 2);
      std::string line =
          head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      pos = next;
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = Lower(line.substr(0, colon));
      std::string value = Lower(line.substr(colon + 1));
      value.erase(0, value.find_first_not_of(" \t"));
      if (name == "content-length") length = std::atoll(value.c_str());
      if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) chunked = true;
      if (name == "connection" && value.find("close") != std::string::npos) close_after = true;
    }
    if (chunked) {
      for (;;) {
        size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos) {
          auto s = Need(buf_.size() + 1);
          if (!s.ok()) return s.error();
        }
        size_t size = std::strtoul(buf_.c_str(), nullptr, 16);
        if (size > kMaxBodyBytes) return MakeError("response chunk too large");
        auto s = Need(eol + 2 + size + 2);
        if (!s.ok()) return s.error();
        buf_.erase(0, eol + 2 + size + 2);
        if (size == 0) break;  // (trailers are not used by the receiver)
      }
    } else if (length >= 0) {
      if (static_cast<size_t>(length) > kMaxBodyBytes) return MakeError("response body too large");
      auto s = Need(static_cast<size_t>(length));
      if (!s.ok()) return s.error();
      buf_.erase(0, static_cast<size_t>(length));
    } else if (status >= 200 && status != 204 && status != 304) {
      close_after = true;  // body until EOF
      for (;;) {
        auto more = ReadMore();
        if (!more.ok() || !*more || buf_.size() > kMaxBodyBytes) break;
      }
    }
    if (close_after) Close();
    return status;
  }

  std::string host_;
  std::string port_;
  std::string token_;
  int fd_ = -1;
  std::string buf_;
};

}  // namespace

Result<std::unique_ptr<Transport>> MakeHttpTransport(const std::string& scheme_host_port,
                                                     const std::string& bearer_token) {
  const std::string scheme = "http://";
  if (scheme_host_port.rfind(scheme, 0) != 0) {
    return MakeError("only http:// is supported (put a TLS proxy in front for https)");
  }
  std::string hostport = scheme_host_port.substr(scheme.size());
  std::string host = hostport, port = "80";
  if (!hostport.empty() && hostport[0] == '[') {  // [::1]:8080
    auto close = hostport.find(']');
    if (close == std::string::npos) return MakeError("bad IPv6 host in " + scheme_host_port);
    host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':')
      port = hostport.substr(close + 2);
  } else if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (host.empty() || port.empty()) return MakeError("missing host or port in " + scheme_host_port);
  return std::unique_ptr<Transport>(new PlainHttpTransport(host, port, bearer_token));
}

}  // namespace sandwatch::sensor
