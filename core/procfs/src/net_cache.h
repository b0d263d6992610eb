// Internal: socket tables read once per scan, per network namespace, lazily.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "sandwatch/core/process.h"
#include "sandwatch/core/procfs/proc_fs.h"

namespace sandwatch::procfs {

class NetTables {
 public:
  explicit NetTables(const ProcFs* fs) : fs_(fs) {}

  // Resolves `inodes` through /proc/PID/net/{tcp,tcp6,udp,udp6} of `pid`'s network
  // namespace (read at most once per namespace for this object's lifetime).
  // Inodes that are not TCP/UDP (unix sockets, netlink) are simply not returned.
  std::vector<SocketInfo> Resolve(int pid, const std::vector<uint64_t>& inodes);

  uint64_t tables_read() const { return tables_read_; }

 private:
  using Table = std::unordered_map<uint64_t, SocketInfo>;
  const ProcFs* fs_;
  std::unordered_map<uint64_t, Table> by_netns_;
  uint64_t tables_read_ = 0;
};

}  // namespace sandwatch::procfs
