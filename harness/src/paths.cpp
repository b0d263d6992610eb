#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "sandwatch/harness/commands.h"

namespace sandwatch::harness {

namespace fs = std::filesystem;

std::string ResolveBinDir(const std::string& flag_value) {
  if (!flag_value.empty()) return fs::absolute(flag_value).string();
  if (const char* env = std::getenv("SANDWATCH_BIN_DIR"); env != nullptr && *env != '\0') {
    return fs::absolute(env).string();
  }
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return fs::current_path().string();
  return self.parent_path().string();
}

std::string ResolveSourceDir() {
  if (const char* env = std::getenv("SANDWATCH_SOURCE_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/bin/sandwatch-harness -> the repository is two levels up.
    for (fs::path p = self.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
      if (fs::exists(p / "scenarios" / "blog-demo.yaml")) return p.string();
    }
  }
  return fs::current_path().string();
}

}  // namespace sandwatch::harness
