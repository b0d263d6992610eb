#include "watch_paths.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>

#include "source_util.h"

namespace sandwatch::sensor {

const std::vector<std::string>& DefaultSensitivePatterns() {
  static const std::vector<std::string> kPatterns = {
      "/etc/shadow",           "/etc/shadow-",
      "/etc/gshadow",          "/etc/sudoers",
      "/etc/security/opasswd", "/var/run/secrets/kubernetes.io/serviceaccount/token",
      "~/.aws/credentials",    "~/.aws/config",
      "~/.ssh/id_rsa",         "~/.ssh/id_ed25519",
      "~/.kube/config",        "~/.docker/config.json",
      "~/.git-credentials",    "~/.netrc",
  };
  return kPatterns;
}

const std::vector<std::string>& DefaultBinDirs() {
  static const std::vector<std::string> kDirs = {"/bin",      "/usr/bin",       "/sbin",
                                                 "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"};
  return kDirs;
}

const std::vector<std::string>& DefaultLibDirs() {
  static const std::vector<std::string> kDirs = {"/lib",
                                                 "/lib64",
                                                 "/usr/lib",
                                                 "/usr/lib64",
                                                 "/usr/local/lib",
                                                 "/usr/lib/x86_64-linux-gnu",
                                                 "/usr/lib/aarch64-linux-gnu"};
  return kDirs;
}

const std::vector<std::string>& DefaultDropDirs() {
  static const std::vector<std::string> kDirs = {"/tmp", "/var/tmp", "/dev/shm"};
  return kDirs;
}

namespace {

std::vector<std::string> HomeDirs(const std::string& root) {
  std::vector<std::string> homes = {"/root"};
  if (DIR* dir = opendir(UnderRoot(root, "/home").c_str())) {
    while (dirent* ent = readdir(dir)) {
      std::string name = ent->d_name;
      if (name == "." || name == "..") continue;
      homes.push_back("/home/" + name);
    }
    closedir(dir);
  }
  return homes;
}

}  // namespace

std::vector<std::string> ExistingUnderRoot(const std::string& root,
                                           const std::vector<std::string>& patterns) {
  std::vector<std::string> candidates;
  std::vector<std::string> homes;
  for (const std::string& p : patterns) {
    if (p.rfind("~/", 0) == 0) {
      if (homes.empty()) homes = HomeDirs(root);
      for (const std::string& h : homes) candidates.push_back(h + p.substr(1));
    } else {
      candidates.push_back(p);
    }
  }
  std::vector<std::string> out;
  for (const std::string& c : candidates) {
    struct stat st {};
    if (stat(UnderRoot(root, c).c_str(), &st) == 0) out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace sandwatch::sensor
