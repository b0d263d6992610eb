// Helpers of the receiver load generator: /proc readings of the receiver process, and
// plain loopback sockets for probes and for hostile clients (slow heads, idle keep-alive,
// streams that never read), each from a chosen 127.0.0.0/8 source address.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace sandwatch::loadgen {

// A line of /proc/PID/status ("VmRSS:", "VmHWM:") in KiB.
int64_t ReadStatusKb(pid_t pid, const char* key);
// utime + stime of a process, in seconds.
double CpuSeconds(pid_t pid);
// utime + stime per thread name (threads of the same name summed), in seconds.
std::map<std::string, double> ThreadCpuSeconds(pid_t pid);

// Time spent on a CPU and runnable but waiting for one, in seconds, summed over the
// threads named `comm` (/proc/PID/task/*/schedstat).
struct SchedTimes {
  double cpu_s = 0;
  double wait_s = 0;
};
SchedTimes ThreadSchedTimes(pid_t pid, const std::string& comm);

// A blocking loopback connection from `source` to 127.0.0.1:port (fd -1 on failure).
int ConnectFrom(const char* source, int port, int rcvbuf = 0);
// Sends a request and reads one response; returns its status (0 on failure) and sets
// *ms to the wall time taken.
int RoundTrip(int fd, const std::string& request, double* ms);

// Connections opened by an attacker and held until destruction.
class HostileClients {
 public:
  // Opens `n` of each kind from `source`: heads never finished, idle keep-alive after one
  // /healthz, and /api/stream requests never read.
  HostileClients(const char* source, int port, int n);
  ~HostileClients();
  HostileClients(const HostileClients&) = delete;
  HostileClients& operator=(const HostileClients&) = delete;
  // How many slow heads / idle connections the receiver still holds open (not closed or
  // refused).
  int OpenSlowHeads() const { return CountOpen(slow_); }
  int OpenIdle() const { return CountOpen(idle_); }

 private:
  static int CountOpen(const std::vector<int>& fds);
  std::vector<int> slow_, idle_, streams_;
};

// "POST /events" of `body` with Content-Length.
std::string PostRequest(const std::string& body);

}  // namespace sandwatch::loadgen
