#include "loadgen_probe.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sandwatch::loadgen {
namespace {

double StatCpu(const std::string& stat_path, std::string* comm) {
  std::ifstream in(stat_path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return 0;
  if (comm) *comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

int64_t ReadStatusKb(pid_t pid, const char* key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::atoll(line.c_str() + std::strlen(key));
  }
  return 0;
}

double CpuSeconds(pid_t pid) { return StatCpu("/proc/" + std::to_string(pid) + "/stat", nullptr); }

std::map<std::string, double> ThreadCpuSeconds(pid_t pid) {
  std::map<std::string, double> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string comm;
    double s = StatCpu(dir + "/" + e->d_name + "/stat", &comm);
    out[comm] += s;
  }
  closedir(d);
  return out;
}

SchedTimes ThreadSchedTimes(pid_t pid, const std::string& comm) {
  SchedTimes out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string task = dir + "/" + e->d_name;
    std::string name;
    std::getline(std::ifstream(task + "/comm"), name);
    if (name != comm) continue;
    double cpu_ns = 0;
    double wait_ns = 0;
    if (std::ifstream(task + "/schedstat") >> cpu_ns >> wait_ns) {
      out.cpu_s += cpu_ns / 1e9;
      out.wait_s += wait_ns / 1e9;
    }
  }
  closedir(d);
  return out;
}

int ConnectFrom(const char* source, int port, int rcvbuf) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int yes = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source, &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int RoundTrip(int fd, const std::string& request, double* ms) {
  auto start = std::chrono::steady_clock::now();
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n = send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return 0;
    off += static_cast<size_t>(n);
  }
  std::string buf;
  std::array<char, 4096> tmp{};
  for (;;) {
    size_t end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t cl = buf.find("Content-Length: ");
      size_t len = cl == std::string::npos || cl > end ? 0 : std::atol(buf.c_str() + cl + 16);
      if (buf.size() >= end + 4 + len) break;
    }
    ssize_t n = recv(fd, tmp.data(), tmp.size(), 0);
    if (n <= 0) return 0;
    buf.append(tmp.data(), static_cast<size_t>(n));
  }
  *ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return buf.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(buf.c_str() + 9) : 0;
}

std::string PostRequest(const std::string& body) {
  return "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

HostileClients::HostileClients(const char* source, int port, int n) {
  const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string stream = "GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < n; ++i) {
    int fd = ConnectFrom(source, port);
    if (fd < 0) continue;
    send(fd, "POST /events HTTP/1.1\r\nHost: x\r\nContent-Le", 43, MSG_NOSIGNAL);
    slow_.push_back(fd);
  }
  for (int i = 0; i < n; ++i) {
    int fd = ConnectFrom(source, port);
    if (fd < 0) continue;
    double ms = 0;
    RoundTrip(fd, healthz, &ms);  // refused ones answer 503 and close; counted later
    idle_.push_back(fd);
  }
  for (int i = 0; i < n; ++i) {
    int fd = ConnectFrom(source, port, 4096);
    if (fd < 0) continue;
    send(fd, stream.data(), stream.size(), MSG_NOSIGNAL);
    streams_.push_back(fd);
  }
}

HostileClients::~HostileClients() {
  for (const auto* list : {&slow_, &idle_, &streams_}) {
    for (int fd : *list) close(fd);
  }
}

int HostileClients::CountOpen(const std::vector<int>& fds) {
  int open = 0;
  for (int fd : fds) {
    std::array<char, 16> peek{};
    ssize_t n = recv(fd, peek.data(), peek.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ++open;  // nothing to read and not closed
    }
  }
  return open;
}

}  // namespace sandwatch::loadgen
