#include "test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace sandwatch::attacksim::testing {

std::string BinPath() {
  const char* dir = std::getenv("SANDWATCH_BIN_DIR");
  return std::string(dir != nullptr ? dir : "bin") + "/sandwatch-attack-sim";
}

std::string TempDir() {
  std::string tmpl = "/tmp/sw-attack-sim-test-XXXXXX";
  const char* d = mkdtemp(tmpl.data());
  return d != nullptr ? d : "/tmp";
}

Exec Start(const std::vector<std::string>& args, const std::string& dir, const std::string& tag,
           const std::string& path_env) {
  Exec e;
  e.out_path = dir + "/" + tag + ".out";
  e.err_path = dir + "/" + tag + ".err";
  std::vector<std::string> full = {BinPath()};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(full.size() + 1);
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, e.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, e.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> env_store;
  for (char** p = environ; *p != nullptr; ++p) {
    if (path_env.empty() || std::strncmp(*p, "PATH=", 5) != 0) env_store.emplace_back(*p);
  }
  if (!path_env.empty()) env_store.push_back("PATH=" + path_env);
  std::vector<char*> envp;
  envp.reserve(env_store.size() + 1);
  for (auto& kv : env_store) envp.push_back(kv.data());
  envp.push_back(nullptr);
  if (posix_spawn(&e.pid, full[0].c_str(), &fa, nullptr, argv.data(), envp.data()) != 0) {
    e.pid = -1;
  }
  posix_spawn_file_actions_destroy(&fa);
  return e;
}

int Wait(const Exec& e) {
  int status = 0;
  if (e.pid <= 0 || waitpid(e.pid, &status, 0) < 0) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ProcWatcher::ProcWatcher(pid_t root) : root_(root), thread_([this] { Loop(); }) {}

ProcWatcher::~ProcWatcher() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::map<int, Seen> ProcWatcher::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

void ProcWatcher::Loop() {
  while (!stop_) {
    std::map<int, int> parent;
    DIR* d = opendir("/proc");
    if (d == nullptr) return;
    while (dirent* e = readdir(d)) {
      int pid = std::atoi(e->d_name);
      if (pid <= 0) continue;
      std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
      size_t close = stat.rfind(')');
      if (close == std::string::npos || close + 4 > stat.size()) continue;
      parent[pid] = std::atoi(stat.c_str() + close + 4);
    }
    closedir(d);
    for (const auto& [pid, ppid] : parent) {
      int p = ppid;
      bool under = false;
      for (int hops = 0; hops < 16 && p > 1; ++hops) {
        if (p == root_) {
          under = true;
          break;
        }
        auto it = parent.find(p);
        if (it == parent.end()) break;
        p = it->second;
      }
      if (!under) continue;
      std::string raw = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
      Seen s;
      s.ppid = ppid;
      size_t start = 0;
      while (start < raw.size()) {
        size_t nul = raw.find('\0', start);
        if (nul == std::string::npos) nul = raw.size();
        s.cmdline.push_back(raw.substr(start, nul - start));
        start = nul + 1;
      }
      std::lock_guard<std::mutex> lock(mu_);
      // Keep the latest view: a forked bash subshell becomes the step after exec.
      if (!s.cmdline.empty()) seen_[pid] = s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

ExecRecorder::ExecRecorder() {
  int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (fd < 0) {
    why_not_ = std::string("netlink socket: ") + strerror(errno);
    return;
  }
  int size = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  addr.nl_pid = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    why_not_ = std::string("netlink bind: ") + strerror(errno);
    close(fd);
    return;
  }
  alignas(nlmsghdr) std::array<char, NLMSG_SPACE(sizeof(cn_msg) + sizeof(proc_cn_mcast_op))> req{};
  auto* hdr = reinterpret_cast<nlmsghdr*>(req.data());
  hdr->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op));
  hdr->nlmsg_type = NLMSG_DONE;
  auto* msg = static_cast<cn_msg*>(NLMSG_DATA(hdr));
  msg->id.idx = CN_IDX_PROC;
  msg->id.val = CN_VAL_PROC;
  msg->len = sizeof(proc_cn_mcast_op);
  proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
  std::memcpy(msg->data, &op, sizeof(op));
  if (send(fd, req.data(), hdr->nlmsg_len, 0) < 0) {
    why_not_ = std::string("proc connector listen: ") + strerror(errno);
    close(fd);
    return;
  }
  fd_ = fd;
  thread_ = std::thread([this] { Loop(); });
}

ExecRecorder::~ExecRecorder() { Stop(); }

std::map<int, ExecRecorder::Proc> ExecRecorder::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  std::lock_guard<std::mutex> lock(mu_);
  return procs_;
}

void ExecRecorder::Loop() {
  alignas(nlmsghdr) std::array<char, 16384> buf;
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) continue;
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, static_cast<unsigned>(n));
         h = NLMSG_NEXT(h, n)) {
      auto* msg = static_cast<cn_msg*>(NLMSG_DATA(h));
      proc_event event{};  // the payload is only 4-byte aligned: copy it out
      std::memcpy(&event, msg->data, std::min<size_t>(sizeof(event), msg->len));
      const proc_event* ev = &event;
      std::lock_guard<std::mutex> lock(mu_);
      if (ev->what == proc_event::PROC_EVENT_FORK &&
          ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid) {
        procs_[ev->event_data.fork.child_tgid].parent = ev->event_data.fork.parent_tgid;
      } else if (ev->what == proc_event::PROC_EVENT_EXEC) {
        procs_[ev->event_data.exec.process_tgid].execs++;
      }
    }
  }
}

std::vector<GroundTruthStep> ReadTruth(const std::string& path) {
  auto r = ReadGroundTruthFile(path);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : std::vector<GroundTruthStep>{};
}

const GroundTruthStep* FindStep(const std::vector<GroundTruthStep>& steps, const std::string& step,
                                int repeat) {
  for (const auto& s : steps) {
    if (s.step == step && s.repeat == repeat) return &s;
  }
  return nullptr;
}

std::string BuildTestDeb(const std::string& dir, const std::string& name) {
  std::string root = dir + "/debroot";
  std::string cmd = "set -e; mkdir -p " + root + "/DEBIAN " + root + "/usr/local/lib/" + name +
                    "; echo sandwatch-test > " + root + "/usr/local/lib/" + name + "/marker;" +
                    " printf 'Package: " + name +
                    "\\nVersion: 1.0\\nArchitecture: all\\nMaintainer: sandwatch tests "
                    "<tests@localhost>\\nDescription: attack-sim test package\\n' > " +
                    root + "/DEBIAN/control; dpkg-deb --root-owner-group --build " + root + " " +
                    dir + "/" + name + "_1.0_all.deb >/dev/null";
  if (std::system(cmd.c_str()) != 0) return "";
  return dir + "/" + name + "_1.0_all.deb";
}

bool PackageInstalled(const std::string& name) {
  std::string cmd =
      "dpkg-query -W -f '${db:Status-Status}' " + name + " 2>/dev/null | grep -qx installed";
  return std::system(cmd.c_str()) == 0;
}

void PurgePackage(const std::string& name) {
  std::string cmd = "dpkg --purge " + name + " >/dev/null 2>&1";
  (void)std::system(cmd.c_str());
}

}  // namespace sandwatch::attacksim::testing
