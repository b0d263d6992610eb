#include "sandwatch/attack_sim/packages.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "sandwatch/attack_sim/interrupt.h"
#include "sandwatch/attack_sim/spawn.h"

namespace sandwatch::attacksim {
namespace {

bool Present(const PackageStates& s, const std::string& name) {
  auto it = s.find(name);
  return it != s.end() && it->second != "not-installed" && it->second != "config-files" &&
         !it->second.empty();
}

}  // namespace

PackageStates ParsePackageStates(const std::string& text) {
  PackageStates out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos || tab == 0) continue;
    std::string name = line.substr(0, tab);
    size_t colon = name.find(':');  // multi-arch "libc6:amd64"
    if (colon != std::string::npos) name = name.substr(0, colon);
    out[name] = line.substr(tab + 1);
  }
  return out;
}

Result<PackageStates> SnapshotPackages() {
  auto r = RunCapture({"dpkg-query", "-W", "-f", "${Package}\t${db:Status-Status}\n"});
  if (!r.ok()) return r.error();
  if (r->exit_code != 0) return MakeError("dpkg-query exited " + std::to_string(r->exit_code));
  return ParsePackageStates(r->out);
}

std::vector<std::string> NewlyInstalled(const PackageStates& before, const PackageStates& after) {
  std::vector<std::string> out;
  for (const auto& [name, state] : after) {
    if (Present(after, name) && !Present(before, name)) out.push_back(name);
  }
  return out;
}

bool WaitForDpkgLock(double timeout_s, const std::string& lock) {
  int fd = open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  bool free_now = false;
  while (!Interrupted()) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK) {
      free_now = true;
      break;
    }
    if (std::chrono::steady_clock::now() >= end) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  close(fd);
  return free_now;
}

Result<std::string> FindStagedDeb(const std::string& package, const std::string& explicit_path,
                                  const std::string& cache_dir) {
  namespace fs = std::filesystem;
  if (!explicit_path.empty()) {
    std::error_code ec;
    if (!fs::is_regular_file(explicit_path, ec)) {
      return MakeError("--deb: " + explicit_path + " is not a readable file");
    }
    return explicit_path;
  }
  std::error_code ec;
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(cache_dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(package + "_", 0) == 0 && name.size() > 4 &&
        name.compare(name.size() - 4, 4, ".deb") == 0) {
      found.push_back(e.path().string());
    }
  }
  if (found.empty()) {
    return MakeError("no staged " + package + "_*.deb in " + cache_dir +
                     " (fetch one with `apt-get download " + package + "` or pass --deb)");
  }
  std::sort(found.begin(), found.end());
  return found.back();
}

}  // namespace sandwatch::attacksim
