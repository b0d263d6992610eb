// Connection I/O of the HTTP loop: accepting under the limits, reading heads and bodies,
// writing answers.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "http_loop.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"

namespace sandwatch::receiver {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr size_t kReadChunk = size_t{64} * 1024;
constexpr size_t kMaxDrain = 2 << 20;  // bytes discarded after a refusal before closing
constexpr int64_t kDrainNs = 2 * kSec;
constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Connection: close\r\nContent-Length: 35\r\n\r\n{\"error\":\"too many connections\"}\r\n";

int64_t Ns(double s) { return static_cast<int64_t>(s * 1e9); }

}  // namespace

void HttpServer::Loop::SetInterest(HttpConn& c, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = c.fd;
  if (!c.in_epoll) {
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd, &ev);
    c.in_epoll = true;
  } else if (c.interest != events) {
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
  }
  c.interest = events;
}

void HttpServer::Loop::Close(HttpConn& c) {
  int fd = c.fd;
  if (auto it = per_peer.find(c.peer); it != per_peer.end() && --it->second <= 0) {
    per_peer.erase(it);
  }
  close(fd);  // also removes it from the epoll set
  stream_fds.erase(fd);
  --counters->open;
  conns.erase(fd);
}

void HttpServer::Loop::Accept() {
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd =
        accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        ++counters->refused_total_limit;
        listen_paused_until = clock->MonoNs() + kSec / 20;  // level-triggered: do not spin
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
      }
      return;
    }
    std::array<char, INET6_ADDRSTRLEN> host{'?'};
    if (addr.ss_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, host.data(),
                host.size());
    } else if (addr.ss_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, host.data(),
                host.size());
    }
    std::string peer = host.data();
    bool over_total = static_cast<int>(conns.size()) >= limits.max_connections;
    bool over_peer = !over_total && per_peer[peer] >= limits.max_connections_per_peer;
    if (over_total || over_peer) {
      ++(over_total ? counters->refused_total_limit : counters->refused_per_peer);
      send(fd, kBusy.data(), kBusy.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      close(fd);
      if (per_peer[peer] == 0) per_peer.erase(peer);
      continue;
    }
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    auto c = std::make_unique<HttpConn>();
    c->id = next_id++;
    c->fd = fd;
    c->peer = peer;
    c->state = ConnState::kHead;  // a new connection must send its head in time
    c->deadline = clock->MonoNs() + Ns(limits.header_timeout_s);
    ++per_peer[peer];
    ++counters->accepted;
    ++counters->open;
    HttpConn& ref = *c;
    conns.emplace(fd, std::move(c));
    SetInterest(ref, EPOLLIN | EPOLLRDHUP);
  }
}

void HttpServer::Loop::Respond(HttpConn& c, const HttpResponse& res) {
  c.out = SerializeResponse(res, false, default_headers);
  c.out_off = 0;
  c.close_after_write = true;
  c.state = ConnState::kWrite;
  c.deadline = clock->MonoNs() + Ns(limits.body_timeout_s);
  Flush(c);
}

void HttpServer::Loop::RespondError(HttpConn& c, int status, const std::string& msg) {
  HttpResponse res;
  res.status = status;
  std::string text;
  for (char ch : msg) {
    if (ch == '"' || ch == '\\') text += '\\';
    text += ch;
  }
  res.set_content(R"({"error":")" + text + R"("})", "application/json");
  Respond(c, res);
}

void HttpServer::Loop::Advance(HttpConn& c) {
  if (c.state == ConnState::kIdle && !c.in.empty()) {
    c.state = ConnState::kHead;
    c.deadline = clock->MonoNs() + Ns(limits.header_timeout_s);
  }
  if (c.state == ConnState::kHead) {
    c.req = HttpRequest{};
    HeadResult h = ParseRequestHead(c.in, limits.max_head_bytes, &c.req);
    if (h.state == HeadParse::kIncomplete) return;
    if (h.state == HeadParse::kBad) {
      ++counters->bad_requests;
      return RespondError(c, h.error_status, h.error);
    }
    c.in.erase(0, h.head_bytes);
    c.req.peer = c.peer;
    ++counters->requests;
    HttpResponse early;
    if (head_check && head_check(c.req, early)) {
      ++counters->rejected_after_head;
      return Respond(c, early);
    }
    if (c.req.content_length > limits.max_body_bytes) {
      ++counters->rejected_after_head;
      return RespondError(c, 413, "request body too large");
    }
    if (c.req.expect_continue && c.req.content_length > 0) {
      constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      send(c.fd, kContinue.data(), kContinue.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    c.state = ConnState::kBody;
    c.deadline = clock->MonoNs() + Ns(limits.body_timeout_s);
  }
  if (c.state == ConnState::kBody) {
    auto need = static_cast<size_t>(c.req.content_length);
    if (c.in.size() < need) return;
    c.req.body = c.in.substr(0, need);
    c.in.erase(0, need);
    c.state = ConnState::kBusy;
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);  // nothing to do until answered
    c.in_epoll = false;
    Enqueue(HttpJob{c.fd, c.id, std::move(c.req)});
  }
}

bool HttpServer::Loop::ReadSome(HttpConn& c) {
  const size_t cap = limits.max_head_bytes + static_cast<size_t>(limits.max_body_bytes) + 1;
  std::array<char, kReadChunk> buf;
  for (int i = 0; i < 4; ++i) {
    ssize_t n = recv(c.fd, buf.data(), buf.size(), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      Close(c);
      return false;
    }
    if (n < 0) return true;
    if (c.state == ConnState::kDrain) {
      c.drained += static_cast<size_t>(n);
      if (c.drained > kMaxDrain) {
        Close(c);
        return false;
      }
      continue;
    }
    if (c.state != ConnState::kStream) c.in.append(buf.data(), static_cast<size_t>(n));
    if (c.in.size() > cap) break;  // Advance refuses or dispatches before more is read
    if (static_cast<size_t>(n) < buf.size()) return true;
  }
  return true;
}

bool HttpServer::Loop::Flush(HttpConn& c) {
  while (c.out_off < c.out.size()) {
    ssize_t n =
        send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Close(c);
      return false;
    }
    c.out_off += static_cast<size_t>(n);
    if (c.state == ConnState::kStream) c.last_stream_write = clock->MonoNs();
  }
  const bool pending = c.out_off < c.out.size();
  if (!pending) {
    c.out.clear();
    c.out_off = 0;
  }
  if (c.state == ConnState::kStream) {
    SetInterest(c, EPOLLIN | EPOLLRDHUP | (pending ? EPOLLOUT : 0u));
    return true;
  }
  if (pending) {
    SetInterest(c, EPOLLOUT);
    return true;
  }
  if (c.close_after_write) {
    shutdown(c.fd, SHUT_WR);
    c.state = ConnState::kDrain;
    c.deadline = clock->MonoNs() + std::min(kDrainNs, Ns(limits.header_timeout_s));
    c.in.clear();
    SetInterest(c, EPOLLIN | EPOLLRDHUP);
    return true;
  }
  c.state = ConnState::kIdle;
  c.deadline = clock->MonoNs() + Ns(limits.idle_timeout_s);
  SetInterest(c, EPOLLIN | EPOLLRDHUP);
  if (!c.in.empty()) Advance(c);  // a pipelined request already arrived
  return true;
}

}  // namespace sandwatch::receiver
