// Plain loopback TCP clients for the HTTP limit tests: they send exactly the bytes a slow,
// idle or hostile client would, from a chosen 127.0.0.0/8 source address.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

namespace sandwatch::receiver::testing {

class RawConn {
 public:
  // Connects from `source` (any 127.x.y.z) to 127.0.0.1:port. `rcvbuf` > 0 shrinks the
  // receive buffer before connecting. Every read gives up after 20 s, so no test hangs.
  RawConn(int port, const char* source = "127.0.0.1", int rcvbuf = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    timeval tv{20, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    inet_pton(AF_INET, source, &src.sin_addr);
    const bool bound = bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0;
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    connected_ = bound && connect(fd_, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0;
  }
  ~RawConn() {
    if (fd_ >= 0) close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool connected() const { return connected_; }

  bool Send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads one response (head plus Content-Length body); "" if the server closed first.
  // Bytes after it (a pipelined answer) stay for the next call.
  // `head_only`: the answer to a HEAD, whose Content-Length announces no body bytes.
  std::string ReadResponse(bool head_only = false) {
    std::string& buf = pending_;
    std::array<char, 4096> tmp;
    for (;;) {
      size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t cl = buf.find("Content-Length: ");
        size_t len = head_only || cl == std::string::npos || cl > end
                         ? 0
                         : std::strtoul(buf.c_str() + cl + 16, nullptr, 10);
        if (buf.size() >= end + 4 + len) {
          std::string one = buf.substr(0, end + 4 + len);
          buf.erase(0, end + 4 + len);
          return one;
        }
      }
      ssize_t n = recv(fd_, tmp.data(), tmp.size(), 0);
      if (n <= 0) return std::exchange(buf, std::string());
      buf.append(tmp.data(), static_cast<size_t>(n));
    }
  }

  // Reads until the server closes the connection: true when it did (EOF or reset),
  // false when 20 s passed without that.
  bool WaitClosed(std::string* received = nullptr) {
    std::array<char, 4096> tmp;
    for (;;) {
      ssize_t n = recv(fd_, tmp.data(), tmp.size(), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      if (received) received->append(tmp.data(), static_cast<size_t>(n));
    }
  }

  // Status code of a response's first line, or 0.
  static int Status(const std::string& response) {
    if (response.rfind("HTTP/1.1 ", 0) != 0) return 0;
    return std::atoi(response.c_str() + 9);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

}  // namespace sandwatch::receiver::testing
