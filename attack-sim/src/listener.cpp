#include "sandwatch/attack_sim/listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "sandwatch/core/clock.h"

namespace sandwatch::attacksim {
namespace {

std::string PeerName(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    port = ntohs(a->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
  port = ntohs(a->sin6_port);
  return "[" + std::string(host) + "]:" + std::to_string(port);
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
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(port);
  int rc = getaddrinfo(bind_host.c_str(), port_text.c_str(), &hints, &res);
  if (rc != 0) return MakeError("--bind: cannot resolve '" + bind_host + "': " + gai_strerror(rc));
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 8) == 0) {
      sockaddr_storage ss{};
      socklen_t len = sizeof(ss);
      getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
      port_ = ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                      : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
      fd_ = fd;
      freeaddrinfo(res);
      return port_;
    }
    last_error = strerror(errno);
    close(fd);
  }
  freeaddrinfo(res);
  return MakeError("cannot listen on " + bind_host + ":" + port_text + ": " + last_error);
}

Result<ListenCapture> Listener::AcceptOne(const std::string& commands, double linger_ms,
                                          double timeout_ms) {
  if (fd_ < 0) return MakeError("listener is not started");
  const Clock& clock = SystemClock();
  const int64_t deadline = clock.MonoNs() + static_cast<int64_t>(timeout_ms * 1e6);
  auto wait_readable = [&](int fd) {
    while (true) {
      int64_t left = deadline - clock.MonoNs();
      if (left <= 0) return false;
      pollfd p{fd, POLLIN, 0};
      int rc = poll(&p, 1, static_cast<int>(left / 1'000'000 + 1));
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) return false;
    }
  };
  if (!wait_readable(fd_)) return MakeError("no connection within the timeout");
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  int c = accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
  if (c < 0) return MakeError(std::string("accept: ") + strerror(errno), errno);
  ListenCapture cap;
  cap.start_mono_ns = clock.MonoNs();
  cap.start_wall_ns = clock.WallNs();
  cap.peer = PeerName(ss);
  cap.sent = commands + "\n";
  bool ok = SendAll(c, cap.sent);
  if (linger_ms > 0) std::this_thread::sleep_for(std::chrono::microseconds(
                         static_cast<int64_t>(linger_ms * 1000)));
  if (ok) {
    cap.sent += "exit\n";
    SendAll(c, "exit\n");
  }
  char buf[4096];
  while (true) {
    if (!wait_readable(c)) {
      cap.timed_out = true;
      break;
    }
    ssize_t n = recv(c, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (cap.output.size() < (1u << 20)) cap.output.append(buf, static_cast<size_t>(n));
  }
  cap.end_mono_ns = clock.MonoNs();
  cap.end_wall_ns = clock.WallNs();
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
