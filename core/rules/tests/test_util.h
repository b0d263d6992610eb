// Builders for synthetic processes used by the rule tests.
#pragma once

#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "sandwatch/core/process.h"
#include "sandwatch/core/rules/engine.h"

namespace sandwatch::rules::testing {

inline ProcessInfo Proc(std::string name, std::vector<std::string> argv, std::string exe = "",
                        std::vector<std::string> ancestors = {"bash"}) {
  ProcessInfo p;
  p.key = {4242, 100};
  p.ppid = 4000;
  p.name = std::move(name);
  p.cmdline = std::move(argv);
  p.exe = exe.empty() ? "/usr/bin/" + p.name : std::move(exe);
  p.uid = 0;
  p.cwd = "/";
  int pid = 4000;
  for (auto& a : ancestors) p.ancestors.push_back(AncestorRef{pid--, a, {a}});
  return p;
}

inline void AddFile(ProcessInfo* p, int fd, std::string path) {
  p->fds.push_back(FdInfo{fd, FdKind::kFile, std::move(path), 0});
}

inline void AddSocket(ProcessInfo* p, int fd, uint64_t inode, std::string local, std::string remote,
                      int state = 1, std::string proto = "tcp") {
  p->fds.push_back(FdInfo{fd, FdKind::kSocket, "socket:[" + std::to_string(inode) + "]", inode});
  p->sockets.push_back(
      SocketInfo{inode, std::move(proto), std::move(local), std::move(remote), state});
}

// A world with a set of baseline exes and pipes whose peer holds a connection.
class FakeWorld : public RuleWorld {
 public:
  std::unordered_set<std::string> baseline;
  std::optional<uint64_t> networked_pipe;
  bool ExeInBaseline(const ProcessInfo& p) const override { return baseline.count(p.exe) > 0; }
  std::optional<SocketInfo> PipePeerConnection(uint64_t inode, int) const override {
    if (networked_pipe && *networked_pipe == inode) {
      return SocketInfo{77, "tcp", "127.0.0.1:40000", "127.0.0.1:4444", 1};
    }
    return std::nullopt;
  }
  std::optional<SocketInfo> parent_connection;
  std::optional<SocketInfo> ParentConnection(const ProcessInfo&) const override {
    return parent_connection;
  }
};

}  // namespace sandwatch::rules::testing
