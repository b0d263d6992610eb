#include "sandwatch/attack_sim/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

#include "sandwatch/attack_sim/interrupt.h"
#include "sandwatch/core/clock.h"

namespace sandwatch::attacksim {
namespace {

std::string PeerName(const sockaddr_storage& ss) {
  std::array<char, INET6_ADDRSTRLEN> host{};
  int port = 0;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host.data(), host.size());
    port = ntohs(a->sin_port);
    return std::string(host.data()) + ":" + std::to_string(port);
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &a->sin6_addr, host.data(), host.size());
  port = ntohs(a->sin6_port);
  return "[" + std::string(host.data()) + "]:" + std::to_string(port);
}

bool SendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Listener::~Listener() {
  if (fd_ >= 0) close(fd_);
}

Result<int> Listener::Start(const std::string& bind_host, int port) {
  // Numeric addresses only (plus "localhost"): no name service, so the static build works.
  const std::string host = bind_host == "localhost" ? "127.0.0.1" : bind_host;
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
  } else {
    return MakeError("--bind: '" + bind_host + "' is not a numeric IPv4/IPv6 address");
  }
  const std::string where = bind_host + ":" + std::to_string(port);
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return MakeError("socket: " + std::string(strerror(errno)), errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 8) != 0) {
    int err = errno;
    close(fd);
    return MakeError("cannot listen on " + where + ": " + strerror(err), err);
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
  port_ = bound.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port)
                                     : ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  fd_ = fd;
  return port_;
}

Result<ListenCapture> Listener::AcceptOne(const std::string& commands, double linger_ms,
                                          double timeout_ms) {
  if (fd_ < 0) return MakeError("listener is not started");
  const int64_t deadline = clock_.MonoNs() + static_cast<int64_t>(timeout_ms * 1e6);
  auto wait_readable = [&](int fd) {
    while (true) {
      int64_t left = deadline - clock_.MonoNs();
      if (left <= 0) return false;
      pollfd p{fd, POLLIN, 0};
      if (Interrupted()) return false;
      int rc = poll(&p, 1, static_cast<int>(std::min<int64_t>(100, left / 1'000'000 + 1)));
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) return false;
    }
  };
  bool pending = false;
  while (!pending) {
    // Slices of 200 ms so CancelAccept is noticed; a queued connection always wins.
    const bool cancelled = cancel_.load();
    pollfd p{fd_, POLLIN, 0};
    int64_t left = deadline - clock_.MonoNs();
    if (left <= 0 || Interrupted()) break;
    int rc =
        poll(&p, 1, cancelled ? 0 : static_cast<int>(std::min<int64_t>(200, left / 1'000'000 + 1)));
    if (rc > 0) pending = true;
    if (rc < 0 && errno != EINTR) break;
    if (rc == 0 && cancelled) {
      return MakeError("the reverse shell ended without connecting");
    }
  }
  if (!pending) return MakeError("no connection within the timeout");
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  int c = accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
  if (c < 0) return MakeError(std::string("accept: ") + strerror(errno), errno);
  ListenCapture cap;
  cap.start_mono_ns = clock_.MonoNs();
  cap.start_wall_ns = clock_.WallNs();
  cap.peer = PeerName(ss);
  cap.sent = commands + "\n";
  bool ok = SendAll(c, cap.sent);
  SleepInterruptibly(linger_ms);
  if (ok) {
    cap.sent += "exit\n";
    SendAll(c, "exit\n");
  }
  std::array<char, 4096> buf{};
  while (true) {
    if (!wait_readable(c)) {
      cap.timed_out = true;
      break;
    }
    ssize_t n = recv(c, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (cap.output.size() < (1u << 20)) cap.output.append(buf.data(), static_cast<size_t>(n));
  }
  cap.end_mono_ns = clock_.MonoNs();
  cap.end_wall_ns = clock_.WallNs();
  close(c);
  return cap;
}

std::string EscapeForDisplay(std::string_view text) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : text) {
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch >= 0x20 && ch < 0x7f) {
      out += static_cast<char>(ch);
    } else {
      out += "\\x";
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

}  // namespace sandwatch::attacksim
