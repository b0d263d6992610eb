#include "netlink_source.h"

#include <fcntl.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <vector>

#include "early_read.h"
#include "netlink_decode.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "self_facts.h"

namespace sandwatch::sensor {

namespace {

constexpr size_t kMaxParents = 65536;

Result<int> OpenSubscribed(int rcvbuf, int* granted) {
  int sock = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
  if (sock < 0) {
    int err = errno;
    return MakeError(ErrnoText("socket(NETLINK_CONNECTOR)", err) +
                         (err == EPROTONOSUPPORT ? " (not the initial network namespace?)" : ""),
                     err);
  }
  if (rcvbuf > 0 && setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0) {
    setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  socklen_t len = sizeof(*granted);
  getsockopt(sock, SOL_SOCKET, SO_RCVBUF, granted, &len);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  addr.nl_pid = 0;
  if (bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    close(sock);
    return MakeError(ErrnoText("bind(NETLINK_CONNECTOR, CN_IDX_PROC)", err), err);
  }
  std::vector<uint8_t> req = BuildProcConnectorRequest(true, 0);
  if (send(sock, req.data(), req.size(), 0) < 0) {
    int err = errno;
    close(sock);
    return MakeError(ErrnoText("send(PROC_CN_MCAST_LISTEN)", err), err);
  }
  return sock;
}

}  // namespace

Status NetlinkSource::Probe() const {
  SelfFacts facts = ReadSelfFacts();
  if (!facts.InInitPidNs()) {
    return MakeError("netlink refused: the sensor is in a private PID namespace (ns/pid inode " +
                     std::to_string(facts.pid_ns_ino) +
                     "); the proc connector only serves listeners in the initial PID namespace");
  }
  if (!facts.InInitUserNs()) {
    return MakeError(
        "netlink refused: the sensor is in a private user namespace; the proc "
        "connector only serves the initial user namespace");
  }
  if (!facts.HasCap(kCapNetAdmin)) {
    return MakeError("netlink refused: CAP_NET_ADMIN is missing");
  }
  int granted = 0;
  auto sock = OpenSubscribed(0, &granted);
  if (!sock.ok()) return MakeError("netlink refused: " + sock.error().message, sock.error().code);
  std::vector<uint8_t> req = BuildProcConnectorRequest(false, 0);
  send(*sock, req.data(), req.size(), 0);
  close(*sock);
  return OkStatus();
}

Status NetlinkSource::Start(ObservationSink* sink) {
  if (thread_.joinable()) return MakeError("netlink source already started");
  if (!wake_.ok()) return MakeError("eventfd failed");
  proc_fd_ = open(options_.proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc_fd_ < 0) return MakeError(ErrnoText("open " + options_.proc_root, errno), errno);
  auto sock = OpenSubscribed(options_.rcvbuf_bytes, &granted_rcvbuf_);
  if (!sock.ok()) {
    close(proc_fd_);
    proc_fd_ = -1;
    return sock.error();
  }
  sock_ = *sock;
  if (options_.early_read_workers > 0) {
    workers_ =
        std::make_unique<ShardedWorkers>(options_.early_read_workers, options_.priority, 16384);
    workers_->Start();
  }
  wake_.Drain();
  thread_ = std::thread([this, sink] { Loop(sink); });
  return OkStatus();
}

void NetlinkSource::Stop() {
  if (thread_.joinable()) {
    wake_.Signal();
    thread_.join();
  }
  if (workers_) {
    workers_->Stop();  // runs what was handed off, then joins
    worker_cpu_ns_.store(workers_->cpu_ns());
    workers_.reset();
  }
  if (sock_ >= 0) {
    std::vector<uint8_t> req = BuildProcConnectorRequest(false, 0);
    send(sock_, req.data(), req.size(), 0);
    close(sock_);
    sock_ = -1;
  }
  if (proc_fd_ >= 0) {
    close(proc_fd_);
    proc_fd_ = -1;
  }
}

void NetlinkSource::Dispatch(int pid, const std::function<void()>& task) {
  if (workers_) {
    if (workers_->Submit(pid, task)) return;
    queue_full_.fetch_add(1, std::memory_order_relaxed);
  }
  task();
}

void NetlinkSource::EmitExec(int pid, int ppid, int64_t received_ns, ObservationSink* sink) {
  Observation obs;
  obs.kind = Observation::Kind::kExec;
  obs.method = "netlink";
  obs.pid = pid;
  obs.ppid = ppid;
  if (options_.early_read) {
    EarlyRead er = ReadEarly(proc_fd_, pid);
    if (!er.complete) early_failures_.fetch_add(1, std::memory_order_relaxed);
    obs.path = er.exe;
    if (obs.ppid == 0) obs.ppid = er.ppid;
    obs.early = std::move(er);
  }
  obs.kernel_mono_ns = received_ns;
  sink->Push(std::move(obs));
}

void NetlinkSource::Handle(const ProcConnEvent& ev, int64_t received_ns, ObservationSink* sink) {
  using What = ProcConnEvent::What;
  const int pid = ev.tgid;
  if (ev.what == What::kFork) {
    if (ev.pid != ev.tgid) return;  // a new thread, not a process
    if (parent_of_.size() >= kMaxParents) parent_of_.clear();
    parent_of_[pid] = ev.parent_tgid;
    return;
  }
  if (ev.what == What::kExec) {
    execs_.fetch_add(1, std::memory_order_relaxed);
    auto it = parent_of_.find(pid);
    const int ppid = it != parent_of_.end() ? it->second : 0;
    Dispatch(pid, [this, pid, ppid, received_ns, sink] { EmitExec(pid, ppid, received_ns, sink); });
    return;
  }
  if (ev.what == What::kExit) {
    if (ev.pid != ev.tgid) return;  // a thread ended; the process lives on
    parent_of_.erase(pid);
    if (!options_.emit_exit) return;
    Dispatch(pid, [pid, received_ns, sink] {
      Observation obs;
      obs.kind = Observation::Kind::kExit;
      obs.method = "netlink";
      obs.pid = pid;
      obs.kernel_mono_ns = received_ns;
      sink->Push(std::move(obs));
    });
  }
}

void NetlinkSource::Loop(ObservationSink* sink) {
  std::vector<uint8_t> buf(size_t{64} * 1024);
  std::vector<ProcConnEvent> events;
  const ThreadPriority prio =
      RaiseThreadPriority(options_.priority.nice, options_.priority.realtime);
  nice_.store(prio.nice);
  rt_.store(prio.realtime);
  std::array<pollfd, 2> fds = {{{sock_, POLLIN, 0}, {wake_.fd(), POLLIN, 0}}};
  while (true) {
    int n = poll(fds.data(), 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (fds[1].revents & POLLIN)) break;
    while (true) {
      ssize_t got = recv(sock_, buf.data(), buf.size(), 0);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {
          const int64_t count = overflows_.fetch_add(1, std::memory_order_relaxed) + 1;
          if (count == 1 || count % 1000 == 0) {
            SW_LOG(kWarn, "capture", "netlink overflow; reconciling with a /proc scan",
                   {"overflows", std::to_string(count)});
          }
          Observation scan;
          scan.kind = Observation::Kind::kScan;
          scan.method = "netlink";
          scan.kernel_mono_ns = options_.clock->MonoNs();
          sink->Push(std::move(scan));
          continue;
        }
        break;  // EAGAIN: drained
      }
      const int64_t received = options_.clock->MonoNs();
      events.clear();
      DecodeProcConnector(std::span<const uint8_t>(buf.data(), static_cast<size_t>(got)), &events);
      for (const ProcConnEvent& ev : events) {
        events_.fetch_add(1, std::memory_order_relaxed);
        Handle(ev, received, sink);
      }
      cpu_ns_.store(ThreadCpuNs(), std::memory_order_relaxed);
    }
    cpu_ns_.store(ThreadCpuNs(), std::memory_order_relaxed);
    if (workers_) worker_cpu_ns_.store(workers_->cpu_ns(), std::memory_order_relaxed);
  }
  cpu_ns_.store(ThreadCpuNs(), std::memory_order_relaxed);
}

void NetlinkSource::AddCounters(std::map<std::string, int64_t>* counters) const {
  (*counters)["netlink_overflows"] += overflows_.load();
  (*counters)["netlink_events"] += events_.load();
  (*counters)["netlink_execs"] += execs_.load();
  (*counters)["netlink_early_read_failures"] += early_failures_.load();
  (*counters)["netlink_cpu_us"] += (cpu_ns_.load() + worker_cpu_ns_.load()) / 1000;
  (*counters)["netlink_queue_full"] += queue_full_.load();
  (*counters)["netlink_thread_nice"] += nice_.load();
  (*counters)["netlink_thread_rt"] += rt_.load() ? 1 : 0;
}

}  // namespace sandwatch::sensor
