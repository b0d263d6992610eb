#include "net_cache.h"

#include "sandwatch/core/procfs/parsers.h"

namespace sandwatch::procfs {

std::vector<SocketInfo> NetTables::Resolve(int pid, const std::vector<uint64_t>& inodes) {
  std::vector<SocketInfo> out;
  if (inodes.empty()) return out;
  // Fixture trees and old kernels may lack ns/net: they share the namespace id 0.
  uint64_t ns = 0;
  if (auto link = fs_->ReadLink(pid, "ns/net"); link.ok()) ns = ParseNsLink(*link);
  auto it = by_netns_.find(ns);
  if (it == by_netns_.end()) {
    Table table;
    bool any = false;
    for (const char* proto : {"tcp", "tcp6", "udp", "udp6"}) {
      auto text = fs_->ReadPidFile(pid, std::string("net/") + proto, 16u << 20);
      if (!text.ok()) continue;  // no IPv6, or the process went away
      ++tables_read_;
      any = true;
      for (auto& s : ParseNetTable(*text, proto)) {
        if (s.inode != 0) table.emplace(s.inode, std::move(s));
      }
    }
    if (!any) return out;  // gone before its tables were read: let the next pid try
    it = by_netns_.emplace(ns, std::move(table)).first;
  }
  for (uint64_t inode : inodes) {
    auto found = it->second.find(inode);
    if (found != it->second.end()) out.push_back(found->second);
  }
  return out;
}

}  // namespace sandwatch::procfs
