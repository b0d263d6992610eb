// The inotify look's per-process read with and without its early descriptor read, in
// the same run. The look reads each new pid's cmdline, exe and stat (ReadEarly); once
// the exec is complete it also reads up to 64 descriptors and, when one is a socket,
// that process's net/tcp, tcp6, udp and udp6 (ReadEarlyFds). The target is a real
// process with the shape of a reverse shell's relay: a loopback connection on stdio,
// a credential-like file open, and `fds` descriptors in all (arguments: fds, extra
// connections, socket). The second argument adds that many established loopback
// connections to the network namespace, so the socket tables the early read parses are
// longer. With socket 0, stdio is /dev/null: descriptors only, no socket tables read.
//
// As root the benchmark runs in a network namespace of its own (loopback only), as a pod
// has, so the socket tables hold only its own connections; otherwise in the caller's,
// whose table size tcp_lines shows.
//
// Counters: fds (descriptors read), sockets (resolved), tcp_lines (rows in net/tcp),
// and, on the run with descriptors, fd_read_ratio: its CPU time per read over the CPU
// time of the read without descriptors for the same arguments (registered first).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "early_read.h"

namespace sandwatch::sensor::bench {
namespace {

// A loopback listener on an ephemeral port; closed with the object.
struct Listener {
  Listener() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
         listen(fd, 1024) == 0;
    socklen_t len = sizeof addr;
    ok = ok && getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  }
  ~Listener() {
    if (fd >= 0) close(fd);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  int fd = -1;
  sockaddr_in addr{};
  bool ok = false;
};

// `n` established loopback connections (both ends held): rows in net/tcp.
class Connections {
 public:
  bool Open(const Listener& l, int n) {
    for (int i = 0; i < n; ++i) {
      const int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c < 0) return false;
      fds_.push_back(c);
      if (connect(c, reinterpret_cast<const sockaddr*>(&l.addr), sizeof l.addr) != 0) return false;
      const int a = accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (a < 0) return false;
      fds_.push_back(a);
    }
    return true;
  }
  ~Connections() {
    for (int fd : fds_) {
      const linger reset{1, 0};  // closed with a reset: no TIME_WAIT rows left for the next run
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      close(fd);
    }
  }

 private:
  std::vector<int> fds_;
};

// The target: /bin/sleep with a connection to `l` (or /dev/null) on 0, 1 and 2 and
// `fds` - 3 more descriptors on a file. The destructor kills and reaps it.
class Relay {
 public:
  Relay(const Listener& l, const std::string& file, int fds, bool with_socket) {
    pid_ = fork();
    if (pid_ == 0) {
      const int s = with_socket ? socket(AF_INET, SOCK_STREAM, 0) : open("/dev/null", O_RDWR);
      if (s < 0 || (with_socket &&
                    connect(s, reinterpret_cast<const sockaddr*>(&l.addr), sizeof l.addr) != 0)) {
        _exit(3);
      }
      dup2(s, 0);
      dup2(s, 1);
      dup2(s, 2);
      for (int fd = 3; fd < fds; ++fd) {
        const int f = open(file.c_str(), O_RDONLY);
        if (f < 0 || (f != fd && dup2(f, fd) != fd)) _exit(4);
      }
      for (int fd = fds; fd < 1024; ++fd) close(fd);  // no descriptor beyond the shape
      execl("/bin/sleep", "sleep", "3600", static_cast<char*>(nullptr));
      _exit(5);
    }
    if (pid_ > 0 && with_socket) peer_ = accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (!with_socket) peer_ = 0;
  }
  ~Relay() {
    if (peer_ > 0) close(peer_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;
  int pid() const { return pid_; }
  bool ok() const { return pid_ > 0 && peer_ >= 0; }

 private:
  pid_t pid_ = -1;
  int peer_ = -1;
};

std::map<std::vector<int64_t>, double>& CpuWithoutFds() {
  static std::map<std::vector<int64_t>, double> m;
  return m;
}

double ProcessCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

size_t TcpLines(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/net/tcp");
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n > 0 ? n - 1 : 0;  // the header
}

void RunLook(benchmark::State& state, bool with_fds) {
  const int fds = static_cast<int>(state.range(0));
  const int extra = static_cast<int>(state.range(1));
  const bool with_socket = state.range(2) != 0;
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = std::max<rlim_t>(lim.rlim_cur, std::min<rlim_t>(lim.rlim_max, 4096));
  setrlimit(RLIMIT_NOFILE, &lim);
  std::string tmpl = "/tmp/sw-early-read-bench-XXXXXX";
  const int tmp = mkstemp(tmpl.data());
  if (tmp < 0) {
    state.SkipWithError("cannot create a temporary file");
    return;
  }
  close(tmp);
  const std::string file = tmpl;
  {
    Listener listener;
    Connections others;
    if (!listener.ok || !others.Open(listener, extra)) {
      state.SkipWithError("cannot open loopback connections");
    } else if (Relay relay(listener, file, fds, with_socket); !relay.ok()) {
      state.SkipWithError("cannot start the relay process");
    } else {
      const int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      // Until the exec is done (the child still runs this image).
      while (ReadEarly(proc, relay.pid()).cmdline != std::vector<std::string>{"sleep", "3600"}) {
        usleep(1000);
      }
      size_t read = 0;
      size_t sockets = 0;
      const double cpu0 = ProcessCpuNs();
      // NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): Google Benchmark's loop variable
      for (auto _ : state) {
        EarlyRead er = ReadEarly(proc, relay.pid());
        if (with_fds) read = ReadEarlyFds(proc, relay.pid(), &er);
        sockets = er.sockets.size();
        benchmark::DoNotOptimize(er);
      }
      const double cpu_per_us =
          (ProcessCpuNs() - cpu0) / 1e3 / static_cast<double>(state.iterations());
      close(proc);
      state.counters["fds"] = static_cast<double>(read);
      state.counters["sockets"] = static_cast<double>(sockets);
      state.counters["tcp_lines"] = static_cast<double>(TcpLines(relay.pid()));
      state.counters["cpu_us"] = cpu_per_us;
      const std::vector<int64_t> key{state.range(0), state.range(1), state.range(2)};
      if (!with_fds) {
        CpuWithoutFds()[key] = cpu_per_us;
      } else if (auto it = CpuWithoutFds().find(key); it != CpuWithoutFds().end()) {
        state.counters["fd_read_ratio"] = cpu_per_us / it->second;
      }
    }
  }
  unlink(file.c_str());
}

// A new network namespace with loopback up. False when it cannot be made.
bool EnterOwnNetworkNamespace() {
  if (unshare(CLONE_NEWNET) != 0) return false;
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  bool up = ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags = static_cast<int16_t>(ifr.ifr_flags | IFF_UP);
  up = up && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  close(s);
  return up;
}

void BM_LookRead(benchmark::State& state) { RunLook(state, false); }
void BM_LookReadWithFds(benchmark::State& state) { RunLook(state, true); }

void Register() {
  const std::vector<std::vector<int64_t>> shapes = {
      {4, 0, 0}, {4, 0, 1}, {64, 0, 0}, {64, 0, 1}, {4, 500, 1}};
  for (const auto& args : shapes) {
    for (auto [name, fn] : {std::make_pair("BM_LookRead", BM_LookRead),
                            std::make_pair("BM_LookReadWithFds", BM_LookReadWithFds)}) {
      benchmark::RegisterBenchmark(name, fn)->Args(args)->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace
}  // namespace sandwatch::sensor::bench

int main(int argc, char** argv) {
  if (!sandwatch::sensor::bench::EnterOwnNetworkNamespace()) {
    std::fprintf(stderr,
                 "early_read_bench: not in a network namespace of its own (needs root); the "
                 "socket tables are this machine's (see tcp_lines)\n");
  }
  sandwatch::sensor::bench::Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
