#include "fixture_tree.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace sandwatch::procfs::testing {

FixtureTree::FixtureTree(const std::string& name) {
  std::string tmpl = "/tmp/sandwatch-procfs-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  base_ = tmpl.data();
  root_ = base_ + "/" + name;
  fs::copy(fs::path(SANDWATCH_PROCFS_FIXTURES) / name, root_,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
}

FixtureTree::~FixtureTree() {
  std::error_code ec;
  fs::remove_all(base_, ec);
}

void FixtureTree::Write(const std::string& relative, const std::string& content) const {
  fs::path p = fs::path(root_) / relative;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

void FixtureTree::Symlink(const std::string& relative, const std::string& target) const {
  fs::path p = fs::path(root_) / relative;
  fs::create_directories(p.parent_path());
  std::error_code ec;
  fs::remove(p, ec);
  fs::create_symlink(target, p);
}

void FixtureTree::Remove(const std::string& relative) const {
  fs::remove_all(fs::path(root_) / relative);
}

void FixtureTree::WriteStat(int pid, const std::string& comm, int ppid,
                            uint64_t start_ticks) const {
  Write(std::to_string(pid) + "/stat", StatLine(pid, comm, 'S', ppid, 4194304, start_ticks));
}

std::string StatLine(int pid, const std::string& comm, char state, int ppid, uint64_t flags,
                     uint64_t start_ticks) {
  std::string s = std::to_string(pid) + " (" + comm + ") " + state + " " + std::to_string(ppid) +
                  " " + std::to_string(ppid) + " " + std::to_string(ppid) + " 0 -1 " +
                  std::to_string(flags) + " 100 0 0 0 0 0 0 0 20 0 1 0 " +
                  std::to_string(start_ticks) +
                  " 3133440 380 18446744073709551615 1 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 1 1 "
                  "1 1 1 1 1 0\n";
  return s;
}

}  // namespace sandwatch::procfs::testing
