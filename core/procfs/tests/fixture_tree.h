// Test helper: a private, writable copy of the checked-in fixture proc tree, so a
// test can make processes appear, exit or reuse pids between scans.
#pragma once

#include <cstdint>
#include <string>

namespace sandwatch::procfs::testing {

class FixtureTree {
 public:
  // Copies fixtures/<name> (symlinks kept as links) into a fresh temp directory.
  explicit FixtureTree(const std::string& name = "proc");
  ~FixtureTree();
  FixtureTree(const FixtureTree&) = delete;
  FixtureTree& operator=(const FixtureTree&) = delete;

  const std::string& root() const { return root_; }
  // Writes <root>/<relative> (creating parent directories).
  void Write(const std::string& relative, const std::string& content) const;
  void Symlink(const std::string& relative, const std::string& target) const;
  void Remove(const std::string& relative) const;  // recursive
  // Rewrites <root>/<pid>/stat with the given comm, ppid and start ticks.
  void WriteStat(int pid, const std::string& comm, int ppid, uint64_t start_ticks) const;

 private:
  std::string base_;
  std::string root_;
};

// A 52-field stat line like the kernel's.
std::string StatLine(int pid, const std::string& comm, char state, int ppid, uint64_t flags,
                     uint64_t start_ticks);

}  // namespace sandwatch::procfs::testing
