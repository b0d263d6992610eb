// A writable fake procfs tree for pipeline tests: processes appear and exit
// between scans, with cmdline, exe, fds and net/tcp like the kernel's.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace sandwatch::sensor::testing {

struct FakeProcess {
  int pid = 0;
  int ppid = 1;
  std::string comm;
  std::vector<std::string> argv;
  std::string exe;
  uint64_t start_ticks = 100;
  std::map<int, std::string> fds;  // fd -> link text ("/etc/shadow", "pipe:[7]", "socket:[8]")
  std::vector<std::string> tcp;    // lines for net/tcp after the header
};

class FakeProc {
 public:
  FakeProc() {
    std::string tmpl = "/tmp/sw-fakeproc-XXXXXX";
    root_ = ::mkdtemp(tmpl.data());
  }
  ~FakeProc() { std::filesystem::remove_all(root_); }
  const std::string& root() const { return root_; }

  void Add(const FakeProcess& p) {
    namespace fs = std::filesystem;
    std::string dir = root_ + "/" + std::to_string(p.pid);
    fs::create_directories(dir + "/fd");
    fs::create_directories(dir + "/net");
    fs::create_directories(dir + "/ns");
    std::string stat = std::to_string(p.pid) + " (" + p.comm + ") S " + std::to_string(p.ppid) +
                       " 1 1 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 " +
                       std::to_string(p.start_ticks) +
                       " 3133440 380 18446744073709551615 1 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 "
                       "1 1 1 1 1 1 1 0\n";
    Write(dir + "/stat", stat);
    Write(dir + "/status", "Name:\t" + p.comm + "\nPid:\t" + std::to_string(p.pid) + "\nPPid:\t" +
                               std::to_string(p.ppid) + "\nUid:\t0\t0\t0\t0\n");
    std::string cmd;
    for (const auto& a : p.argv) cmd += a + std::string(1, '\0');
    Write(dir + "/cmdline", cmd);
    Link(dir + "/exe", p.exe);
    Link(dir + "/cwd", "/");
    Link(dir + "/ns/net", "net:[4026531840]");
    for (const auto& [fd, target] : p.fds) Link(dir + "/fd/" + std::to_string(fd), target);
    std::string tcp =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n";
    for (const auto& l : p.tcp) tcp += l + "\n";
    Write(dir + "/net/tcp", tcp);
    for (const char* t : {"tcp6", "udp", "udp6"}) {
      Write(dir + "/net/" + t, "  sl  local_address rem_address   st\n");
    }
  }
  void Remove(int pid) { std::filesystem::remove_all(root_ + "/" + std::to_string(pid)); }

 private:
  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  static void Link(const std::string& path, const std::string& target) {
    std::filesystem::remove(path);
    if (::symlink(target.c_str(), path.c_str()) != 0) std::abort();
  }
  std::string root_;
};

// A /proc/net/tcp line: "0100007F:9C40" style endpoints, state hex, inode.
inline std::string TcpLine(const std::string& local_hex, const std::string& remote_hex,
                           const std::string& state_hex, uint64_t inode) {
  return "   0: " + local_hex + " " + remote_hex + " " + state_hex +
         " 00000000:00000000 00:00000000 00000000     0        0 " + std::to_string(inode) +
         " 1 0000000000000000 20 4 30 10 -1";
}

}  // namespace sandwatch::sensor::testing
